"""Safety stocks (docs/model.md, "Safety stocks"): the plan keeps them, bad values are refused,
and they keep a large economy with learned curves from starving on closed input chains."""

from __future__ import annotations

import numpy as np
import pytest
from innatura.abm.layout import workshop_regions
from innatura.abm.model import PlanningEconomy
from innatura.planner.errors import InvalidInputError
from innatura.planner.plan import plan_day
from innatura.planner.plan.inputs import input_use, secant_slopes, validate_plan_inputs
from innatura.scenarios.builders.synthetic import synthetic_spec


def _small():
    spec = synthetic_spec(citizens=500, units=10, goods=40, regions=1, profiles=4, seed=3)
    eco = spec.to_economy()
    stocks = np.asarray(spec.initial_stocks(), dtype=float).sum(axis=0)
    labour = np.asarray(spec.labour_supply(), dtype=float).sum(axis=0)
    need = (eco.bundles * eco.population).sum(axis=1)
    return eco, stocks, labour, need


def _curve_balance(eco, stocks, labour, plan, capacity=None, sigma=0.3):
    """Closing balance of every good under the plan's own (reported) curves."""
    inp = validate_plan_inputs(eco, stocks, labour, capacity, sigma, None, None)
    x = plan.production
    use = input_use(inp, secant_slopes(inp, np.zeros_like(x), x), x)
    cons = plan.allocation.sum(axis=1)
    return inp, np.where(inp.final, stocks + x - use - cons, np.where(inp.industrial, stocks - use, labour - use))


@pytest.mark.parametrize("method", ["lp", "balanced"])
def test_plan_keeps_target_stocks(method):
    eco, stocks, labour, need = _small()
    final = np.array(eco.kinds) == "final"
    target = np.where(final, 0.5 * need, 0.0)
    bare = plan_day(eco, stocks, labour, None, 0.3, method=method)
    kept = plan_day(eco, stocks, labour, None, 0.3, method=method, safety_stock=target)
    # without buffers the investment stage draws some final good below the target ...
    assert (bare.closing_stocks_expected[final] < 0.99 * target[final]).any()
    # ... with them every final good closes at or above it, and consumption is unchanged
    assert np.all(kept.closing_stocks_expected[final] >= target[final] * (1 - 1e-6) - 1e-6)
    np.testing.assert_allclose(kept.fulfilment, bare.fulfilment, atol=1e-6)
    _inp, bal = _curve_balance(eco, stocks, labour, kept)
    assert bal.min() >= -1e-5 * (1 + np.abs(stocks).max())


def test_days_of_cover_scale_with_the_consumption_draw():
    eco, stocks, labour, _ = _small()
    final = np.array(eco.kinds) == "final"
    p = plan_day(eco, stocks, labour, None, 0.3, method="lp", safety_stock=1.0)
    draw = np.where(final, p.allocation.sum(axis=1), 0.0)
    # the consumption stage's draw includes its inputs; consumption alone is a lower bound
    assert np.all(p.closing_stocks_expected[final] >= draw[final] * (1 - 1e-6) - 1e-6)


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf"), "two", np.ones(3), -np.ones(40)])
def test_bad_safety_stock_is_refused(bad):
    eco, stocks, labour, _ = _small()
    with pytest.raises(InvalidInputError, match="safety_stock"):
        plan_day(eco, stocks, labour, None, 0.3, safety_stock=bad)


def test_model_rejects_negative_safety_stock():
    with pytest.raises(InvalidInputError, match="safety_stock"):
        PlanningEconomy("selviaria", rng=0, safety_stock=-0.5)


@pytest.mark.parametrize("beta, survives", [(0.0, False), (0.5, True)])
def test_buffers_keep_a_large_economy_fed(beta, survives):
    """2000 goods on one strongly connected block, learned curves a little off the truth: with
    no safety stock, the chains with no stock starve within days; half a day of cover holds."""
    spec = synthetic_spec(citizens=20_000, units=400, goods=2000, regions=1, profiles=50, seed=0,
                          bundle_size=20, safety_stock=beta)
    model = PlanningEconomy(spec, rng=0, collect_agents=False, strict=True)
    humanity = []
    for _ in range(6):
        model.step()
        humanity.append(model.metrics["humanity"])
    if survives:
        assert min(humanity[1:]) > 0.99
    else:
        assert humanity[-1] < 0.01


def test_workshops_spread_over_regional_labour():
    """Goods without units get one workshop each, placed so their labour need is spread."""
    import scipy.sparse as sp

    n_lab, n_goods, R = 2, 12, 4
    n = n_goods + n_lab
    A = np.zeros((n, n))
    A[n_goods, :6] = 0.1  # goods 0-5 need labour type 0
    A[n_goods + 1, 6:n_goods] = 0.1  # goods 6-11 need labour type 1
    labour_mask = np.r_[np.zeros(n_goods, bool), np.ones(n_lab, bool)]
    supply = np.zeros((R, n))
    supply[:, n_goods:] = 100.0
    supply[0, n_goods:] = 300.0  # region 0 has three times the labour of the others
    population = np.full((R, 1), 10)
    demand = np.r_[np.ones(n_goods), np.zeros(n_lab)]
    home = workshop_regions(np.arange(n_goods), sp.csc_matrix(A), labour_mask, supply, population, demand)
    counts = np.bincount(home, minlength=R)
    # in proportion to the labour: 3 : 1 : 1 : 1 of each type's six goods
    np.testing.assert_array_equal(counts, [6, 2, 2, 2])
    for lo in (0, 6):
        assert np.bincount(home[lo:lo + 6], minlength=R).tolist() == [3, 1, 1, 1]


def test_plan_never_overdraws_its_own_curves():
    """A night whose investment-stage successive LPs end far outside what the convex curves
    allow (1000 goods, second night): the plan falls back to the balanced investment stage and
    stays feasible under the reported curves."""
    spec = synthetic_spec(citizens=10_000, units=200, goods=1000, regions=1, profiles=20, seed=0,
                          bundle_size=20, safety_stock=0.0)
    model = PlanningEconomy(spec, rng=0, collect_agents=False)
    nights = []
    planner_plan = model.central_planner.plan

    def grab(inputs):
        nights.append(inputs)
        return planner_plan(inputs)

    model.central_planner.plan = grab
    model.step()
    model.step()
    inp = nights[-1]
    p = plan_day(inp.economy, inp.stocks, inp.labour_supply, inp.capacity, inp.investment_share, method="lp")
    assert p.status in ("optimal", "investment-fallback")
    vi, bal = _curve_balance(inp.economy, inp.stocks, inp.labour_supply, p, inp.capacity, inp.investment_share)
    assert np.all(bal >= -1e-5 * (1.0 + np.abs(np.where(vi.labour, inp.labour_supply, inp.stocks))))
