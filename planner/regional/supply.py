"""What each production unit can make at most with what its region can have on hand today.

The decomposed regional plan (:mod:`~innatura.planner.regional.decomposed`) caps its dispatch
at these bounds, which every plan that holds the regional constraints holds too, and names a
capacity bottleneck they cause by the labour, capital or stock behind it.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from innatura.planner.regional.fixed_point import Bottleneck
from innatura.planner.regional.problem import RegionalProblem

__all__ = ["supply_bottleneck", "supply_caps"]

logger = logging.getLogger(__name__)


def supply_caps(p: RegionalProblem) -> np.ndarray:
    """What each unit can make at most with what its region can have on hand today, ``(U,)``.

    A unit can use no more than its region's labour, no more capital than the whole economy
    holds (capital made today is not on hand today), and (timing ``"overnight"``) of a final
    good no unit of its region makes, no more than the whole economy's stock (what the morning
    shipments could bring at best). Every plan that holds the constraints holds these bounds, so capping the dispatch
    at them loses nothing, and units whose region lacks an input get no orders they cannot fill.
    """
    limit = _supply_limit(p)
    inp = p.inputs
    caps = p.unit_capacity.copy()
    lim = limit[p.unit_region[inp.unit], inp.good]
    on = (inp.coefficient > 0) & np.isfinite(lim)
    np.minimum.at(caps, inp.unit[on], lim[on] / inp.coefficient[on])
    if inp.n_curves:
        lim = limit[p.unit_region[inp.curve_unit], inp.curve_good]
        on = np.flatnonzero(np.isfinite(lim))
        if on.size:
            cu, cap_lim = inp.curve_unit[on], lim[on]
            np.minimum.at(caps, cu, _inverse(inp, on, cap_lim, caps[cu]))
    return caps


def _supply_limit(p: RegionalProblem) -> np.ndarray:
    """What a region's units can have on hand today of each good at most, ``(R, n)``
    (:func:`supply_caps`; ``inf``: no bound)."""
    made = np.zeros((p.n_regions, p.n_goods), dtype=bool)
    made[p.unit_region[p.unit_capacity > 0], p.unit_good[p.unit_capacity > 0]] = True
    national = p.stocks.sum(axis=0)
    if p.timing == "shifts":  # final goods made elsewhere today reach the unit a shift later
        made[:] = True
    return np.where(p.labour_mask[None, :], p.labour,
                    np.where(p.industrial[None, :] | ~made, national[None, :], np.inf))


def supply_bottleneck(p: RegionalProblem, b: Bottleneck | None, supply: np.ndarray) -> Bottleneck | None:
    """The bottleneck to report: a good's capacity that binds because :func:`supply_caps` held its
    units is named by the supply that held them (the labour, capital or stock of an input in the
    unit's region); any other bottleneck as it is."""
    if b is None or b.kind != "capacity":
        return b
    inp = p.inputs
    on = (p.unit_good[inp.unit] == b.good) & (supply[inp.unit] < p.unit_capacity[inp.unit]) & (inp.coefficient > 0)
    if not on.any():
        return b
    region = p.unit_region[inp.unit]
    ratio = np.where(on, _supply_limit(p)[region, inp.good] / np.where(on, inp.coefficient, 1.0), np.inf)
    k = int(np.argmin(ratio))
    if not np.isfinite(ratio[k]):
        return b
    g = int(inp.good[k])
    kind = "labour" if p.labour_mask[g] else "capital" if p.industrial[g] else "inputs on hand"
    return Bottleneck(kind, int(region[k]), g)


def _inverse(inp: Any, on: np.ndarray, limit: np.ndarray, top: np.ndarray) -> np.ndarray:
    """Largest ``q <= top`` with ``g_k(q) <= limit`` for the curve entries ``on`` (bisection;
    input functions are increasing)."""
    def g(q: np.ndarray) -> np.ndarray:
        full = np.zeros(inp.n_curves)
        full[on] = q
        return inp.curve_values(full)[0][on]

    finite = np.isfinite(top)
    hi = np.where(finite, top, 1.0)
    for _ in range(200):  # unbounded units: double until the input exceeds the limit
        grow = ~finite & (g(hi) <= limit)
        if not grow.any():
            break
        hi = np.where(grow, 2.0 * hi, hi)
    fits = g(hi) <= limit
    lo = np.zeros(hi.size)
    for _ in range(50):
        mid = 0.5 * (lo + hi)
        ok = g(mid) <= limit
        lo, hi = np.where(ok, mid, lo), np.where(ok, hi, mid)
    return np.where(fits, np.where(finite, top, np.inf), lo)
