"""The bounded daily plan (docs/model.md) against hand calculations and an independent LP solver."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from innatura.planner.curves import CurveMatrix
from innatura.planner.plan import plan_day
from test_daily_plan_fixtures import random_plan_economy, selviaria, selviaria_state

cp = pytest.importorskip("cvxpy")  # the independent LP solver these tests compare with


def test_selviaria_first_night_by_hand():
    # sigma = 0: Lucloelium is made with 0.5 Vorpal Pick of capital per unit -> at most 5 / 0.5 = 10;
    # its own input is 0.001 per unit; T-ring comes from stock. c * 3400 = 2 + 10 - 0.01.
    stocks, labour = selviaria_state()
    plan = plan_day(selviaria(), stocks, labour, None, 0.0)
    c = (2 + 10 * 0.999) / 3400
    np.testing.assert_allclose(plan.fulfilment, [c, c], rtol=1e-6)
    assert plan.consumption_production[0] == pytest.approx(10.0, rel=1e-6)
    assert plan.consumption_production[2] == 0.0  # T-ring stock suffices
    assert plan.planned_humanity == pytest.approx(c, rel=1e-6)
    np.testing.assert_allclose(plan.allocation[:, 0], [3 * 800 * c, 0, 0.1 * 800 * c, 0, 0, 0], rtol=1e-6)
    assert plan.status == "optimal"
    # sigma = 0.51: only 49% of the pick may serve consumption
    plan = plan_day(selviaria(), stocks, labour, None, 0.51)
    assert plan.consumption_production[0] == pytest.approx(0.49 * 10, rel=1e-6)


def test_plan_respects_true_curves_after_successive_lp():
    e = selviaria()
    stocks, labour = selviaria_state()
    plan = plan_day(e, stocks, labour, None, 0.55, tol=1e-9)
    cm = CurveMatrix(e.coefficients, e.curves)
    use = cm.at(plan.production) @ plan.production  # inputs under the true stacked curves
    assert use[1] <= stocks[1] * (1 + 1e-6)  # capital
    closing0 = stocks[0] + plan.production[0] - use[0] - plan.allocation[0].sum()
    assert closing0 >= -1e-6
    assert plan.investment_production[1] > 100  # the pick grows (OLIN-EP Fig. 3 dynamics)
    assert plan.slp_iterations > 2


def test_investment_share_moves_production_to_capital():
    stocks, labour = selviaria_state()
    plans = [plan_day(selviaria(), stocks, labour, None, s) for s in (0.1, 0.3, 0.6, 0.9)]
    fulfil = [p.fulfilment[0] for p in plans]
    capital = [p.production[1] for p in plans]
    assert all(a > b for a, b in itertools.pairwise(fulfil))
    assert all(a < b for a, b in itertools.pairwise(capital))


def _oracle(e, stocks, labour, capacity, sigma):
    """Stage 1 by cvxpy/Clarabel: max min c, then max sum c (x over all goods)."""
    n, m = e.n_goods, e.n_profiles
    A = e.coefficients.toarray()
    fin, ind, lab = e.mask("final"), e.mask("industrial"), e.mask("labour")
    need = e.bundles * e.population
    x, c, t = cp.Variable(n), cp.Variable(m), cp.Variable()
    use = A @ x
    cons = [x >= 0, c >= 0, c <= 1, c >= t, x[lab] == 0, x <= (1 - sigma) * capacity]
    if fin.any():
        cons.append(use[fin] + need[fin] @ c <= stocks[fin] + x[fin])
    if ind.any():
        cons.append(use[ind] <= (1 - sigma) * stocks[ind])
    if lab.any():
        cons.append(use[lab] <= (1 - sigma) * labour[lab])
    cp.Problem(cp.Maximize(t), cons).solve(solver="CLARABEL")
    t_star = t.value
    cp.Problem(cp.Maximize(cp.sum(c)), [*cons, t >= t_star - 1e-09]).solve(solver="CLARABEL")
    return float(t_star), float(np.sum(c.value))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), n_final=st.integers(1, 4), n_ind=st.integers(0, 3),
       n_lab=st.integers(0, 2), m=st.integers(1, 3), sigma=st.floats(0.0, 0.9))
def test_maximin_matches_independent_lp_and_plan_is_feasible(seed, n_final, n_ind, n_lab, m, sigma):
    rng = np.random.default_rng(seed)
    e, stocks, labour, capacity = random_plan_economy(rng, n_final, n_ind, n_lab, m)
    plan = plan_day(e, stocks, labour, capacity, sigma)
    t_star, total = _oracle(e, stocks, labour, capacity, sigma)
    need = e.bundles * e.population
    active = need.sum(axis=0) > 0
    if active.any():
        assert plan.fulfilment[active].min() == pytest.approx(t_star, abs=1e-6, rel=1e-6)
        assert plan.fulfilment.sum() == pytest.approx(total, abs=1e-5, rel=1e-6)
    # feasibility under docs/model.md
    A = e.coefficients.toarray()
    fin, ind, lab = e.mask("final"), e.mask("industrial"), e.mask("labour")
    tol = 1e-6
    x, xC = plan.production, plan.consumption_production
    assert np.all(plan.closing_stocks_expected >= 0)
    balance = stocks + x - A @ x - need @ plan.fulfilment
    assert np.all(balance[fin] >= -tol * (1 + stocks[fin]))
    assert np.all((A @ x)[ind] <= stocks[ind] + tol * (1 + stocks[ind]))
    assert np.all((A @ x)[lab] <= labour[lab] + tol * (1 + labour[lab]))
    assert np.all((A @ xC)[ind] <= (1 - sigma) * stocks[ind] + tol * (1 + stocks[ind]))
    assert np.all((A @ xC)[lab] <= (1 - sigma) * labour[lab] + tol * (1 + labour[lab]))
    assert np.all(xC <= (1 - sigma) * capacity + tol) and np.all(x <= capacity + tol)
    assert np.all(x[lab] == 0) and np.all(x >= 0)
    assert np.all((plan.fulfilment >= 0) & (plan.fulfilment <= 1))
    np.testing.assert_allclose(plan.allocation, need * plan.fulfilment)
    np.testing.assert_allclose(plan.capital_required[ind], (A @ x)[ind], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(plan.labour_used[lab], (A @ x)[lab], rtol=1e-9, atol=1e-9)


def test_investment_stage_matches_independent_lp():
    rng = np.random.default_rng(7)
    e, stocks, labour, capacity = random_plan_economy(rng, 3, 3, 1, 2)
    sigma = 0.4
    plan = plan_day(e, stocks, labour, capacity, sigma)
    A = e.coefficients.toarray()
    n = e.n_goods
    fin, ind, lab = e.mask("final"), e.mask("industrial"), e.mask("labour")
    xC = plan.consumption_production
    useC = A @ xC
    left = np.where(fin, stocks + xC - useC - plan.allocation.sum(axis=1), np.where(ind, stocks, labour) - useC)
    y = cp.Variable(n)
    cons = [y >= 0, y[lab] == 0, y <= capacity - xC, (A @ y)[~fin] <= left[~fin],
            (A @ y)[fin] - y[fin] <= left[fin]]
    w = np.where(ind, 1 / (stocks + 1), 0.0)
    best = cp.Problem(cp.Maximize(w @ y), cons).solve(solver="CLARABEL")
    assert w @ plan.investment_production == pytest.approx(best, rel=1e-6, abs=1e-8)


def test_balanced_method_has_the_same_maximin_value():
    for seed in range(5):
        e, stocks, labour, capacity = random_plan_economy(np.random.default_rng(seed), 4, 3, 1, 3)
        lp = plan_day(e, stocks, labour, capacity, 0.3, method="lp")
        bal = plan_day(e, stocks, labour, capacity, 0.3, method="balanced")
        assert bal.fulfilment.min() == pytest.approx(lp.fulfilment.min(), rel=1e-6, abs=1e-9)
        assert bal.status == "balanced"
        assert np.all(bal.closing_stocks_expected >= 0)
        assert np.all(bal.production <= capacity * (1 + 1e-9) + 1e-9)
        A = e.coefficients.toarray()
        ind, lab = e.mask("industrial"), e.mask("labour")
        assert np.all((A @ bal.production)[ind] <= stocks[ind] * (1 + 1e-8) + 1e-9)
        assert np.all((A @ bal.production)[lab] <= labour[lab] * (1 + 1e-8) + 1e-9)


def test_plan_is_frozen_and_deterministic():
    stocks, labour = selviaria_state()
    a = plan_day(selviaria(), stocks, labour, None, 0.5)
    b = plan_day(selviaria(), stocks, labour, None, 0.5)
    np.testing.assert_array_equal(a.production, b.production)
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.status = "x"  # type: ignore[misc]


@pytest.mark.parametrize("pick, luc", [(600.0, 1000.0), (5000.0, 2.0), (50000.0, 50000.0)])
def test_successive_lp_converges_on_the_steep_stacked_curve(pick, luc):
    # above 1000 picks a day the third factory's q^2 Lucloelium input makes the secant
    # iteration oscillate unless it is damped
    e = selviaria()
    stocks, labour = selviaria_state()
    stocks[:2] = luc, pick
    plan = plan_day(e, stocks, labour, None, 0.51, tol=1e-7)
    assert plan.status == "optimal" and plan.slp_iterations < 60
    x = plan.production
    assert x[1] > 1000  # in the steep region
    use = CurveMatrix(e.coefficients, e.curves).at(x) @ x
    assert use[1] <= stocks[1] * (1 + 1e-5)
    assert stocks[0] + x[0] - use[0] - plan.allocation[0].sum() >= -1e-5 * (1 + x[0])
