"""OLIN-EP's bounded daily plan as a planning method of the agent model (``planner="olin"``):
national (:func:`innatura.planner.plan.plan_day`) or on the region graph
(:func:`innatura.planner.regional.plan_regional`) when the night brings a regional problem."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
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

    When ``inputs.regional`` holds the night's regional problem (``RunSettings.plan =
    "regional"``), the same stages are planned on the region graph
    (:func:`innatura.planner.regional.plan_regional`, docs/model.md, "The regional plan"): the
    exact LPs for small economies, the decomposed method for large ones, each night warm-started
    from the previous night's plan.

    Args:
        warm_start: start each night from yesterday's plan.
        regional_method: ``"lp"``, ``"decomposed"`` or ``None`` (by size; see
            :func:`~innatura.planner.regional.plan_regional`).
        regional_layers: ``None`` (default: the ``"overnight"`` timing) or ``L >= 1``: plan
            the day in ``L`` layers with shipments between them (``timing="layers"``, the
            exact method only; docs/model.md, "Timing").
        options: further keyword arguments of ``plan_day`` (``max_slp_iter``, ``tol``).
    """

    name = "olin"

    def __init__(self, warm_start: bool = True, regional_method: str | None = None,
                 regional_layers: int | None = None, **options: Any) -> None:
        self.warm_start = bool(warm_start)
        self.regional_method = regional_method
        if regional_layers is not None and (isinstance(regional_layers, bool) or not isinstance(regional_layers, int)
                                            or regional_layers < 1):
            raise InvalidInputError(f"planner {self.name!r}: regional_layers: {regional_layers!r}; expected a whole "
                                    "number >= 1")
        self.regional_layers = regional_layers
        self.options = dict(options)
        self._last: np.ndarray | None = None
        self._targets: np.ndarray | None = None
        self._warm: dict[str, Any] | None = None
        self._curves = CurveCache()  # the reported curves' store, re-used while the reports stand

    def state_dict(self) -> dict[str, Any]:
        """The method's memory as plain data: ``{"last": yesterday's production (n,) or None}``,
        and after a night on the region graph also ``"targets"`` (yesterday's unit targets
        ``(U,)``, the exact method's start) and ``"warm"`` (:attr:`RegionalPlan.warm`, a dict of
        numbers).

        The store of the reported curves is a cache that gives the same numbers when rebuilt,
        so it is not part of the state; the options are the method's parameters."""
        state: dict[str, Any] = {"last": None if self._last is None else self._last.copy()}
        if self._targets is not None:
            state["targets"] = self._targets.copy()
            state["warm"] = {} if self._warm is None else {k: float(v) for k, v in self._warm.items()}
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore the memory :meth:`state_dict` gave.

        Raises:
            InvalidInputError: ``state`` is not what :meth:`state_dict` gives (a field missing,
                of another type, or not finite).
        """
        regional = isinstance(state, Mapping) and "targets" in state
        check_state(self.name, state, {"last", "targets", "warm"} if regional else {"last"})
        last = _floats(self.name, "last", state["last"])
        targets = _floats(self.name, "targets", state["targets"]) if regional else None
        warm = state["warm"] if regional else None
        if warm is not None and not (isinstance(warm, Mapping) and all(
                isinstance(k, str) and isinstance(v, (int, float)) and np.isfinite(v) for k, v in warm.items())):
            raise InvalidInputError(f"planner {self.name!r}: state 'warm': expected a dict of finite numbers, "
                                    f"got {warm!r}")
        self._last = last
        self._targets = targets
        self._warm = None if not warm else {k: float(v) for k, v in warm.items()}

    def plan(self, inputs: PlanningInputs) -> PlanDecision:
        if inputs.regional is not None:
            return self._plan_regional(inputs)
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

    def _plan_regional(self, inputs: PlanningInputs) -> PlanDecision:
        from innatura.abm.regional import decision_fields
        from innatura.planner.regional import plan_regional

        problem = inputs.regional
        if problem is None:  # pragma: no cover - plan() calls this with a regional problem only
            raise InvalidInputError(f"planner {self.name!r}: no regional problem tonight")
        if self.regional_layers is not None:
            problem = replace(problem, timing="layers", layers=self.regional_layers)
        warm = self.warm_start and self._targets is not None and self._targets.shape == (problem.n_units,)
        options = {k: v for k, v in self.options.items() if k in ("max_slp_iter", "tol")}
        plan = plan_regional(problem, self.regional_method, x_start=self._targets if warm else None,
                             warm=self._warm if self.warm_start else None, pipeline=True, **options)
        self._targets = np.asarray(plan.unit_targets, dtype=float)
        self._warm = dict(plan.warm) if plan.warm else None
        fields = decision_fields(problem, plan)
        self._last = fields["production"]
        info = {"status": plan.status, "method": plan.method, "lp_iterations": plan.lp_iterations,
                "slp_iterations": plan.slp_iterations, "bottleneck": plan.bottleneck,
                "national_fulfilment": plan.national_fulfilment, "safety_share": plan.safety_share}
        return PlanDecision(info=info, **fields)


def _floats(method: str, key: str, value: Any) -> np.ndarray | None:
    """A state field that is a 1-d array of finite floats, or ``None``."""
    if value is None:
        return None
    if not (isinstance(value, np.ndarray) and value.ndim == 1 and value.dtype.kind == "f"
            and np.all(np.isfinite(value))):
        raise InvalidInputError(f"planner {method!r}: state {key!r}: expected a 1-d array of finite floats "
                                f"or None, got {type(value).__name__}")
    return np.array(value, dtype=float)
