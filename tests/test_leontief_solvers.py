"""The Leontief solvers against independent oracles (LAPACK via numpy, SuperLU via spsolve)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from innatura.planner.errors import ConvergenceError, InvalidInputError
from innatura.planner.leontief import METHODS, IOSolution, relative_residual, solve_io
from innatura.planner.leontief.direct import solve_direct
from innatura.planner.leontief.krylov import solve_krylov
from innatura.planner.leontief.neumann import solve_neumann
from innatura.planner.leontief.structure import dependency_order, has_cycle, row_search, triangular_kind
from innatura.planner.leontief.triangular import solve_triangular_io
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import spsolve


def random_productive(n: int, density: float, rho: float, rng: np.random.Generator, *, kind: str = "cyclic"):
    """Sparse non-negative matrix with column sums <= rho (so spectral radius <= rho)."""
    A = sp.random(n, n, density=density, random_state=rng, format="csr", data_rvs=rng.random)
    if kind == "upper":
        A = sp.triu(A, format="csr")
    elif kind == "lower":
        A = sp.tril(A, format="csr")
    A = A + sp.diags(rng.random(n) * 0.2)
    cs = np.asarray(A.sum(axis=0)).ravel()
    scale = rho / np.maximum(cs, rho)
    return (A @ sp.diags(scale)).tocsr()


def oracle(A, d):
    if sp.issparse(A):
        return spsolve((sp.identity(A.shape[0]) - A).tocsc(), d)
    return np.linalg.solve(np.eye(A.shape[0]) - A, d)


@pytest.mark.parametrize("method", [None, *METHODS])
@pytest.mark.parametrize("kind", ["upper", "lower", "permuted", "cyclic"])
def test_methods_match_spsolve_on_sparse(method, kind):
    rng = np.random.default_rng(7)
    A = random_productive(300, 0.05, 0.8, rng, kind="upper" if kind == "permuted" else kind)
    if kind == "permuted":
        p = rng.permutation(300)
        A = A[p][:, p].tocsr()
    d = rng.random(300)
    if method == "triangular" and kind == "cyclic":
        with pytest.raises(InvalidInputError, match="cycle"):
            solve_io(A, d, method=method)
        return
    sol = solve_io(A, d, method=method)
    assert isinstance(sol, IOSolution)
    np.testing.assert_allclose(sol.x, oracle(A, d), rtol=1e-8, atol=1e-12)
    assert sol.converged and sol.residual <= 1e-10
    assert sol.residual == pytest.approx(relative_residual(A, d, sol.x), rel=1e-3, abs=1e-15)


@pytest.mark.parametrize("method", [None, *METHODS])
def test_methods_match_numpy_on_dense(method):
    rng = np.random.default_rng(3)
    A = rng.random((60, 60))
    A *= 0.9 / A.sum(axis=0).max()
    if method == "triangular":
        A = np.tril(A)
    d = rng.random(60)
    sol = solve_io(A, d, method=method)
    np.testing.assert_allclose(sol.x, np.linalg.solve(np.eye(60) - A, d), rtol=1e-8)
    assert sol.residual <= 1e-10


@pytest.mark.parametrize("fmt", ["csc", "coo", "csr_array", "lil"])
def test_any_sparse_format(fmt):
    rng = np.random.default_rng(1)
    A = random_productive(80, 0.1, 0.7, rng)
    B = sp.csr_array(A) if fmt == "csr_array" else A.asformat(fmt)
    d = rng.random(80)
    np.testing.assert_allclose(solve_io(B, d).x, oracle(A, d), rtol=1e-9)


def test_default_chooses_triangular_and_krylov_by_structure():
    rng = np.random.default_rng(2)
    up = random_productive(1500, 0.01, 0.9, rng, kind="upper")
    assert solve_io(up, rng.random(1500)).method == "triangular"
    p = rng.permutation(1500)
    assert solve_io(up[p][:, p].tocsr(), rng.random(1500)).method == "triangular"
    cyc = random_productive(1500, 0.01, 0.9, rng)
    assert solve_io(cyc, rng.random(1500)).method == "krylov"
    small = random_productive(50, 0.2, 0.9, rng)
    assert solve_io(small, rng.random(50)).method == "direct"


def test_several_right_hand_sides():
    rng = np.random.default_rng(4)
    A = random_productive(200, 0.05, 0.8, rng)
    D = rng.random((200, 3))
    expected = spsolve((sp.identity(200) - A).tocsc(), D)
    for method in [None, "direct", "krylov", "neumann"]:
        sol = solve_io(A, D, method=method)
        assert sol.x.shape == (200, 3)
        np.testing.assert_allclose(sol.x, expected, rtol=1e-8, atol=1e-12)
    up = random_productive(200, 0.05, 0.8, rng, kind="upper")
    np.testing.assert_allclose(solve_io(up, D, method="triangular").x, oracle(up, D), rtol=1e-9)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 120),
    density=st.floats(0.0, 0.3),
    rho=st.floats(0.05, 0.95),
    kind=st.sampled_from(["upper", "lower", "cyclic"]),
    seed=st.integers(0, 2**32 - 1),
    method=st.sampled_from([None, *METHODS]),
)
def test_property_random_productive(n, density, rho, kind, seed, method):
    rng = np.random.default_rng(seed)
    A = random_productive(n, density, rho, rng, kind=kind)
    d = rng.random(n)
    acyclic = connected_components(A, directed=True, connection="strong")[0] == n
    if method == "triangular" and not acyclic:
        with pytest.raises(InvalidInputError):
            solve_io(A, d, method=method)
        return
    sol = solve_io(A, d, method=method)
    ref = oracle(A, d)
    if sol.method in ("direct", "triangular"):
        np.testing.assert_allclose(sol.x, ref, rtol=1e-9, atol=1e-12)
    # iterative methods meet a norm-wise target: rho <= 0.95 keeps I - A well conditioned
    assert np.linalg.norm(sol.x - ref) <= 1e-7 * max(np.linalg.norm(ref), 1e-300) + 1e-14
    assert sol.converged and sol.residual <= 1e-10
    assert (sol.x >= -1e-9 * max(np.abs(ref).max(initial=0), 1)).all()  # productive: x >= 0


def test_blocked_substitution_block_sizes_and_kinds():
    rng = np.random.default_rng(5)
    for kind in ("upper", "lower"):
        A = random_productive(517, 0.03, 0.9, rng, kind=kind)
        A.sort_indices()
        d = rng.random(517)
        for block in (1, 7, 64, 600):
            out = solve_triangular_io(A, d, block=block)
            np.testing.assert_allclose(out.x, oracle(A, d), rtol=1e-10)
        assert triangular_kind(A) == kind


def test_row_search_matches_searchsorted():
    rng = np.random.default_rng(6)
    A = sp.random(50, 40, density=0.3, random_state=rng, format="csr")
    A.sort_indices()
    rows = np.arange(50)
    cols = rng.integers(0, 41, 50)
    pos = row_search(A.indptr, A.indices, rows, cols)
    for r in rows:
        seg = A.indices[A.indptr[r] : A.indptr[r + 1]]
        assert pos[r] == A.indptr[r] + np.searchsorted(seg, cols[r])


def test_cycle_detection():
    A = sp.csr_matrix(np.array([[0.1, 0.2, 0], [0, 0, 0.3], [0.4, 0, 0]]))
    assert has_cycle(A) is True
    assert dependency_order(A) is None
    B = sp.csr_matrix(np.array([[0.1, 0.2, 0], [0, 0, 0.3], [0, 0, 0.2]]))
    assert has_cycle(B) is False
    p = dependency_order(B)
    assert p is not None
    assert triangular_kind(B[p][:, p].tocsr()) == "lower"


def test_unknown_method_lists_valid_ones():
    with pytest.raises(InvalidInputError, match="valid methods: direct, triangular, krylov, neumann"):
        solve_io(np.zeros((2, 2)), np.ones(2), method="lu")


def test_unknown_option_names_the_method_and_its_options():
    with pytest.raises(InvalidInputError, match=r"'krylov' takes no option 'ordering'.*solver"):
        solve_io(np.zeros((2, 2)), np.ones(2), method="krylov", ordering="NATURAL")
    with pytest.raises(InvalidInputError, match="explicit method"):
        solve_io(np.zeros((2, 2)), np.ones(2), restart=5)
    with pytest.raises(InvalidInputError, match="valid: gmres, bicgstab"):
        solve_io(np.zeros((2, 2)), np.ones(2), method="krylov", solver="cg")
    with pytest.raises(InvalidInputError, match="valid: COLAMD"):
        solve_io(sp.csr_matrix((2, 2)), np.ones(2), method="direct", ordering="AMD")


def test_options_reach_the_method():
    rng = np.random.default_rng(8)
    A = random_productive(300, 0.05, 0.8, rng)
    d = rng.random(300)
    for solver in ("gmres", "bicgstab"):
        sol = solve_io(A, d, method="krylov", solver=solver)
        assert sol.converged
        np.testing.assert_allclose(sol.x, oracle(A, d), rtol=1e-8)
    short = solve_io(A, d, method="krylov", restart=2)  # many restarts
    assert short.converged and short.iterations > 10
    np.testing.assert_allclose(short.x, oracle(A, d), rtol=1e-8)
    assert solve_io(A, d, method="direct", ordering="NATURAL").residual <= 1e-10


def test_residual_reported_and_unconverged_explicit_method():
    rng = np.random.default_rng(9)
    A = random_productive(200, 0.1, 0.95, rng)
    d = rng.random(200)
    sol = solve_io(A, d, method="neumann", maxiter=3)
    assert not sol.converged
    assert sol.iterations == 3
    assert sol.residual == pytest.approx(relative_residual(A, d, sol.x))
    assert sol.residual > 1e-10
    sol = solve_io(A, d, method="neumann", tol=1e-6)
    assert sol.converged and 1e-12 < sol.residual <= 1e-6


def test_default_falls_back_when_first_method_misses(monkeypatch):
    import innatura.planner.leontief as lt
    from innatura.planner.leontief.result import MethodOutput

    rng = np.random.default_rng(10)
    A = random_productive(1500, 0.005, 0.8, rng)
    d = rng.random(1500)
    failing = lambda A, d, tol=1e-10: MethodOutput(np.zeros_like(d), 1, False)  # noqa: E731
    monkeypatch.setattr(lt, "METHOD_FUNCTIONS", {**lt.METHOD_FUNCTIONS, "krylov": failing})
    sol = solve_io(A, d)
    assert sol.attempts == ("krylov", "direct") and sol.method == "direct" and sol.converged


def test_default_raises_when_nothing_converges(monkeypatch):
    import innatura.planner.leontief as lt
    from innatura.planner.leontief.result import MethodOutput

    rng = np.random.default_rng(11)
    A = random_productive(50, 0.1, 0.8, rng)
    bad = lambda A, d, **kw: MethodOutput(np.zeros_like(d), 7, False)  # noqa: E731
    monkeypatch.setattr(lt, "METHOD_FUNCTIONS", dict.fromkeys(METHODS, bad))
    with pytest.raises(ConvergenceError, match="tried direct, krylov") as info:
        solve_io(A, rng.random(50))
    assert info.value.residual == pytest.approx(1.0)


def test_zero_demand_and_empty_matrix():
    sol = solve_io(sp.csr_matrix((3, 3)), np.zeros(3))
    assert np.array_equal(sol.x, np.zeros(3)) and sol.residual == 0
    assert solve_io(np.zeros((0, 0)), np.zeros(0)).x.shape == (0,)


def test_singular_diagonal_is_reported():
    A = sp.csr_matrix(np.array([[1.0, 0.0], [0.5, 0.0]]))
    with pytest.raises(InvalidInputError, match="singular"):
        solve_io(A, np.ones(2), method="triangular", check_productive=False)
    with pytest.raises(InvalidInputError, match="singular"):
        solve_io(A, np.ones(2), method="krylov", check_productive=False)


def test_method_functions_direct_use():
    rng = np.random.default_rng(12)
    A = random_productive(100, 0.05, 0.6, rng)
    d = rng.random(100)
    ref = oracle(A, d)
    for fn in (solve_direct, solve_krylov, solve_neumann, solve_triangular_io):
        if fn is solve_triangular_io:
            continue
        out = fn(A, d)
        np.testing.assert_allclose(out.x, ref, rtol=1e-8)
        assert out.converged and out.iterations >= 1


def test_levels_topological_sort_and_unsorted_rows():
    from innatura.planner.leontief.structure import is_lower_after, levels_order

    rng = np.random.default_rng(13)
    A = random_productive(400, 0.02, 0.9, rng, kind="upper")
    p = rng.permutation(400)
    B = A[p][:, p].tocsr()
    B.sort_indices()
    order = levels_order(B)
    assert sorted(order) == list(range(400)) and is_lower_after(B, order)
    # rows with unsorted column indices are handled (sorted on a copy, input untouched)
    C = A.copy()
    for i in range(400):
        a, b = C.indptr[i], C.indptr[i + 1]
        q = rng.permutation(b - a)
        C.indices[a:b], C.data[a:b] = C.indices[a:b][q], C.data[a:b][q]
    C.has_sorted_indices = False
    before = C.indices.copy()
    d = rng.random(400)
    np.testing.assert_allclose(solve_triangular_io(C, d).x, oracle(A, d), rtol=1e-10)
    assert np.array_equal(C.indices, before)
    np.testing.assert_allclose(solve_io(C, d).x, oracle(A, d), rtol=1e-10)


def test_cycle_hints_from_the_productivity_check():
    from innatura.planner.leontief import check_productive
    from innatura.planner.leontief.validation import validate_coefficients

    rng = np.random.default_rng(14)
    for kind, expect in (("cyclic", True), ("upper", False)):
        A = random_productive(300, 0.05, 0.8, rng, kind=kind)
        p = rng.permutation(300)
        A = validate_coefficients(A[p][:, p])
        hints: dict = {}
        check_productive(A, hints=hints)
        assert set(hints) >= {"in_s", "colsum_s", "diag"} or kind == "upper"
        assert has_cycle(A, hints=hints) is (True if expect else has_cycle(A))
        assert (dependency_order(A, hints=hints) is None) is expect
