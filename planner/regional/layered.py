"""The regional plan's stage LP with the day in layers (``docs/model.md``, "Timing", ``"layers"``).

The day is cut into ``L`` layers (``problem.layers``); before layer 1 leave the morning
shipments, between layers ``k`` and ``k + 1`` the shipments of phase ``k`` (``k = 1 .. L - 1``,
final goods, a shipment may cross several edges within its phase), after layer ``L`` the
evening shipments. :class:`LayeredStageLP` extends :class:`~.lp_model.StageLP`: its columns
and rows come first, unchanged (``x`` is each unit's output over the whole day), and it adds

- columns ``X_l`` ``(U,)`` for ``l = 1 .. L - 1``: each unit's output made by the end of layer
  ``l`` (cumulative: ``X_1 <= X_2 <= .. <= X_L = x``, rows ``order``), and columns ``P_k``
  ``(D, nf)``: the phase shipments of the ``nf`` final goods;
- rows ``layer`` (``l = 1 .. L - 1``, region ``r``, final good ``i``): the stock at the start
  of layer ``l`` plus the layer's own output less its inputs is not negative,
  ``s_ri + F^0_ri + sum_{k<l} F^k_ri + Y_ri(X_l) - U_ri(X_l) >= 0`` (``F^k``: arrivals less
  departures of phase ``k``, ``F^0`` the morning's; ``Y`` and ``U`` output and input use
  through the layer, as execution reaches a cumulative output ``q`` with ``g(q)`` of its
  inputs);
- rows ``phase`` (``k = 1 .. L - 1``): the stock after phase ``k``'s departures is not
  negative, ``s_ri + F^0_ri + sum_{k'<=k} F^k'_ri + Y_ri(X_k) - U_ri(X_k) >= 0``;

and the phase flows enter the stage's ``production`` row (the layer ``L`` row), its
``closing`` rows and its ``edge`` rows (an edge's daily capacity covers every phase). Labour
and capital stay per day (execution's shifts draw labour from the day's supply and need
capital ``g(q)`` on hand for the cumulative output ``q``). With ``L = 1`` nothing is added:
the matrix is the ``"overnight"`` one.

Curve cells of ``X_l`` use the secants of ``x`` (the same slope and offset per entry): exact
for constant coefficients, an approximation of ``g(X_l)`` between the linearisation points
otherwise.
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp
from innatura.planner.regional.lp_model import ROW_KINDS, StageLP, _Entries
from innatura.planner.regional.problem import RegionalProblem

__all__ = ["LAYER_ROW_KINDS", "LayeredStageLP", "layer_row_kind", "stage_model"]

logger = logging.getLogger(__name__)

#: the row kinds :class:`LayeredStageLP` adds, numbered after :data:`~.lp_model.ROW_KINDS`
LAYER_ROW_KINDS = ("layer", "phase", "order")


def layer_row_kind(kind: str) -> int:
    """The ``row_kind`` code of an added row kind (one of :data:`LAYER_ROW_KINDS`)."""
    return len(ROW_KINDS) + LAYER_ROW_KINDS.index(kind)


def stage_model(problem: RegionalProblem, stage: int) -> StageLP:
    """The stage's LP model: :class:`LayeredStageLP` for ``timing="layers"``, else :class:`StageLP`."""
    if problem.timing == "layers":
        return LayeredStageLP(problem, stage)
    return StageLP(problem, stage)


class LayeredStageLP(StageLP):
    """:class:`~.lp_model.StageLP` with the day in ``problem.layers`` layers (module docstring).

    Attributes (beyond :class:`StageLP`'s):
        layers: ``L``.
        X: column offset of ``X_1`` (``X_l`` at ``X + (l - 1) U``).
        P: column offset of the phase shipments, ``(L - 1, D, nf)`` blocks.
        phase_goods: the ``nf`` final goods that phases ship.
    """

    #: the copies ``X_l`` of the units' columns make the later objectives' LPs degenerate: with
    #: the optima kept to 1e-9, HiGHS ends them without a verdict and solves them again from
    #: scratch (seconds each, on 20 islands); to 1e-5 it does not (``L > 1``)
    LAYERED_SLACK = 1e-5

    def __init__(self, problem: RegionalProblem, stage: int):
        super().__init__(problem, stage)
        p = problem
        L = self.layers = int(p.layers)
        U, D = p.n_units, p.n_edges
        self.phase_goods = np.flatnonzero(p.final)
        nf = self.phase_goods.size
        base_var, base_rows = self.n_var, self.n_rows
        self.X = base_var
        self.P = self.X + (L - 1) * U
        self.n_var = self.P + (L - 1) * D * nf
        self._lay: dict[str, np.ndarray] = {"rows": np.zeros(0, np.int64), "cols": np.zeros(0, np.int64),
                                            "cell": np.zeros(0, np.int64), "mult": np.zeros(0)}
        if L == 1:
            return
        self.kept_slack = self.LAYERED_SLACK
        rows, cols, vals, kind, region, item, upper = self._layer_rows(base_rows)
        A = sp.coo_matrix((vals, (rows, cols)), shape=(int(kind.size) + base_rows, self.n_var))
        base = sp.csc_matrix((self.matrix.data, self.matrix.indices, self.matrix.indptr),
                             shape=(base_rows, base_var))
        base.resize((base_rows + kind.size, self.n_var))
        self.matrix = sp.csc_matrix(base + A.tocsc())
        self.n_rows = base_rows + int(kind.size)
        self.row_kind = np.concatenate([self.row_kind, kind])
        self.row_region = np.concatenate([self.row_region, region])
        self.row_item = np.concatenate([self.row_item, item])
        self.row_upper = np.concatenate([self.row_upper, upper])

    # -- the added rows ---------------------------------------------------------------------------
    def _layer_row(self, lay: int, region: np.ndarray, good: np.ndarray) -> np.ndarray:
        """Candidate number of the ``layer`` row of layer ``lay`` (1 .. L - 1)."""
        return self._base_rows + (lay - 1) * self._block + np.asarray(region) * self._nf + self._fpos[good]

    def _phase_row(self, k: int, region: np.ndarray, good: np.ndarray) -> np.ndarray:
        """Candidate number of the ``phase`` row of phase ``k`` (1 .. L - 1)."""
        return self._layer_row(self.layers - 1 + k, region, good)

    def _flow_entries(self, ent: _Entries) -> None:
        """The morning's and the phases' flows of final goods in the rows they reach, and the
        phases' load on the edges."""
        p = self.problem
        L, D, nf = self.layers, p.n_edges, self._nf
        spos = np.full(p.n_goods, -1, dtype=np.int64)
        spos[self.ship_goods] = np.arange(self.ship_goods.size)
        ef = np.repeat(np.arange(D), nf)
        gf = np.tile(self.phase_goods, D)
        keep = p.keep[ef, gf]
        src, dst = p.edge_src[ef], p.edge_dst[ef]
        mcol = self.m + ef * self.ship_goods.size + spos[gf]
        for lay in range(1, L):
            for rows_of in (self._layer_row, self._phase_row):
                ent.add(rows_of(lay, src, gf), mcol, 1.0)
                ent.add(rows_of(lay, dst, gf), mcol, -keep)
        # phase k: layer rows l > k, phase rows k' >= k, the day's production and closing rows, edges
        fin_cap = np.isfinite(p.edge_capacity[ef])
        for k in range(1, L):
            pcol = self.P + (k - 1) * D * nf + np.arange(ef.size)
            for region, sign in ((src, 1.0), (dst, -keep)):
                rows = [self._layer_row(lay, region, gf) for lay in range(k + 1, L)]
                rows += [self._phase_row(kk, region, gf) for kk in range(k, L)]
                rows += [self._cand[self._row(kind, region, gf)] for kind in ("production", "closing")]
                for r in rows:
                    ent.add(r, pcol, sign)
            ent.add(self._cand[self._edge0 + ef[fin_cap]], pcol[fin_cap], 1.0)

    def _unit_entries(self, ent: _Entries) -> None:
        """The units' cumulative outputs ``X_l`` with their inputs in the layer and phase rows,
        and the ``order`` rows ``X_l - X_{l+1} <= 0``."""
        p = self.problem
        L, U = self.layers, p.n_units
        u = np.arange(U)
        g, r = p.unit_good, p.unit_region
        fin = p.final[g]
        cells = self.cells
        cu, cg = cells["unit"], cells["good"]
        cfin = p.final[cg]
        lay_rows, lay_cols, lay_cell = [], [], []
        order0 = self._base_rows + 2 * (L - 1) * self._block
        for lay in range(1, L):
            xcol = self.X + (lay - 1) * U
            for rows_of in (self._layer_row, self._phase_row):
                ent.add(rows_of(lay, r[fin], g[fin]), xcol + u[fin], -1.0)
                lay_rows.append(rows_of(lay, p.unit_region[cu[cfin]], cg[cfin]))
                lay_cols.append(xcol + cu[cfin])
                lay_cell.append(np.flatnonzero(cfin))
            nxt = self.X + lay * U if lay < L - 1 else self.x
            ent.add(order0 + (lay - 1) * U + u, xcol + u, 1.0)
            ent.add(order0 + (lay - 1) * U + u, nxt + u, -1.0)
        lrows, lcols, lcell = (np.concatenate(a) for a in (lay_rows, lay_cols, lay_cell))
        self._lay = {"rows": lrows, "cols": lcols, "cell": lcell, "mult": np.ones(lrows.size)}
        ent.add(lrows, lcols, cells["const"][lcell])

    def _layer_rows(self, base_rows: int) -> tuple:
        """COO entries of the added columns (in base and added rows) and the added rows' labels."""
        p = self.problem
        L, U, R, n = self.layers, p.n_units, p.n_regions, p.n_goods
        nf = self._nf = self.phase_goods.size
        self._fpos = np.full(n, -1, dtype=np.int64)
        self._fpos[self.phase_goods] = np.arange(nf)
        self._block, self._base_rows = R * nf, base_rows
        block = self._block
        ent = _Entries()
        self._flow_entries(ent)
        self._unit_entries(ent)
        rows, cols, vals = ent.arrays()
        # label the added candidate rows, keep those with entries
        n_new = 2 * (L - 1) * block + (L - 1) * U
        new = np.arange(n_new)
        kinds = np.where(new < (L - 1) * block, 0, np.where(new < 2 * (L - 1) * block, 1, 2))
        rest = new % max(block, 1)
        region = np.where(kinds < 2, rest // max(nf, 1), -1)
        item = np.where(kinds < 2, self.phase_goods[rest % max(nf, 1)] if nf else 0,
                        (new - 2 * (L - 1) * block) % max(U, 1))
        upper = np.where(kinds < 2, p.stocks[np.maximum(region, 0), item % n], 0.0)
        is_new = rows >= base_rows
        used = np.unique(rows[is_new] - base_rows)
        remap = np.full(n_new, -1, dtype=np.int64)
        remap[used] = np.arange(used.size)
        rows = np.where(is_new, base_rows + remap[np.where(is_new, rows - base_rows, 0)], rows)
        self._lay["rows"] = base_rows + remap[self._lay["rows"] - base_rows]
        kind = len(ROW_KINDS) + kinds[used]
        return rows, cols, vals, kind, region[used], item[used], upper[used]

    # -- linearisation of the curve cells -----------------------------------------------------------
    def _layer_curves(self, per_entry: np.ndarray, with_const: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The added curve entries: rows, columns and ``per_entry`` summed per cell (plus the
        cell's constant part with ``with_const``)."""
        cells, lay = self.cells, self._lay
        per_cell = np.bincount(cells["of_curve"], per_entry, minlength=cells["unit"].size)
        sel = cells["curved"][lay["cell"]]
        cell = lay["cell"][sel]
        vals = lay["mult"][sel] * (per_cell[cell] + (cells["const"][cell] if with_const else 0.0))
        return lay["rows"][sel], lay["cols"][sel], vals

    def curve_entries(self, slopes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rows, cols, vals = super().curve_entries(slopes)
        lr, lc, lv = self._layer_curves(slopes, True)
        return np.concatenate([rows, lr]), np.concatenate([cols, lc]), np.concatenate([vals, lv])

    def transpose_product(self, y: np.ndarray, slopes: np.ndarray) -> np.ndarray:
        out = super().transpose_product(y, slopes)
        if slopes.size:
            lr, lc, lv = self._layer_curves(slopes, False)
            np.add.at(out, lc, y[lr] * lv)
        return out

    def row_offsets(self, offset_entries: np.ndarray) -> np.ndarray:
        out = super().row_offsets(offset_entries)
        lr, _, lv = self._layer_curves(offset_entries, False)
        return out + np.bincount(lr, lv, minlength=self.n_rows)

    def activity_weights(self) -> np.ndarray:
        """``X_l``: 0 (the day's output ``x`` is counted), the phase shipments: 1."""
        w = np.zeros(self.n_var - self.n_base)
        w[self.P - self.n_base:] = 1.0
        return w

    def curve_gap(self, values: np.ndarray, slopes: np.ndarray) -> np.ndarray:
        """As :meth:`StageLP.curve_gap`, with each layer row's curves at its layer's ``X_l``."""
        inp, U = self.problem.inputs, self.problem.n_units
        q = values[:U][inp.curve_unit]
        out = StageLP.row_offsets(self, inp.curve_values(q)[0] - slopes * q)
        lay, cells = self._lay, self.cells
        sel = cells["curved"][lay["cell"]]
        rows, cols, cell, mult = lay["rows"][sel], lay["cols"][sel], lay["cell"][sel], lay["mult"][sel]
        for k in range(1, self.layers):
            q = values[self.X + (k - 1) * U: self.X + k * U][inp.curve_unit]
            per_cell = np.bincount(cells["of_curve"], inp.curve_values(q)[0] - slopes * q,
                                   minlength=cells["unit"].size)
            here = (cols >= self.X + (k - 1) * U) & (cols < self.X + k * U)
            out += np.bincount(rows[here], mult[here] * per_cell[cell[here]], minlength=self.n_rows)
        return out

    # -- bounds and solution ------------------------------------------------------------------------
    def column_bounds(self, x_low: np.ndarray, x_high: np.ndarray, c_low: np.ndarray, c_high: np.ndarray,
                      t_high: float, tau_high: float) -> tuple[np.ndarray, np.ndarray]:
        """As :meth:`StageLP.column_bounds`; ``X_l`` within ``[0, x_high]``, phase shipments ``[0, inf)``."""
        lo, hi = super().column_bounds(x_low, x_high, c_low, c_high, t_high, tau_high)
        U = self.problem.n_units
        for lay in range(1, self.layers):
            hi[self.X + (lay - 1) * U: self.X + lay * U] = x_high
        return lo, hi

    def split(self, values: np.ndarray) -> dict:
        """As :meth:`StageLP.split`, with ``"phases"`` ``(L - 1, D, n)`` and ``"layers"`` ``(L, U)``
        (each unit's cumulative output by the end of each layer)."""
        out = super().split(values)
        p = self.problem
        L, U, D, nf = self.layers, p.n_units, p.n_edges, self.phase_goods.size
        phases = np.zeros((L - 1, D, p.n_goods))
        phases[:, :, self.phase_goods] = values[self.P:self.n_var].reshape(L - 1, D, nf)
        cum = np.vstack([values[self.X:self.P].reshape(L - 1, U), values[None, :U]])
        out["phases"], out["layers"] = phases, cum
        return out
