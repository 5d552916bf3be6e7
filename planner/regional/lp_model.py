"""The regional plan as one linear program per stage (``docs/model.md``, "The regional plan").

:class:`StageLP` writes the constraint matrix of the consumption stage (``stage=1``) or the
investment stage (``stage=2``) over the variables

``[x (U) | morning shipments (D, ns) | evening shipments (D, ns) | c (R, m) | t | tau]``

(``ns`` shippable goods: final and industrial), with one row per

- ``morning`` (final goods): the stock after the morning shipments is not negative;
- ``capital`` (industrial goods): the capital the region's units need is on hand after the
  morning shipments (``(1 - sigma)`` of it in the consumption stage);
- ``production`` (final goods): the region's inputs come from its stock after the morning
  and its own output of the day (timing ``"shifts"``: and the day's shipments in and out);
- ``closing`` (final and industrial goods): the closing stock after the evening's shipments
  and deliveries is at least ``tau`` times the closing target;
- ``labour``: the region's labour supply (``(1 - sigma)`` of it in the consumption stage);
- ``edge``: the edge's daily capacity, morning and evening shipments together;
- ``fulfilment``: ``t <= c_rp`` for every region-profile pair with a need.

Rows without entries are left out. Curve cells (a unit's input of a good given by a reported
curve) are linearised by secants through the stage's base point (successive LPs):
:meth:`StageLP.curve_entries` and :meth:`StageLP.row_offsets` give the matrix entries and the
row-bound shifts of a linearisation.
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp
from innatura.planner.regional.problem import RegionalProblem

__all__ = ["ROW_KINDS", "StageLP"]

logger = logging.getLogger(__name__)

#: the row kinds of a stage LP, in order
ROW_KINDS = ("morning", "capital", "production", "closing", "labour", "edge", "fulfilment")


class _Entries:
    """COO entries collected block by block."""

    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.vals: list[np.ndarray] = []

    def add(self, rows, cols, vals) -> None:  # noqa: ANN001
        rows = np.asarray(rows, dtype=np.int64).ravel()
        self.rows.append(rows)
        self.cols.append(np.broadcast_to(np.asarray(cols, dtype=np.int64), rows.shape).ravel())
        self.vals.append(np.broadcast_to(np.asarray(vals, dtype=float), rows.shape).ravel())

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not self.rows:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
        return np.concatenate(self.rows), np.concatenate(self.cols), np.concatenate(self.vals)


class StageLP:
    """Matrix, bounds and index maps of one stage's LP (see the module docstring).

    ``kept_slack``: the relative slack each objective's optimum is kept to
    while the later ones are optimised (``LexicographicLP.solve``'s ``rel_slack``).

    Args:
        problem: the night's problem.
        stage: ``1`` (consumption) or ``2`` (investment).

    Attributes:
        n_var: number of columns; ``x``, ``m``, ``v``, ``c``, ``t``, ``tau``: their column
            offsets (``m`` and ``v`` hold ``(D, ns)`` blocks, ``c`` an ``(R, m)`` block).
        ship_goods: the ``ns`` goods that can be shipped (final and industrial).
        row_kind, row_region, row_item: per row, its kind (index in :data:`ROW_KINDS`),
            region (``-1`` for edges) and good, edge or profile.
        row_upper: the rows' upper bounds (before linearisation offsets).
    """

    kept_slack = 1e-9

    def __init__(self, problem: RegionalProblem, stage: int):
        p = self.problem = problem
        self.stage = stage
        self.f = 1.0 / (1.0 - p.investment_share) if stage == 1 else 1.0
        n, R, m, U, D = p.n_goods, p.n_regions, p.n_profiles, p.n_units, p.n_edges
        self.ship_goods = np.flatnonzero(~p.labour_mask)
        ns = self.ship_goods.size
        self.x, self.m = 0, U
        self.v = self.m + D * ns
        self.c = self.v + D * ns
        self.t = self.c + R * m
        self.tau = self.t + 1
        self.n_var = self.n_base = self.tau + 1
        # candidate rows: one per (kind, region, good) plus edges and region-profile pairs
        self._base = {k: i * R * n for i, k in enumerate(("morning", "production", "closing", "labour"))}
        self._edge0 = 4 * R * n
        self._fulfil0 = self._edge0 + D
        ent = _Entries()
        self._shipments(ent)
        self._production(ent)
        cells = self._cells()
        self._cell_entries(ent, cells)
        self._consumption(ent)
        rows, cols, vals = ent.arrays()
        self._finish(rows, cols, vals, cells)

    # -- candidate row numbers -----------------------------------------------------------------
    def _row(self, kind: str, region, good) -> np.ndarray:  # noqa: ANN001
        return self._base[kind] + np.asarray(region) * self.problem.n_goods + np.asarray(good)

    def _shipments(self, ent: _Entries) -> None:
        p = self.problem
        D, ns = p.n_edges, self.ship_goods.size
        if D == 0 or ns == 0:
            return
        e = np.repeat(np.arange(D), ns)
        g = np.tile(self.ship_goods, D)
        k = np.tile(np.arange(ns), D)
        keep = p.keep[e, g]
        src, dst = p.edge_src[e], p.edge_dst[e]
        fin = p.final[g]
        for col0, phase in ((self.m, "morning"), (self.v, "evening")):
            col = col0 + e * ns + k
            # the day's (evening) shipments serve other regions' units too when goods reach them
            # a shift after they are made
            later = ("production", "closing") if p.timing == "shifts" else ("closing",)
            kinds = ("morning", "production", "closing") if phase == "morning" else later
            for kind in kinds:
                sel = fin if kind == "production" else np.ones(col.size, dtype=bool)
                ent.add(self._row(kind, src[sel], g[sel]), col[sel], 1.0)
                ent.add(self._row(kind, dst[sel], g[sel]), col[sel], -keep[sel])
            fin_cap = np.isfinite(p.edge_capacity[e])
            ent.add(self._edge0 + e[fin_cap], col[fin_cap], 1.0)

    def _production(self, ent: _Entries) -> None:
        p = self.problem
        u = np.arange(p.n_units)
        g, r = p.unit_good, p.unit_region
        fin = p.final[g]
        ent.add(self._row("production", r[fin], g[fin]), u[fin], -1.0)
        ent.add(self._row("closing", r, g), u, -1.0)

    def _cells(self) -> dict:
        """Unique (unit, input) cells: constant part and the curve entries in each."""
        p = self.problem
        inp = p.inputs
        n = p.n_goods
        key = np.concatenate([inp.unit * n + inp.good, inp.curve_unit * n + inp.curve_good])
        uniq, inv = np.unique(key, return_inverse=True)
        E = inp.unit.size
        const = np.bincount(inv[:E], inp.coefficient, minlength=uniq.size)
        return {"unit": uniq // n, "good": uniq % n, "const": const, "of_curve": inv[E:],
                "curved": np.isin(np.arange(uniq.size), inv[E:])}

    def _cell_entries(self, ent: _Entries, cells: dict) -> None:
        """Where each cell enters: rows, multipliers; kept to update curve cells later."""
        p = self.problem
        u, g = cells["unit"], cells["good"]
        r = p.unit_region[u]
        idx = np.arange(u.size)
        parts = []
        fin, ind, lab = p.final[g], p.industrial[g], p.labour_mask[g]
        for kind, sel, mult in (("production", fin, 1.0), ("closing", fin, 1.0), ("morning", ind, self.f),
                                ("labour", lab, self.f)):
            parts.append((self._row(kind, r[sel], g[sel]), idx[sel], np.full(int(sel.sum()), mult)))
        self._cell_rows = np.concatenate([a for a, _, _ in parts])
        self._cell_of = np.concatenate([b for _, b, _ in parts])
        self._cell_mult = np.concatenate([c for _, _, c in parts])
        ent.add(self._cell_rows, u[self._cell_of], self._cell_mult * cells["const"][self._cell_of])

    def _consumption(self, ent: _Entries) -> None:
        p = self.problem
        R, m = p.n_regions, p.n_profiles
        gi, pi = np.nonzero(p.bundles)
        rr = np.repeat(np.arange(R), gi.size)
        gg, pp = np.tile(gi, R), np.tile(pi, R)
        w = p.demand[rr, pp] * p.bundles[gg, pp]
        pos = w > 0
        ent.add(self._row("closing", rr[pos], gg[pos]), self.c + rr[pos] * m + pp[pos], w[pos])
        ar, ap = np.nonzero(p.active)
        frow = self._fulfil0 + ar * m + ap
        ent.add(frow, self.t, 1.0)
        ent.add(frow, self.c + ar * m + ap, -1.0)
        tr, tg = np.nonzero(p.closing_target)
        ent.add(self._row("closing", tr, tg), self.tau, p.closing_target[tr, tg])

    def _finish(self, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, cells: dict) -> None:
        p = self.problem
        R, n, D = p.n_regions, p.n_goods, p.n_edges
        used, new = np.unique(rows, return_inverse=True)
        self.n_rows = used.size
        self.matrix = sp.csc_matrix((vals, (new, cols)), shape=(self.n_rows, self.n_var))
        cand = np.full(self._fulfil0 + R * p.n_profiles, -1, dtype=np.int64)
        cand[used] = np.arange(used.size)
        self._cand = cand
        block, rest = np.divmod(np.minimum(used, self._edge0), R * n)
        region, good = np.divmod(rest, n)
        kind = np.select([block == 0, block == 1, block == 2, block == 3], [0, 2, 3, 4], 0)
        kind = np.where(block == 0, np.where(p.industrial[good], 1, 0), kind)
        is_edge = (used >= self._edge0) & (used < self._fulfil0)
        is_fulfil = used >= self._fulfil0
        kind = np.where(is_edge, 5, np.where(is_fulfil, 6, kind))
        region = np.where(is_edge, -1, np.where(is_fulfil, (used - self._fulfil0) // p.n_profiles, region))
        item = np.where(is_edge, used - self._edge0, np.where(is_fulfil, (used - self._fulfil0) % p.n_profiles, good))
        self.row_kind, self.row_region, self.row_item = kind, region, item
        stocks, labour = p.stocks[np.maximum(region, 0), item % n], p.labour[np.maximum(region, 0), item % n]
        upper = np.where(kind == 4, labour, stocks)
        upper = np.where(is_edge, p.edge_capacity[np.minimum(item, max(D - 1, 0))] if D else 0.0, upper)
        self.row_upper = np.where(is_fulfil, 0.0, upper)
        self.cells = cells
        curved = cells["curved"][self._cell_of]
        self._curve_pos = np.flatnonzero(curved)

    # -- linearisation of the curve cells -----------------------------------------------------------
    def curve_entries(self, slopes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Matrix entries ``(rows, cols, values)`` of the curve cells at curve-entry ``slopes`` ``(K,)``."""
        cells = self.cells
        slope_cell = np.bincount(cells["of_curve"], slopes, minlength=cells["unit"].size)
        pos = self._curve_pos
        cell = self._cell_of[pos]
        vals = self._cell_mult[pos] * (cells["const"][cell] + slope_cell[cell])
        return self._cand[self._cell_rows[pos]], cells["unit"][cell], vals

    def transpose_product(self, y: np.ndarray, slopes: np.ndarray) -> np.ndarray:
        """``A(slopes)^T y`` for row weights ``y`` ``(rows,)``: a combination of rows as a cost vector."""
        out = np.asarray(self.matrix.T @ y).ravel()
        if slopes.size:
            cells = self.cells
            slope_cell = np.bincount(cells["of_curve"], slopes, minlength=cells["unit"].size)
            pos = self._curve_pos
            cell = self._cell_of[pos]
            vals = y[self._cand[self._cell_rows[pos]]] * self._cell_mult[pos] * slope_cell[cell]
            out[: self.problem.n_units] += np.bincount(cells["unit"][cell], vals, minlength=self.problem.n_units)
        return out

    def row_offsets(self, offset_entries: np.ndarray) -> np.ndarray:
        """Row-bound shifts of curve entries whose linearised use is ``slope x + offset``:
        ``offset_entries`` ``(K,)`` per curve entry; returns ``(rows,)`` to subtract from the bounds."""
        cells = self.cells
        off_cell = np.bincount(cells["of_curve"], offset_entries, minlength=cells["unit"].size)
        pos = self._curve_pos
        vals = self._cell_mult[pos] * off_cell[self._cell_of[pos]]
        return np.bincount(self._cand[self._cell_rows[pos]], vals, minlength=self.n_rows)

    def activity_weights(self) -> np.ndarray:
        """Weights of the columns after the stage's own (``n_base`` on) in the activity
        objectives (units made and shipped): none here."""
        return np.zeros(self.n_var - self.n_base)

    def curve_gap(self, values: np.ndarray, slopes: np.ndarray) -> np.ndarray:
        """Per row, how far the curves themselves exceed their linearisation (at ``slopes``,
        through the origin) at the solution ``values`` ``(n_var,)``, ``(rows,)``."""
        inp = self.problem.inputs
        q = values[: self.problem.n_units][inp.curve_unit]
        return self.row_offsets(inp.curve_values(q)[0] - slopes * q)

    # -- bounds ---------------------------------------------------------------------------------------
    def column_bounds(self, x_low: np.ndarray, x_high: np.ndarray, c_low: np.ndarray, c_high: np.ndarray,
                      t_high: float, tau_high: float) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bounds of all columns from those of ``x`` ``(U,)``, ``c`` ``(R, m)``,
        ``t`` and ``tau`` (shipments: ``[0, inf)``)."""
        lo = np.zeros(self.n_var)
        hi = np.full(self.n_var, np.inf)
        U = self.problem.n_units
        lo[:U], hi[:U] = x_low, x_high
        lo[self.c:self.t], hi[self.c:self.t] = np.ravel(c_low), np.ravel(c_high)
        hi[self.t], hi[self.tau] = t_high, tau_high
        return lo, hi

    def split(self, values: np.ndarray) -> dict:
        """Columns by block: ``x`` ``(U,)``, ``m`` and ``v`` ``(D, n)`` over all goods, ``c`` ``(R, m)``,
        ``t``, ``tau``."""
        p = self.problem
        D, ns, n = p.n_edges, self.ship_goods.size, p.n_goods
        m = np.zeros((D, n))
        v = np.zeros((D, n))
        m[:, self.ship_goods] = values[self.m:self.v].reshape(D, ns)
        v[:, self.ship_goods] = values[self.v:self.c].reshape(D, ns)
        return {"x": values[:p.n_units], "m": m, "v": v, "c": values[self.c:self.t].reshape(p.n_regions, p.n_profiles),
                "t": float(values[self.t]), "tau": float(values[self.tau])}

    def rows_of(self, kind: str) -> np.ndarray:
        """Indices of the rows of one kind."""
        return np.flatnonzero(self.row_kind == ROW_KINDS.index(kind))
