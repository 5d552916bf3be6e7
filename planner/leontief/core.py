"""The goods nothing uses, solved at once, and products over the rest (the Krylov core).

A good whose row of ``A`` has no off-diagonal entry is an input to no other good (consumption
profiles, final-demand columns): its row of ``(I - A) x = d`` reads ``(1 - a_ii) x_i = d_i``,
exact after one Jacobi step. Once those goods are exact, a Krylov method's corrections are zero
on them, and a product ``A @ z`` with such a direction needs no entry in their columns. In
OLIN-EP economies these columns (the profiles) hold a quarter of the entries: measured on
1.1M cyclic goods, a product without them takes 0.70 to 0.88 of a full one (load average 7 to
14).

:func:`core_product` finds the goods nothing uses that close the order (a suffix ``[c0, n)``
of the goods: there every row keeps its entries of those columns at its end, as indices are
sorted), and returns a :class:`CoreProduct`: the rows without such entries are multiplied in
place, a contiguous run at a time; the rows with them ("dirty" rows) from a copy of their
entries before ``c0``. Goods nothing uses elsewhere in the order are left in the products (their
entries multiply zeros there: correct, only not saved).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from innatura.planner.leontief.result import Matrix
from innatura.planner.leontief.structure import row_search
from innatura.planner.leontief.triangular import block_matvec
from innatura.planner.parallel_product import (
    GROUPS_PER_THREAD,
    MIN_PARALLEL_NNZ,
    Block,
    group_blocks,
    resolve_threads,
    run_blocks,
)

__all__ = ["CORE_MAX_RUNS", "CORE_MIN_GOODS", "CORE_MIN_SHARE", "CoreProduct", "core_product", "uses"]

logger = logging.getLogger(__name__)

#: the products skip the columns of the goods nothing uses only when those hold at least this
#: share of the entries (below it, copying the dirty rows costs more than the products save)
CORE_MIN_SHARE = 0.05
#: ... and when the rows multiplied in place form at most this many contiguous runs (one call
#: of the sparse kernel each)
CORE_MAX_RUNS = 64
#: ... and only from this many goods on: below it finding the core costs more than the products
#: save (measured, minima of 101 interleaved GMRES solves with and without it on cyclic
#: economies: 1.61x the time of full products at 8 goods, 1.31x at 400, 0.99x at 2500, 0.67x
#: at 9700). A matter of cost only: with the core a solve reaches the same residual (the
#: convergence check is a full product, :func:`~planner.leontief.krylov.gmres_jacobi`)
CORE_MIN_GOODS = 2000


def uses(A: sp.csr_matrix, diag: np.ndarray) -> np.ndarray:
    """Rows with an off-diagonal entry: the goods some other good uses."""
    return (np.diff(A.indptr) - (diag != 0)) > 0


@dataclass(frozen=True, eq=False)
class CoreProduct:
    """``A @ z`` for directions ``z`` that are zero on the goods nothing uses (``free``).

    Attributes:
        A: the matrix (CSR with sorted indices).
        free: the goods nothing uses (rows without an off-diagonal entry), shape ``(n,)``.
        start: ``c0``: the goods ``c0 .. n - 1`` are all free.
        runs: ``(r0, r1)`` row ranges multiplied in place (no entry in a column ``>= c0``).
        dirty: the rows with entries in columns ``>= c0`` (below ``c0``), sorted.
        positions: where the dirty rows' entries before ``c0`` lie in ``A.data``.
        D: those entries as CSR, one row per dirty row (its data re-read from ``A`` by
            :meth:`refresh` when ``A.data`` changes in place).
        skipped: entries the products leave out.
        split: where the dirty rows' entries before and from ``c0`` begin, alternately, when the
            dirty rows are contiguous (for :meth:`tail`), else None.
        groups: the runs and the contiguous dirty rows as row blocks balanced by nonzeros
            (:func:`~planner.parallel_product.group_blocks`, several a thread), when the products
            run in threads; empty otherwise. Each row's sum is the same to the bit.
        threads: the threads that take those blocks.
    """

    A: sp.csr_matrix
    free: np.ndarray
    start: int
    runs: tuple[tuple[int, int], ...]
    dirty: np.ndarray
    positions: np.ndarray
    D: sp.csr_matrix
    skipped: int
    split: np.ndarray | None = None
    groups: tuple[tuple[Block, ...], ...] = ()
    threads: int = 1

    def __call__(self, z: np.ndarray) -> np.ndarray:
        """``A @ z`` for ``z`` zero on :attr:`free` (rows ``>= start`` are 0: free rows have
        no off-diagonal entry and ``z`` is 0 on their diagonal)."""
        y = np.zeros(self.A.shape[0])
        if self.groups:
            run_blocks(self.groups, z, y, self.threads)
            if not self._contiguous:
                y[self.dirty] = self.D @ z
            return y
        for r0, r1 in self.runs:
            block_matvec(self.A, r0, r1, z, y[r0:r1])
        if self.dirty.size:
            d0, d1 = int(self.dirty[0]), int(self.dirty[-1]) + 1
            if d1 - d0 == self.dirty.size:  # contiguous: written in place
                block_matvec(self.D, 0, self.D.shape[0], z, y[d0:d1])
            else:
                y[self.dirty] = self.D @ z
        return y

    @property
    def _contiguous(self) -> bool:
        return bool(self.dirty.size) and int(self.dirty[-1]) - int(self.dirty[0]) + 1 == self.dirty.size

    def tail(self, x: np.ndarray) -> np.ndarray:
        """``A @ x`` for ``x`` zero before ``start`` (a first residual from a Jacobi step on the
        goods nothing uses): only the dirty rows' entries, each row's two parts summed apart in
        one call of the sparse kernel (no copy), and the free rows' diagonal."""
        if self.split is None:
            return np.asarray(self.A @ x)
        n = self.A.shape[0]
        y = np.zeros(n)
        parts = np.zeros(self.split.size - 1)
        block_matvec(_Rows(self.split, self.A), 0, parts.size, x, parts)
        y[self.dirty] = parts[1::2]
        block_matvec(self.A, self.start, n, x, y[self.start :])
        return y

    def refresh(self) -> None:
        """Re-read the dirty rows' entries from ``A`` (after ``A.data`` changed in place)."""
        np.take(self.A.data, self.positions, out=self.D.data)


@dataclass(frozen=True, eq=False)
class _Rows:
    """CSR arrays with another row pointer over the same entries (for :func:`block_matvec`)."""

    indptr: np.ndarray
    A: sp.csr_matrix

    @property
    def indices(self) -> np.ndarray:
        return self.A.indices

    @property
    def data(self) -> np.ndarray:
        return self.A.data

    @property
    def shape(self) -> tuple[int, int]:
        return (self.indptr.size - 1, self.A.shape[1])


def core_product(A: Matrix, diag: np.ndarray, *, in_s: np.ndarray | None = None,
                 threads: int | None = None) -> CoreProduct | None:
    """The :class:`CoreProduct` of ``A``, or None where it would not pay (see the module docstring).

    Args:
        A: the matrix; only CSR with sorted indices qualifies.
        diag: its diagonal.
        in_s: :func:`uses` of ``A`` when known (the productivity check finds it).
        threads: threads of the products (:func:`~planner.parallel_product.resolve_threads`;
            one below :data:`~planner.parallel_product.MIN_PARALLEL_NNZ` nonzeros).
    """
    if not sp.isspmatrix_csr(A) or not A.has_sorted_indices or A.nnz == 0:
        return None
    n = A.shape[0]
    if n < CORE_MIN_GOODS:
        return None
    used = uses(A, diag) if in_s is None else in_s
    free = ~used
    last_used = np.flatnonzero(used)
    start = int(last_used[-1]) + 1 if last_used.size else 0
    if start == 0 or start == n:
        return None
    indptr, indices = A.indptr, A.indices
    nonempty = indptr[1 : start + 1] > indptr[:start]
    last = np.where(nonempty, indices[np.maximum(indptr[1 : start + 1] - 1, 0)], -1)
    dirty = np.flatnonzero(last >= start)
    if dirty.size == 0:
        return None
    cut = row_search(indptr, indices, dirty, start)
    ends = indptr[dirty + 1].astype(np.int64)
    skipped = int((ends - cut).sum())
    if skipped < CORE_MIN_SHARE * A.nnz:
        return None
    plain = np.ones(start, dtype=bool)
    plain[dirty] = False
    edges = np.flatnonzero(np.diff(np.concatenate(([False], plain, [False])).astype(np.int8)))
    runs = tuple((int(a), int(b)) for a, b in zip(edges[0::2], edges[1::2], strict=True))
    if len(runs) > CORE_MAX_RUNS:
        logger.debug("core product: %d runs of plain rows; products over the whole matrix", len(runs))
        return None
    begins = indptr[dirty].astype(np.int64)
    lens = cut - begins
    total = int(lens.sum())
    positions = np.repeat(begins - np.cumsum(lens) + lens, lens) + np.arange(total)
    ip = np.zeros(dirty.size + 1, dtype=indices.dtype)
    np.cumsum(lens, out=ip[1:])
    D = sp.csr_matrix((A.data[positions], indices[positions], ip), shape=(dirty.size, n))
    D.has_sorted_indices = True
    logger.debug("core product: %d free goods from %d, %d dirty rows, %d of %d entries skipped",
                 n - start, start, dirty.size, skipped, A.nnz)
    split = None
    if dirty[-1] - dirty[0] + 1 == dirty.size:  # contiguous: before / from c0, row by row
        split = np.empty(2 * dirty.size + 1, dtype=indices.dtype)
        split[0:-1:2] = begins
        split[1::2] = cut
        split[-1] = ends[-1]
    groups: tuple[tuple[Block, ...], ...] = ()
    n_threads = resolve_threads(threads)
    if n_threads > 1 and A.nnz - skipped >= MIN_PARALLEL_NNZ:
        blocks: list[Block] = [(A, r0, r1, r0) for r0, r1 in runs]
        if split is not None:
            blocks.append((D, 0, D.shape[0], int(dirty[0])))
        groups = group_blocks(blocks, n_threads * GROUPS_PER_THREAD)
    return CoreProduct(A, free, start, runs, dirty, positions, D, skipped, split, groups, n_threads if groups else 1)
