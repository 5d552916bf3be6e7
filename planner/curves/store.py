"""All curve cells of a system evaluated at once (OLIN-EP Eq. 4, Fig. 1).

The planner linearises every curve cell at every successive-LP step or search point. A loop
over cells that calls each :class:`~planner.curves.StackedCurve` costs tens of microseconds
per cell; :class:`CurveStore` flattens the cells' stacked units into arrays once so that the
total input ``G(x) = sum_u g_u(o_u(x))`` of every cell, and its slope, cost a few vectorised
operations over all units together. :class:`CurveCache` keeps the store of the last cells it
was asked for, for a caller that plans night after night with the same curve objects.

Units whose input function is a :class:`~planner.curves.PowerLawInput`, or one that offers
``knots() -> (q, g, b)`` (linear interpolation of the input use through ``(q, g)`` with
``q[0] = 0``, and beyond ``q[-1]`` the power law ``g[-1] (q / q[-1]) ** b``, or the last
segment's line when ``b`` is ``None``), are vectorised; cells of any other curve type are
evaluated cell by cell through the curve's own ``__call__`` / ``derivative``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
from innatura.planner.curves.stacked import X_FLOOR, ConstantCurve, PowerLawInput, StackedCurve
from innatura.planner.economy import CurveCell

__all__ = ["CurveCache", "CurveStore"]

logger = logging.getLogger(__name__)


def _unit_kind(g: object) -> str | None:
    if isinstance(g, PowerLawInput):
        return "power"
    if callable(getattr(g, "knots", None)):
        return "knots"
    return None


class _UnitTables:
    """The cells' stacked units as flat lists, cell by cell (see :class:`CurveStore`)."""

    def __init__(self) -> None:
        self.const_idx: list[int] = []
        self.const_val: list[float] = []
        self.slow: list[int] = []
        self.u_cell: list[int] = []
        self.u_lower: list[float] = []
        self.u_upper: list[float] = []
        self.u_width: list[float] = []
        self.u_kind: list[int] = []
        self.p_scale: list[float] = []
        self.p_exp: list[float] = []
        self.k_q: list[np.ndarray] = []
        self.k_g: list[np.ndarray] = []
        self.k_b: list[float] = []
        self.k_unit: list[int] = []

    def add(self, k: int, curve: object) -> None:
        """Add cell ``k``: a constant, a stack of vectorisable units, or a curve evaluated alone."""
        if isinstance(curve, ConstantCurve):
            self.const_idx.append(k)
            self.const_val.append(curve.value)
            return
        if not isinstance(curve, StackedCurve) or None in [_unit_kind(g) for g in curve.input_functions]:
            self.slow.append(k)
            return
        lower = curve.lower_bounds
        for u, g in enumerate(curve.input_functions):
            last = u == curve.n_units - 1
            self.u_cell.append(k)
            self.u_lower.append(lower[u])
            self.u_upper.append(np.inf if last else lower[u + 1])
            self.u_width.append(np.inf if last else curve.capacities[u])
            if isinstance(g, PowerLawInput):
                self.u_kind.append(0)
                self.p_scale.append(g.scale)
                self.p_exp.append(g.exponent)
            else:
                self.u_kind.append(1)
                q, gv, b = g.knots()  # type: ignore[attr-defined]
                self.k_q.append(np.asarray(q, dtype=float))
                self.k_g.append(np.asarray(gv, dtype=float))
                self.k_b.append(np.nan if b is None else float(b))
                self.k_unit.append(len(self.u_cell) - 1)


class CurveStore:
    """Vectorised ``f(x)``, ``f'(x)`` and input use ``g(x) = f(x) x`` of many curve cells.

    Args:
        cells: the curve cells; cell ``k`` is evaluated at ``x[cells[k].col]``.

    Shapes:
        every method takes the goods vector ``x`` ``(n,)`` and returns ``(n_cells,)``.
    """

    def __init__(self, cells: Sequence[CurveCell]) -> None:
        cells = tuple(CurveCell(*c) for c in cells)
        self.cells = cells
        self.n_cells = len(cells)
        self.rows = np.array([c.row for c in cells], dtype=np.int64)
        self.cols = np.array([c.col for c in cells], dtype=np.int64)
        t = _UnitTables()
        for k, (_, _, curve) in enumerate(cells):
            t.add(k, curve)
        const_idx, const_val, slow = t.const_idx, t.const_val, t.slow
        u_cell, u_lower, u_upper, u_width, u_kind = t.u_cell, t.u_lower, t.u_upper, t.u_width, t.u_kind
        p_scale, p_exp, k_q, k_g, k_b, k_unit = t.p_scale, t.p_exp, t.k_q, t.k_g, t.k_b, t.k_unit
        self._const_idx = np.array(const_idx, dtype=np.int64)
        self._const_val = np.array(const_val, dtype=float)
        self._slow = [(k, cells[k].curve) for k in slow]
        self._u_cell = np.array(u_cell, dtype=np.int64)
        self._u_lower = np.array(u_lower, dtype=float)
        self._u_upper = np.array(u_upper, dtype=float)
        self._u_width = np.array(u_width, dtype=float)
        kind = np.array(u_kind, dtype=np.int8)
        self._pw = np.flatnonzero(kind == 0)
        self._p_scale = np.array(p_scale, dtype=float)
        self._p_exp = np.array(p_exp, dtype=float)
        self._kn = np.array(k_unit, dtype=np.int64)
        self._setup_knots(k_q, k_g, k_b)
        self._memo: list[tuple[bytes, np.ndarray]] = []

    def _setup_knots(self, qs: list[np.ndarray], gs: list[np.ndarray], bs: list[float]) -> None:
        """Concatenate the knot tables; a knot's search key is ``2 i + q / q_max`` for table ``i``."""
        m = len(qs)
        lens = np.array([q.size for q in qs], dtype=np.int64)
        self._k_start = np.concatenate([[0], np.cumsum(lens)[:-1]]).astype(np.int64) if m else np.zeros(0, np.int64)
        self._k_end = self._k_start + lens
        q = np.concatenate(qs) if m else np.zeros(0)
        g = np.concatenate(gs) if m else np.zeros(0)
        self._q, self._g = q, g
        self._qmax = q[self._k_end - 1] if m else np.zeros(0)
        self._gmax = g[self._k_end - 1] if m else np.zeros(0)
        table = np.repeat(np.arange(m), lens)
        self._key = 2.0 * table + (q / self._qmax[table] if m else q)
        dq = np.diff(q)
        with np.errstate(divide="ignore", invalid="ignore"):
            s = np.where(dq > 0, np.diff(g) / np.where(dq > 0, dq, 1.0), 0.0)
        self._s = np.concatenate([s, [0.0]])  # slope of the segment starting at each knot
        self._b = np.array(bs, dtype=float)

    # ---- total input of every cell --------------------------------------------------------
    def _units(self, xc: np.ndarray, slope: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """Per cell: ``G(xc)`` and (``slope``) the active unit's ``g'`` at ``xc > 0``."""
        G: np.ndarray = np.zeros(self.n_cells)
        dG: np.ndarray | None = np.zeros(self.n_cells) if slope else None
        if self._u_cell.size == 0:
            return G, dG
        xu = xc[self._u_cell]
        o = np.clip(xu - self._u_lower, 0.0, self._u_width)
        val = np.zeros(o.size)
        der = np.zeros(o.size)
        if self._pw.size:
            op = o[self._pw]
            val[self._pw] = self._p_scale * op**self._p_exp
            if slope:
                e = self._p_exp
                base = np.where(e < 1, np.maximum(op, X_FLOOR), op)
                der[self._pw] = self._p_scale * e * base ** (e - 1.0)
        if self._kn.size:
            v, d = self._knot_eval(o[self._kn], slope)
            val[self._kn] = v
            if slope:
                der[self._kn] = d
        G = np.bincount(self._u_cell, val, minlength=self.n_cells)
        if slope:
            active = (xu >= self._u_lower) & (xu < self._u_upper)
            dG = np.bincount(self._u_cell, np.where(active, der, 0.0), minlength=self.n_cells)
        return G, dG

    def _knot_eval(self, o: np.ndarray, slope: bool) -> tuple[np.ndarray, np.ndarray | None]:
        m = o.size
        tab = np.arange(m)
        o = np.maximum(o, 0.0)
        qmax, gmax, b = self._qmax, self._gmax, self._b
        key = 2.0 * tab + np.minimum(o / qmax, 1.0)
        seg = np.searchsorted(self._key, key, side="right") - 1
        seg = np.clip(seg, self._k_start, self._k_end - 2)
        val = self._g[seg] + self._s[seg] * (o - self._q[seg])
        beyond = o > qmax
        tail_pow = beyond & ~np.isnan(b)
        tail_lin = beyond & np.isnan(b)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            ratio = np.where(beyond, o / qmax, 1.0)
            bb = np.where(np.isnan(b), 1.0, b)
            val = np.where(tail_pow, gmax * ratio**bb, val)
            last_s = self._s[self._k_end - 2]
            val = np.where(tail_lin, gmax + last_s * (o - qmax), val)
            der = None
            if slope:
                der = self._s[seg]
                der = np.where(tail_pow, bb * gmax / qmax * ratio ** (bb - 1.0), der)
        return val, der

    # ---- public evaluations ---------------------------------------------------------------
    def coefficients(self, x: np.ndarray) -> np.ndarray:
        """``f(x_col)`` of every cell (evaluated at :data:`X_FLOOR` below it)."""
        xc = np.maximum(np.asarray(x, dtype=float)[self.cols], X_FLOOR)
        G, _ = self._units(xc, False)
        f = G / xc
        f[self._const_idx] = self._const_val
        for k, curve in self._slow:
            f[k] = float(curve(xc[k]))
        return f

    def derivatives(self, x: np.ndarray) -> np.ndarray:
        """``f'(x_col)`` of every cell (``0`` below :data:`X_FLOOR`)."""
        xr = np.asarray(x, dtype=float)[self.cols]
        xc = np.maximum(xr, X_FLOOR)
        G, dG = self._units(xc, True)
        d = np.where(xr < X_FLOOR, 0.0, dG / xc - G / xc**2)
        d[self._const_idx] = 0.0
        for k, curve in self._slow:
            d[k] = float(curve.derivative(xc[k]))
        return d

    def input_use(self, x: np.ndarray) -> np.ndarray:
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

    def __getstate__(self) -> dict[str, object]:
        return {}  # a cache is not state: a pickled model starts with an empty one

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__init__()  # type: ignore[misc]
