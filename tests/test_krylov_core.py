"""The Krylov core: the goods nothing uses solved at once, the products over the rest checked
against full products, and GMRES and Newton with it against spsolve and without it."""

from __future__ import annotations

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


def test_small_economies_keep_full_products():
    """Below CORE_MIN_GOODS there is no core (the edge scenario "largest amounts" of
    tests/test_safe_runs.py, six goods with amounts of 1e9, needs the full products to reach
    its residual); from it on, the same economy gets one."""
    econ = _cyclic(0)
    assert econ.A.shape[0] >= core_module.CORE_MIN_GOODS
    assert core_product(econ.A, diagonal(econ.A)) is not None
    small = _cyclic(0, 40, 10, 4, 20)
    assert small.A.shape[0] < core_module.CORE_MIN_GOODS
    assert core_product(small.A, diagonal(small.A)) is None
    out = solve_krylov(small.A, small.d, tol=1e-11)
    assert relative_residual(small.A, small.d, out.x) <= 1e-11


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

    def spy(A, diag, *, in_s=None):
        calls.append(in_s is not None)
        out = real(A, diag, in_s=in_s)
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
