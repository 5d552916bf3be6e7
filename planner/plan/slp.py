"""Successive linear programming of one stage of the daily plan (``docs/model.md``).

:func:`solve_slp` linearises every curve cell's input use at the current iterate (secant
through the stage's base point), solves the stage's lexicographic LP, and repeats until the
iterate, the first objective or the slopes settle; it then checks the solution under the curves
themselves and re-solves with reserves on the rows it overdraws. Capital and labour rows that
no feasible point can bind are dropped from the LP (:func:`redundant_rows`), which keeps
stocks like ``1e9`` next to ``1e-6`` coefficients out of HiGHS.

A secant through the base point overstates the use of more output wherever a curve turns flat
or concave: a good made by several units that draw on different inputs (each region's own
labour) uses no more of the first unit's labour once that unit is at capacity, yet the secant
charges every further unit of output the first unit's average. Every point where such a row
binds is then a fixed point of the secants. When the iteration stops on one, a tangent LP
(use linearised by its forward slope at the solution) tells whether more is possible, and the
iteration restarts from the tangent LP's solution (:data:`ESCAPE_ROUNDS`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from innatura.planner.errors import InfeasiblePlanError, InvalidInputError
from innatura.planner.lp import LexicographicLP, LexResult, UnboundedLPError
from innatura.planner.plan.inputs import PlanInputs, input_use, secant_slopes
from innatura.planner.plan.rows import redundant_rows, unbounded_message

__all__ = [
    "DAMPING_FLOOR",
    "DAMPING_GROWTH",
    "DAMPING_SHRINK",
    "ESCAPE_ROUNDS",
    "RESERVE_ROUNDS",
    "Objective",
    "SLPResult",
    "SLPStage",
    "redundant_rows",
    "solve_slp",
]

logger = logging.getLogger(__name__)

#: times a stage re-solves with reserves on the rows its solution overdraws under the curves
RESERVE_ROUNDS = 5
#: the step weight is halved when the iterates turn back (the LP solutions jump between two
#: vertices on either side of the fixed point): each halving moves the next linearisation
#: point half as far, so the oscillation closes in on the fixed point
DAMPING_SHRINK = 0.5
#: the step weight never falls below this: after about 13 halvings an oscillating iteration
#: still moves (a weight of 0 would freeze the linearisation point for good)
DAMPING_FLOOR = 1e-4
#: while the iterates move steadily in one direction the weight grows again by a quarter per
#: step, back to full steps after a few iterations, slowly enough not to re-start an oscillation
DAMPING_GROWTH = 1.25
#: a stage stops when its first objective changed by less than ``SETTLE_TOL * tol`` (relative)
#: over ``SETTLE_ROUNDS`` successive LPs: on degenerate LPs the iterate can keep jumping
#: between alternative optima of the later objectives without improving the first
SETTLE_TOL = 10.0
SETTLE_ROUNDS = 2
#: a goods row counts as overdrawn under the curves beyond ``OVERDRAFT_TOL * tol`` (relative to
#: ``1 + |bound|``); the reserve on it is the overdraft grown by ``RESERVE_MARGIN`` (relative),
#: so that the re-solved LP lands just inside
OVERDRAFT_TOL = 10.0
RESERVE_MARGIN = 1e-6
#: times a stage restarts its successive LPs from a tangent LP's solution when it stopped where
#: a binding row's curve turns flat or concave (see the module docstring)
ESCAPE_ROUNDS = 8
#: the forward slope of a curve cell at the solution ``x`` is taken over a step of this size,
#: relative to ``max(1, x)``: wide enough to see a kink that the LP's solution sits on or just
#: below (a unit at its capacity), narrow enough to be the slope of the next output
KINK_STEP = 1e-4
#: a cell turns concave when its forward slope is below its secant by this relative margin
KINK_MARGIN = 1e-3
#: a row binds when its activity is within this relative margin of its bound
BINDING_MARGIN = 1e-6

#: one objective of a lexicographic LP: ``("max" | "min", cost vector)``
Objective = tuple[str, np.ndarray]


@dataclass(frozen=True)
class SLPStage:
    """One stage of the daily plan as a successive-LP problem around ``base``.

    Attributes:
        name: the stage's name in messages (``"consumption"``, ``"investment"``).
        lp: the stage's LP; its first ``len(cols)`` variables are the production of ``cols``.
        cols: the goods the stage produces, ``(k,)``.
        objectives_at: the stage's objectives for the curve slopes of a linearisation.
        base: the stage's base point ``(n,)`` (what earlier stages produce); the curve cells
            are linearised by secants through ``base`` and ``base + x``.
        start: the first iterate ``(n,)``.
        row_hi: the LP's row upper bounds (goods rows first).
        settle_objective: the objective whose settling stops the iteration: the first that the
            linearisation can move (a share bounded by 1, such as the safety-stock share,
            settles at once and says nothing about the rest).
    """

    name: str
    lp: LexicographicLP
    cols: np.ndarray
    objectives_at: Callable[[np.ndarray], Sequence[Objective]]
    base: np.ndarray
    start: np.ndarray
    row_hi: np.ndarray
    settle_objective: int = 0


@dataclass(frozen=True)
class SLPResult:
    """Outcome of :func:`solve_slp`.

    Attributes:
        production: the stage's production ``(n,)`` (zero outside ``cols``).
        values: the last LP's variable values.
        slopes: the curve slopes at ``production`` (exact input use), ``(n_curves,)``.
        iterations: successive-LP iterations.
        lp_iterations: simplex iterations over all LPs.
        converged: whether the iteration settled and the solution overdraws no goods row
            under the curves (beyond the tolerance).
    """

    production: np.ndarray
    values: np.ndarray
    slopes: np.ndarray
    iterations: int
    lp_iterations: int
    converged: bool


class _Iteration:
    """The state of one stage's successive LPs (see :func:`solve_slp`)."""

    def __init__(self, stage: SLPStage, inp: PlanInputs, tol: float):
        n = inp.n
        self.stage, self.inp, self.tol = stage, inp, tol
        cols = stage.cols
        lp_col = np.full(n, -1, dtype=np.int64)
        lp_col[cols] = np.arange(cols.size)
        self.lp_col = lp_col
        self.in_lp = lp_col[inp.curve_cols] >= 0
        self.on_diag = ((inp.curve_rows == inp.curve_cols) & inp.final[inp.curve_rows]).astype(float)
        self.bounded = inp.industrial | inp.labour
        self.finite_hi = np.isfinite(stage.row_hi[:n])
        self.xbar = stage.start.copy()
        self.w, self.prev_dir = 1.0, None
        self.dropped: np.ndarray | None = None
        self.z_prev: float | None = None
        self.settled = 0
        self.reserve = np.zeros(n)
        self.rounds = 0
        self.lp_iterations = 0

    def slopes(self, x: np.ndarray) -> np.ndarray:
        return secant_slopes(self.inp, self.stage.base, self.stage.base + x)

    def linearise(self, slopes: np.ndarray, first: bool) -> None:
        """Write the slopes into the LP and drop the rows that cannot bind at them."""
        inp, stage, in_lp = self.inp, self.stage, self.in_lp
        n, lp = inp.n, stage.lp
        if in_lp.any():
            rows, cols = inp.curve_rows[in_lp], self.lp_col[inp.curve_cols[in_lp]]
            lp.set_coefficients(rows, cols, (slopes - self.on_diag)[in_lp])
        if first or in_lp.any():
            hi = stage.row_hi.copy()
            hi[:n] = np.maximum(hi[:n] - self.reserve, 0.0)
            F = inp.A0 + sp.csr_matrix((slopes, (inp.curve_rows, inp.curve_cols)), shape=(n, n))
            M = F.tocsc()[:, stage.cols]
            drop = redundant_rows(M, self.bounded, hi[:n], lp.col_upper[: stage.cols.size])
            hi[:n][drop] = np.inf
            if self.dropped is None or (hi != self.dropped).any():
                lp.set_row_bounds(lp.row_lower, hi)
                self.dropped = hi

    def solve(self, slopes: np.ndarray) -> tuple[LexResult, np.ndarray]:
        """The LP at ``slopes``: its result and the production it gives."""
        try:
            res = self.stage.lp.solve(self.stage.objectives_at(slopes))
        except UnboundedLPError:
            raise InvalidInputError(unbounded_message(self.inp, self.stage.name)) from None
        self.lp_iterations += res.iterations
        x = np.zeros(self.inp.n)
        x[self.stage.cols] = res.values[: self.stage.cols.size]
        return res, x

    def done(self, res: LexResult, x: np.ndarray, slopes: np.ndarray, exact: np.ndarray) -> bool:
        """Whether the iterate, the first objective or the slopes have settled."""
        tol = self.tol
        step = float(np.max(np.abs(x - self.xbar), initial=0.0))
        z = res.objective_values[min(self.stage.settle_objective, len(res.objective_values) - 1)]
        close = self.z_prev is not None and abs(z - self.z_prev) <= SETTLE_TOL * tol * max(1.0, abs(z))
        self.settled = self.settled + 1 if close else 0
        self.z_prev = z
        return (
            step <= tol * max(1.0, float(np.max(np.abs(x), initial=0.0)))
            or self.settled >= SETTLE_ROUNDS
            # the LP solution is (nearly) its own linearisation point: a fixed point
            or np.allclose(exact, slopes, rtol=tol, atol=1e-15)
        )

    def overdraft(self, res: LexResult, x: np.ndarray, slopes: np.ndarray, exact: np.ndarray) -> np.ndarray:
        """Overdraft of each goods row under the curves at ``x`` (the LP's rows hold the use
        linearised at ``slopes``), and the rows overdrawn beyond the tolerance."""
        n, row_hi = self.inp.n, self.stage.row_hi
        rows = res.row_values if res.row_values is not None else self.stage.lp.shape[0] * [0.0]
        diff = input_use(self.inp, exact, x) - input_use(self.inp, slopes, x)
        return np.where(self.finite_hi, np.asarray(rows)[:n] + diff - row_hi[:n], 0.0)

    def add_reserve(self, over: np.ndarray, bad: np.ndarray, x: np.ndarray) -> None:
        """Hold back the overdraft on the overdrawn rows and restart from ``x``."""
        self.rounds += 1
        self.reserve = self.reserve + np.where(bad, over * (1.0 + RESERVE_MARGIN), 0.0)
        self.xbar, self.w, self.prev_dir, self.z_prev, self.settled = x.copy(), 1.0, None, None, 0

    def tangent(self, x: np.ndarray, slopes: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """Forward slopes of the curve cells at the solution ``x`` and the offsets that make the
        linearisation ``use(x') = use(x) + slope (x' - x)`` exact at ``x``, per goods row; or
        ``None`` when no binding row has a cell whose forward slope falls below its secant
        ``slopes`` (the secants then describe the next output no worse than the tangents).

        Shapes:
            ``x``: ``(n,)``; ``slopes``: ``(n_curves,)``; ``rows``: the LP's row activities
            (goods rows first); returns ``(n_curves,)`` and ``(n,)``.
        """
        inp, base, in_lp = self.inp, self.stage.base, self.in_lp
        n, cols = inp.n, inp.curve_cols
        hi = self.stage.row_hi[:n] - self.reserve
        margin = BINDING_MARGIN * (1.0 + np.abs(np.where(self.finite_hi, hi, 0.0)))
        binding = self.finite_hi & (np.asarray(rows)[:n] >= hi - margin)
        h = np.zeros(n)
        h[self.stage.cols] = KINK_STEP * np.maximum(1.0, np.abs(base + x))[self.stage.cols]
        g = self.inp.store.input_use(base + x)
        forward = np.maximum((self.inp.store.input_use(base + x + h) - g) / np.where(h[cols] > 0, h[cols], 1.0), 0.0)
        kink = in_lp & binding[inp.curve_rows] & (forward < (1.0 - KINK_MARGIN) * slopes)
        if not kink.any():
            return None
        d = np.where(in_lp, forward, slopes)
        offset = np.where(in_lp, g - self.inp.store.input_use(base) - d * x[cols], 0.0)
        return d, np.bincount(inp.curve_rows, offset, minlength=n)

    def restart(self, x: np.ndarray) -> None:
        """Start the successive LPs again from ``x`` (the reserves stay)."""
        self.xbar, self.w, self.prev_dir, self.z_prev, self.settled = x.copy(), 1.0, None, None, 0

    def damp(self, x: np.ndarray) -> None:
        """Move the linearisation point towards ``x``: the step weight shrinks when the iterates
        oscillate (the step turns back) and grows again while they move steadily."""
        direction = x - self.xbar
        if self.prev_dir is not None:
            if float(direction @ self.prev_dir) < 0:
                self.w = max(DAMPING_SHRINK * self.w, DAMPING_FLOOR)
            else:
                self.w = min(1.0, DAMPING_GROWTH * self.w)
        self.prev_dir = direction
        self.xbar = self.xbar + self.w * direction


def _first(stage: SLPStage, res: LexResult, slopes: np.ndarray) -> float:
    """The stage's settling objective at ``res``, signed so that more is better."""
    k = min(stage.settle_objective, len(res.objective_values) - 1)
    sense = stage.objectives_at(slopes)[k][0]
    return float(res.objective_values[k]) * (1.0 if sense == "max" else -1.0)


def _higher(z_new: float, z: float, tol: float) -> bool:
    """Whether ``z_new`` beats ``z`` by more than the settling tolerance (see :func:`_first`)."""
    return z_new > z + SETTLE_TOL * tol * max(1.0, abs(z))


def _successive(run: _Iteration, max_iter: int) -> tuple[LexResult, np.ndarray, np.ndarray, int, bool]:
    """Successive LPs from ``run.xbar`` until they settle and overdraw no goods row under the
    curves (or :data:`RESERVE_ROUNDS` reserves or ``max_iter`` LPs are spent).

    Returns:
        the last LP's result, its production, its slopes, the LPs solved and whether the
        iteration settled without overdraft.
    """
    stage, inp, tol = run.stage, run.inp, run.tol
    it = 0
    while it < max_iter:
        it += 1
        slopes = run.slopes(run.xbar)
        run.linearise(slopes, first=it == 1)
        res, x = run.solve(slopes)
        if not run.in_lp.any():
            return res, x, slopes, it, True
        exact = run.slopes(x)
        if run.done(res, x, slopes, exact) or run.rounds:
            over = run.overdraft(res, x, slopes, exact)
            row_hi = stage.row_hi[: inp.n]
            bad = over > OVERDRAFT_TOL * tol * (1.0 + np.abs(np.where(run.finite_hi, row_hi, 0.0)))
            if not bad.any() or run.rounds >= RESERVE_ROUNDS:
                if bad.any():
                    logger.info("%s stage: the plan overdraws %d goods under the curves by up to %.3g",
                                stage.name, int(bad.sum()), float(over.max()))
                return res, x, slopes, it, not bad.any()
            run.add_reserve(over, bad, x)
            continue
        run.damp(x)
    logger.info("%s stage: successive LP did not converge in %d iterations", stage.name, max_iter)
    return res, x, slopes, it, False


def _escape(run: _Iteration, res: LexResult, x: np.ndarray, slopes: np.ndarray) -> np.ndarray | None:
    """The tangent LP's production at the solution ``x`` when it promises more of the stage's
    settling objective than ``res`` holds; else ``None`` (see the module docstring)."""
    tangent = run.tangent(x, slopes, res.row_values if res.row_values is not None else np.zeros(run.inp.n))
    if tangent is None:
        return None
    d, offset = tangent
    reserve = run.reserve
    run.reserve = reserve + offset
    try:
        run.linearise(d, first=True)
        res_t, x_t = run.solve(d)
    except InfeasiblePlanError:  # the tangents cut below what fixed columns need: no way past
        return None
    finally:
        run.reserve = reserve
        run.dropped = None
    if not _higher(_first(run.stage, res_t, d), _first(run.stage, res, slopes), run.tol):
        return None
    return x_t


def solve_slp(stage: SLPStage, inp: PlanInputs, max_iter: int, tol: float) -> SLPResult:
    """Successive LPs of one stage around ``stage.base``, from the iterate ``stage.start``.

    Capital and labour rows that cannot bind at the current linearisation are dropped
    (:func:`redundant_rows`). When the iteration stops, the goods rows are checked under the
    curves themselves (the linearisation is exact only at a fixed point; on the knife edge of
    a bound, say all Lucloelium to the picks, a slightly wrong slope would overdraw a stock
    that consumption needs). A row that the solution overdraws by more than
    ``OVERDRAFT_TOL * tol`` (relative) gets a reserve of the overdraft and the LP is solved
    again, linearised at the solution, and checked again (at most :data:`RESERVE_ROUNDS`
    times). A solution where a binding row's curve turns flat or concave is a fixed point of
    the secants that may hold back the plan: the iteration restarts from the tangent LP's
    solution while that promises more and the restart ends higher (at most
    :data:`ESCAPE_ROUNDS` times).

    Args:
        stage: the stage's problem.
        inp: the night's validated inputs.
        max_iter: successive-LP iterations allowed (per restart).
        tol: tolerance on the change of the iterate (relative to ``max(1, |x|)``) and of the
            slopes; ``SETTLE_TOL * tol`` on the first objective.

    Returns:
        :class:`SLPResult`.
    """
    run = _Iteration(stage, inp, tol)
    res, x, slopes, total, converged = _successive(run, max_iter)
    for _ in range(ESCAPE_ROUNDS if converged and run.in_lp.any() else 0):
        start = _escape(run, res, x, slopes)
        if start is None:
            break
        run.restart(start)
        rounds, reserve = run.rounds, run.reserve.copy()
        try:
            res2, x2, slopes2, it, ok = _successive(run, max_iter)
        except InfeasiblePlanError:
            run.rounds, run.reserve = rounds, reserve
            break
        total += it
        if not ok or not _higher(_first(stage, res2, slopes2), _first(stage, res, slopes), tol):
            run.rounds, run.reserve = rounds, reserve
            break
        res, x, slopes = res2, x2, slopes2
        logger.debug("%s stage: restarted from a tangent LP past a concave kink", stage.name)
    return SLPResult(x, res.values, run.slopes(x), total, run.lp_iterations, converged)
