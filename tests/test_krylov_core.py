"""The Krylov core: the goods nothing uses solved at once, the products over the rest checked
against full products, and GMRES and Newton with it against spsolve and without it."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import scipy.sparse as sp
from innatura.planner.leontief import core as core_module
from innatura.planner.leontief import relative_residual, solve_io
from innatura.planner.leontief.core import CORE_MAX_RUNS, core_product, uses
from innatura.planner.leontief.krylov import gmres_jacobi, solve_krylov
from innatura.planner.leontief.norms import norm
from innatura.planner.leontief.structure import diagonal
from innatura.planner.nonlinear import solve_nonlinear_io
from innatura.scenarios.generators import random_curves, random_economy
from scipy.sparse.linalg import spsolve

#: the size guard as shipped; the tests below lower it to see the core on small economies
DEFAULT_MIN_GOODS = core_module.CORE_MIN_GOODS


@pytest.fixture(autouse=True)
def _core_on_small_economies(monkeypatch):
    monkeypatch.setattr(core_module, "CORE_MIN_GOODS", 0)


def _cyclic(seed: int, n_ind: int = 300, n_fin: int = 60, k: int = 12, profiles: int = 40):
    return random_economy(n_ind, n_fin, k, profiles, cyclic=True, rng=np.random.default_rng(seed))


def _permuted_goods(A: sp.csr_matrix, seed: int, n_goods: int) -> tuple[sp.csr_matrix, np.ndarray]:
    """``A`` with its goods (not the profiles) in a random order: the dirty rows scatter."""
    p = np.concatenate([np.random.default_rng(seed).permutation(n_goods), np.arange(n_goods, A.shape[0])])
    B = A[p][:, p].tocsr()
    B.sort_indices()
    return B, p


def _oracle(A: sp.csr_matrix, d: np.ndarray) -> np.ndarray:
    return spsolve(sp.identity(A.shape[0], format="csc") - A.tocsc(), d)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("permute", [False, True])
def test_core_product_equals_the_full_product_on_directions_zero_on_free_goods(seed, permute):
    econ = _cyclic(seed)
    A = econ.A
    if permute:
        A, _ = _permuted_goods(A, seed, econ.n_goods)
    core = core_product(A, diagonal(A))
    assert core is not None
    assert core.start == econ.n_goods and core.free[econ.n_goods:].all() and not core.free[: econ.n_goods].any()
    assert core.skipped == econ.n_final * econ.n_profiles  # the profile entries of the final goods
    z = np.random.default_rng(seed).standard_normal(A.shape[0])
    z[core.free] = 0.0
    np.testing.assert_array_equal(core(z), A @ z)


def test_core_refresh_rereads_the_dirty_rows_after_data_change_in_place():
    econ = _cyclic(1)
    A = econ.A.copy()
    core = core_product(A, diagonal(A))
    assert core is not None
    A.data *= np.random.default_rng(0).uniform(0.5, 1.0, A.nnz)
    core.refresh()
    z = np.random.default_rng(1).random(A.shape[0])
    z[core.free] = 0.0
    np.testing.assert_array_equal(core(z), A @ z)


def test_no_core_where_it_would_not_pay():
    econ = _cyclic(0)
    A = econ.A
    # a good nothing uses is not at the end of the order: no free suffix
    p = np.concatenate([np.arange(econ.n_goods, A.shape[0]), np.arange(econ.n_goods)])
    B = A[p][:, p].tocsr()
    B.sort_indices()
    assert core_product(B, diagonal(B)) is None
    # profile entries below the share that pays
    few = _cyclic(0, 300, 2, 12, 3)
    assert core_product(few.A, diagonal(few.A)) is None
    # a cycle through every good: nothing is free
    C = sp.random(50, 50, density=0.2, random_state=0, format="csr") * 0.01
    C.sort_indices()
    assert core_product(C, diagonal(C)) is None
    # dense input
    assert core_product(A.toarray(), diagonal(A)) is None


def test_small_economies_keep_full_products(monkeypatch):
    """Below CORE_MIN_GOODS finding the core costs more than it saves: no core; from it on,
    one."""
    monkeypatch.setattr(core_module, "CORE_MIN_GOODS", DEFAULT_MIN_GOODS)
    small = _cyclic(0)
    assert small.A.shape[0] < DEFAULT_MIN_GOODS
    assert core_product(small.A, diagonal(small.A)) is None
    large = _cyclic(0, 2000, 300, 20, 40)
    assert large.A.shape[0] >= DEFAULT_MIN_GOODS
    assert core_product(large.A, diagonal(large.A)) is not None


def _large_amounts(seed: int) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Four goods and two profiles as the edge scenario "largest amounts" of
    tests/test_safe_runs.py gives them to the scaled-demand plan: profile 1 takes about 1e9
    of good 1 a head and the demand is a few thousandths, so good 1's production (2e6) cancels
    in its row against terms 5e8 times the demand's norm. Seed 0 is that system; the others
    scale its amounts. Returns ``(A, d, x)`` with ``x`` the exact solution (by substitution in
    rational arithmetic) rounded to doubles."""
    u = np.random.default_rng(seed).uniform(0.5, 2.0, 3) if seed else np.ones(3)
    A = np.zeros((6, 6))
    A[0, 4], A[1, 0], A[1, 4], A[1, 5] = 1.0, 0.2, 0.5 * u[0], 1e9 * u[1]
    A[2, 0], A[3, 0], A[3, 1] = 0.1, 0.01, 0.02
    d = np.array([0.0, 0.0, 0.0, 0.0, 0.0032359346496598660, 0.0021572897664399108 * u[2]])
    F = [Fraction(v) for v in d]
    x4, x5 = F[4], F[5]
    x0 = Fraction(A[0, 4]) * x4
    x1 = Fraction(A[1, 0]) * x0 + Fraction(A[1, 4]) * x4 + Fraction(A[1, 5]) * x5
    x = np.array([float(v) for v in (x0, x1, Fraction(A[2, 0]) * x0,
                                     Fraction(A[3, 0]) * x0 + Fraction(A[3, 1]) * x1, x4, x5)])
    M = sp.csr_matrix(A)
    M.sort_indices()
    return M, d, x


@pytest.mark.parametrize("seed", range(12))
def test_core_reaches_the_residual_where_large_amounts_cancel(seed):
    """The residual of a good whose production cancels 1e9 amounts: evaluated in another order
    than ``b - x + A @ x`` it differs by an ulp of the production (1.2e-7 of ``||d||`` on seed
    0); GMRES with the core judges convergence by ``b - x + A @ x`` and reaches 1e-10 there,
    as with full products."""
    A, d, exact = _large_amounts(seed)
    assert core_product(A, diagonal(A)) is not None
    out = solve_krylov(A, d, tol=1e-10)
    assert out.converged and out.residual is not None and out.residual <= 1e-10
    assert relative_residual(A, d, out.x) <= 1e-10
    np.testing.assert_allclose(out.x, exact, rtol=4 * np.finfo(float).eps, atol=0)
    full = solve_krylov(A, d, tol=1e-10, core=False)
    assert out.iterations <= full.iterations + 1


def test_linear_recursion_with_the_core_reaches_the_residual_on_large_amounts():
    """The scaled-demand plan's solve of the edge scenario "largest amounts" (a linear system
    through :func:`solve_nonlinear_io`: direct, then Krylov with the core)."""
    A, d, exact = _large_amounts(0)
    sol = solve_nonlinear_io((A, []), d, tol=1e-10)
    assert sol.converged and sol.residual <= 1e-10
    np.testing.assert_allclose(sol.x, exact, rtol=4 * np.finfo(float).eps, atol=0)


def test_no_core_when_the_plain_rows_fragment():
    """200 final goods scattered among 600: more runs of plain rows than one call each pays;
    the solve then makes full products and still matches spsolve."""
    econ = _cyclic(2, 400, 200, 6, 60)
    B, p = _permuted_goods(econ.A, 2, econ.n_goods)
    plain = np.ones(econ.n_goods, dtype=bool)
    plain[np.argsort(p)[econ.n_industrial : econ.n_goods]] = False
    assert np.count_nonzero(np.diff(plain.astype(int)) == 1) + int(plain[0]) > CORE_MAX_RUNS
    assert core_product(B, diagonal(B)) is None
    out = solve_krylov(B, econ.d[p], tol=1e-11)
    np.testing.assert_allclose(out.x, _oracle(B, econ.d[p]), rtol=1e-8)


def test_uses_marks_rows_with_an_off_diagonal_entry():
    A = sp.csr_matrix(np.array([[0.5, 0.0, 0.0], [0.1, 0.2, 0.0], [0.0, 0.0, 0.0]]))
    assert uses(A, diagonal(A)).tolist() == [False, True, False]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("permute", [False, True])
@pytest.mark.parametrize("terms", [1, 2])
def test_gmres_with_core_matches_spsolve(seed, permute, terms):
    econ = _cyclic(seed)
    A, d = econ.A, econ.d
    if permute:
        A, p = _permuted_goods(A, seed, econ.n_goods)
        d = d[p]
    oracle = _oracle(A, d)
    out = solve_krylov(A, d, tol=1e-11, terms=terms)
    assert out.converged and out.residual <= 1e-11
    assert relative_residual(A, d, out.x) <= 1e-11 * 1.01
    np.testing.assert_allclose(out.x, oracle, rtol=1e-8, atol=1e-10 * np.abs(oracle).max())


@pytest.mark.parametrize("seed", range(3))
def test_gmres_with_core_and_demand_on_goods_and_free_diagonals(seed):
    """Demand on every good, and goods nothing uses with a diagonal coefficient of their own:
    ``x_i = d_i / (1 - a_ii)`` there, from zero and from a start that is wrong there."""
    econ = _cyclic(seed)
    A = econ.A.tolil()
    n = econ.n_goods
    rng = np.random.default_rng(seed)
    for i in range(n, A.shape[0], 3):
        A[i, i] = rng.uniform(0.1, 0.5)
    A = A.tocsr()
    A.sort_indices()
    d = rng.random(A.shape[0])
    oracle = _oracle(A, d)
    diag = diagonal(A)
    core = core_product(A, diag)
    assert core is not None
    dinv = 1.0 / (1.0 - diag)
    for x0 in (None, np.zeros_like(d), rng.random(A.shape[0])):
        out = gmres_jacobi(A, d, x0, dinv, tol=1e-11, restart=30, maxiter=20, terms=2, core=core)
        assert out.converged
        assert relative_residual(A, d, out.x) <= 1.01e-11
        np.testing.assert_allclose(out.x, oracle, rtol=1e-8, atol=1e-10 * np.abs(oracle).max())
        assert out.residual is not None
        assert norm(out.residual - (d - out.x + A @ out.x)) <= 1e-13 * norm(out.x)


def test_core_takes_the_same_products_as_full_products():
    econ = _cyclic(0, 2000, 300, 20, 40)
    A, d = econ.A, econ.d
    with_core = solve_krylov(A, d, tol=1e-10)
    without = solve_krylov(A, d, tol=1e-10, core=False)
    assert with_core.iterations == without.iterations
    np.testing.assert_allclose(with_core.x, without.x, rtol=1e-12, atol=1e-14 * np.abs(without.x).max())


def test_default_solver_uses_the_core_with_the_productivity_checks_rows(monkeypatch):
    """The default (Krylov above 1000 cyclic goods) builds the core from the rows the
    productivity check found, without finding them again."""
    econ = _cyclic(3, 1500, 200, 10, 40)
    calls = []
    real = core_module.core_product

    def spy(A, diag, *, in_s=None, threads=None):
        calls.append(in_s is not None)
        out = real(A, diag, in_s=in_s, threads=threads)
        assert out is not None
        return out

    monkeypatch.setattr("innatura.planner.leontief.krylov.core_product", spy)
    sol = solve_io(econ.A, econ.d)
    assert sol.method == "krylov" and sol.converged
    assert calls and all(calls)
    np.testing.assert_allclose(sol.x, _oracle(econ.A, econ.d), rtol=1e-8)


def test_newton_with_core_equals_newton_without(monkeypatch):
    econ = _cyclic(4, 400, 80, 10, 30)
    x_lin = solve_io(econ.A, econ.d).x
    curves = random_curves(econ, x_lin, 0.2, rng=np.random.default_rng(4))
    d = 1.2 * econ.d
    with_core = solve_nonlinear_io((econ.A, curves), d, tol=1e-10)
    monkeypatch.setattr("innatura.planner.nonlinear.newton.core_product", lambda *a, **k: None)
    without = solve_nonlinear_io((econ.A, curves), d, tol=1e-10)
    assert with_core.converged and without.converged
    assert with_core.residual <= 1e-10
    np.testing.assert_allclose(with_core.x, without.x, rtol=1e-8)


@pytest.mark.parametrize("permute", [False, True])
def test_tail_product_equals_the_full_product_on_a_start_set_on_free_goods_only(permute):
    econ = _cyclic(5)
    A = econ.A.tolil()
    for i in range(econ.n_goods, A.shape[0], 4):
        A[i, i] = 0.25  # free goods with a diagonal of their own
    A = A.tocsr()
    A.sort_indices()
    if permute:
        A, _ = _permuted_goods(A, 5, econ.n_goods)
    core = core_product(A, diagonal(A))
    assert core is not None
    assert (core.split is None) == permute  # scattered dirty rows: the tail is a full product
    x = np.zeros(A.shape[0])
    x[core.start :] = np.random.default_rng(5).random(A.shape[0] - core.start)
    np.testing.assert_allclose(core.tail(x), A @ x, rtol=1e-14, atol=0)
