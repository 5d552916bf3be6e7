"""The regional plan with the day in layers (docs/model.md, "Timing", ``timing="layers"``):
hand-solved chains across regions, ``L = 1`` against the overnight plan, the constraints of
the layered LP on random economies, and validation."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from innatura.planner.errors import InvalidInputError
from innatura.planner.regional import InputUse, RegionalProblem, plan_regional
from innatura.planner.regional.layered import LayeredStageLP, stage_model
from regional_economies import flour_mill, random_problem


def mill_and_bakery(layers: int, flour_in_a: float = 4.0, cap_ab: float = np.inf) -> RegionalProblem:
    """A mill in A, a bakery in B (one flour and one labour per loaf), flour in stock only in A,
    10 % of what the edge carries lost; B's 10 citizens need a loaf each."""
    return flour_mill(flour_in_a, cap_ab, timing="layers", layers=layers)


def grain_chain(layers: int) -> RegionalProblem:
    """Grain grown in A, milled into flour in B, baked into bread in C (one input and one labour
    per unit at each step, nothing in stock, no losses); C's 10 citizens need a loaf each."""
    goods, kinds = ("grain", "flour", "bread", "Lb"), ("final", "final", "final", "labour")
    inputs = InputUse(unit=[0, 1, 1, 2, 2], good=[3, 0, 3, 1, 3], coefficient=[1.0] * 5)
    return RegionalProblem(
        goods, kinds, ("A", "B", "C"), ("p",), bundles=[[0.0], [0.0], [1.0], [0.0]], demand=[[0.0], [0.0], [10.0]],
        stocks=np.zeros((3, 4)), labour=[[0, 0, 0, 100]] * 3, unit_good=[0, 1, 2], unit_region=[0, 1, 2],
        unit_capacity=[np.inf] * 3, inputs=inputs, edge_src=[0, 1], edge_dst=[1, 2], edge_capacity=[np.inf] * 2,
        edge_loss=[0.0, 0.0], timing="layers", layers=layers,
    )


def t_star(problem: RegionalProblem) -> float:
    return plan_regional(problem, "lp", pipeline=False).planned_humanity


# -- hand-solved economies ---------------------------------------------------------------------
def test_one_layer_uses_only_the_opening_stock_of_another_region():
    # A's 4 units of flour arrive as 3.6 in B's morning; flour milled today reaches B tomorrow
    assert t_star(mill_and_bakery(1)) == pytest.approx(0.36, rel=1e-6)


@pytest.mark.parametrize("layers", [2, 3, 8])
def test_two_layers_let_the_bakery_use_todays_flour(layers):
    plan = plan_regional(mill_and_bakery(layers), "lp", pipeline=False)
    # (the layered LPs keep each objective's optimum to a relative 1e-5)
    assert plan.planned_humanity == pytest.approx(1.0, rel=1e-4)
    # the 10 loaves need 10 flour in B: 3.6 from A's stock in the morning, the rest milled
    # today and sent between layers
    assert plan.phase_shipments.shape == (layers - 1, 2, 3)
    assert plan.phase_shipments[:, 0, 0].sum() * 0.9 >= 10.0 - 3.6 - 1e-6


def test_the_edge_capacity_holds_over_all_phases():
    # 2 units a day over A -> B, 1.8 arrive: 1.8 loaves of 10, however many layers
    for layers in (1, 2, 4):
        assert t_star(mill_and_bakery(layers, cap_ab=2.0)) == pytest.approx(0.18, rel=1e-4)


@pytest.mark.parametrize(("layers", "expected"), [(1, 0.0), (2, 0.0), (3, 1.0), (4, 1.0)])
def test_a_two_step_chain_needs_three_layers(layers, expected):
    # grain (A, layer 1) -> flour (B, layer 2) -> bread (C, layer 3): each border costs a layer
    assert t_star(grain_chain(layers)) == pytest.approx(expected, abs=1e-4)


def test_one_layer_is_the_overnight_plan():
    for seed in range(4):
        p = random_problem(np.random.default_rng(seed), curves=seed % 2 == 1, targets=True, regions=3)
        a = plan_regional(p, "lp", pipeline=True)
        b = plan_regional(replace(p, timing="layers", layers=1), "lp", pipeline=True)
        assert isinstance(stage_model(replace(p, timing="layers", layers=1), 1), LayeredStageLP)
        assert b.planned_humanity == pytest.approx(a.planned_humanity, abs=1e-9)
        np.testing.assert_allclose(b.unit_targets, a.unit_targets, atol=1e-7)
        np.testing.assert_allclose(b.morning_shipments, a.morning_shipments, atol=1e-7)
        assert b.phase_shipments is not None and b.phase_shipments.shape[0] == 0


@pytest.mark.parametrize("seed", range(6))
def test_more_layers_never_plan_less(seed):
    p = random_problem(np.random.default_rng(seed), n_final=4, regions=4, scarce=0.7)
    ts = [t_star(replace(p, timing="layers", layers=L)) for L in (1, 2, 4)]
    assert ts[0] <= ts[1] + 1e-4 <= ts[2] + 2e-4


@pytest.mark.parametrize("seed", range(6))
def test_layered_plan_is_feasible_layer_by_layer(seed):
    """Replay the plan layer by layer: no region's stock goes negative before or after a phase,
    the closing stocks are what the plan expects, and no edge carries more than its capacity."""
    L = 3
    p = replace(random_problem(np.random.default_rng(seed), n_final=4, regions=3, curves=False), timing="layers",
                layers=L)
    model = stage_model(p, 1)
    plan = plan_regional(p, "lp")
    # the layers' cumulative outputs of the consumption stage, replayed from the LP itself
    from innatura.planner.regional.exact import _consumption_stage

    m, res, *_ = _consumption_stage(p, 50, 1e-6, None)
    parts = m.split(res.values)
    cum = parts["layers"]
    R, n = p.n_regions, p.n_goods

    def net(ship):
        out, arrive = np.zeros((R, n)), np.zeros((R, n))
        np.add.at(out, p.edge_src, ship)
        np.add.at(arrive, p.edge_dst, ship * p.keep)
        return arrive - out

    stock = p.stocks + net(parts["m"])
    assert (stock[:, p.final] >= -1e-7).all()
    done = np.zeros(p.n_units)
    for lay in range(L):
        step = cum[lay] - done
        assert (step >= -1e-7).all()
        made = np.bincount(p.unit_region * n + p.unit_good, step, minlength=R * n).reshape(R, n)
        use = p.inputs.use(cum[lay], p.unit_region, R, n) - p.inputs.use(done, p.unit_region, R, n)
        stock = stock + made - np.where(p.final[None, :], use, 0.0)
        assert (stock[:, p.final] >= -1e-7).all()
        done = cum[lay].copy()
        if lay < L - 1:
            stock = stock + net(parts["phases"][lay])
            assert (stock[:, p.final] >= -1e-7).all()
    assert isinstance(model, LayeredStageLP)
    # the assembled plan's edge loads count every phase, within capacity
    cap = p.edge_capacity
    assert (plan.edge_load <= np.where(np.isfinite(cap), cap, np.inf) * (1 + 1e-7) + 1e-7).all()
    total = plan.morning_shipments + plan.evening_shipments + plan.phase_shipments.sum(axis=0)
    np.testing.assert_allclose(plan.edge_load, total.sum(axis=1), rtol=1e-12)


def test_bad_layers_and_the_decomposed_method_are_refused():
    with pytest.raises(InvalidInputError, match="layers"):
        mill_and_bakery(0)
    with pytest.raises(InvalidInputError, match="layers"):
        replace(mill_and_bakery(2), layers=2.5)
    with pytest.raises(InvalidInputError, match="decomposed"):
        plan_regional(mill_and_bakery(2), "decomposed")
    # one layer is the overnight timing, which the decomposed method plans
    assert plan_regional(mill_and_bakery(1), "decomposed", pipeline=False).planned_humanity == pytest.approx(0.36)
