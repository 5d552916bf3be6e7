"""Dispatch of production to units: a demand per key (a good, or a good in a region) split over
the units with that key in a fixed order, each up to its cap (the decomposed regional plan's
:class:`~innatura.planner.regional.fixed_point.Strategy` sets the caps and the order)."""

from __future__ import annotations

import numpy as np

__all__ = ["Filler"]


class Filler:
    """Split a demand per key over the units with that key, in order of ``rank`` (ties: bounded
    units first, then index), each up to its cap; the first unbounded unit takes the rest.

    The order is fixed at construction (keys, which caps are finite, rank); :meth:`fill` takes
    the demand per key and the caps (finite where the construction's were).

    Shapes:
        ``keys``, ``caps``, ``rank``: per unit ``(U,)``; ``demand``: per key.
    """

    def __init__(self, keys: np.ndarray, caps: np.ndarray, rank: np.ndarray):
        U = keys.size
        finite = np.isfinite(caps)
        self.order = np.lexsort((np.arange(U), ~finite, rank, keys))
        k, f = keys[self.order], finite[self.order]
        self.keys, self.finite = k, f
        first = np.flatnonzero(np.r_[True, k[1:] != k[:-1]]) if U else np.zeros(0, np.int64)
        self.start = np.repeat(first, np.diff(np.r_[first, U])) if U else np.zeros(0, np.int64)
        n_inf = np.cumsum(~f) - ~f
        self.blocked = (n_inf - n_inf[self.start]) > 0  # after an unbounded unit: nothing left

    def fill(self, demand: np.ndarray, caps: np.ndarray) -> np.ndarray:
        """Each unit's share of ``demand[key]``, ``(U,)``."""
        return self.fill_sorted(demand[self.keys], caps)

    def fill_sorted(self, wanted: np.ndarray, caps: np.ndarray) -> np.ndarray:
        """:meth:`fill` with the demand of each unit's key given in the fill order
        (``demand[keys]``, ``(U,)``)."""
        q = np.zeros(self.order.size)
        if not q.size:
            return q
        c = caps[self.order]
        fin = np.where(self.finite, c, 0.0)
        before = np.cumsum(fin) - fin
        before = before - before[self.start]
        q[self.order] = np.where(self.blocked, 0.0, np.clip(wanted - before, 0.0, c))
        return q
