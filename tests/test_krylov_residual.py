"""GMRES's residual from its own products, its Jacobi-Neumann preconditioner, and Newton's
residual updated without products: each checked against a direct evaluation or spsolve."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from innatura.planner.errors import InvalidInputError
from innatura.planner.leontief import relative_residual
from innatura.planner.leontief.krylov import gmres_jacobi, solve_krylov
from innatura.planner.leontief.norms import norm
from innatura.scenarios.generators import random_curves, random_economy
from scipy.sparse.linalg import spsolve


def _cyclic(seed: int, n_ind: int = 300, n_fin: int = 60, k: int = 12, profiles: int = 10):
    return random_economy(n_ind, n_fin, k, profiles, cyclic=True, rng=np.random.default_rng(seed))


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("terms", [1, 2, 3])
@pytest.mark.parametrize("restart", [4, 30])
def test_gmres_residual_from_the_arnoldi_relation_is_the_direct_one(seed, terms, restart):
    econ = _cyclic(seed)
    A, d = econ.A, econ.d
    dinv = 1.0 / (1.0 - A.diagonal())
    out = gmres_jacobi(A, d, dinv * d, dinv, tol=1e-9, restart=restart, maxiter=60, terms=terms)
    direct = d - out.x + A @ out.x
    assert out.converged and out.residual is not None
    # the same vector to rounding (the products' rounding, relative to the production)
    assert norm(out.residual - direct) <= 1e-13 * norm(out.x)
    assert out.residual_norm == pytest.approx(norm(direct), rel=1e-3, abs=1e-13 * norm(out.x))
    assert relative_residual(A, d, out.x) <= 1e-9


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("terms", [1, 2, 3])
def test_jacobi_neumann_preconditioner_keeps_spsolves_answer(seed, terms):
    econ = _cyclic(seed)
    A, d = econ.A, econ.d
    oracle = spsolve(sp.identity(A.shape[0], format="csc") - A.tocsc(), d)
    out = solve_krylov(A, d, tol=1e-11, terms=terms)
    assert out.converged and out.residual <= 1e-11
    np.testing.assert_allclose(out.x, oracle, rtol=1e-8, atol=1e-10 * np.abs(oracle).max())


def test_two_terms_take_fewer_directions_and_no_more_products_than_about_jacobi():
    econ = _cyclic(0, 2000, 300, 20, 20)
    A, d = econ.A, econ.d
    dinv = 1.0 / (1.0 - A.diagonal())
    one = gmres_jacobi(A, d, dinv * d, dinv, tol=1e-10, restart=60, maxiter=5, terms=1)
    two = gmres_jacobi(A, d, dinv * d, dinv, tol=1e-10, restart=60, maxiter=5, terms=2)
    assert one.converged and two.converged
    assert two.products <= one.products + 2


def test_terms_is_validated():
    econ = _cyclic(0)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(InvalidInputError, match="terms"):
            solve_krylov(econ.A, econ.d, terms=bad)


def test_close_to_the_target_a_product_decides(monkeypatch):
    # with a huge rounding allowance every converged cycle is confirmed by a direct product
    import innatura.planner.leontief.krylov as kr

    econ = _cyclic(1)
    A, d = econ.A, econ.d
    dinv = 1.0 / (1.0 - A.diagonal())
    plain = gmres_jacobi(A, d, dinv * d, dinv, tol=1e-9, restart=30, maxiter=10)
    monkeypatch.setattr(kr, "ROUNDING_SAFETY", 1e30)
    checked = gmres_jacobi(A, d, dinv * d, dinv, tol=1e-9, restart=30, maxiter=10)
    assert checked.products == plain.products + 1
    np.testing.assert_array_equal(checked.residual, d - checked.x + A @ checked.x)


@pytest.mark.parametrize("seed", range(3))
def test_residual_change_is_the_curve_cells_taylor_remainder(seed):
    from innatura.planner.leontief import solve_io
    from innatura.planner.nonlinear.system import prepare_system

    econ = random_economy(60, 15, 6, 5, cyclic=True, rng=np.random.default_rng(seed))
    x = solve_io(econ.A, econ.d).x
    store = random_curves(econ, x, 0.5, rng=np.random.default_rng(seed + 1))
    cs = prepare_system((econ.A, store), 1.3 * econ.d, None)
    rng = np.random.default_rng(seed + 2)
    x = 1.2 * x
    delta = 0.3 * x * rng.standard_normal(x.size)
    evaluated = cs.evaluate(x)
    G0, _ = cs.residual(x)
    J = cs.linearise(x).copy()
    jd = delta - J @ delta
    G1, _ = cs.residual(x + delta)
    change = cs.residual_change(x, delta, evaluated, cs.evaluate(x + delta)[0])
    np.testing.assert_allclose(change, G1 - G0 - jd, rtol=0, atol=1e-12 * np.abs(x).max())


def test_newton_with_updated_residuals_ends_on_a_direct_one(monkeypatch):
    from innatura.planner.curves import CurveMatrix
    from innatura.planner.leontief import solve_io
    from innatura.planner.nonlinear import solve_nonlinear_io
    from innatura.planner.nonlinear.system import CurveSystem

    evaluated = []
    residual = CurveSystem.residual

    def counted(self, x, f=None):
        evaluated.append(x)
        return residual(self, x, f)

    monkeypatch.setattr(CurveSystem, "residual", counted)

    econ = random_economy(400, 80, 10, 10, cyclic=True, rng=np.random.default_rng(3))
    x_lin = solve_io(econ.A, econ.d).x
    store = random_curves(econ, x_lin, 0.3, rng=np.random.default_rng(4))
    d = 1.3 * econ.d
    sol = solve_nonlinear_io((econ.A, store), d)
    direct = np.linalg.norm(sol.x - CurveMatrix(econ.A, store).at(sol.x) @ sol.x - d) / np.linalg.norm(d)
    assert sol.converged and sol.iterations >= 3
    assert sol.residual == pytest.approx(direct, rel=1e-6, abs=1e-15) and direct <= 1e-10
    # one product for the first residual, one to confirm the last; none for those between
    assert len(evaluated) == 2 and evaluated[-1] is sol.x
    assert sol.products - 2 >= sol.iterations


@pytest.mark.parametrize("source", ["arrays", "objects"])
def test_coefficients_and_marginal_use_together_equal_them_apart(source):
    from innatura.planner.curves import CurveStore
    from innatura.planner.leontief import solve_io
    from innatura.planner.nonlinear import economy_system
    from test_daily_plan_fixtures import selviaria

    if source == "arrays":
        econ = random_economy(80, 20, 6, 5, cyclic=True, rng=np.random.default_rng(5))
        x = solve_io(econ.A, econ.d).x
        store = random_curves(econ, x, 0.5, rng=np.random.default_rng(6))
    else:
        A, cells, d = economy_system(selviaria())
        store = CurveStore(cells)
        x = solve_io(A, d).x
    for point in (x, 1.7 * x, 0.5 * x, np.zeros_like(x), x * (np.arange(x.size) % 3)):
        f, m = store.coefficients_and_marginal_use(point)
        np.testing.assert_array_equal(f, store.coefficients(point))
        np.testing.assert_array_equal(m, store.marginal_use(point))


class _Watched:
    """A matrix whose products record how many threads BLAS may use at that moment."""

    def __init__(self, A: sp.csr_matrix) -> None:
        self.A, self.shape, self.threads = A, A.shape, []

    def __matmul__(self, v: np.ndarray) -> np.ndarray:
        self.threads.append(_blas_threads())
        return self.A @ v


def _blas_threads() -> list[int]:
    from threadpoolctl import threadpool_info

    return sorted(p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas")


def test_gram_schmidt_runs_on_one_blas_thread_and_the_setting_is_restored():
    from threadpoolctl import threadpool_limits

    before = _blas_threads()
    if not before:
        pytest.skip("no BLAS library that threadpoolctl can see")
    econ = _cyclic(0)
    A = _Watched(econ.A)
    dinv = 1.0 / (1.0 - econ.A.diagonal())
    with threadpool_limits(limits=2, user_api="blas"):  # a setting other than 1 to restore
        set_before = _blas_threads()
        out = gmres_jacobi(A, econ.d, dinv * econ.d, dinv, tol=1e-10, restart=30, maxiter=10, terms=2)
        assert _blas_threads() == set_before
    assert out.converged and A.threads
    assert all(t == [1] * len(t) for t in A.threads)
    assert _blas_threads() == before
    plain = gmres_jacobi(econ.A, econ.d, dinv * econ.d, dinv, tol=1e-10, restart=30, maxiter=10, terms=2)
    np.testing.assert_array_equal(out.x, plain.x)
