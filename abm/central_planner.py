"""The central planner agent: each night it turns the reports into a plan with its planning
method (:mod:`abm.planning`) and keeps yesterday's plan when the method fails."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import mesa
from innatura.planner.errors import ConvergenceError, InfeasiblePlanError, InvalidInputError

if TYPE_CHECKING:  # pragma: no cover
    from innatura.abm.model import PlanningEconomy
    from innatura.abm.night import NightPlan
    from innatura.abm.reporting import NightReports

__all__ = ["CentralPlanner"]

logger = logging.getLogger(__name__)


class CentralPlanner(mesa.Agent):
    """The central planner: each night turns the reports into a plan with its planning method
    (:mod:`abm.planning`).

    Attributes:
        method: the planning method (:class:`abm.planning.PlanningMethod`).
        last_inputs, last_decision: the last night's inputs and decision.
        fallback: whether the last night's method failed and yesterday's plan was kept.
    """

    def __init__(self, model: PlanningEconomy, method: Any) -> None:
        super().__init__(model)
        self.method = method
        if callable(getattr(method, "bind", None)):
            method.bind(model)  # a method that reads the model (abm.planning.learned_io)
        self.last_inputs = None
        self.last_decision = None
        self.fallback = False

    def remove(self) -> None:
        """Refused: the model cannot plan without its central planner."""
        raise InvalidInputError("the central planner of a PlanningEconomy cannot be removed")

    def plan_night(self, reports: NightReports) -> NightPlan:
        """Tonight's plan from ``reports`` (:func:`abm.night.plan_night`)."""
        from innatura.abm.night import plan_night

        return plan_night(self.model, reports)

    def plan(self, inputs: Any) -> Any:
        """Call the planning method on tonight's inputs and remember both.

        If the method fails (a solver that stops without an optimum), yesterday's plan is kept
        and ``fallback`` is set, so that a run survives a bad night; with no earlier plan the
        error propagates.
        """
        self.fallback = False
        try:
            decision = self.method.plan(inputs)
        except (InfeasiblePlanError, ConvergenceError) as exc:
            if self.last_decision is None:
                raise
            logger.warning("day %d: planner %s failed (%s); keeping yesterday's plan",
                           inputs.day, getattr(self.method, "name", "?"), exc)
            self.fallback = True
            decision = self.last_decision
        self.last_inputs, self.last_decision = inputs, decision
        return decision

    def step(self) -> None:
        """The planner acts through :meth:`plan_night`, driven by the model."""

