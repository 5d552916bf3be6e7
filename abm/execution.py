"""Vectorised execution of a day's plan with the TRUE technology (docs/model.md "Execution").

Every function here works on whole arrays: regions x goods stocks, one entry per production
unit, one entry per (unit, input good) pair, one entry per directed edge. No function loops
over agents in Python; a day with thousands of units and 100K citizens is a handful of
``bincount`` and matrix products. Transport along the region graph is in :mod:`abm.transport`.

Conventions: ``R`` regions, ``n`` goods, ``U`` units, ``E`` (unit, input) entries, ``D``
directed edges, ``m`` profiles. Stocks are indexed ``[region, good]``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from planner.errors import InvalidInputError

__all__ = [
    "UnitInputs",
    "ProductionResult",
    "produce",
    "DeliveryResult",
    "deliver",
]

logger = logging.getLogger(__name__)

#: Safety margin on rationing ratios, so that rounding never drives a stock below zero.
_MARGIN = 1.0 - 1e-12


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

    def use(self, q: np.ndarray) -> np.ndarray:
        """Input amount of each entry when every unit produces ``q[unit]``; shape ``(E,)``."""
        return self.scale * np.power(np.maximum(q[self.unit], 0.0), self.exponent)


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


def produce(
    targets: np.ndarray,
    unit_region: np.ndarray,
    unit_good: np.ndarray,
    inputs: UnitInputs,
    stocks: np.ndarray,
    labour: np.ndarray,
    industrial: np.ndarray,
    labour_mask: np.ndarray,
    output_loss: np.ndarray | None = None,
    done: np.ndarray | None = None,
    entitled: np.ndarray | None = None,
    reserve: np.ndarray | None = None,
    max_iter: int = 200,
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
        unit_region, unit_good: region and good of each unit, shape ``(U,)``.
        inputs: the TRUE input functions.
        stocks: stocks on hand, shape ``(R, n)`` (labour columns ignored).
        labour: labour left today, shape ``(R, n)`` (non-labour columns ignored).
        industrial, labour_mask: boolean masks over goods, shape ``(n,)``.
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
    R, n = stocks.shape
    t = np.maximum(np.asarray(targets, dtype=float), 0.0)
    d0 = np.zeros_like(t) if done is None else np.minimum(np.asarray(done, dtype=float), t)
    keep = np.ones_like(t) if output_loss is None else 1.0 - np.asarray(output_loss, dtype=float)
    cell = unit_region[inputs.unit] * n + inputs.good
    is_lab = labour_mask[inputs.good]
    is_cap = industrial[inputs.good]
    is_final = ~(is_lab | is_cap)
    is_self = is_final & (inputs.good == unit_good[inputs.unit])
    pool = is_final & ~is_self
    base = inputs.use(d0)
    full = inputs.use(t)
    need = np.where(is_cap, full, full - base)
    ent = full if entitled is None else np.asarray(entitled, dtype=float)
    tier1 = np.where(pool, np.minimum(need, np.maximum(ent - base, 0.0)), need)
    tier1[is_self] = 0.0
    tier2 = np.where(pool, need - tier1, 0.0)
    T1 = np.bincount(cell, tier1, minlength=R * n)[cell]
    T2 = np.bincount(cell, tier2, minlength=R * n)[cell]
    free = np.ones(n) if reserve is None else 1.0 - np.clip(np.asarray(reserve, dtype=float), 0.0, 1.0)
    free_e = free[inputs.good]
    kind_cell = np.tile(np.where(labour_mask, 1, np.where(industrial, 2, 0)), R)
    static_cell = np.where(kind_cell == 1, labour.ravel(), stocks.ravel())
    out_cell = unit_region * n + unit_good
    self_cell = cell[is_self]
    inv_exp = 1.0 / inputs.exponent
    de = np.power(d0[inputs.unit], inputs.exponent)
    constrains = (inputs.scale > 0) & (need > 0) & ~is_self

    self_unit = inputs.unit[is_self]
    self_scale, self_exp, self_base = inputs.scale[is_self], inputs.exponent[is_self], base[is_self]

    def net_made(q: np.ndarray) -> np.ndarray:
        own = np.maximum(self_scale * np.power(q[self_unit], self_exp) - self_base, 0.0)
        gross = np.bincount(out_cell, (q - d0) * keep, minlength=R * n)
        return np.maximum(gross - np.bincount(self_cell, own, minlength=R * n), 0.0)

    def cut(avail_cell: np.ndarray) -> np.ndarray:
        a = avail_cell[cell]
        r1 = np.ones_like(a)
        np.divide(_MARGIN * a, T1, out=r1, where=T1 > 0)
        r1 = np.minimum(r1, 1.0)
        left = np.maximum(a * free_e - T1, 0.0)
        r2 = np.ones_like(a)
        np.divide(_MARGIN * left, T2, out=r2, where=T2 > 0)
        r2 = np.where(r1 >= 1.0, np.minimum(r2, 1.0), 0.0)
        # only entries that are actually cut need the (costly) inverse power
        short = constrains & ((r1 < 1.0) | ((r2 < 1.0) & (tier2 > 0)))
        q = t.copy()
        if short.any():
            alloc = r1[short] * tier1[short] + r2[short] * tier2[short]
            power = np.where(is_cap[short], 0.0, de[short]) + alloc / inputs.scale[short]
            allowed = np.power(np.maximum(power, 0.0), inv_exp[short])
            np.minimum.at(q, inputs.unit[short], np.maximum(allowed, d0[inputs.unit[short]]))
        return q

    def availability(q: np.ndarray, on_hand: np.ndarray | None = None) -> np.ndarray:
        made = net_made(q)
        if on_hand is not None:
            made = np.where(on_hand, 0.0, made)
        return np.where(kind_cell == 0, static_cell + made, static_cell)

    q = t.copy()
    it = 0
    for it in range(1, max_iter + 1):
        q_new = np.minimum(q, cut(availability(q)))
        if np.all(np.abs(q_new - q) <= 1e-13 * q_new):
            q = q_new
            break
        q = q_new
    on_hand = np.zeros(R * n, dtype=bool)
    for _ in range(R * n + 1):
        made = net_made(q)
        inc = np.maximum(inputs.use(q) - base, 0.0)
        used_final = np.bincount(cell[pool], inc[pool], minlength=R * n)
        over = (used_final > stocks.ravel() + made) & ~on_hand
        if not over.any():
            break
        logger.debug("production: %d (region, good) cells rationed on the stock on hand", int(over.sum()))
        on_hand |= over
        q = np.minimum(q, cut(availability(q, on_hand)))
    use = inputs.use(q)
    consumed = ~is_cap
    used = np.bincount(cell[consumed], inc[consumed], minlength=R * n).reshape(R, n)
    cap_req = np.bincount(cell[is_cap], use[is_cap], minlength=R * n).reshape(R, n)
    requested = np.bincount(cell, need, minlength=R * n).reshape(R, n)
    return ProductionResult(
        output=q, output_lost=(q - d0) * (1.0 - keep), used=used, capital_required=cap_req,
        entry_use=use, requested=requested, iterations=it,
    )


@dataclass(frozen=True, eq=False)
class DeliveryResult:
    """What citizens received today.

    Attributes:
        delivered: units handed out per region and good, shape ``(R, n)``.
        ratio: share of each region's allocation of each good that could be delivered, ``(R, n)``.
        share: share of each profile's TRUE need of each good that it received, ``(m, n)``
            (``nan`` where the profile does not need the good).
        region_share: received over true need per region and profile, min over the profile's
            goods, shape ``(R, m)``.
    """

    delivered: np.ndarray
    ratio: np.ndarray
    share: np.ndarray
    region_share: np.ndarray


def deliver(
    stocks: np.ndarray,
    allocation: np.ndarray,
    weight_reported: np.ndarray,
    bundles_true: np.ndarray,
    population_true: np.ndarray,
) -> DeliveryResult:
    """Hand out the night's allocation from regional stocks, rationing what is short.

    The plan allocates ``allocation[i, p]`` units of good ``i`` to profile ``p``; region ``r``
    hands out the part ``w_rp / sum_r w_rp`` of it, where ``w_rp`` is the reported demand
    weight of the profile's citizens in the region (their count times their mean report
    factor), and each citizen gets a part proportional to its own report. Where a region's
    stock of a good falls short of what it owes, every profile gets the same share.

    Args:
        stocks: stocks after transport, shape ``(R, n)``.
        allocation: goods per profile, shape ``(n, m)``.
        weight_reported: ``(R, m)``.
        bundles_true: per-citizen needs, ``(n, m)``; population_true: citizens per region and
            profile, ``(R, m)``.

    Returns:
        :class:`DeliveryResult`.
    """
    W = weight_reported.sum(axis=0)
    wn = np.divide(weight_reported, W[None, :], out=np.zeros_like(weight_reported), where=W[None, :] > 0)
    alloc = wn @ allocation.T  # (R, n)
    ratio = np.ones_like(alloc)
    np.divide(_MARGIN * stocks, alloc, out=ratio, where=alloc > 0)
    np.minimum(ratio, 1.0, out=ratio)
    delivered = alloc * ratio
    recv = allocation * (wn.T @ ratio).T  # (n, m) received by each profile, all regions
    need = bundles_true * population_true.sum(axis=0)[None, :]
    share = np.full(need.shape, np.nan)
    np.divide(recv, need, out=share, where=need > 0)
    # region r, profile p, good i: ratio_ri * allocation_ip * w_rp / (W_p * b_ip * n_rp)
    per_w = np.divide(allocation, bundles_true * W[None, :], out=np.zeros_like(allocation),
                      where=(bundles_true > 0) & (W[None, :] > 0))
    per_cap = np.divide(weight_reported, population_true, out=np.zeros_like(weight_reported),
                        where=population_true > 0)
    region_share = np.full(population_true.shape, np.nan)
    pi, gi = np.nonzero(bundles_true.T)  # (profile, good) pairs, sorted by profile
    if pi.size:
        vals = ratio[:, gi] * per_w[gi, pi]  # (R, nnz)
        starts = np.flatnonzero(np.r_[True, pi[1:] != pi[:-1]])
        mins = np.full(population_true.shape, np.nan)
        mins[:, pi[starts]] = np.minimum.reduceat(vals, starts, axis=1)
        region_share = np.where(population_true > 0, per_cap * mins, np.nan)
    return DeliveryResult(delivered=delivered, ratio=ratio, share=share, region_share=region_share)
