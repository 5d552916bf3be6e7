"""Successive LPs past a concave kink: a good made by two units that draw on different labour.

The stacked curve of unit A's labour is flat once A is at capacity; a secant through zero still
charges every further unit of output A's average use, so production at A's capacity is a fixed
point of the secants. The plan must go past it (planner/plan/slp.py, the tangent restart).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from innatura.planner.curves import CurveMatrix, PowerLawInput, StackedCurve
from innatura.planner.economy import CurveCell, Economy
from innatura.planner.plan import plan_day, slp


def two_unit_bakery(demand: float = 15.0) -> Economy:
    """Bread from unit A (capacity 10, one hour of A's labour a loaf), then unit B (one hour of
    B's labour a loaf); one citizen wants ``demand`` loaves."""
    goods = ("Bread", "Lb(A)", "Lb(B)")
    kinds = ("final", "labour", "labour")
    caps = (10.0, 100.0)
    zero = PowerLawInput(0.0, 1.0)
    cells = (CurveCell(1, 0, StackedCurve(caps, (PowerLawInput(1.0, 1.0), zero))),
             CurveCell(2, 0, StackedCurve(caps, (zero, PowerLawInput(1.0, 1.0)))))
    return Economy(goods, kinds, sp.csr_matrix((3, 3)), ("citizen",), np.array([[demand], [0.0], [0.0]]),
                   np.array([1.0]), curves=cells)


@pytest.mark.parametrize("demand, expected", [(15.0, 1.0), (25.0, 20.0 / 25.0)])
def test_the_plan_goes_past_the_first_units_capacity(demand, expected):
    e = two_unit_bakery(demand)
    labour = np.array([0.0, 10.0, 10.0])
    plan = plan_day(e, np.zeros(3), labour, None, 0.0, method="lp")
    assert plan.fulfilment[0] == pytest.approx(expected, rel=1e-6)
    use = CurveMatrix(e.coefficients, e.curves).at(plan.production) @ plan.production
    assert (use[1:] <= labour[1:] * (1 + 1e-6)).all()


def test_without_the_restart_the_secants_stop_at_the_kink(monkeypatch):
    # the fixed point the restart escapes: A at capacity, two thirds of the bread
    monkeypatch.setattr(slp, "ESCAPE_ROUNDS", 0)
    plan = plan_day(two_unit_bakery(), np.zeros(3), np.array([0.0, 10.0, 10.0]), None, 0.0, method="lp")
    assert plan.fulfilment[0] == pytest.approx(10.0 / 15.0, rel=1e-6)


def test_convex_curves_do_not_restart():
    # one unit whose labour grows with the square of output: the secants describe the next
    # output no worse than the tangents, so no restart (the plan is the secants' fixed point)
    e = Economy(("Bread", "Lb"), ("final", "labour"), sp.csr_matrix((2, 2)), ("citizen",),
                np.array([[15.0], [0.0]]), np.array([1.0]),
                curves=(CurveCell(1, 0, StackedCurve((np.inf,), (PowerLawInput(0.1, 2.0),))),))
    plan = plan_day(e, np.zeros(2), np.array([0.0, 10.0]), None, 0.0, method="lp")
    assert plan.production[0] == pytest.approx(10.0, rel=1e-5)  # 0.1 q^2 = 10


def test_the_balanced_root_search_survives_an_excess_without_a_sign_change():
    # an excess whose value at 0 drifts across the aim between evaluations (rounding in a
    # re-linearised evaluation): Brent's method sees no sign change, bisection still answers
    from innatura.planner.plan import balanced

    calls = []

    def excess(v: float) -> float:
        calls.append(v)
        at_zero = 0.5 * balanced.FIT_TOL * (0.99 if len(calls) <= 2 else 1.01)
        return at_zero + (v - 0.5) * (v > 0.5)

    s = balanced._largest_feasible(excess, 1.0)
    assert 0.0 <= s <= 0.5 + 1e-6
    assert excess(s) <= balanced.FIT_TOL


def test_a_kept_column_optimum_is_widened_when_the_next_objective_finds_it_infeasible():
    # objective 0 is one column (kept as its bound); objective 1 re-solves with that bound:
    # when HiGHS calls it infeasible, the bound widens like a kept row instead of failing
    from innatura.planner.lp import LexicographicLP

    lp = LexicographicLP(sp.csc_matrix(np.array([[1.0, 1.0]])), np.array([-np.inf]), np.array([1.0]),
                         np.zeros(2), np.array([1.0, 1.0]))
    runs = []
    real = lp._run

    def flaky(k):  # the first solve of objective 1 is reported infeasible
        runs.append(k)
        if runs.count(1) == 1 and k == 1:
            from innatura.planner.errors import InfeasiblePlanError
            raise InfeasiblePlanError("rounding")
        real(k)

    lp._run = flaky
    res = lp.solve([("max", np.array([1.0, 0.0])), ("max", np.array([0.0, 1.0]))])
    assert runs.count(1) == 2
    assert res.values[0] == pytest.approx(1.0, abs=1e-5)  # the bound widened to 1e-6
    assert res.values.sum() == pytest.approx(1.0)
