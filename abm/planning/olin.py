"""OLIN-EP's bounded daily plan as a planning method of the agent model (``planner="olin"``)."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from innatura.abm.planning.base import PlanDecision, PlanningInputs
from innatura.planner.curves import CurveCache

__all__ = ["OlinMethod"]

logger = logging.getLogger(__name__)


class OlinMethod:
    """OLIN-EP's bounded daily plan (docs/model.md, "The bounded daily plan"), via
    :func:`innatura.planner.plan.plan_day`; each night starts its successive LPs from the
    previous night's production.

    Args:
        warm_start: start the successive LPs from yesterday's production.
        options: further keyword arguments of ``plan_day`` (``max_slp_iter``, ``tol``).
    """

    name = "olin"

    def __init__(self, warm_start: bool = True, **options: Any) -> None:
        self.warm_start = bool(warm_start)
        self.options = dict(options)
        self._last: np.ndarray | None = None
        self._curves = CurveCache()  # the reported curves' store, re-used while the reports stand

    def plan(self, inputs: PlanningInputs) -> PlanDecision:
        from innatura.planner.plan import plan_day

        start = self._last if self.warm_start and self._last is not None and self._last.any() else None
        options = {"safety_stock": inputs.safety_stock, **self.options}
        p = plan_day(inputs.economy, inputs.stocks, inputs.labour_supply, inputs.capacity,
                     inputs.investment_share, x_start=start, curves=self._curves.store(inputs.economy.curves),
                     **options)
        self._last = np.asarray(p.production, dtype=float)
        return PlanDecision(
            production=np.asarray(p.production, dtype=float),
            allocation=np.asarray(p.allocation, dtype=float),
            fulfilment=np.asarray(p.fulfilment, dtype=float),
            planned_humanity=float(p.planned_humanity),
            info={"status": p.status, "lp_iterations": p.lp_iterations, "slp_iterations": p.slp_iterations},
        )
