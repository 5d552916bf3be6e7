"""Row-blocked sparse products in threads: equal to ``A @ x`` to the bit, and so are the solves."""

from __future__ import annotations

import itertools
import multiprocessing
import os

import numpy as np
import pytest
import scipy.sparse as sp
from innatura.planner.errors import InvalidInputError
from innatura.planner.leontief import solve_io
from innatura.planner.leontief.core import core_product
from innatura.planner.leontief.structure import diagonal
from innatura.planner.nonlinear import solve_nonlinear_io
from innatura.planner.parallel_product import (
    GROUPS_PER_THREAD,
    THREADS_ENV,
    balanced_blocks,
    group_blocks,
    product_of,
    resolve_threads,
    row_blocked,
)
from innatura.scenarios.generators import random_curves, random_economy


def _random_csr(rng: np.random.Generator, n: int, m: int, density: float) -> sp.csr_matrix:
    """A random CSR matrix with empty rows, rows of very different lengths and signed entries."""
    lens = rng.integers(0, max(2, int(2 * density * m)), size=n)
    lens[rng.random(n) < 0.2] = 0  # empty rows
    lens[rng.integers(0, n)] = min(m, 10 * max(1, int(density * m)))  # one long row
    rows = [np.sort(rng.choice(m, size=int(k), replace=False)) for k in lens]
    indptr = np.concatenate(([0], np.cumsum([r.size for r in rows]))).astype(np.int32)
    indices = np.concatenate(rows).astype(np.int32) if rows else np.zeros(0, np.int32)
    data = rng.standard_normal(indices.size) * 10.0 ** rng.integers(-8, 8, size=indices.size)
    return sp.csr_matrix((data, indices, indptr), shape=(n, m))


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("shape", [(1, 1), (7, 5), (200, 200), (3000, 2500)])
def test_threaded_product_equals_the_plain_one_to_the_bit(threads, shape):
    rng = np.random.default_rng(sum(shape) + threads)
    A = _random_csr(rng, *shape, density=0.05)
    P = row_blocked(A, threads, min_nnz=0)
    for _ in range(3):
        x = rng.standard_normal(shape[1]) * 10.0 ** rng.integers(-5, 5, size=shape[1])
        y = P(x)
        assert y.dtype == np.float64 and y.shape == (shape[0],)
        assert np.array_equal(y, A @ x)
        assert np.array_equal(P @ x, A @ x)


def test_blocks_cover_every_row_once_and_balance_the_entries():
    rng = np.random.default_rng(3)
    A = _random_csr(rng, 5000, 5000, 0.01)
    for threads in (2, 3, 4):
        groups = row_blocked(A, threads, min_nnz=0).groups
        assert len(groups) == threads * GROUPS_PER_THREAD
        rows = [(r0, r1) for g in groups for _, r0, r1, _ in g]
        assert rows[0][0] == 0 and rows[-1][1] == A.shape[0]
        assert all(a[1] == b[0] for a, b in itertools.pairwise(rows))
        loads = [sum(int(A.indptr[r1] - A.indptr[r0]) for _, r0, r1, _ in g) for g in groups]
        assert max(loads) - min(loads) <= 2 * int(np.diff(A.indptr).max())


def test_balanced_blocks_of_a_range():
    indptr = np.array([0, 0, 10, 10, 20, 30, 30, 40])
    assert balanced_blocks(indptr, 0, 7, 2) == [(0, 4), (4, 7)]
    assert balanced_blocks(indptr, 1, 4, 1) == [(1, 4)]
    assert balanced_blocks(indptr, 3, 3, 2) == []


def test_grouped_blocks_write_their_own_offsets():
    rng = np.random.default_rng(5)
    A = _random_csr(rng, 300, 300, 0.05)
    B = _random_csr(rng, 40, 300, 0.2)
    groups = group_blocks([(A, 0, 100, 0), (B, 0, 40, 100), (A, 150, 300, 150)], 3)
    x = rng.standard_normal(300)
    y = np.zeros(300)
    from innatura.planner.parallel_product import run_blocks

    run_blocks(groups, x, y, 2)
    expected = np.zeros(300)
    expected[:100] = A[:100] @ x
    expected[100:140] = B @ x
    expected[150:] = A[150:] @ x
    assert np.array_equal(y, expected)


def test_small_matrices_one_thread_and_other_inputs_take_the_plain_product():
    rng = np.random.default_rng(1)
    A = _random_csr(rng, 100, 100, 0.05)
    assert row_blocked(A, 4).groups == ()  # below the nonzero threshold
    assert row_blocked(A, 1, min_nnz=0).groups == ()
    P = row_blocked(A, 2, min_nnz=0)
    X = rng.standard_normal((100, 3))
    assert np.array_equal(P(X), A @ X)
    xi = np.arange(100)
    assert np.array_equal(P(xi), A @ xi)
    dense = A.toarray()
    assert product_of(dense, 2) is dense
    with pytest.raises(ValueError, match="dimension mismatch"):
        P(np.ones(99))


def test_threads_from_keyword_environment_and_cores(monkeypatch):
    monkeypatch.delenv(THREADS_ENV, raising=False)
    assert resolve_threads() >= 1
    monkeypatch.setenv(THREADS_ENV, "3")
    assert resolve_threads() == 3
    assert resolve_threads(1) == 1
    monkeypatch.setenv(THREADS_ENV, "zero")
    with pytest.raises(InvalidInputError, match=r"INNATURA_THREADS.*'zero'"):
        resolve_threads()
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(InvalidInputError, match="threads: expected a positive integer"):
            resolve_threads(bad)
    with pytest.raises(InvalidInputError, match="threads"):
        solve_io(np.zeros((2, 2)), np.ones(2), threads=0)


def test_threaded_core_product_equals_the_plain_one(monkeypatch):
    monkeypatch.setattr("innatura.planner.leontief.core.MIN_PARALLEL_NNZ", 0)
    econ = random_economy(4000, 400, 8, 40, cyclic=True, rng=np.random.default_rng(2))
    A = econ.A
    diag = diagonal(A)
    plain = core_product(A, diag, threads=1)
    assert plain is not None and plain.groups == ()
    rng = np.random.default_rng(0)
    for threads in (2, 3):
        core = core_product(A, diag, threads=threads)
        assert core is not None and core.threads == threads and len(core.groups) == threads * GROUPS_PER_THREAD
        for _ in range(3):
            z = rng.standard_normal(A.shape[0])
            z[core.free] = 0.0
            assert np.array_equal(core(z), plain(z))


def test_linear_and_nonlinear_solves_are_identical_with_one_and_two_threads(monkeypatch):
    monkeypatch.setattr("innatura.planner.parallel_product.MIN_PARALLEL_NNZ", 0)
    monkeypatch.setattr("innatura.planner.leontief.core.MIN_PARALLEL_NNZ", 0)
    econ = random_economy(6000, 600, 10, 40, cyclic=True, rng=np.random.default_rng(7))
    assert row_blocked(econ.A, 2).threads == 2
    one = solve_io(econ.A, econ.d, threads=1)
    two = solve_io(econ.A, econ.d, threads=2)
    assert one.method == two.method == "krylov"
    assert one.iterations == two.iterations
    assert np.array_equal(one.x, two.x) and one.residual == two.residual
    store = random_curves(econ, one.x, 0.05, rng=np.random.default_rng(8))
    nl = [solve_nonlinear_io((econ.A, store), 1.3 * econ.d, threads=t) for t in (1, 2)]
    assert nl[0].converged and nl[0].products == nl[1].products
    assert np.array_equal(nl[0].x, nl[1].x) and nl[0].residual_history == nl[1].residual_history
    fp = [solve_nonlinear_io((econ.A, store), econ.d, "fixed-point", threads=t, tol=1e-8) for t in (1, 2)]
    assert np.array_equal(fp[0].x, fp[1].x)


def test_environment_variable_sets_the_solvers_threads(monkeypatch):
    monkeypatch.setattr("innatura.planner.parallel_product.MIN_PARALLEL_NNZ", 0)
    econ = random_economy(3000, 300, 8, 20, cyclic=True, rng=np.random.default_rng(9))
    assert row_blocked(econ.A, 2).threads == 2
    monkeypatch.setenv(THREADS_ENV, "1")
    one = solve_io(econ.A, econ.d, method="krylov")
    monkeypatch.setenv(THREADS_ENV, "2")
    two = solve_io(econ.A, econ.d, method="krylov")
    assert np.array_equal(one.x, two.x) and one.iterations == two.iterations


def _product_in_child(threads: int) -> bool:
    rng = np.random.default_rng(4)
    A = _random_csr(rng, 500, 500, 0.05)
    x = rng.standard_normal(500)
    return bool(np.array_equal(row_blocked(A, threads, min_nnz=0)(x), A @ x))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
# forking a process whose pool threads run is what this test is about (Python 3.12 warns of it)
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_child_starts_its_own_pool():
    assert _product_in_child(2)  # the parent's pool exists now
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(1) as pool:
        assert pool.apply_async(_product_in_child, (2,)).get(timeout=120)
