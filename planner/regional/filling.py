"""Root searches and progressive filling (water-filling) for the decomposed regional plan.

Feasibility of the decomposed plan (:class:`~innatura.planner.regional.fixed_point.Evaluator`)
is monotone in its targets for a fixed dispatch, so the largest feasible scale of a target is a
root search on the largest scaled violation (:func:`largest`). Several targets rise together by
progressive filling (:func:`water_fill`): the free entries rise from their common level until a
bound stops them; the entries that bound holds keep their level and the others rise on. This is
the max-min fair allocation of the regional plan's stages (``docs/model.md``, "The regional
plan"): one entry out of reach does not hold back the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
from innatura.planner.regional.fixed_point import FEASIBLE, Bottleneck, Point
from innatura.planner.regional.problem import RegionalProblem

__all__ = ["FILL_ROUNDS", "SPREAD_DEPTH", "largest", "spread", "users", "water_fill"]

logger = logging.getLogger(__name__)

#: rounds of progressive filling (raising the entries no bottleneck holds above the last level)
FILL_ROUNDS = 8
#: how far down the chains of goods made with a good out of reach a bottleneck holds
SPREAD_DEPTH = 3


def largest(excess: Callable[[float], Point], hi: float, tol: float = 1e-7) -> tuple[float, Bottleneck | None]:
    """Largest ``s`` in ``[0, hi]`` whose evaluation ``excess(s)`` fits, to within ``tol * hi``,
    and the bottleneck of the nearest point above it that does not fit (``None`` when ``hi``
    fits).

    The largest scaled violation is flat (at most the feasibility tolerance) below the root
    and rises close to linearly, and convexly, above it: the secant through the two nearest
    points that do not fit has its root at or just above the root sought, so the search probes
    half a tolerance below that secant's root and, when the probe fits, one tolerance above
    the probe, which closes the bracket (a regula falsi kept on the side that does not fit).
    After a probe that fits, the next one steps at least ``2^k`` tolerances up from it (``k``
    probes that fit in a row), never beyond the bracket's middle; a bracket that does not
    halve in four probes is bisected."""
    top = excess(hi)
    if top.excess <= FEASIBLE:
        return hi, None
    bottom = excess(0.0)
    if bottom.excess > FEASIBLE:  # infeasible even at 0
        return 0.0, bottom.bottleneck
    # the root sought: half way between the bottom's excess and the tolerance
    level = 0.5 * (max(bottom.excess, 0.0) + FEASIBLE)
    step = tol * max(hi, 1e-300)
    lo, up, f_up, where = 0.0, hi, top.excess, top.bottleneck
    before: tuple[float, float] | None = None  # the point above ``up`` that did not fit
    climb = 1.0  # the least step up from ``lo``, in tolerances (doubles while probes fit)
    widths = [up - lo]
    for _ in range(200):
        if up - lo <= step:
            break
        guess = None
        if before is not None and before[1] > f_up:
            guess = up - (f_up - level) * (before[0] - up) / (before[1] - f_up)
        elif f_up > level:
            guess = up - (f_up - level) * (up - lo) / (f_up - level + max(level - bottom.excess, 0.0) + 1e-300)
        mid = 0.5 * (lo + up)
        s = max(guess - 0.5 * step if guess is not None else lo, min(lo + climb * step, mid))
        if len(widths) > 4 and up - lo > 0.5 * widths[-5]:  # the bracket did not halve in four probes
            s = mid
        s = min(max(s, lo + 0.5 * step), up - 0.5 * step)
        pt = excess(s)
        if pt.excess <= FEASIBLE:
            lo = s
            climb *= 2.0
        else:
            before, up, f_up, where = (up, f_up), s, pt.excess, pt.bottleneck
            climb = 1.0
        widths.append(up - lo)
    return lo, where


def users(p: RegionalProblem, good: int, depth: int) -> np.ndarray:
    """The good and the goods whose production needs it, directly or through up to ``depth - 1``
    other goods, ``(n,)`` boolean (``depth = 0``: the good alone)."""
    import scipy.sparse as sp

    inp = p.inputs
    rows = np.concatenate([inp.good[inp.coefficient > 0], inp.curve_good])
    cols = p.unit_good[np.concatenate([inp.unit[inp.coefficient > 0], inp.curve_unit])]
    graph = sp.csr_matrix((np.ones(rows.size), (cols, rows)), shape=(p.n_goods, p.n_goods))  # output <- input
    out = np.zeros(p.n_goods, dtype=bool)
    out[good] = True
    for _ in range(depth):
        grown = out | (graph @ out.astype(float) > 0)
        if (grown == out).all():
            break
        out = grown
    return out


def spread(held_at: Callable[[int], np.ndarray], free: np.ndarray,
           near: np.ndarray | None = None) -> np.ndarray:
    """What a bottleneck holds among the ``free`` entries: ``held_at(depth)`` at the least depth
    that holds some free entry (a good out of reach holds the goods made with it, then the goods
    made with those, ...); else the free entries ``near`` it (its region's), if any; everything
    free when none does."""
    for depth in range(SPREAD_DEPTH + 1):
        held = held_at(depth) & free
        if held.any():
            return held
    if near is not None and (near & free).any():
        return near & free
    return free


def water_fill(start: np.ndarray, frozen: np.ndarray, fits: Callable[[np.ndarray], Point],
               held: Callable[[Bottleneck | None, np.ndarray, np.ndarray], np.ndarray], *,
               share: bool = True, high: Callable[[Callable[[float], np.ndarray]], float] | None = None,
               tol: float = 1e-7) -> np.ndarray:
    """Progressive filling of ``start`` (any shape) over the entries not ``frozen``.

    Each round the free entries rise together from their least level by ``u``, found by
    :func:`largest` on ``fits(levels)``: with ``share``, towards 1 (``level + u (1 - level)``,
    ``u`` in ``[0, 1]``); else by ``level + u`` with ``u`` up to ``high(at)`` (``at(u)``: the
    levels at ``u``). ``held(b, free, levels)`` gives the entries the round's bottleneck ``b``
    (``None``: the search's upper end fits) holds, which keep their level; an empty hold ends
    the filling, as does a share's round that reaches 1. At most :data:`FILL_ROUNDS` rounds.

    Returns the levels, the shape of ``start``.
    """
    x = np.array(start, dtype=float)
    frozen = np.array(frozen, dtype=bool)
    for _ in range(FILL_ROUNDS):
        free = ~frozen
        if not free.any():
            break
        level = float(x[free].min())

        def at(u: float, free: np.ndarray = free, level: float = level, base: np.ndarray = x) -> np.ndarray:
            return np.where(free, level + (u * (1.0 - level) if share else u), base)

        hi = 1.0 if share or high is None else high(at)
        def point_at(u: float, at: Callable[[float], np.ndarray] = at) -> Point:
            return fits(at(u))

        u, b = largest(point_at, hi, tol)
        if u > 0.0:
            x = at(u)
        if share and u >= 1.0:
            break
        stop = held(b, free, x) & free
        if not stop.any():
            break
        frozen |= stop
    return x
