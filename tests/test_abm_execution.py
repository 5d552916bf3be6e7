"""Vectorised execution: production with rationing, transport, delivery, dispatch."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from innatura.abm.delivery import deliver
from innatura.abm.execution import Technology, UnitInputs, produce
from innatura.abm.planning import dispatch_targets
from innatura.abm.transport import route_incidence, transport
from innatura.planner.curves import PowerLawInput, StackedCurve
from innatura.planner.errors import InvalidInputError

# goods: 0 final "grain", 1 final "bread", 2 industrial "oven", 3 labour
IND = np.array([False, False, True, False])
LAB = np.array([False, False, False, True])


def _chain():
    # unit 0 makes grain from labour; unit 1 makes bread from grain (0.5 q) + oven capacity + labour
    inputs = UnitInputs(unit=[0, 1, 1, 1], good=[3, 0, 2, 3], scale=[0.1, 0.5, 0.01, 0.2], exponent=[1, 1, 1, 1])
    return inputs, np.array([0, 0]), np.array([0, 1])


def test_produce_meets_targets_when_inputs_suffice():
    inputs, region, good = _chain()
    stocks = np.array([[0.0, 0.0, 5.0, 0.0]])
    labour = np.array([[0, 0, 0, 1000.0]])
    res = produce(np.array([100.0, 100.0]), Technology(region, good, inputs, IND, LAB), stocks, labour)
    np.testing.assert_allclose(res.output, [100.0, 100.0])
    # grain used = 0.5 * 100, made the same day by unit 0; the oven is held, not used up
    np.testing.assert_allclose(res.used[0], [50.0, 0.0, 0.0, 10.0 + 20.0])
    np.testing.assert_allclose(res.capital_required[0, 2], 1.0)


def test_shortfall_propagates_downstream():
    inputs, region, good = _chain()
    stocks = np.array([[0.0, 0.0, 5.0, 0.0]])
    labour = np.array([[0, 0, 0, 4.0]])  # grain needs 10 labour, bread 20: only 4 for 30
    res = produce(np.array([100.0, 100.0]), Technology(region, good, inputs, IND, LAB), stocks, labour)
    assert res.output[0] < 100 and res.output[1] < 100
    assert res.used[0, 3] <= 4.0 * (1 + 1e-12)
    # bread never uses more grain than was made
    assert 0.5 * res.output[1] <= res.output[0] * (1 + 1e-12)


def test_capital_limits_output_in_closed_form():
    inputs, region, good = _chain()
    stocks = np.array([[1e6, 0.0, 0.5, 0.0]])  # oven: 0.01 per bread -> at most 50 bread
    labour = np.array([[0, 0, 0, 1e6]])
    res = produce(np.array([0.0, 100.0]), Technology(region, good, inputs, IND, LAB), stocks, labour)
    assert res.output[1] == pytest.approx(50.0, rel=1e-9)


def test_power_law_rationing_inverts_the_curve():
    # one unit, input sqrt: 2 * q**0.5 of good 0, stock 10 -> q = (10/2)**2 = 25
    inputs = UnitInputs(unit=[0], good=[0], scale=[2.0], exponent=[0.5])
    res = produce(np.array([100.0]), Technology(np.array([0]), np.array([1]), inputs, IND, LAB),
                  np.array([[10.0, 0, 0, 0]]), np.zeros((1, 4)))
    assert res.output[0] == pytest.approx(25.0, rel=1e-9)


def test_shifts_add_up_to_one_day():
    inputs = UnitInputs(unit=[0], good=[0], scale=[0.01], exponent=[2.0])
    stocks = np.array([[1e9, 0, 0, 0]])
    tech = Technology(np.array([0]), np.array([1]), inputs, IND, LAB)
    one = produce(np.array([100.0]), tech, stocks, np.zeros((1, 4)))
    a = produce(np.array([100.0]), tech, stocks, np.zeros((1, 4)), done=np.array([0.0]))
    a_partial = produce(np.array([40.0]), tech, stocks, np.zeros((1, 4)))
    b = produce(np.array([100.0]), tech, stocks, np.zeros((1, 4)), done=a_partial.output)
    assert one.used[0, 0] == pytest.approx(a.used[0, 0])
    assert a_partial.used[0, 0] + b.used[0, 0] == pytest.approx(one.used[0, 0], rel=1e-12)


def test_unit_inputs_validation():
    with pytest.raises(InvalidInputError):
        UnitInputs(unit=[0], good=[0], scale=[1.0], exponent=[0.0])
    with pytest.raises(InvalidInputError):
        UnitInputs(unit=[0], good=[0], scale=[np.nan], exponent=[1.0])


def test_transport_conserves_and_respects_capacity():
    g = nx.path_graph(3)
    src, dst = [], []
    for a, b in g.edges:
        src += [a, b]
        dst += [b, a]
    src, dst = np.array(src), np.array(dst)
    paths = route_incidence(g, src, dst)
    stocks = np.array([[100.0, 10.0], [0.0, 0.0], [0.0, 5.0]])
    need = np.array([[0.0, 0.0], [10.0, 0.0], [50.0, 10.0]])
    loss = np.full((len(src), 2), 0.1)
    cap = np.full(len(src), 30.0)
    res = transport(stocks, need, paths, cap, loss)
    assert (res.stocks >= 0).all()
    np.testing.assert_allclose(res.stocks.sum(axis=0) + res.lost, stocks.sum(axis=0))
    assert (res.load <= cap * (1 + 1e-12)).all()
    assert res.stocks[2, 0] > 0  # two hops away, reached along the path


def test_deliver_rations_and_measures_shares():
    stocks = np.array([[30.0, 0.0]])
    allocation = np.array([[20.0, 40.0], [0.0, 0.0]])  # good 0 to two profiles
    weights = np.array([[10.0, 20.0]])
    bundles = np.array([[2.0, 2.0], [0.0, 0.0]])
    pop = np.array([[10, 20]])
    res = deliver(stocks, allocation, weights, bundles, pop)
    assert res.delivered[0, 0] == pytest.approx(30.0 * (1 - 1e-12))
    np.testing.assert_allclose(res.share[0], [0.5, 0.5], rtol=1e-9)
    np.testing.assert_allclose(res.region_share[0], [0.5, 0.5], rtol=1e-9)


def test_dispatch_matches_stacked_curve():
    caps = np.array([500.0, 500.0, np.inf])
    curve = StackedCurve(tuple(caps), tuple(PowerLawInput(1.0, 1.0) for _ in caps))
    for x in (0.0, 300.0, 700.0, 1500.0):
        t = dispatch_targets(np.array([x]), np.zeros(3, dtype=int), caps, np.arange(3), np.zeros(3, bool), np.zeros(3))
        np.testing.assert_allclose(t, curve.dispatch(x))


def test_dispatch_pools_unbounded_units():
    t = dispatch_targets(np.array([100.0]), np.zeros(3, dtype=int), np.array([30.0, np.inf, np.inf]),
                         np.arange(3), np.array([False, True, True]), np.array([0.0, 0.25, 0.75]))
    np.testing.assert_allclose(t, [30.0, 17.5, 52.5])
