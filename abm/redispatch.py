"""Regional re-dispatch of a national plan over a good's production units (docs/model.md, "Execution").

The plan fixes how much of each good the economy makes; the targets split that over the good's
units in stacking order, without looking at where the units are. Labour never moves and
capital moves slowly, so a unit in a region short of either cannot make its share while a unit
of the same good elsewhere stands idle. Before the shifts (and again when the day's shifts
reveal more), execution moves the part of a target that the unit's region cannot staff or
equip to the good's other units that can: the national output of every good is kept, only its
split changes.

Vectorised: one pass over the (unit, input) entries of the static inputs (labour and capital)
per estimate, ``bincount`` over goods for the transfer; no loop over units or goods.
"""

from __future__ import annotations

import logging

import numpy as np
from innatura.abm.execution import UnitInputs
from innatura.planner.errors import InvalidInputError

__all__ = ["redispatch", "static_ceiling"]

logger = logging.getLogger(__name__)


def static_ceiling(
    targets: np.ndarray,
    unit_region: np.ndarray,
    inputs: UnitInputs,
    stocks: np.ndarray,
    labour: np.ndarray,
    static: np.ndarray,
    labour_mask: np.ndarray,
    method: str = "proportional",
    rank: np.ndarray | None = None,
) -> np.ndarray:
    """The output each unit reaches towards ``targets`` when only labour and capital bind.

    ``method="proportional"``: a region's labour supply and capital stock are shared over its
    units in proportion to what their targets require (the rationing of
    :func:`abm.execution.produce`). ``method="stacked"``: they go to the region's units in the
    order of ``rank`` (lowest first, ties by unit index), each taking what its target requires
    before the next gets any: the order in which a plan fills units (OLIN-EP Fig. 1). Either
    way a unit gets ``t * min_e ratio_e ** (1 / exponent_e)`` over its static entries
    (inverting ``s q**e``).

    Args:
        targets: ``(U,)``; unit_region: ``(U,)``; inputs: the TRUE input functions.
        stocks: stocks on hand ``(R, n)``; labour: labour left ``(R, n)``.
        static: boolean mask of the static goods (labour and industrial), ``(n,)``.
        labour_mask: boolean mask of labour goods, ``(n,)``.
        method: ``"proportional"`` or ``"stacked"``.
        rank: ``(U,)`` priority of each unit for ``"stacked"``; default the unit index.

    Returns:
        ``(U,)``, ``<= targets``.
    """
    if method not in ("proportional", "stacked"):
        raise InvalidInputError(f"static_ceiling: method must be 'proportional' or 'stacked', got {method!r}")
    R, n = stocks.shape
    t = np.maximum(targets, 0.0)
    ent = np.flatnonzero(static[inputs.good] & (inputs.scale > 0))
    if ent.size == 0:
        return t.copy()
    u, g = inputs.unit[ent], inputs.good[ent]
    cell = unit_region[u] * n + g
    use = inputs.scale[ent] * np.power(t[u], inputs.exponent[ent])
    req = np.bincount(cell, use, minlength=R * n)
    avail = np.where(labour_mask[None, :], labour, stocks).ravel()
    if method == "proportional":
        ratio = np.ones(R * n)
        np.divide(avail, req, out=ratio, where=req > 0)
        ratio = np.clip(ratio, 0.0, 1.0)[cell]
    else:
        ratio = _stacked_ratio(cell, use, u, np.zeros(t.size) if rank is None else np.asarray(rank, dtype=float),
                               avail)
    q = t.copy()
    short = ratio < 1.0
    if short.any():
        allowed = t[u[short]] * np.power(ratio[short], 1.0 / inputs.exponent[ent][short])
        np.minimum.at(q, u[short], allowed)
    return q


def _stacked_ratio(cell: np.ndarray, use: np.ndarray, unit: np.ndarray, rank: np.ndarray,
                   avail: np.ndarray) -> np.ndarray:
    """The share of its ``use`` each entry gets when each cell's ``avail`` goes to its entries in
    the order of their unit's ``rank`` (ties by unit index)."""
    order = np.lexsort((unit, rank[unit], cell))
    c_sorted, use_sorted = cell[order], use[order]
    before = np.cumsum(use_sorted) - use_sorted
    first = np.flatnonzero(np.r_[True, c_sorted[1:] != c_sorted[:-1]])
    offset = np.repeat(before[first], np.diff(np.r_[first, c_sorted.size]))
    got = np.clip(avail[c_sorted] - (before - offset), 0.0, use_sorted)
    ratio = np.ones(cell.size)
    ratio[order] = np.divide(got, use_sorted, out=np.ones_like(got), where=use_sorted > 0)
    return ratio


def redispatch(
    targets: np.ndarray,
    done: np.ndarray,
    ceiling_now: np.ndarray,
    ceiling_max: np.ndarray,
    unit_good: np.ndarray,
    n_goods: int,
    tol: float = 1e-9,
) -> np.ndarray:
    """Move the part of each target above its unit's ceiling to the good's units with headroom.

    For good ``g`` the *orphaned* output ``o_g = sum_u (t_u - c_u)^+`` (``c = ceiling_now``,
    what the unit can reach at its target) goes to the units of ``g`` that reach their target,
    each in proportion to its headroom ``h_u = (cmax_u - t_u)^+`` (``cmax = ceiling_max``, what
    it could reach at full capacity), and no more than the headroom. Targets lose only what
    was placed, so ``sum_u t_u`` per good is unchanged.

    Args:
        targets: ``(U,)``; done: output already made today (targets never drop below it), ``(U,)``.
        ceiling_now, ceiling_max: :func:`static_ceiling` at the targets and at capacity, ``(U,)``.
        unit_good: ``(U,)``; n_goods: ``n``.
        tol: relative gap under which a unit counts as reaching its target.

    Returns:
        New targets ``(U,)``.
    """
    t = np.asarray(targets, dtype=float)
    floor = np.maximum(ceiling_now, np.minimum(done, t))
    excess = np.maximum(t - floor, 0.0)
    excess[excess <= tol * np.maximum(t, 1.0)] = 0.0
    orphan = np.bincount(unit_good, excess, minlength=n_goods)
    if not np.any(orphan > 0):
        return t
    free = excess == 0.0
    head = np.where(free, np.maximum(ceiling_max - t, 0.0), 0.0)
    H = np.bincount(unit_good, head, minlength=n_goods)
    placed = np.minimum(orphan, H)
    take = np.divide(placed, H, out=np.zeros(n_goods), where=H > 0)[unit_good]
    give = np.divide(placed, orphan, out=np.zeros(n_goods), where=orphan > 0)[unit_good]
    new = t - excess * give + head * take
    logger.debug("redispatch: %.6g units of output moved over %d goods", float(placed.sum()),
                 int((placed > 0).sum()))
    return new
