"""The agent model as the environment of policy-gradient training (:func:`planner.learned.pg.train_policy`).

An episode is one run of ``days`` days of a scenario with seed ``seed`` (misreporting units as
configured), planned by :class:`~abm.planning.learned_io.LearnedIOMethod` with the episode's
type inference and the action the trainer chose for each night. A day's transition carries the
day's humanity (OLIN-EP Eq. 5 on what citizens received), each region's utility and per-capita
allocation (the mean share of need its citizens received, capped at 1:
:func:`abm.learning.observe.region_utility`) and the next observation
(:func:`abm.learning.observe.observation`).

For the IC penalty the environment answers counterfactuals to first order: the pooled
observation gives every region the mean of the regional features, and each region's utility
under an action is yesterday's utility times the ratio of the action's priority to
yesterday's (capped at 1). The agent model cannot be re-run for every candidate action within
a night, so this is a local prediction, not a simulation.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
from innatura.abm.learning.observe import observation, observation_size, region_utility
from innatura.planner.errors import InvalidInputError

if TYPE_CHECKING:  # pragma: no cover
    from innatura.abm.model import PlanningEconomy
    from innatura.abm.planning.learned_io import LearnedIOMethod
    from innatura.planner.learned.inference import TypeInference
    from innatura.planner.learned.pg import PlanAction, Transition

__all__ = ["AgentModelEnvironment"]

logger = logging.getLogger(__name__)


class AgentModelEnvironment:
    """Episodes of the agent model for :func:`~planner.learned.pg.train_policy` (see the module).

    Args:
        scenario: a built-in scenario name, a TOML path or a spec.
        days: days per episode (the policy's horizon).
        misreport_share: share of units drawn to misreport.
        unit_strategy: their strategy (:func:`abm.adversarial.vocabulary.parse_strategy`; default
            ``overstate_inputs(2.0)``, the default of ``innatura train learned`` and of the study
            ``learned-vs-defences``).
        inference: type inference for de-biasing (``None``: the reports as they are).
        plan: the planning method that makes the plan.
        seed_offset: added to every episode's seed (training keeps clear of evaluation seeds).
        model_options: further keyword arguments of :class:`~abm.model.PlanningEconomy`.

    Attributes:
        n_regions, observation_size: of the scenario.
        model, method: the current episode's model and planning method.
    """

    def __init__(self, scenario: Any, days: int = 10, misreport_share: float = 0.3,
                 unit_strategy: Any = "overstate_inputs(2.0)", inference: TypeInference | None = None,
                 plan: str = "olin", seed_offset: int = 0, model_options: dict[str, Any] | None = None) -> None:
        from innatura.abm.model import load_spec

        if int(days) < 1:
            raise InvalidInputError(f"AgentModelEnvironment: days = {days!r} must be >= 1")
        self.spec = load_spec(scenario)
        self.days, self.share, self.strategy = int(days), float(misreport_share), unit_strategy
        self.inference, self.plan, self.seed_offset = inference, plan, int(seed_offset)
        self.model_options = dict(model_options or {})
        probe = self._build(0)
        self.n_regions = probe.layout.n_regions
        self.observation_size = observation_size(self.n_regions)
        self.base_investment = float(probe.settings.require("investment_share"))
        self.model: PlanningEconomy = probe
        self.method = self._method(probe)
        self._last_priorities = np.full(self.n_regions, 1.0 / self.n_regions)

    def _build(self, seed: int) -> PlanningEconomy:
        from innatura.abm.model import PlanningEconomy

        return PlanningEconomy(self.spec, rng=self.seed_offset + seed, days=self.days, misreport_share=self.share,
                               unit_strategy=self.strategy, citizen_strategy="honest", collect_agents=False,
                               **self.model_options)

    def _method(self, model: PlanningEconomy) -> LearnedIOMethod:
        from innatura.abm.planning.learned_io import LearnedIOMethod

        method = LearnedIOMethod(plan=self.plan, inference=self.inference, horizon=self.days)
        model.central_planner.method = method
        method.bind(model)
        return method

    def reset(self, seed: int) -> np.ndarray:
        """A fresh episode with model seed ``seed``; its first observation."""
        self.model = self._build(seed)
        self.method = self._method(self.model)
        self._last_priorities = np.full(self.n_regions, 1.0 / self.n_regions)
        return observation(self.model, self.days)

    def step(self, action: PlanAction) -> Transition:
        """Plan tonight with ``action`` and simulate the day."""
        from innatura.planner.learned.pg import Transition

        self.method.action = action
        self.model.step()
        self._last_priorities = np.asarray(action.priorities, dtype=float)
        u = region_utility(self.model)
        return Transition(observation=observation(self.model, self.days),
                          humanity=float(self.model.metrics["humanity"]), utility=u, allocation=u,
                          done=self.model.state.day >= self.days)

    def pooled_observation(self) -> np.ndarray:
        """The observation with every region given the mean of the regional features."""
        obs = observation(self.model, self.days)
        R = self.n_regions
        out = obs.copy()
        out[:R] = obs[:R].mean()
        out[R:2 * R] = obs[R:2 * R].mean()
        return out

    def utilities(self, action: PlanAction) -> np.ndarray:
        """Each region's utility under ``action``, predicted from yesterday's (see the module)."""
        ratio = np.asarray(action.priorities, dtype=float) / np.maximum(self._last_priorities, 1e-12)
        return np.minimum(region_utility(self.model) * ratio, 1.0)
