"""Many curve cells as arrays, evaluated at once (OLIN-EP Eq. 4, Fig. 1).

The solvers evaluate every curve cell at every iterate: the nonlinear solver its coefficients
and marginal input use, the daily plan its secant slopes at every successive-LP step or search
point. A loop over :class:`~planner.curves.StackedCurve` objects costs tens of microseconds
and about a kilobyte per cell; :class:`CurveStore` holds the cells in struct-of-arrays form
(row and column per cell; lower bound, width and power-law parameters per stacked unit) so that
the total input ``G(x) = sum_u g_u(o_u(x))`` of every cell, its slope and its coefficient
``G(x) / x`` cost a few vectorised passes over all units (:mod:`planner.curves.kernels`).

A store is built from curve objects (:class:`CurveStore`), or straight from parameter arrays
(:meth:`CurveStore.from_power_units`) without any object per cell. Units whose input function
is a :class:`~planner.curves.PowerLawInput`, or offers ``knots() -> (q, g, b)`` (linear
interpolation of the input use through ``(q, g)`` with ``q[0] = 0``, and beyond ``q[-1]`` the
power law ``g[-1] (q / q[-1]) ** b``, or the last segment's line when ``b`` is ``None``), are
vectorised; cells of any other curve type are evaluated cell by cell through the curve's own
``__call__`` / ``derivative``.

:class:`CurveCache` keeps the store of the last cells it was asked for, for a caller that plans
night after night with the same curve objects.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
from innatura.planner.curves.kernels import power_input, power_slope, stack_orders
from innatura.planner.curves.knots import KnotTables
from innatura.planner.curves.stacked import X_FLOOR, ConstantCurve, PowerLawInput, StackedCurve
from innatura.planner.economy import CoefficientCurve, CurveCell
from innatura.planner.errors import InvalidInputError
from numpy.typing import ArrayLike

__all__ = ["CurveCache", "CurveStore"]

logger = logging.getLogger(__name__)

_POWER, _KNOTS = 0, 1


def _unit_kind(g: object) -> int | None:
    if isinstance(g, PowerLawInput):
        return _POWER
    if callable(getattr(g, "knots", None)):
        return _KNOTS
    return None


class _Units:
    """The cells' stacked units as flat lists, cell by cell (see :class:`CurveStore`)."""

    def __init__(self) -> None:
        self.const_idx: list[int] = []
        self.const_val: list[float] = []
        self.objects: list[tuple[int, CoefficientCurve]] = []
        self.cell: list[int] = []
        self.lower: list[float] = []
        self.width: list[float] = []
        self.kind: list[int] = []
        self.scale: list[float] = []
        self.exponent: list[float] = []
        self.knots: list[tuple[np.ndarray, np.ndarray, float]] = []

    def add(self, k: int, curve: CoefficientCurve) -> None:
        """Add cell ``k``: a constant, a stack of vectorisable units, or a curve evaluated alone."""
        if isinstance(curve, ConstantCurve):
            self.const_idx.append(k)
            self.const_val.append(curve.value)
            return
        kinds = [_unit_kind(g) for g in curve.input_functions] if isinstance(curve, StackedCurve) else [None]
        if not isinstance(curve, StackedCurve) or None in kinds:
            self.objects.append((k, curve))
            return
        lower = curve.lower_bounds
        for u, g in enumerate(curve.input_functions):
            last = u == curve.n_units - 1
            self.cell.append(k)
            self.lower.append(lower[u])
            self.width.append(np.inf if last else curve.capacities[u])
            if isinstance(g, PowerLawInput):
                self.kind.append(_POWER)
                self.scale.append(g.scale)
                self.exponent.append(g.exponent)
            else:
                self.kind.append(_KNOTS)
                q, gv, b = g.knots()  # type: ignore[attr-defined]
                self.knots.append((np.asarray(q, dtype=float), np.asarray(gv, dtype=float),
                                   np.nan if b is None else float(b)))


class CurveStore:
    """Vectorised ``f(x)``, ``f'(x)``, input use ``f(x) x`` and marginal input use of curve cells.

    Args:
        cells: the curve cells; cell ``k`` sits at ``(cells[k].row, cells[k].col)`` and is
            evaluated at ``x[cells[k].col]``.

    Attributes:
        rows, cols: row and column of every cell, ``(n_cells,)`` int64.
        cells: the curve objects the store was built from (empty for
            :meth:`from_power_units`).

    Every evaluation takes the goods vector ``x`` and evaluates cell ``k`` at
    ``max(x[cols[k]], X_FLOOR)`` (:data:`~planner.curves.X_FLOOR`: the coefficient of an
    infinitesimal order).

    Shapes:
        every evaluation takes ``x`` ``(n,)`` and returns ``(n_cells,)``; :meth:`dispatch`
        returns ``(n_units,)``.
    """

    def __init__(self, cells: Sequence[CurveCell] = ()) -> None:
        cells = tuple(CurveCell(*c) for c in cells)
        units = _Units()
        for k, (_, _, curve) in enumerate(cells):
            units.add(k, curve)
        kind = np.array(units.kind, dtype=np.int8)
        power = kind == _POWER
        self._setup(
            np.array([c.row for c in cells], dtype=np.int64),
            np.array([c.col for c in cells], dtype=np.int64),
            np.array(units.cell, dtype=np.int64),
            np.array(units.lower, dtype=float),
            np.array(units.width, dtype=float),
        )
        self.cells = cells
        self._const_idx = np.array(units.const_idx, dtype=np.int64)
        self._const_val = np.array(units.const_val, dtype=float)
        self._objects = units.objects
        scale, exponent = np.array(units.scale, dtype=float), np.array(units.exponent, dtype=float)
        self._set_power(np.flatnonzero(power), scale, exponent)
        self._kn = np.flatnonzero(~power)
        self._knots = KnotTables(units.knots)

    def _setup(self, rows: np.ndarray, cols: np.ndarray, unit_cell: np.ndarray, lower: np.ndarray,
               width: np.ndarray) -> None:
        self.rows, self.cols = rows, cols
        self.n_cells = int(rows.size)
        self._u_cell = unit_cell
        self._u_col = cols[unit_cell]
        self._u_lower, self._u_width = lower, width
        self._memo: list[tuple[bytes, np.ndarray]] = []

    def _set_power(self, index: np.ndarray, scale: np.ndarray, exponent: np.ndarray) -> None:
        # all units power laws (the common case of a store built from arrays): no gathers
        self._pw: np.ndarray | slice = slice(None) if index.size == self._u_cell.size else index
        self._p_scale, self._p_exp = scale, exponent

    @classmethod
    def from_power_units(
        cls,
        rows: ArrayLike,
        cols: ArrayLike,
        unit_cell: ArrayLike,
        capacity: ArrayLike,
        scale: ArrayLike,
        exponent: ArrayLike,
    ) -> CurveStore:
        """Cells of stacked power-law units straight from arrays (no object per cell).

        Cell ``k`` stacks the units ``u`` with ``unit_cell[u] == k`` in the order given: the
        same curve as ``StackedCurve(capacity[units], [PowerLawInput(scale[u], exponent[u])
        ...])`` (the last unit of each cell takes everything beyond its predecessors).

        Args:
            rows: row of each cell, ``(n_cells,)``.
            cols: column of each cell, ``(n_cells,)``.
            unit_cell: the cell of each unit, ``(n_units,)``, non-decreasing; every cell has a
                unit.
            capacity: capacity of each unit, ``> 0`` (finite except for a cell's last unit).
            scale: each unit's power-law scale (``scale * q ** exponent``), ``>= 0``.
            exponent: each unit's power-law exponent, ``> 0``.

        Raises:
            InvalidInputError: malformed arrays (the message names the array and an entry).
        """
        r, c, uc, cap, sc, ex = _checked_units(rows, cols, unit_cell, capacity, scale, exponent)
        first = np.searchsorted(uc, np.arange(r.size))  # first unit of every cell
        last = np.append(first[1:], uc.size)[: r.size] - 1
        lower = np.zeros(uc.size)
        pos = np.arange(uc.size) - first[uc]  # place in the stack
        for p in range(1, int(pos.max(initial=0)) + 1):  # running sums in stacking order, as StackedCurve's
            at = np.flatnonzero(pos == p)
            lower[at] = lower[at - 1] + cap[at - 1]
        width = cap.copy()
        width[last] = np.inf
        store = cls.__new__(cls)
        store._setup(r, c, uc, lower, width)
        store.cells = ()
        store._const_idx = np.zeros(0, dtype=np.int64)
        store._const_val = np.zeros(0)
        store._objects = []
        store._set_power(np.arange(uc.size), sc, ex)
        store._kn = np.zeros(0, dtype=np.int64)
        store._knots = KnotTables([])
        return store

    # ---- sizes ------------------------------------------------------------------------------
    @property
    def n_units(self) -> int:
        """Stacked units held as arrays (cells of constants or other curves hold none)."""
        return int(self._u_cell.size)

    @property
    def nbytes(self) -> int:
        """Bytes of the store's arrays (the curve objects it may have been built from excluded)."""
        arrays = (self.rows, self.cols, self._u_cell, self._u_col, self._u_lower, self._u_width, self._p_scale,
                  self._p_exp, self._const_idx, self._const_val, self._kn)
        pw = self._pw.nbytes if isinstance(self._pw, np.ndarray) else 0
        return int(sum(a.nbytes for a in arrays) + pw + self._knots.nbytes)

    # ---- the units ----------------------------------------------------------------------------
    def dispatch(self, x: ArrayLike) -> np.ndarray:
        """The order of every stacked unit when each cell's column good has output ``x``
        (:meth:`~planner.curves.StackedCurve.dispatch`, for all cells at once), ``(n_units,)``."""
        xu = np.maximum(np.asarray(x, dtype=float)[self._u_col], 0.0)
        return stack_orders(xu, self._u_lower, self._u_width)

    def _units(self, xc: np.ndarray, slope: bool, value: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Per cell: (``value``) ``G(xc)`` and (``slope``) the active unit's ``g'`` at ``xc > 0``
        (the right derivative at a break between units); an empty array for what is not asked.
        ``xc`` is over cells."""
        G: np.ndarray = np.zeros(self.n_cells if value else 0)
        dG: np.ndarray = np.zeros(self.n_cells if slope else 0)
        if self._u_cell.size == 0:
            return G, dG
        xu = xc[self._u_cell]
        o = stack_orders(xu, self._u_lower, self._u_width)
        val = np.zeros(o.size) if value else o
        der = np.zeros(o.size) if slope else val
        if self._p_scale.size:
            op = o[self._pw]
            if value:
                val[self._pw] = power_input(self._p_scale, self._p_exp, op)
            if slope:
                der[self._pw] = power_slope(self._p_scale, self._p_exp, op, X_FLOOR)
        if self._kn.size:
            v, d = self._knots.evaluate(o[self._kn], slope)
            if value:
                val[self._kn] = v
            if slope:
                der[self._kn] = d
        if value:
            G = np.bincount(self._u_cell, val, minlength=self.n_cells)
        if slope:
            active = (xu >= self._u_lower) & (xu < self._u_lower + self._u_width)
            dG = np.bincount(self._u_cell, np.where(active, der, 0.0), minlength=self.n_cells)
        return G, dG

    # ---- public evaluations ---------------------------------------------------------------
    def coefficients(self, x: ArrayLike) -> np.ndarray:
        """``f(x_col)`` of every cell (evaluated at :data:`X_FLOOR` below it)."""
        xc = np.maximum(np.asarray(x, dtype=float)[self.cols], X_FLOOR)
        G, _ = self._units(xc, False)
        f = G / xc
        f[self._const_idx] = self._const_val
        for k, curve in self._objects:
            f[k] = float(curve(xc[k]))
        return f

    def derivatives(self, x: ArrayLike) -> np.ndarray:
        """``f'(x_col)`` of every cell (``0`` below :data:`X_FLOOR`, where ``f`` is flat)."""
        xr = np.asarray(x, dtype=float)[self.cols]
        xc = np.maximum(xr, X_FLOOR)
        G, dG = self._units(xc, True)
        d = np.where(xr < X_FLOOR, 0.0, dG / xc - G / xc**2)
        d[self._const_idx] = 0.0
        for k, curve in self._objects:
            d[k] = float(curve.derivative(xc[k]))
        return d

    def marginal_use(self, x: ArrayLike) -> np.ndarray:
        """Marginal input use ``d(f(x) x)/dx = f(x) + f'(x) x`` of every cell: the curve cells'
        entries of the Jacobian ``F(x) + F'(x) diag(x)`` of ``F(x) x`` (OLIN-EP Eq. 3).

        For stacked units this is the active unit's ``g'(o)`` directly (no cancellation between
        ``G / x`` and ``f'(x) x``); below :data:`X_FLOOR`, where ``f`` is flat, it is ``f``.
        """
        xr = np.asarray(x, dtype=float)[self.cols]
        xc = np.maximum(xr, X_FLOOR)
        below = xr < X_FLOOR
        G, dG = self._units(xc, True, value=bool(below.any()))  # G only where f is flat
        m = np.where(below, G / xc, dG) if G.size else dG
        m[self._const_idx] = self._const_val
        for k, curve in self._objects:
            m[k] = float(curve(xc[k])) + (float(curve.derivative(xc[k])) * xr[k] if xr[k] >= X_FLOOR else 0.0)
        return m

    def coefficients_and_marginal_use(self, x: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`coefficients` and :meth:`marginal_use` at the same ``x`` from one evaluation of
        the units (Newton's method needs both at every accepted iterate)."""
        xr = np.asarray(x, dtype=float)[self.cols]
        xc = np.maximum(xr, X_FLOOR)
        G, dG = self._units(xc, True)
        f = G / xc
        m = np.where(xr < X_FLOOR, f, dG)
        f[self._const_idx] = self._const_val
        m[self._const_idx] = self._const_val
        for k, curve in self._objects:
            f[k] = float(curve(xc[k]))
            m[k] = f[k] + (float(curve.derivative(xc[k])) * xr[k] if xr[k] >= X_FLOOR else 0.0)
        return f, m

    def input_use(self, x: ArrayLike) -> np.ndarray:
        """``g(x_col) = f(x_col) x_col`` of every cell (the last two results are remembered:
        successive LPs and searches evaluate the same base point again and again)."""
        xc = np.asarray(x, dtype=float)[self.cols]
        key = xc.tobytes()
        for k, v in self._memo:
            if k == key:
                return v
        g = self.coefficients(x) * xc
        g.setflags(write=False)
        self._memo = [(key, g), *self._memo[:1]]
        return g

    def subset(self, keep: ArrayLike) -> CurveStore:
        """The store of the cells ``keep`` (a boolean mask or indices over cells), in order."""
        idx = np.arange(self.n_cells)[np.asarray(keep)]
        if self.cells or not self.n_cells:
            return CurveStore(tuple(self.cells[int(k)] for k in idx))
        in_cell = np.zeros(self.n_cells, dtype=bool)
        in_cell[idx] = True
        units = np.flatnonzero(in_cell[self._u_cell])
        new_cell = np.cumsum(in_cell) - 1
        scale, exp = self._p_scale[units], self._p_exp[units]
        cap = np.where(np.isfinite(self._u_width[units]), self._u_width[units], 1.0)
        return CurveStore.from_power_units(self.rows[idx], self.cols[idx], new_cell[self._u_cell[units]], cap, scale,
                                           exp)


def _checked_units(rows: ArrayLike, cols: ArrayLike, unit_cell: ArrayLike, capacity: ArrayLike, scale: ArrayLike,
                   exponent: ArrayLike) -> tuple[np.ndarray, ...]:
    """The arrays of :meth:`CurveStore.from_power_units`, checked."""
    r = np.asarray(rows, dtype=np.int64).ravel()
    c = np.asarray(cols, dtype=np.int64).ravel()
    uc = np.asarray(unit_cell, dtype=np.int64).ravel()
    cap, sc, ex = (np.asarray(a, dtype=float).ravel() for a in (capacity, scale, exponent))
    if c.size != r.size:
        raise InvalidInputError(f"curves: {r.size} rows for {c.size} columns")
    if not (cap.size == sc.size == ex.size == uc.size):
        raise InvalidInputError(
            f"curves: unit arrays of different lengths (unit_cell {uc.size}, capacity {cap.size}, "
            f"scale {sc.size}, exponent {ex.size})"
        )
    if uc.size and (uc[0] != 0 or np.any(np.diff(uc) < 0) or np.any(np.diff(uc) > 1) or uc[-1] != r.size - 1):
        raise InvalidInputError("curves: unit_cell must run through the cells 0, 1, ... in order, each with a unit")
    if r.size and not uc.size:
        raise InvalidInputError(f"curves: {r.size} cells without units")
    for name, arr, ok in (("capacity", cap, ~np.isnan(cap) & (cap > 0)), ("scale", sc, np.isfinite(sc) & (sc >= 0)),
                          ("exponent", ex, np.isfinite(ex) & (ex > 0))):
        bad = np.flatnonzero(~ok)
        if bad.size:
            raise InvalidInputError(f"curves: {name} of unit {int(bad[0])} is {float(arr[bad[0]])!r}")
    inner = np.flatnonzero(np.isinf(cap))
    if inner.size and np.any(uc[inner] == np.append(uc[1:], -1)[inner]):
        raise InvalidInputError("curves: only the last unit of a cell may have an infinite capacity")
    return r, c, uc, cap, sc, ex


class CurveCache:
    """The :class:`CurveStore` of the last curve cells asked for, re-used while the same curve
    objects sit on the same cells (curves are immutable, so the store stays valid).

    A model that reports its curves night after night holds one cache and hands the planner
    ``cache.store(cells)``; nothing is cached process-wide.
    """

    def __init__(self) -> None:
        self._key: tuple[tuple[int, int, int], ...] | None = None
        self._curves: tuple[object, ...] = ()  # keeps the curves alive, so that their ids stay theirs
        self._store: CurveStore | None = None

    def store(self, cells: Sequence[CurveCell]) -> CurveStore:
        """The store of ``cells``: the last one when the same curve objects sit on the same cells."""
        cells = tuple(cells)
        key = tuple((int(c[0]), int(c[1]), id(c[2])) for c in cells)
        if self._store is None or key != self._key:
            self._store = CurveStore(cells)
            self._key, self._curves = key, tuple(c[2] for c in cells)
        return self._store
