"""A fast daily plan for large economies: equal fulfilment and balanced capital growth.

:func:`planner.plan.plan_day` solves the two stages of the bounded daily plan as exact
lexicographic LPs; on seed-style economies with thousands of goods, ``(I - A)^{-1}`` is
dense and each simplex iteration costs ``O(n^2)``. ``method="balanced"`` keeps the
constraints of ``docs/model.md`` and changes only the objectives to ones that a scalar
search can solve with sparse products:

1. **Consumption.** The largest *common* fulfilment ``t`` in ``[0, 1]`` whose least
   production fits. This is exactly the maximin optimum of stage 1 (``max min_p c_p``) with
   its least production; profiles are not raised above ``t`` (no second priority).
2. **Investment.** First the largest common share ``tau`` in ``[0, 1]`` of the safety stocks
   (as in the LP: every final good closes with ``tau`` times its safety target), then the
   largest ``theta`` such that every capital good ``k`` that can grow grows by
   ``theta (s_k + 1)`` (balanced relative growth, the maximin analogue of the LP's sum of
   relative growth) on top of them, with the least final-good production it needs. Final
   goods are not retained beyond that.

For a target (consumption ``t * need`` or capital ``y_K``), the least final-good production
is the least solution of ``y = max(0, F_FF y + b)`` (``b``: what the target needs minus the
final stock left), found by the monotone iteration from ``y = 0``, which converges at the
rate ``rho(F_FF)``. Feasibility is monotone in ``t`` and ``theta``: bisection finds both.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from innatura.planner.errors import ConvergenceError, InvalidInputError
from innatura.planner.plan.inputs import PlanInputs, safety_targets, secant_slopes
from innatura.planner.plan.result import StagePlan
from scipy.optimize import brentq

__all__ = ["BalancedInvestment", "BalancedStages", "balanced_investment", "balanced_stages"]

logger = logging.getLogger(__name__)

#: steps of the guard that walks a root found by Brent's method onto the feasible side
_BISECTIONS = 60
#: a production fits when its largest scaled excess over the bounds is at most this
FIT_TOL = 1e-9
#: re-linearisations of the curve cells per least-production solve (each solves the
#: monotone iteration again at the new slopes)
CURVE_ROUNDS = 20
#: the monotone least-production iteration stops when a sweep moves it by less than this
#: (relative to ``1 + max y``); it converges at the rate ``rho(F_FF)``
SWEEP_TOL = 1e-13
#: sweeps allowed per least-production solve
MAX_SWEEPS = 100_000


@dataclass(frozen=True)
class BalancedInvestment:
    """The investment stage of ``method="balanced"``.

    Attributes:
        production: ``x^I`` ``(n,)``.
        use: its exact input use on top of the consumption stage ``(n,)``.
        safety_share: ``tau``, the common share of the safety stocks kept.
        growth: ``theta``, the balanced relative growth of capital.
        sweeps: sweeps of the least-production iteration.
    """

    production: np.ndarray
    use: np.ndarray
    safety_share: float
    growth: float
    sweeps: int


@dataclass(frozen=True)
class BalancedStages:
    """Both stages of ``method="balanced"``.

    Attributes:
        stages: production, fulfilment and exact input use of both stages.
        common_fulfilment: ``t``, the fulfilment of every profile with a need.
        investment: the investment stage's details.
        sweeps: sweeps of the least-production iteration over both stages.
    """

    stages: StagePlan
    common_fulfilment: float
    investment: BalancedInvestment
    sweeps: int


def _matrix(inp: PlanInputs, slopes: np.ndarray) -> sp.csr_matrix:
    """``F`` at the curve slopes, on the shared structure of ``A0`` (no re-sorting)."""
    if not inp.curves:
        return inp.A0
    data = inp.A0.data.copy()
    data[inp.curve_pos] = slopes
    return sp.csr_matrix((data, inp.A0.indices, inp.A0.indptr), shape=inp.A0.shape)


class _Blocks:
    """``F`` and its final-goods block at given curve slopes; the block's structure is sliced
    once, each new set of slopes only rewrites its data (the last one is cached)."""

    def __init__(self, inp: PlanInputs, fin: np.ndarray) -> None:
        self.inp = inp
        marker = sp.csr_matrix(
            (np.arange(1, inp.A0.nnz + 1, dtype=float), inp.A0.indices, inp.A0.indptr), shape=inp.A0.shape
        )
        sub = marker[fin][:, fin].tocsr()
        self._take = sub.data.astype(np.int64) - 1  # index in A0.data of each block entry
        self._sub = sub
        self._key: bytes | None = None
        self._value: tuple[sp.csr_matrix, sp.csr_matrix] | None = None

    def at(self, slopes: np.ndarray) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        key = slopes.tobytes()
        value = self._value
        if value is None or key != self._key:
            A = _matrix(self.inp, slopes)
            AFF = sp.csr_matrix((A.data[self._take], self._sub.indices, self._sub.indptr), shape=self._sub.shape)
            value = (A, AFF)
            self._key, self._value = key, value
        return value


class _Stage:
    """Least final production and feasibility of one stage's targets."""

    def __init__(self, inp: PlanInputs, base: np.ndarray, final_left: np.ndarray, bound: np.ndarray, cap: np.ndarray,
                 blocks: _Blocks | None = None) -> None:
        self.inp, self.base = inp, base
        self.final_left, self.bound, self.cap = final_left, bound, cap
        self.fin = np.flatnonzero(inp.final)
        self.slopes = self._slopes(np.zeros(inp.n))
        self.sweeps = 0
        self.blocks = _Blocks(inp, self.fin) if blocks is None else blocks

    def _slopes(self, y: np.ndarray) -> np.ndarray:
        return secant_slopes(self.inp, self.base, self.base + y)

    def least_production(self, target: np.ndarray, direct_need: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Production ``y`` (target on non-final goods, least solution on final goods) and slopes."""
        inp = self.inp
        y = target.copy()
        slopes = self.slopes
        for _ in range(CURVE_ROUNDS if inp.curves else 1):
            A, AFF = self.blocks.at(slopes)
            b = direct_need[self.fin] - self.final_left[self.fin]
            if target.any():
                b = b + (A @ target)[self.fin]
            z = np.zeros(self.fin.size)
            for _ in range(MAX_SWEEPS):
                z_new = np.maximum(AFF @ z + b, 0.0)
                self.sweeps += 1
                if np.max(np.abs(z_new - z), initial=0.0) <= SWEEP_TOL * (1.0 + np.max(z_new, initial=0.0)):
                    z = z_new
                    break
                z = z_new
            else:
                raise ConvergenceError(
                    "balanced plan: least-production iteration did not converge", iterations=MAX_SWEEPS
                )
            y_new = target.copy()
            y_new[self.fin] = z
            new_slopes = self._slopes(y_new)
            done = np.allclose(new_slopes, slopes, rtol=1e-9, atol=1e-15)
            y, slopes = y_new, new_slopes
            if done:
                break
        if inp.curves:
            self.slopes = slopes  # warm start for the next target of the search
        return y, slopes

    def excess(self, y: np.ndarray, slopes: np.ndarray) -> float:
        """Largest scaled violation of the bounds by production ``y`` (``<= 0``: it fits)."""
        inp = self.inp
        use = self.blocks.at(slopes)[0] @ y
        # entries with nothing used (or made) always fit; leaving them out keeps the excess
        # negative inside the feasible region (not a flat 0 at bounds of 0), so that the
        # root search can interpolate instead of bisecting
        rows = ~inp.final & (use > 0)
        over_rows = (use[rows] - self.bound[rows]) / (1.0 + np.abs(self.bound[rows]))
        finite = np.isfinite(self.cap) & (y > 0)
        over_cap = (y[finite] - self.cap[finite]) / (1.0 + self.cap[finite])
        return float(max(over_rows.max(initial=-np.inf), over_cap.max(initial=-np.inf), -1.0))

    def fits(self, y: np.ndarray, slopes: np.ndarray) -> bool:
        return self.excess(y, slopes) <= FIT_TOL


def _bisect(excess: Callable[[float], float], hi: float) -> float:
    """Largest ``s`` in ``[0, hi]`` found feasible by bisection (``excess(s) <= FIT_TOL``)."""
    lo, up = 0.0, hi
    for _ in range(_BISECTIONS):
        mid = 0.5 * (lo + up)
        if excess(mid) <= FIT_TOL:
            lo = mid
        else:
            up = mid
    return lo


def _largest_feasible(excess: Callable[[float], float], hi: float) -> float:
    """Largest ``s`` in ``[0, hi]`` with ``excess(s) <= FIT_TOL`` for a continuous, non-decreasing
    ``excess``: Brent's method on the crossing (aimed at half the tolerance), then a bisection
    guard onto the feasible side."""
    if excess(hi) <= FIT_TOL:
        return hi
    if excess(0.0) > 0.5 * FIT_TOL:  # infeasible, or within the tolerance only at 0 (no sign change)
        return 0.0
    try:
        root = brentq(lambda v: excess(v) - 0.5 * FIT_TOL, 0.0, hi, xtol=1e-13 * hi, rtol=1e-12, maxiter=200)
    except ValueError:  # no sign change after all (an excess within rounding of the aim at 0)
        root = _bisect(excess, hi)
    lo = root
    for _ in range(_BISECTIONS):
        if excess(lo) <= FIT_TOL:
            return lo
        lo = lo * (1.0 - 1e-9) - 1e-13 * hi
        if lo <= 0.0:
            return 0.0
    return 0.0


def balanced_stages(inp: PlanInputs, safety_stock: float | np.ndarray = 0.0) -> BalancedStages:
    """Both stages of ``method="balanced"`` (see the module docstring).

    ``safety_stock``: days of cover, or target stocks ``(n,)`` (:func:`planner.plan.plan_day`)."""
    n = inp.n
    keep = 1.0 - inp.sigma
    need = inp.bundles * inp.population
    need_total = need.sum(axis=1)
    active = need.sum(axis=0) > 0
    zero = np.zeros(n)

    # stage 1: common fulfilment t
    bound1 = keep * np.where(inp.industrial, inp.stocks, inp.labour_supply)
    cap1 = np.where(inp.final, keep * inp.capacity, 0.0)
    s1 = _Stage(inp, zero, inp.stocks, bound1, cap1)

    def solve1(t: float) -> tuple[np.ndarray, np.ndarray]:
        return s1.least_production(zero, t * need_total)

    t = _largest_feasible(lambda t: s1.excess(*solve1(t)), 1.0) if active.any() else 1.0
    xC, slopes1 = solve1(t)
    fulfil = np.where(active, t, 1.0)
    consumption = need @ fulfil
    use_C = _matrix(inp, slopes1) @ xC

    inv = balanced_investment(inp, xC, use_C, consumption, safety_stock, s1.blocks)
    sweeps = s1.sweeps + inv.sweeps
    logger.debug("balanced plan: t=%.6g tau=%.6g theta=%.6g sweeps=%d", t, inv.safety_share, inv.growth, sweeps)
    return BalancedStages(StagePlan(xC, inv.production, fulfil, use_C, inv.use), t, inv, sweeps)


def balanced_investment(inp: PlanInputs, xC: np.ndarray, use_C: np.ndarray, consumption: np.ndarray,
                        safety_stock: float | np.ndarray = 0.0, blocks: _Blocks | None = None) -> BalancedInvestment:
    """Stage 2 of ``method="balanced"`` after any consumption stage ``(xC, use_C, consumption)``.

    Safety stocks first (the largest common share ``tau``), then balanced capital growth
    ``theta``; also the repair of the LP method's investment stage when its successive LPs end
    on a production the curves do not allow (:mod:`planner.plan.investment_repair`).
    """
    zero = np.zeros(inp.n)
    final_left = np.maximum(inp.stocks + xC - use_C - consumption, 0.0)
    bound2 = np.maximum(np.where(inp.industrial, inp.stocks, inp.labour_supply) - use_C, 0.0)
    cap2 = np.where(inp.labour, 0.0, np.maximum(inp.capacity - xC, 0.0))
    s2 = _Stage(inp, xC, np.where(inp.final, final_left, 0.0), bound2, cap2, blocks)
    A = _matrix(inp, s2.slopes)
    limited = (A[~inp.final] != 0).astype(float).T @ (bound2[~inp.final] <= 0)  # needs an exhausted row
    grow = inp.industrial & (cap2 > 0) & (np.asarray(limited).ravel() == 0)
    g = np.where(grow, inp.stocks + 1.0, 0.0)
    # safety stocks first: the final goods' closing stocks, over what stage 1 leaves
    safety = safety_targets(inp, use_C, consumption, safety_stock)
    tau = 0.0
    if safety.any():
        tau = _largest_feasible(lambda v: s2.excess(*s2.least_production(zero, v * safety)), 1.0)
    buffer = tau * safety
    theta, (xI, slopes2) = 0.0, s2.least_production(zero, buffer) if tau > 0 else (zero, s2.slopes)
    if grow.any():
        theta = _largest_feasible(
            lambda th: s2.excess(*s2.least_production(th * g, buffer)), _growth_bracket(s2, cap2, g, grow, buffer)
        )
        xI, slopes2 = s2.least_production(theta * g, buffer)
    use_I = _matrix(inp, slopes2) @ xI
    return BalancedInvestment(xI, use_I, tau, theta, s2.sweeps)


def _growth_bracket(s2: _Stage, cap2: np.ndarray, g: np.ndarray, grow: np.ndarray, buffer: np.ndarray) -> float:
    """An upper end for the search of ``theta``: the capacities' bound, or (without one) the
    first doubling whose growth no longer fits."""
    hi = float(np.min(cap2[grow] / g[grow]))
    if np.isfinite(hi):
        return hi
    hi = 1.0
    for _ in range(200):
        if not s2.fits(*s2.least_production(2 * hi * g, buffer)):
            break
        hi *= 2
    else:
        raise InvalidInputError("investment stage is unbounded: capital goods can grow without limit")
    return 2 * hi
