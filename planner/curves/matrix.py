"""``F(x)`` as a sparse matrix whose curve cells are re-evaluated in place (OLIN-EP Eq. 4)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from innatura.planner.curves.store import CurveStore
from innatura.planner.economy import CurveCell
from innatura.planner.errors import InvalidInputError
from innatura.planner.leontief.result import Matrix
from innatura.planner.leontief.structure import row_search

__all__ = ["CurveMatrix"]

logger = logging.getLogger(__name__)


def _check_cells(store: CurveStore, N: int) -> None:
    rows, cols = store.rows, store.cols
    outside = np.flatnonzero((rows < 0) | (rows >= N) | (cols < 0) | (cols >= N))
    if outside.size:
        k = int(outside[0])
        raise InvalidInputError(f"curves: cell ({int(rows[k])}, {int(cols[k])}) outside a {N}x{N} system")
    keys = np.sort(rows * N + cols)
    twice = np.flatnonzero(keys[1:] == keys[:-1])
    if twice.size:
        key = int(keys[twice[0]])
        raise InvalidInputError(f"curves: two curves on the same cell ({key // N}, {key % N})")


class CurveMatrix:
    """``F(x)`` as a CSR matrix whose curve cells are refreshed in place.

    The constant coefficients and the curve cells are merged once into a CSR structure that
    holds every curve cell explicitly (``base``, with 1 at the curve cells); :meth:`at` then
    only rewrites those entries, so one evaluation costs a copy of the values plus one
    vectorised evaluation of all curve cells (:class:`~planner.curves.CurveStore`).

    Args:
        coefficients: constant coefficients, shape ``(N, N)``; entries at curve cells are
            ignored.
        curves: the curve cells, or a :class:`~planner.curves.CurveStore` of them.

    Attributes:
        base: the merged structure (shares no array with ``coefficients``).
        store: the curve cells as a store.
        shape: ``(N, N)``.
    """

    def __init__(self, coefficients: Matrix, curves: Sequence[CurveCell] | CurveStore = ()) -> None:
        # a float CSR matrix as it is: a new wrapper would forget its known canonical format
        A = coefficients if isinstance(coefficients, sp.csr_matrix) and coefficients.dtype == np.float64 else \
            sp.csr_matrix(coefficients, dtype=float)
        if A.shape[0] != A.shape[1]:
            raise InvalidInputError(f"coefficients: must be square, got shape {A.shape}")
        self.shape = A.shape
        self.store = curves if isinstance(curves, CurveStore) else CurveStore(curves)
        N = A.shape[0]
        _check_cells(self.store, N)
        rows, cols = self.store.rows, self.store.cols
        if not rows.size:
            self.base, self._pos = A, np.zeros(0, dtype=np.int64)
            return
        if A.has_canonical_format:
            pos = row_search(A.indptr, A.indices, rows, cols)
            if np.all(pos < A.indptr[rows + 1]) and np.array_equal(A.indices[np.minimum(pos, A.nnz - 1)], cols):
                # every curve cell is an entry of A already: keep its structure, no re-sorting
                data = A.data.copy()
                data[pos] = 1.0
                self.base, self._pos = sp.csr_matrix((data, A.indices, A.indptr), shape=A.shape), pos
                self.base.has_canonical_format = True  # A's structure, which is canonical
                return
        self.base, self._pos = self._merged(A, rows, cols)

    @staticmethod
    def _merged(A: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray]:
        """The constant entries without the curve cells, plus an entry of 1 at every curve cell."""
        N = A.shape[0]
        coo = A.tocoo()
        keep = ~np.isin(coo.row.astype(np.int64) * N + coo.col, rows * N + cols)
        merged = sp.coo_matrix(
            (np.concatenate([coo.data[keep], np.ones(rows.size)]),
             (np.concatenate([coo.row[keep], rows]), np.concatenate([coo.col[keep], cols]))),
            shape=A.shape,
        ).tocsr()
        merged.sort_indices()
        return merged, row_search(merged.indptr, merged.indices, rows, cols)

    @property
    def curves(self) -> tuple[CurveCell, ...]:
        """The curve objects (empty for a store built from arrays)."""
        return self.store.cells

    @property
    def positions(self) -> np.ndarray:
        """Index of each curve cell in ``base.data``."""
        return self._pos

    def values(self, x: np.ndarray) -> np.ndarray:
        """Coefficient of every curve cell at ``x``, shape ``(n_curves,)``."""
        return self.store.coefficients(x)

    def derivatives(self, x: np.ndarray) -> np.ndarray:
        """``f'_ij(x_j)`` of every curve cell, shape ``(n_curves,)``."""
        return self.store.derivatives(x)

    def at(self, x: np.ndarray) -> sp.csr_matrix:
        """``F(x)``, shape ``(N, N)``; a fresh matrix (the structure is shared, not copied)."""
        if not self.store.n_cells:
            return self.base
        vals = self.values(x)
        bad = ~np.isfinite(vals) | (vals < 0)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            r, c = int(self.store.rows[k]), int(self.store.cols[k])
            raise InvalidInputError(f"curves: cell ({r}, {c}) gives coefficient {vals[k]!r} at x={x[c]!r}")
        data = self.base.data.copy()
        data[self._pos] = vals
        return sp.csr_matrix((data, self.base.indices, self.base.indptr), shape=self.shape)

    def jacobian_term(self, x: np.ndarray) -> sp.csr_matrix:
        """``F'(x) diag(x)``: entries ``f'_ij(x_j) x_j`` on the curve cells."""
        s = self.store
        return sp.csr_matrix((self.derivatives(x) * x[s.cols], (s.rows, s.cols)), shape=self.shape)
