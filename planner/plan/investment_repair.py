"""The investment stage's repair when its successive LPs end outside the curves.

With convex curves, the successive LPs of the investment stage (``docs/model.md``, "The
bounded daily plan") can stop on a production that draws more of some good than there is
under the curves themselves: the linearisation holds only near its point, and the LP pushes
far beyond it. Execution rations small overdrafts; a production that overdraws some good by
more than :data:`OVERDRAFT_FALLBACK` of what there is to draw on is repaired by
:func:`repair_investment` (``DailyPlan.status == "investment-fallback"``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from innatura.planner.plan.balanced import balanced_investment
from innatura.planner.plan.inputs import PlanInputs, input_use, secant_slopes

__all__ = ["OVERDRAFT_FALLBACK", "InvestmentStage", "feasible_scale", "relative_overdraft", "repair_investment"]

logger = logging.getLogger(__name__)

#: an investment production that draws more than this share beyond what there is of some good
#: (under the curves) is repaired; smaller overdrafts are kept (``"slp-not-converged"``).
OVERDRAFT_FALLBACK = 0.05
#: bisection steps of :func:`feasible_scale` (the scale to ``2**-40``)
SCALE_BISECTIONS = 40
#: a scaled production fits when it overdraws nothing by more than ``FIT_TOL * tol``
FIT_TOL = 10.0


@dataclass(frozen=True)
class InvestmentStage:
    """What the investment stage has to work with, and what it aims at.

    Attributes:
        production: the consumption stage's production ``x^C`` ``(n,)``.
        use: its exact input use ``(n,)``.
        consumption: the consumption it plans ``(n,)``.
        left: what it leaves of every good to draw on ``(n,)``.
        safety: the safety stock of every final good ``(n,)``.
        w_cap: the weight of each capital good's growth ``(n,)``.
        beta: the ``safety_stock`` argument (days of cover or target stocks).
    """

    production: np.ndarray
    use: np.ndarray
    consumption: np.ndarray
    left: np.ndarray
    safety: np.ndarray
    w_cap: np.ndarray
    beta: float | np.ndarray


def relative_overdraft(inp: PlanInputs, left: np.ndarray, y: np.ndarray, use: np.ndarray) -> float:
    """Largest overdraft by investment ``y`` with exact input use ``use`` of what stage 1 left
    (``left``), relative to what there is to draw on (``1 + left``, plus the output ``y`` of a
    final good); ``0`` when it fits."""
    there = np.where(inp.final, left + y, left)
    return float(np.max((use - there) / (1.0 + np.abs(there)), initial=0.0))


def feasible_scale(inp: PlanInputs, xC: np.ndarray, xI: np.ndarray, left: np.ndarray, tol: float) -> np.ndarray:
    """``lam * xI`` for the largest ``lam`` in ``[0, 1]`` (bisection, 40 steps) that overdraws
    nothing by more than ``10 tol`` (relative) under the curves; ``lam = 0`` always fits."""

    def fits(lam: float) -> bool:
        y = lam * xI
        return relative_overdraft(inp, left, y, input_use(inp, secant_slopes(inp, xC, xC + y), y)) <= FIT_TOL * tol

    if fits(1.0):
        return xI
    lo, hi = 0.0, 1.0
    for _ in range(SCALE_BISECTIONS):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    return lo * xI


def repair_investment(
    inp: PlanInputs, stage: InvestmentStage, xI: np.ndarray, tol: float
) -> tuple[np.ndarray, np.ndarray]:
    """A feasible investment stage in place of the overdrawing production ``xI``.

    Two candidates, both feasible under the curves: the largest feasible scale of ``xI``
    (:func:`feasible_scale`, which keeps the LP's choice of goods) and the balanced method's
    investment stage (:func:`planner.plan.balanced.balanced_investment`). The better one on
    the stage's own objectives wins: first the share of the safety stocks ``stage.safety``
    kept, then capital growth ``stage.w_cap @ y``.

    Returns:
        ``(production, exact input use)`` of the investment stage, each ``(n,)``.
    """
    n = inp.n
    xC, left = stage.production, stage.left
    scaled = feasible_scale(inp, xC, xI, left, tol)
    use_s = input_use(inp, secant_slopes(inp, xC, xC + scaled), scaled)
    inv = balanced_investment(inp, xC, stage.use, stage.consumption, stage.beta)

    def score(y: np.ndarray, use: np.ndarray) -> tuple[float, float]:
        closing = left + y - use
        share = np.divide(closing, stage.safety, out=np.ones(n), where=stage.safety > 0)
        return float(np.clip(share.min(initial=1.0), 0.0, 1.0)), float(stage.w_cap @ y)

    s_scaled, s_bal = score(scaled, use_s), score(inv.production, inv.use)
    pick_scaled = s_scaled[0] > s_bal[0] + 1e-9 or (abs(s_scaled[0] - s_bal[0]) <= 1e-9 and s_scaled[1] >= s_bal[1])
    logger.info("investment stage repaired with the %s investment", "scaled" if pick_scaled else "balanced")
    return (scaled, use_s) if pick_scaled else (inv.production, inv.use)
