"""The daily plan stays solvable on badly scaled nights (huge capital stocks, tiny weights)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from innatura.planner.curves import CurveMatrix
from innatura.planner.lp import LexicographicLP
from innatura.planner.plan import plan_day

from innatura import scenarios

cp = pytest.importorskip("cvxpy")  # the independent LP solver these tests compare with


@pytest.fixture(scope="module")
def selviaria_true():
    return scenarios.load("selviaria").to_economy()


@pytest.mark.parametrize("lucloelium", [0.0, 10.0, 1e4])
def test_huge_capital_stock_plan_is_feasible(selviaria_true, lucloelium):
    # the night of investment-profiles from tick ~110: 1e9 picks, labour 1e5 / 7e5 / 7e5;
    # the capital-growth weight 1 / (1e9 + 1) once fell below HiGHS's small matrix value
    e = selviaria_true
    stocks = np.array([lucloelium, 1.003e9, 8.07e4, 0, 0, 0])
    labour = np.array([0, 0, 0, 1e5, 7e5, 7e5])
    plan = plan_day(e, stocks, labour, None, 0.51)
    assert plan.status == "optimal"
    np.testing.assert_allclose(plan.fulfilment, 1.0, atol=1e-7)  # labour and picks abound
    # the plan is feasible under the true stacked curves
    cm = CurveMatrix(e.coefficients, e.curves)
    use = cm.at(plan.production) @ plan.production
    assert use[4] <= 7e5 * (1 + 1e-6) and use[3] <= 1e5 * (1 + 1e-6) and use[5] <= 7e5 * (1 + 1e-6)
    assert use[1] <= 1.003e9
    assert (plan.closing_stocks_expected >= 0).all()
    # the investment stage grows the capital stock: picks are made, limited by labour and Lucloelium
    assert plan.investment_production[1] > 1e6
    assert plan.closing_stocks_expected[1] == pytest.approx(1.003e9 + plan.production[1])


def test_tiny_objective_weights_keep_their_optimum():
    # max 1e-12 x0 then max x1 s.t. x0 + x1 <= 1: the first optimum (x0 = 1) must be kept
    lp = LexicographicLP(sp.csc_matrix(np.array([[1.0, 1.0]])), [-np.inf], [1.0], [0, 0], [np.inf, np.inf])
    res = lp.solve([("max", np.array([1e-12, 0.0])), ("max", np.array([0.0, 1.0]))])
    np.testing.assert_allclose(res.values, [1.0, 0.0], atol=1e-9)
    assert res.objective_values[0] == pytest.approx(1e-12)


def test_badly_scaled_lp_matches_cvxpy():
    # rows of 1e9 next to 1e-6 coefficients: the LP optimum equals cvxpy's
    rng = np.random.default_rng(3)
    A = rng.uniform(0, 1, (5, 4)) * np.array([1e-6, 1e-3, 1.0, 1e3])
    A[0] = [1e-6, 1e-6, 1e-6, 1e-6]
    b = np.array([1e9, 10.0, 100.0, 1e4, 1e5])
    w = np.array([1e-9, 2e-9, 1.0, 1e-3])
    lp = LexicographicLP(sp.csc_matrix(A), np.full(5, -np.inf), b, np.zeros(4), np.full(4, np.inf))
    res = lp.solve([("max", w)])
    # the oracle solves the same LP rescaled (x = D y, rows / b) so that it is well scaled
    D = 1.0 / A.max(axis=0)
    As = (A * D) / b[:, None]
    y = cp.Variable(4, nonneg=True)
    prob = cp.Problem(cp.Maximize((w * D) @ y), [As @ y <= 1.0])
    prob.solve()
    assert res.objective_values[0] == pytest.approx(prob.value, rel=1e-6)
    assert (A @ res.values <= b * (1 + 1e-7)).all()


@pytest.mark.parametrize("lucloelium,picks", [(0.0, 1e6), (3.5e5, 1e8), (3.5e5, 1.2e9)])
def test_plan_fits_the_curves_not_only_their_linearisation(selviaria_true, lucloelium, picks):
    # all Lucloelium goes to the picks (1e-6 q^2): a slope slightly off at the successive-LP
    # stop would overdraw the Lucloelium owed to citizens; the stages reserve the overdraft
    e = selviaria_true
    stocks = np.array([lucloelium, picks, 7.7e4, 0, 0, 0])
    plan = plan_day(e, stocks, np.array([0, 0, 0, 1e5, 7e5, 7e5]), None, 0.51)
    use = CurveMatrix(e.coefficients, e.curves).at(plan.production) @ plan.production
    owed = plan.allocation[0].sum()
    balance = stocks[0] + plan.production[0] - use[0] - owed
    assert balance >= -1e-5 * (1.0 + stocks[0] + owed)
    assert use[1] <= picks * (1 + 1e-9) + 1e-5
    assert plan.fulfilment.min() == pytest.approx(1.0)
