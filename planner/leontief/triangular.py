"""Triangular ``(I - A) x = d`` by blocked substitution over CSR.

When the goods can be ordered so that every good needs only goods earlier (or only later) in
the order, ``I - A`` is triangular and ``x`` follows by substitution. The kernel walks blocks
of ``b`` consecutive rows in dependency order. For each block it

1. adds the contributions of the already solved goods, ``A[B, :] @ x``, with one sparse
   matrix-vector product over the block's rows (the block's own ``x`` is still zero, so its
   entries contribute nothing), and
2. solves the small dense triangular system ``(I - A[B, B]) x_B = rhs`` with LAPACK
   (``dtrtrs``); the ``A[B, B]`` entries are found by a binary search in each row.

Every entry of ``A`` is touched once, so the cost is about one matrix-vector product plus a
per-block overhead (``scipy.sparse.linalg.spsolve_triangular`` is 10-20 times slower and copies
the matrix).
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp
from innatura.planner.errors import InvalidInputError
from innatura.planner.leontief.result import Matrix, MethodOutput
from innatura.planner.leontief.structure import dependency_order, row_search, triangular_kind
from scipy.linalg import lapack

try:  # the C kernels behind scipy.sparse; the public fallback below builds a matrix per block
    from scipy.sparse import _sparsetools as _st

    _csr_matvec = _st.csr_matvec
except (ImportError, AttributeError):  # pragma: no cover - depends on the scipy build
    _csr_matvec = None

__all__ = ["block_matvec", "block_size", "solve_triangular_io"]

logger = logging.getLogger(__name__)


def block_size(n: int) -> int:
    """Rows per block: about ``n / 40``, between 64 and 256."""
    return int(min(256, max(64, n // 40)))


def block_matvec(A: sp.csr_matrix, r0: int, r1: int, x: np.ndarray, out: np.ndarray) -> None:
    """``out += A[r0:r1, :] @ x`` without copying the rows (``out`` contiguous, of ``r1 - r0`` entries)."""
    indptr = A.indptr
    if _csr_matvec is not None:
        _csr_matvec(r1 - r0, A.shape[1], indptr[r0 : r1 + 1], A.indices, A.data, x, out)
        return
    a, b = int(indptr[r0]), int(indptr[r1])  # pragma: no cover
    sub = sp.csr_matrix((A.data[a:b], A.indices[a:b], indptr[r0 : r1 + 1] - a), shape=(r1 - r0, A.shape[1]))
    out += sub @ x


def _block_bounds(A: sp.csr_matrix, kind: str, block: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the range ``[lo, hi)`` of its entries that fall in its own diagonal block.

    Rows are sorted, so for an upper pattern (columns ``>= row``) these are a prefix of the row,
    for a lower pattern a suffix; one binary search over all rows finds the other end.
    """
    n = A.shape[0]
    rows = np.arange(n)
    indptr = A.indptr
    if kind == "upper":
        lo = indptr[:-1].astype(np.int64)
        hi = row_search(indptr, A.indices, rows, np.minimum((rows // block + 1) * block, n))
    else:
        lo = row_search(indptr, A.indices, rows, (rows // block) * block)
        hi = indptr[1:].astype(np.int64)
    return lo, hi


def _diagonal_block(A: sp.csr_matrix, r0: int, r1: int, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Dense ``I - A[r0:r1, r0:r1]`` from the per-row entry ranges of :func:`_block_bounds`."""
    m = r1 - r0
    lo, hi = lo[r0:r1], hi[r0:r1]
    lens = hi - lo
    T = np.zeros((m, m))
    total = int(lens.sum())
    if total:
        pos = np.repeat(lo - np.cumsum(lens) + lens, lens) + np.arange(total)
        local_rows = np.repeat(np.arange(m), lens)
        T[local_rows, A.indices[pos] - r0] = -A.data[pos]
    T.flat[:: m + 1] += 1.0
    return T


def _substitute(A: sp.csr_matrix, d: np.ndarray, kind: str, block: int) -> np.ndarray:
    """Blocked substitution for a CSR ``A`` triangular in its own order."""
    n = A.shape[0]
    two_d = d.ndim == 2
    x = np.zeros(d.shape)
    lo, hi = _block_bounds(A, kind, block)
    starts = list(range(0, n, block))
    order = reversed(starts) if kind == "upper" else starts
    for r0 in order:
        r1 = min(r0 + block, n)
        rhs = np.array(d[r0:r1], dtype=np.float64, order="F" if two_d else "C")
        if two_d:
            rhs += A[r0:r1] @ x
        else:
            block_matvec(A, r0, r1, x, rhs)
        T = _diagonal_block(A, r0, r1, lo, hi)
        # T is C-ordered; its transpose is the Fortran-ordered matrix LAPACK wants
        sol, info = lapack.dtrtrs(T.T, rhs, lower=int(kind == "upper"), trans=1)
        if info != 0:
            raise InvalidInputError(
                f"A: I - A is singular: a diagonal coefficient A[{r0 + info - 1}, {r0 + info - 1}] equals 1"
            )
        x[r0:r1] = sol
    return x


def solve_triangular_io(
    A: Matrix,
    d: np.ndarray,
    *,
    kind: str | None = None,
    block: int | None = None,
    order: np.ndarray | None = None,
) -> MethodOutput:
    """Solve ``(I - A) x = d`` when ``A`` is triangular, possibly after a permutation.

    Args:
        A: canonical CSR (or dense) coefficient matrix.
        d: right-hand side, ``(n,)`` or ``(n, k)``.
        kind: ``"upper"``, ``"lower"`` if known; detected otherwise (in the given order first,
            then by a topological sort of the dependency graph).
        block: rows per block (default :func:`block_size`).
        order: a dependency order (``A[order][:, order]`` lower triangular), when known.

    Returns:
        ``MethodOutput(x, iterations=1, converged=True)``.

    Raises:
        InvalidInputError: when no order makes ``A`` triangular (the goods form a cycle), or a
            diagonal coefficient equals 1 (``I - A`` singular).
    """
    if not sp.issparse(A):
        A = sp.csr_matrix(A)
    elif A.format != "csr" or not A.has_sorted_indices:
        A = sp.csr_matrix(A.tocsr(), copy=True)
        A.sort_indices()
    n = A.shape[0]
    block = block or block_size(n)
    if kind is not None and kind not in ("upper", "lower"):
        raise InvalidInputError(f"kind: expected 'upper' or 'lower', got {kind!r}")
    kind = kind or (None if order is not None else triangular_kind(A))
    if kind in ("upper", "lower"):
        return MethodOutput(_substitute(A, d, kind, block), 1, True)
    p = order if order is not None else dependency_order(A)
    if p is None:
        raise InvalidInputError(
            "A: method 'triangular' needs an acyclic dependency graph, but some goods need each other "
            "(a cycle); use method 'krylov' or 'direct'"
        )
    logger.debug("triangular after a dependency-order permutation")
    B = A[p][:, p].tocsr()
    B.sort_indices()
    xp = _substitute(B, d[p], "lower", block)
    x = np.empty_like(xp)
    x[p] = xp
    return MethodOutput(x, 1, True)
