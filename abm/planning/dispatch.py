"""The central planner's dispatch: each good's planned production split over its units."""

from __future__ import annotations

import logging

import numpy as np

__all__ = ["dispatch_targets"]

logger = logging.getLogger(__name__)


def dispatch_targets(production: np.ndarray, unit_good: np.ndarray, capacity: np.ndarray,
                     stack: np.ndarray, pooled: np.ndarray, pool_share: np.ndarray) -> np.ndarray:
    """Split each good's planned production over its units.

    Stacked units fill in stacking order (the first takes orders up to its capacity, then the
    next, ...), as :meth:`planner.curves.StackedCurve.dispatch` does for one good, here for all
    goods at once. The last stacked unit takes whatever is beyond, unless the good has pooled
    units (see :mod:`abm.layout`): then they share the rest by ``pool_share``.

    Args:
        production: planned output per good, ``(n,)``.
        unit_good: the good each unit makes, ``(U,)``.
        capacity: each unit's (reported) capacity, ``(U,)``.
        stack: each unit's stacking rank, ``(U,)``.
        pooled: whether each unit is pooled, ``(U,)``.
        pool_share: each pooled unit's share of its good's pooled orders, ``(U,)``.

    Returns:
        Target per unit, ``(U,)``; the targets of a good sum to its production.
    """
    x = np.maximum(np.asarray(production, dtype=float), 0.0)
    n = x.size
    targets = np.zeros(unit_good.size)
    has_pool = np.zeros(n, dtype=bool)
    has_pool[unit_good[pooled]] = True
    real = np.flatnonzero(~pooled)
    if real.size:
        order = real[np.lexsort((real, stack[real], unit_good[real]))]
        g = unit_good[order]
        cap = capacity[order].astype(float)
        first = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
        start = np.repeat(first, np.diff(np.r_[first, g.size]))  # group start of every unit
        unbounded = ~np.isfinite(cap)
        fin = np.where(unbounded, 0.0, cap)
        before = np.cumsum(fin) - fin  # exclusive cumulative capacity, then per group
        n_inf = np.cumsum(unbounded) - unbounded
        lower = np.where(n_inf - n_inf[start] > 0, np.inf, before - before[start])
        last = np.r_[g[1:] != g[:-1], True] & ~has_pool[g]
        width = np.where(last, np.inf, cap)
        targets[order] = np.clip(x[g] - lower, 0.0, width)
    taken = np.bincount(unit_good[real], targets[real], minlength=n)
    rest = np.maximum(x - taken, 0.0)
    targets[pooled] = rest[unit_good[pooled]] * pool_share[pooled]
    return targets
