"""Successive linear programming of one stage of the daily plan (``docs/model.md``).

:func:`_slp` linearises every curve cell's input use at the current iterate (secant through
the stage's base point), solves the stage's lexicographic LP, and repeats until the iterate,
the first objective or the slopes settle; it then checks the solution under the curves
themselves and re-solves with reserves on the rows it overdraws. Capital and labour rows that
no feasible point can bind are dropped from the LP (:func:`_redundant_rows`), which keeps
stocks like ``1e9`` next to ``1e-6`` coefficients out of HiGHS.
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp
from innatura.planner._plan_inputs import PlanInputs, secant_slopes
from innatura.planner.errors import InvalidInputError
from innatura.planner.lp import LexicographicLP, UnboundedLPError

__all__: list[str] = []

logger = logging.getLogger(__name__)

#: times a stage re-solves with reserves on the rows its solution overdraws under the curves
_RESERVE_ROUNDS = 5


def _usage(inp: PlanInputs, slopes: np.ndarray, x: np.ndarray) -> np.ndarray:
    use = inp.A0 @ x
    if inp.curves:
        use = use + np.bincount(inp.curve_rows, slopes * x[inp.curve_cols], minlength=inp.n)
    return use


def _unbounded_message(inp: PlanInputs, stage: str) -> str:
    bounded_rows = inp.industrial | inp.labour
    A = (inp.A0 != 0).astype(float).tocsc()
    limited = np.asarray(A[bounded_rows].sum(axis=0)).ravel() > 0
    limited[inp.curve_cols[bounded_rows[inp.curve_rows]]] = True
    goods = [inp.goods[j] for j in np.flatnonzero(np.isinf(inp.capacity) & ~limited & ~inp.labour)]
    return (
        f"{stage} stage is unbounded: some goods can be produced without limit; give them a "
        f"capacity or a labour/capital input. Candidates: {goods[:20]}"
    )


def _redundant_rows(M: sp.csc_matrix, bounded: np.ndarray, row_hi: np.ndarray, col_hi: np.ndarray) -> np.ndarray:
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
    zero_hi = np.asarray((Mb[hi <= 0] != 0).sum(axis=0)).ravel() > 0 if (hi <= 0).any() else np.zeros(M.shape[1], bool)
    implied[zero_hi] = 0.0
    Mi = Mb.tocsc()
    with np.errstate(invalid="ignore"):
        act = Mi @ np.where(np.isfinite(implied), implied, 0.0)
    unbounded = np.asarray(Mi[:, ~np.isfinite(implied)].getnnz(axis=1)).ravel() > 0 if Mi.nnz else np.zeros(hi.size, bool)
    drop = np.zeros(M.shape[0], dtype=bool)
    drop[np.flatnonzero(bounded)] = ~unbounded & (act * (1.0 + 1e-9) < hi)
    return drop


def _slp(lp: LexicographicLP, inp: PlanInputs, cols, objectives_at, base, start, max_iter, tol, stage, row_hi,
         settle_objective: int = 0):
    """Successive LPs of one stage around ``base``, from the iterate ``start``.

    ``row_hi`` are the LP's row upper bounds (goods rows first); capital and labour rows that
    cannot bind at the current linearisation are dropped (:func:`_redundant_rows`).

    When the iteration stops, the goods rows are checked under the curves themselves (the
    linearisation is exact only at a fixed point; on the knife edge of a bound, say all
    Lucloelium to the picks, a slightly wrong slope would overdraw a stock that consumption
    needs). A row that the solution overdraws by more than ``10 tol`` (relative) gets a
    reserve of the overdraft and the LP is solved again, linearised at the solution, and
    checked again (at most :data:`_RESERVE_ROUNDS` times).

    The LP's first ``len(cols)`` variables are the production of the goods ``cols``.
    ``objectives_at(slopes)`` gives the stage's objectives for the current linearisation;
    ``settle_objective`` is the one whose settling stops the iteration (the first that the
    linearisation can move: a share bounded by 1, such as the safety-stock share, settles at
    once and says nothing about the rest).
    Returns (production ``(n,)``, LP values, curve slopes at the production (exact input use),
    SLP iterations, simplex iterations, converged).
    """
    n = inp.n
    lp_col = np.full(n, -1, dtype=np.int64)
    lp_col[cols] = np.arange(cols.size)
    in_lp = lp_col[inp.curve_cols] >= 0
    on_diag = ((inp.curve_rows == inp.curve_cols) & inp.final[inp.curve_rows]).astype(float)
    xbar = start.copy()
    w, prev_dir, lp_iters = 1.0, None, 0
    bounded = inp.industrial | inp.labour
    dropped = None
    z_prev, settled = None, 0
    reserve = np.zeros(n)
    rounds = 0
    finite_hi = np.isfinite(row_hi[:n])
    converged = stopped = False
    it = 0
    while it < max_iter:
        it += 1
        slopes = secant_slopes(inp, base, base + xbar)
        if in_lp.any():
            lp.set_coefficients(inp.curve_rows[in_lp], lp_col[inp.curve_cols[in_lp]], (slopes - on_diag)[in_lp])
        if it == 1 or in_lp.any():
            hi = row_hi.copy()
            hi[:n] = np.maximum(hi[:n] - reserve, 0.0)
            M = (inp.A0 + sp.csr_matrix((slopes, (inp.curve_rows, inp.curve_cols)), shape=(n, n))).tocsc()[:, cols]
            drop = _redundant_rows(M, bounded, hi[:n], lp.col_upper[: cols.size])
            hi[:n][drop] = np.inf
            if dropped is None or (hi != dropped).any():
                lp.set_row_bounds(lp.row_lower, hi)
                dropped = hi
        try:
            res = lp.solve(objectives_at(slopes))
        except UnboundedLPError:
            raise InvalidInputError(_unbounded_message(inp, stage)) from None
        lp_iters += res.iterations
        x = np.zeros(n)
        x[cols] = res.values[: cols.size]
        if not in_lp.any():
            return x, res.values, slopes, it, lp_iters, True
        exact = secant_slopes(inp, base, base + x)
        step = float(np.max(np.abs(x - xbar), initial=0.0))
        # the first objective has settled: on degenerate LPs the iterate can keep jumping
        # between alternative optima of the later objectives without improving the first
        z = res.objective_values[min(settle_objective, len(res.objective_values) - 1)]
        settled = settled + 1 if z_prev is not None and abs(z - z_prev) <= 10 * tol * max(1.0, abs(z)) else 0
        z_prev = z
        done = (
            step <= tol * max(1.0, float(np.max(np.abs(x), initial=0.0)))
            or settled >= 2
            # the LP solution is (nearly) its own linearisation point: a fixed point
            or np.allclose(exact, slopes, rtol=tol, atol=1e-15)
        )
        if done or rounds:
            # overdraft of the goods rows under the curves at x (the LP's rows hold the
            # linearised use at ``slopes``)
            diff = _usage(inp, exact, x) - _usage(inp, slopes, x)
            over = np.where(finite_hi, res.row_values[:n] + diff - row_hi[:n], 0.0)
            bad = over > 10 * tol * (1.0 + np.abs(np.where(finite_hi, row_hi[:n], 0.0)))
            if not bad.any() or rounds >= _RESERVE_ROUNDS:
                if bad.any():
                    logger.info("%s stage: the plan overdraws %d goods under the curves by up to %.3g",
                                   stage, int(bad.sum()), float(over.max()))
                converged = not bad.any()
                stopped = True
                break
            rounds += 1
            reserve = reserve + np.where(bad, over * (1.0 + 1e-6), 0.0)
            xbar, w, prev_dir, z_prev, settled = x.copy(), 1.0, None, None, 0
            continue
        # damping: halve the step weight when the iterates oscillate (the step turns back),
        # grow it again while they move steadily
        direction = x - xbar
        if prev_dir is not None:
            w = max(0.5 * w, 1e-4) if float(direction @ prev_dir) < 0 else min(1.0, 1.25 * w)
        prev_dir = direction
        xbar = xbar + w * direction
    if not stopped:
        logger.info("%s stage: successive LP did not converge in %d iterations", stage, max_iter)
    return x, res.values, secant_slopes(inp, base, base + x), it, lp_iters, converged
