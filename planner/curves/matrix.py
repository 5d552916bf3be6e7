"""``F(x)`` as a sparse matrix whose curve cells are re-evaluated in place (OLIN-EP Eq. 4)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from innatura.planner.economy import CurveCell
from innatura.planner.errors import InvalidInputError
from innatura.planner.leontief.structure import row_search

__all__ = ["CurveMatrix"]

logger = logging.getLogger(__name__)


class CurveMatrix:
    """``F(x)`` as a CSR matrix whose curve cells are refreshed in place.

    The constant coefficients and the curve cells are merged once into a CSR structure that
    holds every curve cell explicitly; :meth:`at` then only rewrites those entries, so one
    evaluation costs ``O(nnz)`` for the copy plus one vectorised call per curve.

    Args:
        coefficients: constant coefficients, shape ``(N, N)``; entries at curve cells are
            ignored.
        curves: the curve cells.
    """

    def __init__(self, coefficients: sp.spmatrix | np.ndarray, curves: Sequence[CurveCell] = ()):
        A = sp.csr_matrix(coefficients, dtype=float)
        if A.shape[0] != A.shape[1]:
            raise InvalidInputError(f"coefficients: must be square, got shape {A.shape}")
        self.shape = A.shape
        self.curves = tuple(CurveCell(*c) for c in curves)
        N = A.shape[0]
        for cell in self.curves:
            if not (0 <= cell.row < N and 0 <= cell.col < N):
                raise InvalidInputError(f"curves: cell ({cell.row}, {cell.col}) outside a {N}x{N} system")
        if not self.curves:
            self.base = A
            self._pos = np.zeros(0, dtype=np.int64)
            self._rows = self._cols = np.zeros(0, dtype=np.int64)
            return
        rows = np.array([c.row for c in self.curves], dtype=np.int64)
        cols = np.array([c.col for c in self.curves], dtype=np.int64)
        keys = rows * N + cols
        if np.unique(keys).size != keys.size:
            raise InvalidInputError("curves: two curves on the same cell")
        coo = A.tocoo()
        keep = ~np.isin(coo.row.astype(np.int64) * N + coo.col, keys)
        merged = sp.coo_matrix(
            (np.concatenate([coo.data[keep], np.ones(rows.size)]),
             (np.concatenate([coo.row[keep], rows]), np.concatenate([coo.col[keep], cols]))),
            shape=A.shape,
        ).tocsr()
        merged.sort_indices()
        pos = row_search(merged.indptr, merged.indices, rows, cols)
        self.base, self._pos, self._rows, self._cols = merged, pos, rows, cols

    @property
    def positions(self) -> np.ndarray:
        """Index of each curve cell in ``base.data``."""
        return self._pos

    def values(self, x: np.ndarray) -> np.ndarray:
        """Coefficient of every curve cell at ``x``, shape ``(n_curves,)``."""
        return np.array([float(c.curve(x[c.col])) for c in self.curves], dtype=float)

    def derivatives(self, x: np.ndarray) -> np.ndarray:
        """``f'_ij(x_j)`` of every curve cell, shape ``(n_curves,)``."""
        return np.array([float(c.curve.derivative(x[c.col])) for c in self.curves], dtype=float)

    def at(self, x: np.ndarray) -> sp.csr_matrix:
        """``F(x)``, shape ``(N, N)``; a fresh matrix (the constant part is shared, not copied)."""
        if not self.curves:
            return self.base
        vals = self.values(x)
        bad = ~np.isfinite(vals) | (vals < 0)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise InvalidInputError(
                f"curves: cell ({self._rows[k]}, {self._cols[k]}) gives coefficient {vals[k]!r} "
                f"at x={x[self._cols[k]]!r}"
            )
        data = self.base.data.copy()
        data[self._pos] = vals
        return sp.csr_matrix((data, self.base.indices, self.base.indptr), shape=self.shape)

    def jacobian_term(self, x: np.ndarray) -> sp.csr_matrix:
        """``F'(x) diag(x)``: entries ``f'_ij(x_j) x_j`` on the curve cells."""
        return sp.csr_matrix(
            (self.derivatives(x) * x[self._cols], (self._rows, self._cols)), shape=self.shape
        )
