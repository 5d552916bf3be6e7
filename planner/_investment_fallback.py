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

import numpy as np
from innatura.planner._plan_inputs import PlanInputs, secant_slopes
from innatura.planner._slp import _usage
from innatura.planner.balanced_plan import balanced_investment

__all__ = ["OVERDRAFT_FALLBACK", "feasible_scale", "relative_overdraft", "repair_investment"]

logger = logging.getLogger(__name__)

#: an investment production that draws more than this share beyond what there is of some good
#: (under the curves) is repaired; smaller overdrafts are kept (``"slp-not-converged"``).
OVERDRAFT_FALLBACK = 0.05


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
        return relative_overdraft(inp, left, y, _usage(inp, secant_slopes(inp, xC, xC + y), y)) <= 10 * tol

    if fits(1.0):
        return xI
    lo, hi = 0.0, 1.0
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    return lo * xI


def repair_investment(inp: PlanInputs, xC: np.ndarray, xI: np.ndarray, use_C: np.ndarray, consumption: np.ndarray,
                      left: np.ndarray, safety: np.ndarray, w_cap: np.ndarray, beta, tol: float,  # noqa: ANN001
                      ) -> tuple[np.ndarray, np.ndarray]:
    """A feasible investment stage in place of the overdrawing production ``xI``.

    Two candidates, both feasible under the curves: the largest feasible scale of ``xI``
    (:func:`feasible_scale`, which keeps the LP's choice of goods) and the balanced method's
    investment stage (:func:`planner.balanced_plan.balanced_investment`). The better one on
    the stage's own objectives wins: first the share of the safety stocks ``safety`` kept,
    then capital growth ``w_cap @ y``.

    Returns:
        ``(production, exact input use)`` of the investment stage, each ``(n,)``.
    """
    n = inp.n
    scaled = feasible_scale(inp, xC, xI, left, tol)
    use_s = _usage(inp, secant_slopes(inp, xC, xC + scaled), scaled)
    inv = balanced_investment(inp, xC, use_C, consumption, beta)

    def score(y: np.ndarray, use: np.ndarray) -> tuple[float, float]:
        closing = left + y - use
        share = np.divide(closing, safety, out=np.ones(n), where=safety > 0)
        return float(np.clip(share.min(initial=1.0), 0.0, 1.0)), float(w_cap @ y)

    s_scaled, s_bal = score(scaled, use_s), score(inv["xI"], inv["use_I"])
    pick_scaled = s_scaled[0] > s_bal[0] + 1e-9 or (abs(s_scaled[0] - s_bal[0]) <= 1e-9 and s_scaled[1] >= s_bal[1])
    logger.info("investment stage repaired with the %s investment", "scaled" if pick_scaled else "balanced")
    return (scaled, use_s) if pick_scaled else (inv["xI"], inv["use_I"])
