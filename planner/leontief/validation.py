"""Validation of technical-coefficient matrices and final-demand vectors.

A technical-coefficient matrix ``A`` (entry ``(i, j)``: input of good ``i`` per unit of good
``j``) must be square, finite and non-negative; ``d`` must have one row per good.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from innatura.planner.errors import InvalidInputError
from innatura.planner.leontief.result import Matrix
from numpy.typing import ArrayLike

__all__ = ["label", "validate_coefficients", "validate_demand", "validate_names"]

logger = logging.getLogger(__name__)

_INF_BITS = np.uint64(0x7FF0000000000000)

#: at most this many offending entries are listed in an error message
_MAX_LISTED = 5


def label(i: int, names: Sequence[str] | None) -> str:
    """The name of good ``i``, or ``"good i"`` when no names were given."""
    return repr(names[i]) if names is not None else f"good {i}"


def validate_names(names: Sequence[str] | None, n: int) -> tuple[str, ...] | None:
    """Check that ``names`` has one entry per good; return it as a tuple of strings."""
    if names is None:
        return None
    names = tuple(str(v) for v in names)
    if len(names) != n:
        raise InvalidInputError(f"names: expected {n} names (one per row of A), got {len(names)}")
    return names


def _describe(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, names: Sequence[str] | None) -> str:
    shown = [
        f"A[{label(int(r), names)}, {label(int(c), names)}] = {float(v)!r}"
        for r, c, v in zip(rows[:_MAX_LISTED], cols[:_MAX_LISTED], vals[:_MAX_LISTED], strict=True)
    ]
    more = f" and {len(rows) - _MAX_LISTED} more" if len(rows) > _MAX_LISTED else ""
    return ", ".join(shown) + more


def validate_coefficients(A: Matrix, names: Sequence[str] | None = None) -> np.ndarray | sp.csr_matrix:
    """Check a technical-coefficient matrix and bring it to a canonical form.

    Args:
        A: dense array-like or any ``scipy.sparse`` matrix/array, shape ``(n, n)``.
        names: optional names of the ``n`` goods, used in error messages.

    Returns:
        A float64 ndarray for dense input; a float64 CSR matrix with sorted, unique indices for
        sparse input (the input itself when it already is one, else a converted copy).

    Raises:
        InvalidInputError: when ``A`` is not 2-D and square, or has NaN, infinite or negative
            entries (the message lists the first offending entries by row and column).
    """
    if sp.issparse(A):
        if A.ndim != 2 or A.shape[0] != A.shape[1]:
            raise InvalidInputError(f"A: expected a square matrix, got shape {A.shape}")
        M = A if A.format == "csr" else A.tocsr()
        if not isinstance(M, sp.csr_matrix):
            M = sp.csr_matrix(M)  # csr_array -> csr_matrix view (no copy of the data)
        if M.dtype != np.float64:
            if not (np.issubdtype(M.dtype, np.floating) or np.issubdtype(M.dtype, np.integer) or M.dtype == bool):
                raise InvalidInputError(f"A: expected real numbers, got dtype {M.dtype}")
            M = M.astype(np.float64)
        if not M.has_canonical_format:
            M = M.copy()
            M.sum_duplicates()
        data = M.data
        # one pass: as unsigned integers, the finite non-negative doubles are exactly those
        # below the bit pattern of +inf (negatives have the sign bit, NaNs lie above +inf)
        if data.size and data.view(np.uint64).max() >= _INF_BITS:
            _raise_bad_sparse(M, names)
        return M
    try:
        D = np.asarray(A, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"A: cannot read as a real matrix ({exc})") from exc
    if D.ndim != 2 or D.shape[0] != D.shape[1]:
        raise InvalidInputError(f"A: expected a square matrix, got shape {D.shape}")
    if D.size:
        lo, hi = D.min(), D.max()
        if not (lo >= 0 and np.isfinite(hi)):
            bad_nf = ~np.isfinite(D)
            if bad_nf.any():
                r, c = np.nonzero(bad_nf)
                raise InvalidInputError(f"A: {len(r)} entries are not finite: {_describe(r, c, D[r, c], names)}")
            r, c = np.nonzero(D < 0)
            raise InvalidInputError(
                f"A: technical coefficients must be non-negative; {len(r)} are negative: "
                f"{_describe(r, c, D[r, c], names)}"
            )
    return D


def _raise_bad_sparse(M: sp.csr_matrix, names: Sequence[str] | None) -> None:
    data = M.data
    rows_of = np.repeat(np.arange(M.shape[0]), np.diff(M.indptr))
    bad = ~np.isfinite(data)
    if bad.any():
        pos = np.nonzero(bad)[0]
        raise InvalidInputError(
            f"A: {len(pos)} entries are not finite: {_describe(rows_of[pos], M.indices[pos], data[pos], names)}"
        )
    pos = np.nonzero(data < 0)[0]
    if len(pos) == 0:  # only negative zeros: harmless
        return
    raise InvalidInputError(
        f"A: technical coefficients must be non-negative; {len(pos)} are negative: "
        f"{_describe(rows_of[pos], M.indices[pos], data[pos], names)}"
    )


def validate_demand(d: ArrayLike, n: int) -> np.ndarray:
    """Check final demand: shape ``(n,)`` or ``(n, k)``, finite; return it as float64.

    Raises:
        InvalidInputError: on a wrong shape or NaN/infinite entries.
    """
    try:
        v = np.asarray(d, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"d: cannot read as a real vector ({exc})") from exc
    if v.ndim not in (1, 2) or v.shape[0] != n or (v.ndim == 2 and v.shape[1] == 0):
        raise InvalidInputError(f"d: expected shape ({n},) or ({n}, k) to match A of shape ({n}, {n}), got {v.shape}")
    if not np.isfinite(v).all():
        bad = np.argwhere(~np.isfinite(v))
        raise InvalidInputError(f"d: {len(bad)} entries are not finite, first at index {tuple(int(i) for i in bad[0])}")
    return v
