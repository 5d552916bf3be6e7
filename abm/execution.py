"""Vectorised execution of a day's plan with the TRUE technology (docs/model.md "Execution").

Every function here works on whole arrays: regions x goods stocks, one entry per production
unit, one entry per (unit, input good) pair, one entry per directed edge. No function loops
over agents in Python; a day with thousands of units and 100K citizens is a handful of
``bincount`` and matrix products. Transport along the region graph is in :mod:`abm.transport`, delivery to citizens in
:mod:`abm.delivery`.

Conventions: ``R`` regions, ``n`` goods, ``U`` units, ``E`` (unit, input) entries, ``D``
directed edges, ``m`` profiles. Stocks are indexed ``[region, good]``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from innatura.planner.curves import power_input
from innatura.planner.errors import InvalidInputError

__all__ = [
    "RATION_MARGIN",
    "ProductionResult",
    "Technology",
    "UnitInputs",
    "produce",
]

logger = logging.getLogger(__name__)

#: Safety margin on rationing ratios, so that rounding never drives a stock below zero.
RATION_MARGIN = 1.0 - 1e-12


@dataclass(frozen=True, eq=False)
class UnitInputs:
    """Input functions of production units, one entry per (unit, input good): ``scale * q**exponent``.

    Used both for the TRUE (private) technology and for a unit's reported technology.

    Attributes:
        unit: unit index of each entry, shape ``(E,)``.
        good: input good of each entry, shape ``(E,)``.
        scale: input of the good for ``q = 1``, shape ``(E,)``, ``>= 0``.
        exponent: power of ``q``, shape ``(E,)``, ``> 0``.
    """

    unit: np.ndarray
    good: np.ndarray
    scale: np.ndarray
    exponent: np.ndarray

    def __post_init__(self) -> None:
        for name in ("unit", "good"):
            object.__setattr__(self, name, np.asarray(getattr(self, name), dtype=np.int64))
        for name in ("scale", "exponent"):
            object.__setattr__(self, name, np.asarray(getattr(self, name), dtype=float))
        e = self.unit.shape
        if not (self.good.shape == self.scale.shape == self.exponent.shape == e):
            raise InvalidInputError("unit inputs: unit, good, scale and exponent must have one shape")
        if not np.all(np.isfinite(self.scale)) or (self.scale < 0).any():
            raise InvalidInputError("unit inputs: scale must be finite and non-negative")
        if not np.all(np.isfinite(self.exponent)) or (self.exponent <= 0).any():
            raise InvalidInputError("unit inputs: exponent must be finite and positive")
        # constant coefficients (exponent 1) skip the power
        object.__setattr__(self, "_curved", np.flatnonzero(self.exponent != 1.0))

    def use(self, q: np.ndarray) -> np.ndarray:
        """Input amount of each entry when every unit produces ``q[unit]``; shape ``(E,)``."""
        qq = np.maximum(q[self.unit], 0.0)
        out = self.scale * qq
        c = self.__dict__["_curved"]
        if c.size:  # the planner's kernel, so that planned and executed use agree
            out[c] = power_input(self.scale[c], self.exponent[c], qq[c])
        return out


@dataclass(frozen=True, eq=False)
class ProductionResult:
    """What the units did today.

    Attributes:
        output: gross output of each unit, shape ``(U,)`` (``<= target``), cumulative over the day.
        output_lost: the part of this pass's output lost at the unit (stochastic output losses).
        used: inputs used up in this pass (final goods and labour) per region and good, ``(R, n)``.
        capital_required: capital held for production (industrial goods) per region and good.
        entry_use: true input use of each (unit, input) entry at ``output``, shape ``(E,)``.
        requested: what this pass asked for, per region and good, ``(R, n)``.
        iterations: passes of the shortfall propagation.
    """

    output: np.ndarray
    output_lost: np.ndarray
    used: np.ndarray
    capital_required: np.ndarray
    entry_use: np.ndarray
    requested: np.ndarray
    iterations: int


def _structure(inputs: UnitInputs, unit_region: np.ndarray, unit_good: np.ndarray, industrial: np.ndarray,
               labour_mask: np.ndarray, n: int) -> dict:
    """Index arrays of :func:`produce` that depend only on the economy's structure, built once
    and kept on ``inputs`` while the same layout arrays are passed (every shift of every day)."""
    key = (unit_region, unit_good, industrial, labour_mask, n)
    hit = inputs.__dict__.get("_structure")
    if hit is not None and len(hit[0]) == len(key) and all(a is b for a, b in zip(hit[0][:4], key[:4], strict=False)) \
            and hit[0][4] == n:
        return hit[1]
    cell = unit_region[inputs.unit] * n + inputs.good
    # work on the (region, good) cells some unit draws on only: K <= E cells instead of R * n
    ucell, inv = np.unique(cell, return_inverse=True)
    K = ucell.size
    is_lab = labour_mask[inputs.good]
    is_cap = industrial[inputs.good]
    is_final = ~(is_lab | is_cap)
    is_self = is_final & (inputs.good == unit_good[inputs.unit])
    ugood = ucell % n
    out_cell = unit_region * n + unit_good
    pos = np.minimum(np.searchsorted(ucell, out_cell), max(K - 1, 0))
    # units whose output some unit in their region draws on
    feeds = ucell[pos] == out_cell if K else np.zeros(out_cell.shape, dtype=bool)
    sx = {
        "cell": cell, "ucell": ucell, "inv": inv.ravel(), "K": K, "is_cap": is_cap, "is_self": is_self,
        "pool": is_final & ~is_self,
        "kind_cell": np.where(labour_mask[ugood], 1, np.where(industrial[ugood], 2, 0)),
        "out_pos": pos[feeds], "out_unit": np.flatnonzero(feeds), "self_k": inv.ravel()[is_self],
        "inv_exp": 1.0 / inputs.exponent, "by_unit": np.argsort(inputs.unit, kind="stable"),
    }
    object.__setattr__(inputs, "_structure", (key, sx))
    return sx


@dataclass(frozen=True, eq=False)
class Technology:
    """The static side of production: who makes what where, with which TRUE input functions.

    Attributes:
        unit_region, unit_good: region and good of each unit, shape ``(U,)``.
        inputs: the TRUE input functions (:class:`UnitInputs`).
        industrial, labour_mask: boolean masks over goods, shape ``(n,)``.
    """

    unit_region: np.ndarray
    unit_good: np.ndarray
    inputs: UnitInputs
    industrial: np.ndarray
    labour_mask: np.ndarray


def produce(
    targets: np.ndarray,
    technology: Technology,
    stocks: np.ndarray,
    labour: np.ndarray,
    *,
    output_loss: np.ndarray | None = None,
    done: np.ndarray | None = None,
    entitled: np.ndarray | None = None,
    reserve: np.ndarray | None = None,
    max_iter: int = 40,
) -> ProductionResult:
    """Produce towards ``targets`` with the true technology, rationing scarce inputs.

    Units that made ``done`` earlier today go on from there: reaching a cumulative output ``q``
    takes ``g(q) - g(done)`` more of each circulating input (final goods, labour), so the day's
    use is ``g(total output)`` however it is split into shifts; capital (industrial goods) is a
    capacity requirement ``g(q)`` on the region's stock, not used up. A unit's use of its own
    good comes out of its own output first.

    Final goods are shared in two tiers. First, every unit may draw what the plan allotted it
    (``entitled``: its reported input use at its target), with priority over citizens: if the
    region holds less (stock plus what its units make in this pass), every allotment is cut by
    the same ratio. Second, a unit whose TRUE use exceeds its allotment may take the excess only
    from what is left after all allotments and after the citizens' ``reserve``, again cut
    proportionally. A unit reaches the largest ``q`` its scarcest input allows (inverting
    ``s q**e``); a unit cut short makes less of its good, which cuts the units downstream in
    turn; passes repeat until nothing changes (outputs decrease monotonically, so this
    converges). Cells still over-used when the passes stop (rounding, ``max_iter``) are rationed
    on the stock on hand alone, which is always feasible.

    Args:
        targets: target output of each unit today, shape ``(U,)``.
        technology: the units' regions, goods and TRUE input functions, the goods' kinds.
        stocks: stocks on hand, shape ``(R, n)`` (labour columns ignored).
        labour: labour left today, shape ``(R, n)`` (non-labour columns ignored).
        output_loss: fraction of each unit's output lost, shape ``(U,)``; default none.
        done: output each unit made earlier today, ``(U,)``; default zeros.
        entitled: the plan's input use of each entry for the whole day, ``(E,)``; default the
            true use at the target (everything is first tier).
        reserve: share of each good owed to citizens, which second-tier use may not touch, ``(n,)``.
        max_iter: bound on the propagation passes.

    Returns:
        The :class:`ProductionResult` of THIS pass: ``output`` is the cumulative output,
        ``output_lost`` and ``used`` the increments; stocks are not modified.
    """
    tech = technology
    t = np.maximum(np.asarray(targets, dtype=float), 0.0)
    d0 = np.zeros_like(t) if done is None else np.minimum(np.asarray(done, dtype=float), t)
    keep = np.ones_like(t) if output_loss is None else 1.0 - np.asarray(output_loss, dtype=float)
    sx = _structure(tech.inputs, tech.unit_region, tech.unit_good, tech.industrial, tech.labour_mask, stocks.shape[1])
    shift = _Rationing(sx, tech.inputs, t, d0, keep, stocks, labour, entitled, reserve)
    q, it = shift.propagate(max_iter)
    q = shift.settle(q)
    return shift.result(q, it, stocks.shape)


class _Rationing:
    """The arrays of one pass of :func:`produce` and its steps: what the units may draw, how
    much a shortage cuts them, and the propagation of the cuts downstream."""

    def __init__(self, sx: dict, inputs: UnitInputs, t: np.ndarray, d0: np.ndarray, keep: np.ndarray,
                 stocks: np.ndarray, labour: np.ndarray, entitled: np.ndarray | None,
                 reserve: np.ndarray | None) -> None:
        self.sx, self.inputs, self.t, self.d0, self.keep = sx, inputs, t, d0, keep
        n = stocks.shape[1]
        inv, K = sx["inv"], sx["K"]
        is_cap, is_self, pool = sx["is_cap"], sx["is_self"], sx["pool"]
        self.base = base = inputs.use(d0)
        full = inputs.use(t)
        self.need = need = np.where(is_cap, full, full - base)
        ent = full if entitled is None else np.asarray(entitled, dtype=float)
        tier1 = np.where(pool, np.minimum(need, np.maximum(ent - base, 0.0)), need)
        tier1[is_self] = 0.0
        tier2 = np.where(pool, need - tier1, 0.0)
        T1 = np.bincount(inv, tier1, minlength=K)[inv]
        T2 = np.bincount(inv, tier2, minlength=K)[inv]
        free = np.ones(n) if reserve is None else 1.0 - np.clip(np.asarray(reserve, dtype=float), 0.0, 1.0)
        kind_cell = sx["kind_cell"]
        self.stock_u = stock_u = stocks.ravel()[sx["ucell"]]
        self.static_cell = np.where(kind_cell == 1, labour.ravel()[sx["ucell"]], stock_u)
        self.is_final_k = kind_cell == 0
        self.self_unit = inputs.unit[is_self]
        self.self_scale, self.self_exp, self.self_base = inputs.scale[is_self], inputs.exponent[is_self], base[is_self]
        # only entries that can cut their unit take part in the rationing: sorted by unit, so
        # that the minimum over a unit's entries is one ``minimum.reduceat``
        constrains = (inputs.scale > 0) & (need > 0) & ~is_self
        by_unit = sx["by_unit"]
        ci = by_unit[constrains[by_unit]]
        c_unit = inputs.unit[ci]
        self.c_inv, self.c_T1, self.c_T2, self.c_t1, self.c_t2 = inv[ci], T1[ci], T2[ci], tier1[ci], tier2[ci]
        self.c_free, self.c_scale, self.c_iexp = free[inputs.good][ci], inputs.scale[ci], sx["inv_exp"][ci]
        self.c_base = np.where(is_cap[ci], 0.0, np.power(d0[inputs.unit], inputs.exponent)[ci])
        self.c_floor = d0[c_unit]
        self.c_t = t[c_unit]
        self.c_has_t2 = self.c_t2 > 0
        self.starts = np.flatnonzero(np.r_[True, c_unit[1:] != c_unit[:-1]]) if ci.size else np.zeros(0, dtype=np.int64)
        self.c_units = c_unit[self.starts]

    def net_made(self, q: np.ndarray) -> np.ndarray:
        """What the units add to each cell's stock at outputs ``q``, net of their own use."""
        sx, K = self.sx, self.sx["K"]
        own = np.maximum(self.self_scale * np.power(q[self.self_unit], self.self_exp) - self.self_base, 0.0)
        gross = np.bincount(sx["out_pos"], ((q - self.d0) * self.keep)[sx["out_unit"]], minlength=K)
        return np.maximum(gross - np.bincount(sx["self_k"], own, minlength=K), 0.0)

    def availability(self, q: np.ndarray, on_hand: np.ndarray | None = None) -> np.ndarray:
        """What each cell offers at outputs ``q`` (cells ``on_hand``: their stock alone)."""
        made = self.net_made(q)
        if on_hand is not None:
            made = np.where(on_hand, 0.0, made)
        return np.where(self.is_final_k, self.static_cell + made, self.static_cell)

    def cut(self, avail_cell: np.ndarray) -> np.ndarray:
        """The outputs the cells' availability allows each unit (two tiers, see :func:`produce`)."""
        a = avail_cell[self.c_inv]
        r1 = np.ones_like(a)
        np.divide(RATION_MARGIN * a, self.c_T1, out=r1, where=self.c_T1 > 0)
        np.minimum(r1, 1.0, out=r1)
        left = np.maximum(a * self.c_free - self.c_T1, 0.0)
        r2 = np.ones_like(a)
        np.divide(RATION_MARGIN * left, self.c_T2, out=r2, where=self.c_T2 > 0)
        r2 = np.where(r1 >= 1.0, np.minimum(r2, 1.0), 0.0)
        # only entries that are actually cut need the (costly) inverse power
        short = np.flatnonzero((r1 < 1.0) | ((r2 < 1.0) & self.c_has_t2))
        q = self.t.copy()
        if short.size:
            alloc = r1[short] * self.c_t1[short] + r2[short] * self.c_t2[short]
            power = self.c_base[short] + alloc / self.c_scale[short]
            allowed = np.power(np.maximum(power, 0.0), self.c_iexp[short])
            vals = self.c_t.copy()
            vals[short] = np.maximum(allowed, self.c_floor[short])
            q[self.c_units] = np.minimum(q[self.c_units], np.minimum.reduceat(vals, self.starts))
        return q

    def propagate(self, max_iter: int) -> tuple[np.ndarray, int]:
        """Cut the outputs until nothing changes: ``(outputs, passes)``."""
        q = self.t.copy()
        it = 0
        if self.sx["K"]:
            # an absolute tolerance (relative to the target): on a cycle of shortages the outputs
            # decay geometrically towards their fixed point and a relative test would never stop
            tol = 1e-12 * self.t
            while it < max_iter:
                it += 1
                q_new = np.minimum(q, self.cut(self.availability(q)))
                converged = bool(np.all(np.abs(q_new - q) <= tol))
                q = q_new
                if converged:
                    break
        return q, it

    def settle(self, q: np.ndarray) -> np.ndarray:
        """Ration the cells still over-used (rounding, ``max_iter``) on their stock on hand."""
        K, pool = self.sx["K"], self.sx["pool"]
        on_hand = np.zeros(K, dtype=bool)
        inv_pool = self.sx["inv"][pool]
        for _ in range(K + 1):
            made = self.net_made(q)
            inc = np.maximum(self.inputs.use(q) - self.base, 0.0)
            used_final = np.bincount(inv_pool, inc[pool], minlength=K)
            over = (used_final > self.stock_u + made) & ~on_hand
            if not over.any():
                break
            logger.debug("production: %d (region, good) cells rationed on the stock on hand", int(over.sum()))
            on_hand |= over
            q = np.minimum(q, self.cut(self.availability(q, on_hand)))
        return q

    def result(self, q: np.ndarray, it: int, shape: tuple[int, int]) -> ProductionResult:
        """The pass's :class:`ProductionResult` at outputs ``q``."""
        R, n = shape
        cell, is_cap = self.sx["cell"], self.sx["is_cap"]
        use = self.inputs.use(q)
        inc = np.maximum(use - self.base, 0.0)
        consumed = ~is_cap
        used = np.bincount(cell[consumed], inc[consumed], minlength=R * n).reshape(R, n)
        cap_req = np.bincount(cell[is_cap], use[is_cap], minlength=R * n).reshape(R, n)
        requested = np.bincount(cell, self.need, minlength=R * n).reshape(R, n)
        return ProductionResult(
            output=q, output_lost=(q - self.d0) * (1.0 - self.keep), used=used, capital_required=cap_req,
            entry_use=use, requested=requested, iterations=it,
        )
