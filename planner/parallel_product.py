"""Sparse products ``A @ x`` over row blocks in threads, bit-identical to the plain product.

A CSR product computes each row's sum ``y_i = sum_k a_ik x_k`` on its own, in the order of the
row's entries. Splitting the rows into blocks, each multiplied by scipy's kernel (which releases
the GIL) into its own slice of ``y`` in its own thread, changes no row's order of summation: the
result equals ``A @ x`` to the bit, whatever the number of threads.

:func:`row_blocked` builds a :class:`RowBlocked` product once per matrix: the blocks are balanced
by nonzeros (a binary search in ``indptr``), several a thread, and each call hands them to a
thread pool that persists between calls (one per thread count), whose threads take the blocks
in turn. The products read ``A.data`` at every call, so values changed in place (Newton's
Jacobian) are used; the pattern (``indptr``, ``indices``) must stay.

Threads: the keyword ``threads``, else the environment variable :data:`THREADS_ENV`
(``INNATURA_THREADS``), else the cores this process may run on (``os.sched_getaffinity``).
With one thread, or below :data:`MIN_PARALLEL_NNZ` nonzeros, the product is the plain
``A @ x``.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from innatura.planner.errors import InvalidInputError
from innatura.planner.leontief.result import Matrix
from innatura.planner.leontief.triangular import block_matvec

__all__ = [
    "GROUPS_PER_THREAD",
    "MIN_PARALLEL_NNZ",
    "THREADS_ENV",
    "Block",
    "RowBlocked",
    "balanced_blocks",
    "group_blocks",
    "product_of",
    "resolve_threads",
    "row_blocked",
    "run_blocks",
]

logger = logging.getLogger(__name__)

#: a product is cut into this many row blocks a thread (balanced by nonzeros), which the threads
#: take in turn: on a busy machine a thread that waits for a core holds back one block, not half
#: the product
GROUPS_PER_THREAD = 8
#: the environment variable that sets the default number of threads
THREADS_ENV = "INNATURA_THREADS"
#: products of matrices with fewer nonzeros run on one thread: handing blocks to the pool costs
#: tens of microseconds, which smaller products do not repay (see docs/benchmarks.md)
MIN_PARALLEL_NNZ = 1_000_000

_pools: dict[int, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()

if hasattr(os, "register_at_fork"):  # a forked child has none of the parent's threads: new pools there
    os.register_at_fork(after_in_child=_pools.clear)


def resolve_threads(threads: int | None = None) -> int:
    """The number of threads: ``threads``, else ``$INNATURA_THREADS``, else the usable cores.

    Raises:
        InvalidInputError: ``threads`` or the environment variable is not a positive integer.
    """
    if threads is None:
        text = os.environ.get(THREADS_ENV, "").strip()
        if not text:
            return max(1, len(os.sched_getaffinity(0))) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        try:
            value = int(text)
        except ValueError:
            value = 0
        if value < 1:
            raise InvalidInputError(f"{THREADS_ENV}: expected a positive integer, got {text!r}")
        return value
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
        raise InvalidInputError(f"threads: expected a positive integer, got {threads!r}")
    return int(threads)


def _pool(threads: int) -> ThreadPoolExecutor:
    """The persistent pool of ``threads - 1`` workers (the calling thread takes one share)."""
    with _pools_lock:
        pool = _pools.get(threads)
        if pool is None:
            pool = ThreadPoolExecutor(max_workers=threads - 1, thread_name_prefix="innatura-product")
            _pools[threads] = pool
        return pool


#: one block of a product: ``out[o0 : o0 + r1 - r0] += M[r0:r1, :] @ x`` (``M`` CSR, or any
#: object with its ``indptr``, ``indices``, ``data`` and ``shape``)
Block = tuple[sp.csr_matrix, int, int, int]


def _cut(indptr: np.ndarray, r0: int, r1: int, targets: np.ndarray) -> list[tuple[int, int]]:
    """Rows ``[r0, r1)`` cut before the first row whose entries begin at or after each target
    position in ``data`` (empty ranges dropped)."""
    cuts = np.searchsorted(indptr[r0 : r1 + 1], targets, side="left") + r0
    edges = np.unique(np.concatenate(([r0], np.clip(cuts, r0, r1), [r1])))
    return [(int(s), int(e)) for s, e in itertools.pairwise(edges) if e > s]


def balanced_blocks(indptr: np.ndarray, r0: int, r1: int, parts: int) -> list[tuple[int, int]]:
    """Rows ``[r0, r1)`` cut into at most ``parts`` contiguous ranges of about equal nonzeros
    (empty ranges dropped): the cut ``k`` is the first row whose entries begin at or after the
    share ``k / parts`` of the range's entries."""
    a, b = int(indptr[r0]), int(indptr[r1])
    return _cut(indptr, r0, r1, a + (b - a) * np.arange(1, parts) / parts)


def _block_nnz(block: Block) -> int:
    M, r0, r1, _ = block
    return int(M.indptr[r1]) - int(M.indptr[r0])


def group_blocks(blocks: Sequence[Block], parts: int) -> tuple[tuple[Block, ...], ...]:
    """``blocks`` dealt into ``parts`` groups of about equal nonzeros, in order: the blocks'
    entries laid end to end are cut at the multiples of ``1 / parts`` of their total (at the
    row boundary nearest after each), and group ``g`` takes the pieces of share ``g`` (empty
    groups dropped)."""
    total = sum(_block_nnz(b) for b in blocks)
    share = total / parts
    groups: list[list[Block]] = [[] for _ in range(parts)]
    offset = 0
    for M, r0, r1, o0 in blocks:
        nnz = _block_nnz((M, r0, r1, o0))
        base = int(M.indptr[r0])
        inside = share * np.arange(1, parts)
        inside = inside[(inside > offset) & (inside < offset + nnz)]
        for s, e in _cut(M.indptr, r0, r1, base + inside - offset):
            mid = offset + (int(M.indptr[s]) + int(M.indptr[e])) / 2 - base
            groups[min(parts - 1, int(mid // share)) if share > 0 else 0].append((M, s, e, o0 + s - r0))
        offset += nnz
    return tuple(tuple(g) for g in groups if g)


def _run_group(group: Sequence[Block], x: np.ndarray, out: np.ndarray) -> None:
    for M, r0, r1, o0 in group:
        block_matvec(M, r0, r1, x, out[o0 : o0 + r1 - r0])


def run_blocks(groups: Sequence[Sequence[Block]], x: np.ndarray, out: np.ndarray, threads: int) -> None:
    """Each group's blocks added into ``out`` (:func:`block_matvec`) on ``threads`` threads (the
    calling one and ``threads - 1`` of the pool), each taking the next group not yet taken until
    none is left: a thread the machine holds back delays the product by one group, not by its
    share. The groups must write disjoint parts of ``out``."""
    if threads == 1 or len(groups) == 1:
        for g in groups:
            _run_group(g, x, out)
        return
    queue = iter(groups)
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                g = next(queue, None)
            if g is None:
                return
            _run_group(g, x, out)

    pool = _pool(threads)
    futures: list[Future[None]] = [pool.submit(work) for _ in range(min(threads, len(groups)) - 1)]
    try:
        work()
    finally:
        for f in futures:
            f.result()


@dataclass(frozen=True, eq=False)
class RowBlocked:
    """``A @ x`` over row blocks in threads (see the module docstring).

    Attributes:
        A: the matrix (CSR).
        threads: threads the products use (1: the plain product).
        groups: the row blocks ``(A, r0, r1, r0)``, :data:`GROUPS_PER_THREAD` a thread, balanced
            by nonzeros, which the threads take in turn (empty with one thread).
    """

    A: sp.csr_matrix
    threads: int
    groups: tuple[tuple[Block, ...], ...]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """``A @ x``, equal to the plain product to the bit; 2-D ``x`` (several columns) and
        integer or complex ``x`` take the plain product."""
        if len(self.groups) <= 1 or x.ndim != 1 or x.dtype != np.float64 or self.A.dtype != np.float64:
            return np.asarray(self.A @ x)
        if x.shape[0] != self.A.shape[1]:
            raise ValueError(f"dimension mismatch: {self.A.shape} @ {x.shape}")
        y = np.zeros(self.A.shape[0])
        run_blocks(self.groups, np.ascontiguousarray(x), y, self.threads)
        return y

    def __matmul__(self, x: np.ndarray) -> np.ndarray:
        return self(x)

    @property
    def shape(self) -> tuple[int, int]:
        return self.A.shape


def row_blocked(A: sp.csr_matrix, threads: int | None = None, *, min_nnz: int | None = None) -> RowBlocked:
    """The :class:`RowBlocked` product of ``A`` (blocks balanced by nonzeros, one per thread).

    Args:
        A: CSR matrix (float64; other dtypes are multiplied plainly).
        threads: see :func:`resolve_threads`.
        min_nnz: below this many nonzeros the product runs on one thread (default
            :data:`MIN_PARALLEL_NNZ`).
    """
    n_threads = resolve_threads(threads)
    min_nnz = MIN_PARALLEL_NNZ if min_nnz is None else min_nnz
    if not sp.isspmatrix_csr(A):
        raise InvalidInputError(f"A: row-blocked products need a CSR matrix, got {type(A).__name__}")
    if n_threads == 1 or A.nnz < min_nnz or A.shape[0] < 2 or A.dtype != np.float64:
        return RowBlocked(A, 1, ())
    groups = group_blocks([(A, 0, A.shape[0], 0)], n_threads * GROUPS_PER_THREAD)
    logger.debug("row-blocked product: %d x %d, %d nonzeros in %d blocks", *A.shape, A.nnz, len(groups))
    return RowBlocked(A, n_threads, groups)


def product_of(A: Matrix, threads: int | None = None) -> RowBlocked | Matrix:
    """What the solvers multiply with: the :func:`row_blocked` product of CSR ``A``, else ``A``
    itself (both multiply with ``@``)."""
    return row_blocked(A, threads) if sp.isspmatrix_csr(A) else A
