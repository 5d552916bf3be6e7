"""OLIN-EP's bounded daily plan as a planning method of the agent model (``planner="olin"``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
from innatura.abm.planning.base import PlanDecision, PlanningInputs, check_state
from innatura.planner.curves import CurveCache
from innatura.planner.errors import InvalidInputError

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

    def state_dict(self) -> dict[str, Any]:
        """The method's memory as plain data: ``{"last": yesterday's production (n,) or None}``.

        The store of the reported curves is a cache that gives the same numbers when rebuilt,
        so it is not part of the state; the options are the method's parameters."""
        return {"last": None if self._last is None else self._last.copy()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore the memory :meth:`state_dict` gave.

        Raises:
            InvalidInputError: ``state`` is not what :meth:`state_dict` gives (a field missing,
                of another type, or not finite).
        """
        check_state(self.name, state, {"last"})
        last = state["last"]
        if last is not None and not (isinstance(last, np.ndarray) and last.ndim == 1 and last.dtype.kind == "f"
                                     and np.all(np.isfinite(last))):
            raise InvalidInputError(f"planner {self.name!r}: state 'last': expected a 1-d array of finite floats "
                                    f"or None, got {type(last).__name__}")
        self._last = None if last is None else np.array(last, dtype=float)

    def plan(self, inputs: PlanningInputs) -> PlanDecision:
        from innatura.planner.plan import plan_day

        start = self._last if self.warm_start and self._last is not None and self._last.any() else None
        if start is not None and start.shape != inputs.stocks.shape:
            raise InvalidInputError(f"planner {self.name!r}: its warm start has {start.size} goods, the economy "
                                    f"{inputs.stocks.size} (a state restored from another economy?)")
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
