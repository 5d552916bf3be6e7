"""Rows of the daily plan's LPs that no feasible point can bind, and the message of a stage
that nothing bounds (:mod:`planner.plan.slp`)."""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp
from innatura.planner.plan.inputs import PlanInputs

__all__ = ["REDUNDANT_MARGIN", "SMALL_MATRIX_VALUE", "redundant_rows", "unbounded_message"]

logger = logging.getLogger(__name__)

#: a capital or labour row is redundant when its largest possible activity stays below its
#: bound by this relative margin
REDUNDANT_MARGIN = 1e-9
#: HiGHS's ``small_matrix_value``: smaller coefficients count as zero in the LP
SMALL_MATRIX_VALUE = 1e-9


def redundant_rows(M: sp.csc_matrix, bounded: np.ndarray, row_hi: np.ndarray, col_hi: np.ndarray) -> np.ndarray:
    """Capital and labour rows that no feasible point can bind (to drop from the LP).

    On the rows ``bounded`` (non-negative coefficients, ``M_r x <= row_hi_r``) every column
    is limited by ``x_j <= row_hi_r / M_rj``; a row whose largest activity over these implied
    bounds (and ``col_hi``) stays below its bound is redundant. Dropping it removes stock
    figures like ``1e9`` that dwarf the other coefficients (a capital stock far above what the
    labour supply could ever put to use) from the LP.
    """
    Mb = M[bounded].tocsr()
    hi = row_hi[bounded]
    ratio = Mb.multiply(1.0 / np.where(hi > 0, hi, np.inf)[:, None]).tocsc()  # M_rj / hi_r
    worst = np.asarray(ratio.max(axis=0).todense()).ravel() if ratio.nnz else np.zeros(M.shape[1])
    with np.errstate(divide="ignore"):
        implied = np.minimum(col_hi, np.where(worst > 0, 1.0 / worst, np.inf))
    if (hi <= 0).any():
        # HiGHS reads coefficients below its ``small_matrix_value`` as zero: such a coefficient
        # on an exhausted row limits nothing (a secant slope of 1e-16 is rounding)
        zero_hi = np.asarray((abs(Mb[hi <= 0]) > SMALL_MATRIX_VALUE).sum(axis=0)).ravel() > 0
    else:
        zero_hi = np.zeros(M.shape[1], bool)
    implied[zero_hi] = 0.0
    Mi = Mb.tocsc()
    with np.errstate(invalid="ignore"):
        act = Mi @ np.where(np.isfinite(implied), implied, 0.0)
    if Mi.nnz:
        unbounded = np.asarray(Mi[:, ~np.isfinite(implied)].getnnz(axis=1)).ravel() > 0
    else:
        unbounded = np.zeros(hi.size, bool)
    drop = np.zeros(M.shape[0], dtype=bool)
    drop[np.flatnonzero(bounded)] = ~unbounded & (act * (1.0 + REDUNDANT_MARGIN) < hi)
    return drop


def unbounded_message(inp: PlanInputs, stage: str) -> str:
    """The message of a stage whose LP is unbounded, naming the goods nothing limits."""
    bounded_rows = inp.industrial | inp.labour
    A = (inp.A0 != 0).astype(float).tocsc()
    limited = np.asarray(A[bounded_rows].sum(axis=0)).ravel() > 0
    limited[inp.curve_cols[bounded_rows[inp.curve_rows]]] = True
    goods = [inp.goods[j] for j in np.flatnonzero(np.isinf(inp.capacity) & ~limited & ~inp.labour)]
    return (
        f"{stage} stage is unbounded: some goods can be produced without limit; give them a "
        f"capacity or a labour/capital input. Candidates: {goods[:20]}"
    )
