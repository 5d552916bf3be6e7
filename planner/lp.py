"""A thin HiGHS wrapper for lexicographic LPs with warm starts.

The daily plan (``docs/model.md``) optimises several objectives in priority order over the
same constraints: optimise the first, constrain it to its optimum, optimise the next, ...
:class:`LexicographicLP` keeps one :class:`highspy.Highs` instance so that each further
objective, and each successive-LP re-linearisation (:meth:`LexicographicLP.set_coefficients`),
starts from the previous simplex basis.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp
from innatura.planner.errors import InfeasiblePlanError, InnaturaError
from innatura.planner.highs import new_highs
from numpy.typing import ArrayLike

__all__ = ["LexResult", "LexicographicLP", "UnboundedLPError"]

logger = logging.getLogger(__name__)

_INF = highspy.kHighsInf


class UnboundedLPError(InnaturaError):
    """An objective of a lexicographic LP is unbounded.

    Attributes:
        objective: position of the unbounded objective in the sequence.
    """

    def __init__(self, message: str, objective: int):
        super().__init__(message)
        self.objective = objective


@dataclass(frozen=True)
class LexResult:
    """Solution of a lexicographic LP: values, each objective's optimum, simplex iterations,
    and the activity ``A v`` of the constraint rows.

    ``row_duals[k]`` and ``col_duals[k]`` are the sensitivities of objective ``k``'s optimum
    to the bounds of the model's rows and columns, ``d z_k / d bound`` in the objective's own
    sense and units (for a ``<=`` row whose upper bound binds in a ``"max"`` objective: how
    much ``z_k`` rises per unit of extra bound; ``0`` on rows that do not bind). Only
    ``k = 0`` is the plain LP's; later objectives are optimised with the earlier optima kept,
    so their sensitivities hold those optima fixed.
    """

    values: np.ndarray
    objective_values: tuple[float, ...]
    iterations: int
    row_values: np.ndarray | None = None
    row_duals: tuple[np.ndarray, ...] = ()
    col_duals: tuple[np.ndarray, ...] = ()


def _bounds(v: ArrayLike) -> np.ndarray:
    out = np.asarray(v, dtype=float).copy()
    out[np.isposinf(out)] = _INF
    out[np.isneginf(out)] = -_INF
    return out


#: seconds one HiGHS run may take before it counts as a failed run and the next strategy is
#: tried; a rare badly scaled model can otherwise keep the simplex cycling for ever.
RUN_SECONDS = 60.0


class _Kept:
    """What a lexicographic solve changed to keep earlier optima: saved column bounds
    ``(column, lower, upper)`` and the number of rows added."""

    def __init__(self) -> None:
        self.cols: list[tuple[int, float, float]] = []
        self.rows = 0


def _option(h: highspy.Highs, key: str) -> bool | float | str | int:
    value = h.getOptionValue(key)
    return value[1] if isinstance(value, tuple) else value  # (status, value) in older highspy


class LexicographicLP:
    """``row_lower <= A v <= row_upper``, ``col_lower <= v <= col_upper``, objectives in order.

    Args:
        A: constraint matrix, shape ``(rows, cols)`` (any scipy.sparse format or dense).
        row_lower, row_upper: row bounds (``+-inf`` allowed), shape ``(rows,)``.
        col_lower, col_upper: variable bounds, shape ``(cols,)``.
        options: extra HiGHS options (e.g. ``{"time_limit": 10.0}``).
    """

    def __init__(self, A: sp.spmatrix | ArrayLike, row_lower: ArrayLike, row_upper: ArrayLike, col_lower: ArrayLike,
                 col_upper: ArrayLike, options: dict | None = None) -> None:
        Ac = sp.csc_matrix(A, dtype=float)
        Ac.sort_indices()
        self.shape = Ac.shape
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = Ac.shape[1], Ac.shape[0]
        lp.col_cost_ = np.zeros(Ac.shape[1])
        lp.col_lower_ = _bounds(col_lower)
        lp.col_upper_ = _bounds(col_upper)
        lp.row_lower_ = _bounds(row_lower)
        lp.row_upper_ = _bounds(row_upper)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = Ac.shape[1], Ac.shape[0]
        lp.a_matrix_.start_ = Ac.indptr.astype(np.int32)
        lp.a_matrix_.index_ = Ac.indices.astype(np.int32)
        lp.a_matrix_.value_ = Ac.data
        h = new_highs()  # quiet: the banner goes to the log (see planner.highs)
        for key, value in (options or {}).items():
            h.setOptionValue(key, value)
        h.passModel(lp)
        self._h = h
        self._last_coeffs: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.row_lower, self.row_upper = np.asarray(row_lower, float).copy(), np.asarray(row_upper, float).copy()
        self.col_lower, self.col_upper = np.asarray(col_lower, float).copy(), np.asarray(col_upper, float).copy()

    def set_coefficients(self, rows: np.ndarray, cols: np.ndarray, values: np.ndarray) -> None:
        """Overwrite single matrix entries (the curve cells of a re-linearisation); entries
        whose value did not change since the last call with the same cells are skipped."""
        rows, cols = np.asarray(rows), np.asarray(cols)
        values = np.asarray(values, dtype=float)
        last = self._last_coeffs
        if last is not None and last[0].shape == rows.shape and (last[0] == rows).all() and (last[1] == cols).all():
            changed = np.flatnonzero(values != last[2])
        else:
            changed = np.arange(values.size)
        for k in changed.tolist():
            self._h.changeCoeff(int(rows[k]), int(cols[k]), float(values[k]))
        self._last_coeffs = (rows.copy(), cols.copy(), values.copy())

    def set_col_bounds(self, lower: np.ndarray, upper: np.ndarray) -> None:
        idx = np.arange(self.shape[1], dtype=np.int32)
        self.col_lower, self.col_upper = np.asarray(lower, float).copy(), np.asarray(upper, float).copy()
        self._h.changeColsBounds(idx.size, idx, _bounds(lower), _bounds(upper))

    def set_row_bounds(self, lower: np.ndarray, upper: np.ndarray) -> None:
        idx = np.arange(self.shape[0], dtype=np.int32)
        self.row_lower, self.row_upper = np.asarray(lower, float).copy(), np.asarray(upper, float).copy()
        self._h.changeRowsBounds(idx.size, idx, _bounds(lower), _bounds(upper))  # type: ignore[attr-defined]

    def _solve(self) -> None:
        """One HiGHS run, stopped after :data:`RUN_SECONDS` (HiGHS's clock counts from the
        object's first run, so the limit is set relative to the time already spent)."""
        h = self._h
        h.setOptionValue("time_limit", float(h.getRunTime()) + RUN_SECONDS)
        h.run()

    def _run(self, k: int) -> None:
        h = self._h
        self._solve()
        status = h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            # a warm start can leave HiGHS without a verdict ("Unknown") or with a wrong one on a
            # badly scaled model: solve again from scratch, then with the other solvers
            for options in ({}, {"simplex_strategy": 1}, {"solver": "ipm"}):
                saved = {key: _option(h, key) for key in options}
                for key, value in options.items():
                    h.setOptionValue(key, value)
                h.clearSolver()
                self._solve()
                status = h.getModelStatus()
                for key, old in saved.items():
                    h.setOptionValue(key, old)
                if status in (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kUnbounded):
                    break
        if status == highspy.HighsModelStatus.kOptimal:
            return
        if status in (highspy.HighsModelStatus.kUnbounded, highspy.HighsModelStatus.kUnboundedOrInfeasible):
            raise UnboundedLPError(f"objective {k} is unbounded ({h.modelStatusToString(status)})", objective=k)
        if status == highspy.HighsModelStatus.kInfeasible:
            raise InfeasiblePlanError("the planning LP has no feasible point")
        raise InfeasiblePlanError(f"HiGHS stopped without an optimum: {h.modelStatusToString(status)}")

    def _run_kept(self, k: int, last_row: tuple | None) -> bool:
        """Solve for objective ``k``; if the LP with the kept optimum of objective ``k - 1``
        (``last_row``: ``"row"`` or ``"col"``, its index, sense, value, slack and, for a
        column, its cost) is reported infeasible, widen that optimum's slack (x1e3, x1e6) and
        retry. Returns False when it stays infeasible (``k > 0``)."""
        try:
            self._run(k)
            return True
        except InfeasiblePlanError:
            if last_row is None:
                raise
        kind, index, sense, z, slack, c = last_row
        for factor in (1e3, 1e6):
            wide = slack * factor
            lo, hi = (z - wide, _INF) if sense == "max" else (-_INF, z + wide)
            if kind == "row":
                self._h.changeRowBounds(int(index), lo, hi)
            else:
                lo_j, hi_j = sorted((lo / c, hi / c))
                self._h.changeColBounds(int(index), max(self.col_lower[index], lo_j), min(self.col_upper[index], hi_j))
            try:
                self._run(k)
                return True
            except InfeasiblePlanError:
                continue
        return False

    def _keep(self, kept: _Kept, sense: str, cn: np.ndarray, zn: float, slack: float) -> tuple | None:
        """Keep the optimum ``zn`` of the objective ``cn`` while the next ones are optimised:
        as a bound on its one column, or as an added row; returns what :meth:`_run_kept` widens:
        ``("col" | "row", index, sense, value, slack, cost)``."""
        h = self._h
        nz = np.flatnonzero(cn).astype(np.int32)
        lo, hi = (zn - slack, _INF) if sense == "max" else (-_INF, zn + slack)
        if nz.size == 1:
            # one variable (a share such as the safety-stock level): keep its optimum
            # as a bound on the column, not as a row that HiGHS may find infeasible
            j, c = int(nz[0]), float(cn[nz[0]])
            lo_j, hi_j = sorted((lo / c, hi / c))
            kept.cols.append((j, self.col_lower[j], self.col_upper[j]))
            h.changeColBounds(j, max(self.col_lower[j], lo_j), min(self.col_upper[j], hi_j))
            return ("col", j, sense, zn, slack, c)
        h.addRow(lo, hi, nz.size, nz, cn[nz])
        kept.rows += 1
        return ("row", self.shape[0] + kept.rows - 1, sense, zn, slack, 1.0)

    def _restore(self, kept: _Kept) -> None:
        """Undo what :meth:`_keep` changed: column bounds, then the added rows."""
        h = self._h
        for j, lo_j, hi_j in reversed(kept.cols):
            h.changeColBounds(j, float(_bounds(np.array([lo_j]))[0]), float(_bounds(np.array([hi_j]))[0]))
        if kept.rows:
            rows = np.arange(self.shape[0], self.shape[0] + kept.rows, dtype=np.int32)
            h.deleteRows(rows.size, rows)

    def solve(self, objectives: Sequence[tuple[str, np.ndarray]], rel_slack: float = 1e-9) -> LexResult:
        """Optimise ``objectives`` (``("max" | "min", cost vector)``) in priority order.

        Each optimum ``z_k`` is kept (to ``rel_slack * max(1, |z_k|)``) while the later
        objectives are optimised. The model is restored afterwards, so the instance can be
        re-used with new coefficients.

        Raises:
            UnboundedLPError: an objective is unbounded.
            InfeasiblePlanError: the constraints have no feasible point, or HiGHS failed.
        """
        h = self._h
        n = self.shape[1]
        idx = np.arange(n, dtype=np.int32)
        optima: list[float] = []
        iters = 0
        values: np.ndarray | None = None
        row_values: np.ndarray | None = None
        last_row = None
        kept = _Kept()
        row_duals: list[np.ndarray] = []
        col_duals: list[np.ndarray] = []
        try:
            for k, (sense, cost) in enumerate(objectives):
                cost = np.asarray(cost, dtype=float)
                # normalise the objective to max |c| = 1: HiGHS treats matrix entries below
                # ``small_matrix_value`` (1e-9) as zero, so a kept optimum row of tiny weights
                # (capital growth ``1 / (s_k + 1)`` at stocks of 1e9) would vanish
                scale = float(np.max(np.abs(cost), initial=0.0)) or 1.0
                cn = cost / scale
                sign = -1.0 if sense == "max" else 1.0
                h.changeColsCost(n, idx, sign * cn)
                if not self._run_kept(k, last_row):
                    # the earlier objectives had a feasible optimum, so only a kept-optimum row
                    # can make this LP infeasible, numerically: keep the last solution
                    logger.warning("objective %d: LP infeasible after fixing the earlier optima; "
                                   "keeping the solution of objective %d", k, k - 1)
                    optima.append(float(np.dot(cost, values)) if values is not None else float("nan"))
                    break
                iters += int(h.getInfo().simplex_iteration_count)
                sol = h.getSolution()
                values = np.asarray(sol.col_value, dtype=float)
                row_values = np.asarray(sol.row_value, dtype=float)[: self.shape[0]]
                # HiGHS minimises sign * cn: its duals are d(sign * z / scale) / d bound
                row_duals.append(sign * scale * np.asarray(sol.row_dual, dtype=float)[: self.shape[0]])
                col_duals.append(sign * scale * np.asarray(sol.col_dual, dtype=float))
                zn = float(np.dot(cn, values))
                optima.append(zn * scale)
                if k + 1 < len(objectives):
                    last_row = self._keep(kept, sense, cn, zn, rel_slack * max(1.0, abs(zn)))
            if values is None:
                values = np.zeros(n)
        finally:
            self._restore(kept)
        if row_values is None:
            row_values = np.zeros(self.shape[0])
        return LexResult(values, tuple(optima), iters, row_values, tuple(row_duals), tuple(col_duals))
