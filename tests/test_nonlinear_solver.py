"""The nonlinear IO solver (OLIN-EP Eq. 3) against closed forms and an independent root finder."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import scipy.sparse as sp
from innatura.planner.curves import ConstantCurve, CurveMatrix, PiecewiseLinearCurve
from innatura.planner.economy import CurveCell
from innatura.planner.errors import ConvergenceError, InvalidInputError, NonProductiveError
from innatura.planner.nonlinear import economy_system, solve_nonlinear_io, system_labels
from scipy.optimize import fsolve
from test_daily_plan_fixtures import selviaria

METHODS = ["fixed-point", "newton-krylov"]


def affine(a: float, b: float, top: float = 1e4) -> PiecewiseLinearCurve:
    """f(x) = a + b x on [0, top] (exactly, as a two-point piecewise-linear curve)."""
    return PiecewiseLinearCurve((0.0, top), (a, a + b * top))


class Tanh:
    """f(x) = 0.5 - 0.45 tanh(x - 5): productive everywhere, steep enough to make Lahiri's
    recursion oscillate around the root x* = 5 of (1 - f(x)) x = 2.5."""

    def __call__(self, x):
        return 0.5 - 0.45 * np.tanh(np.asarray(x, float) - 5.0)

    def derivative(self, x):
        return -0.45 / np.cosh(np.asarray(x, float) - 5.0) ** 2


@pytest.mark.parametrize("method", METHODS)
def test_one_good_affine_curve_has_closed_form_root(method):
    a, b, d = 0.2, 0.001, 50.0
    system = (sp.csr_matrix((1, 1)), (CurveCell(0, 0, affine(a, b)),))
    sol = solve_nonlinear_io(system, np.array([d]), method)
    exact = ((1 - a) - math.sqrt((1 - a) ** 2 - 4 * b * d)) / (2 * b)  # the smaller (productive) root
    assert sol.converged and sol.method == method
    assert sol.x[0] == pytest.approx(exact, rel=1e-10)
    assert sol.residual <= 1e-10 and sol.residual == sol.residual_history[-1]


@pytest.mark.parametrize("method", METHODS)
def test_two_goods_closed_form(method):
    # x0 = (0.1 + b x0) x0 + 0.2 x1 + d0,  x1 = 0.1 x0 + d1
    b, d0, d1 = 0.002, 30.0, 40.0
    A = sp.csr_matrix(np.array([[0.0, 0.2], [0.1, 0.0]]))
    sol = solve_nonlinear_io((A, (CurveCell(0, 0, affine(0.1, b)),)), np.array([d0, d1]), method)
    c = d0 + 0.2 * d1
    x0 = (0.88 - math.sqrt(0.88**2 - 4 * b * c)) / (2 * b)
    np.testing.assert_allclose(sol.x, [x0, 0.1 * x0 + d1], rtol=1e-10)


def test_methods_agree_with_fsolve_on_selviaria():
    e = selviaria()
    A, cells, d = economy_system(e)
    cm = CurveMatrix(A, cells)
    fp = solve_nonlinear_io(e, method="fixed-point")
    nk = solve_nonlinear_io(e, method="newton-krylov")
    oracle = fsolve(lambda x: x - cm.at(x) @ x - d, d, xtol=1e-13)
    np.testing.assert_allclose(fp.x, oracle, rtol=1e-8)
    np.testing.assert_allclose(nk.x, oracle, rtol=1e-8)
    assert nk.iterations < fp.iterations + 2
    assert solve_nonlinear_io(e).method == "newton-krylov"  # default with curves
    # profiles served = population; Lucloelium covers the bundles plus T-ring's inputs
    np.testing.assert_allclose(nk.x[-2:], [800, 500])
    assert len(system_labels(e)) == 8 and system_labels(e)[-1] == "profile:Profile 1"


def test_linear_system_is_one_solve():
    A = sp.random(30, 30, density=0.2, random_state=np.random.default_rng(1), format="csr") * 0.1
    d = np.arange(30.0)
    sol = solve_nonlinear_io((A, ()), d)
    np.testing.assert_allclose(sol.x, np.linalg.solve(np.eye(30) - A.toarray(), d), rtol=1e-10)
    assert sol.method == "fixed-point" and sol.iterations == 1


def test_oscillating_recursion_raises_but_newton_converges():
    system = (sp.csr_matrix((1, 1)), (CurveCell(0, 0, Tanh()),))
    with pytest.raises(ConvergenceError) as info:
        solve_nonlinear_io(system, np.array([2.5]), "fixed-point", max_iter=60)
    assert info.value.iterations > 0 and info.value.residual > 1e-3
    sol = solve_nonlinear_io(system, np.array([2.5]), "newton-krylov")
    assert sol.x[0] == pytest.approx(5.0, rel=1e-10)
    damped = solve_nonlinear_io(system, np.array([2.5]), "fixed-point", damping=0.2, max_iter=500)
    assert damped.x[0] == pytest.approx(5.0, rel=1e-9)


def test_failure_can_be_returned_instead_of_raised():
    system = (sp.csr_matrix((1, 1)), (CurveCell(0, 0, Tanh()),))
    sol = solve_nonlinear_io(system, np.array([2.5]), "fixed-point", max_iter=10, raise_on_failure=False)
    assert not sol.converged and sol.iterations == 10 and len(sol.residual_history) == 11


def test_growing_coefficient_becomes_non_productive_and_names_the_good():
    # (1 - 0.5 - 0.01 x) x = 10 has no real root: the iterates push f(x) past 1
    system = (sp.csr_matrix((1, 1)), (CurveCell(0, 0, affine(0.5, 0.01)),))
    with pytest.raises(NonProductiveError) as info:
        solve_nonlinear_io(system, np.array([10.0]), "fixed-point", names=["Butter"])
    assert info.value.goods == ("Butter",)
    assert "iterate" in str(info.value)


def test_non_productive_solution_is_rejected_by_newton():
    # a self-input above 1 at the root itself: the root x = -d / (f - 1) < 0 cannot be a plan
    system = (sp.csr_matrix((1, 1)), (CurveCell(0, 0, ConstantCurve(1.5)),))
    with pytest.raises(NonProductiveError):
        solve_nonlinear_io(system, np.array([1.0]), "newton-krylov", x0=np.array([1.0]))


def test_result_is_frozen():
    sol = solve_nonlinear_io((sp.csr_matrix((1, 1)), ()), np.array([1.0]))
    with pytest.raises(dataclasses.FrozenInstanceError):
        sol.x = None  # type: ignore[misc]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"method": "bisection"}, "method"),
        ({"damping": 0.0}, "damping"),
        ({"tol": -1.0}, "tol"),
        ({"d": np.array([-1.0])}, "d"),
        ({"d": np.array([1.0, 2.0])}, "shape"),
        ({"x0": np.array([np.nan])}, "x0"),
    ],
)
def test_invalid_arguments(kwargs, match):
    kwargs.setdefault("d", np.array([1.0]))
    with pytest.raises(InvalidInputError, match=match):
        solve_nonlinear_io((sp.csr_matrix((1, 1)), ()), **kwargs)


def test_system_needs_demand_and_valid_cells():
    with pytest.raises(InvalidInputError, match="d"):
        solve_nonlinear_io((sp.csr_matrix((1, 1)), ()))
    with pytest.raises(InvalidInputError, match="outside"):
        CurveMatrix(sp.csr_matrix((2, 2)), (CurveCell(0, 5, ConstantCurve(0.1)),))
    with pytest.raises(InvalidInputError, match="same cell"):
        CurveMatrix(sp.csr_matrix((2, 2)), (CurveCell(0, 1, ConstantCurve(0.1)),) * 2)


def test_curve_matrix_replaces_constant_entries_and_builds_jacobian_term():
    A = sp.csr_matrix(np.array([[0.1, 0.7], [0.0, 0.2]]))
    cm = CurveMatrix(A, (CurveCell(0, 1, affine(0.05, 0.01)),))
    x = np.array([3.0, 4.0])
    np.testing.assert_allclose(cm.at(x).toarray(), [[0.1, 0.05 + 0.04], [0.0, 0.2]])
    np.testing.assert_allclose(cm.jacobian_term(x).toarray(), [[0.0, 0.01 * 4.0], [0.0, 0.0]])


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("cyclic", [False, True])
def test_newton_on_random_economies_with_array_curves_agrees_with_fsolve(seed, cyclic):
    from innatura.planner.curves import CurveStore
    from innatura.planner.leontief import solve_io
    from innatura.scenarios.generators import random_curves, random_economy

    econ = random_economy(40, 10, 6, 5, cyclic=cyclic, rng=np.random.default_rng(seed))
    x_lin = solve_io(econ.A, econ.d).x
    store = random_curves(econ, x_lin, 0.5, rng=np.random.default_rng(seed + 10))
    assert isinstance(store, CurveStore) and store.n_cells > 20
    d = 1.3 * econ.d
    cm = CurveMatrix(econ.A, store)
    oracle = fsolve(lambda x: x - cm.at(x) @ x - d, 1.3 * x_lin, xtol=1e-13)
    sol = solve_nonlinear_io((econ.A, store), d)
    assert sol.method == "newton-krylov" and sol.converged and sol.residual <= 1e-10
    np.testing.assert_allclose(sol.x, oracle, rtol=1e-8, atol=1e-12 * np.abs(oracle).max())
    fp = solve_nonlinear_io((econ.A, store), d, "fixed-point")
    np.testing.assert_allclose(fp.x, oracle, rtol=1e-8, atol=1e-12 * np.abs(oracle).max())
    assert sol.products >= sol.iterations and sol.linear_solves == sol.iterations


def test_curve_cells_and_their_store_give_the_same_solution():
    from innatura.planner.curves import CurveStore

    e = selviaria()
    A, cells, d = economy_system(e)
    a = solve_nonlinear_io((A, cells), d)
    b = solve_nonlinear_io((A, CurveStore(cells)), d)
    np.testing.assert_array_equal(a.x, b.x)


def test_newton_from_the_linear_solution_at_the_calibration_point_is_one_residual():
    # curves calibrated at the linear solution reproduce it exactly at the same demand
    from innatura.planner.leontief import solve_io
    from innatura.scenarios.generators import random_curves, random_economy

    econ = random_economy(30, 10, 5, 4, cyclic=True, rng=np.random.default_rng(7))
    lin = solve_io(econ.A, econ.d, tol=1e-13)
    store = random_curves(econ, lin.x, 1.0, rng=np.random.default_rng(8))
    sol = solve_nonlinear_io((econ.A, store), econ.d, x0=lin.x)
    assert sol.iterations == 0 and sol.products == 1 and sol.residual <= 1e-10


def _curved_cyclic(seed: int):
    """A cyclic economy with curves on a fifth of its goods' cells, diagonal cells among them."""
    from innatura.planner.leontief import solve_io
    from innatura.scenarios.generators import random_curves, random_economy

    econ = random_economy(300, 60, 10, 30, cyclic=True, rng=np.random.default_rng(seed))
    x_lin = solve_io(econ.A, econ.d).x
    curves = random_curves(econ, x_lin, 0.2, rng=np.random.default_rng(seed))
    assert (curves.rows == curves.cols).any()
    return econ, curves


def test_curve_system_diagonal_follows_the_curve_cells_written():
    from innatura.planner.nonlinear import prepare_system

    econ, curves = _curved_cyclic(0)
    cs = prepare_system((econ.A, curves), 1.2 * econ.d, None)
    x = 1.3 * econ.d + np.random.default_rng(0).random(econ.d.size)
    for M in (cs.coefficients_at(x), cs.linearise(x), cs.coefficients_at(2.0 * x)):
        np.testing.assert_array_equal(cs.diagonal(), M.diagonal())


def test_newton_finds_the_diagonal_once_and_checks_its_solution_with_it(monkeypatch):
    """One scan of the matrix for its diagonal per Newton solve (the Jacobi pivots of every
    step and the productivity check at the solution take it from there); the full check, which
    finds the diagonal afresh, accepts the solution too."""
    econ, curves = _curved_cyclic(1)
    d = 1.2 * econ.d
    calls = []
    real = sp.csr_matrix.diagonal

    def spy(self, k=0):
        calls.append(self.shape)
        return real(self, k)

    monkeypatch.setattr(sp.csr_matrix, "diagonal", spy)
    sol = solve_nonlinear_io((econ.A, curves), d, "newton-krylov", tol=1e-10)
    assert sol.converged and sol.residual <= 1e-10
    assert len(calls) == 1
    monkeypatch.undo()
    from innatura.planner.leontief import check_productive
    from innatura.planner.nonlinear import prepare_system

    cs = prepare_system((econ.A, curves), d, None)
    assert check_productive(cs.coefficients_at(sol.x)) < 1.0  # the full check, diagonal found afresh
    _, r = cs.residual(sol.x)
    assert r <= 1e-10
