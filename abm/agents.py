"""Mesa agents of the planning economy: thin views into the model's arrays.

The hot state of every agent lives in :class:`abm.state.State` (numpy arrays indexed by the
agent's ``index``); an agent object exposes its slice under readable names, for the browser
view, for inspection and for tests. The day itself runs vectorised over all agents at once
(:mod:`abm.day`), never agent by agent.

* :class:`Region`: a node of the region graph (:class:`mesa.discrete_space.Network` cell):
  inventory, population, transport links.
* :class:`Citizen`: lives in a region; profile, true needs, reporting strategy, what it
  received, satisfaction.
* :class:`ProductionUnit`: makes one good in one region with a PRIVATE true technology and
  capacity; learns the curve it reports by querying itself (:mod:`abm.active_learning`).
* :class:`CentralPlanner`: aggregates the reports each night and calls the planning method.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import mesa
import numpy as np
from mesa.discrete_space import FixedAgent

if TYPE_CHECKING:  # pragma: no cover
    from innatura.abm.model import PlanningEconomy

__all__ = ["CentralPlanner", "Citizen", "ProductionUnit", "Region"]

logger = logging.getLogger(__name__)


class Region(FixedAgent):
    """A region: a node of the region graph holding an inventory and a population."""

    def __init__(self, model: PlanningEconomy, index: int, cell) -> None:  # noqa: ANN001
        super().__init__(model)
        self.index = index
        self.cell = cell

    @property
    def name(self) -> str:
        return self.model.layout.regions[self.index]

    @property
    def inventory(self) -> np.ndarray:
        """Stock of every good in the region, ``(n,)`` (a view: read-only by convention)."""
        return self.model.state.stocks[self.index]

    @property
    def population(self) -> np.ndarray:
        """Citizens per profile in the region, ``(m,)``."""
        return self.model.layout.population[self.index]

    @property
    def links(self) -> list[tuple[int, float, float]]:
        """``(neighbour, capacity, loss)`` of each transport edge leaving the region."""
        lay = self.model.layout
        out = np.flatnonzero(lay.edge_src == self.index)
        return [(int(lay.edge_dst[e]), float(lay.edge_capacity[e]), float(lay.edge_loss[e].min())) for e in out]

    def step(self) -> None:
        """Regions act through the vectorised day (:mod:`abm.day`)."""


class Citizen(FixedAgent):
    """A citizen on a consumption profile, living in a region."""

    def __init__(self, model: PlanningEconomy, index: int, cell) -> None:  # noqa: ANN001
        super().__init__(model)
        self.index = index
        self.cell = cell

    @property
    def profile(self) -> str:
        return self.model.layout.profiles[self.model.layout.citizen_profile[self.index]]

    @property
    def needs(self) -> np.ndarray:
        """True daily need of every good (the profile's bundle), ``(n,)``."""
        return self.model.layout.economy.bundles[:, self.model.layout.citizen_profile[self.index]]

    @property
    def strategy(self) -> str:
        st = self.model.state
        return st.citizen_strategies[st.citizen_code[self.index]]

    @property
    def report_factor(self) -> float:
        return float(self.model.state.citizen_factor[self.index])

    @property
    def received(self) -> float:
        """Share of its true need received on the last day."""
        return float(self.model.state.citizen_received[self.index])

    @property
    def satisfaction(self) -> float:
        return float(self.model.state.citizen_satisfaction[self.index])

    def step(self) -> None:
        """Citizens act through the vectorised day (:mod:`abm.day`)."""


class ProductionUnit(FixedAgent):
    """A production unit: one good, one region, a private true technology and capacity."""

    def __init__(self, model: PlanningEconomy, index: int, cell) -> None:  # noqa: ANN001
        super().__init__(model)
        self.index = index
        self.cell = cell
        lay = model.layout
        ent = np.flatnonzero((lay.true_inputs.unit == index) & lay.entry_curve)
        self._entries = ent  # the inputs whose use the unit learns (its curve cells)

    @property
    def name(self) -> str:
        return self.model.layout.unit_names[self.index]

    @property
    def good(self) -> str:
        return self.model.layout.goods[self.model.layout.unit_good[self.index]]

    @property
    def learned_inputs(self) -> tuple[str, ...]:
        goods = self.model.layout.goods
        return tuple(goods[g] for g in self.model.layout.true_inputs.good[self._entries])

    @property
    def strategy(self) -> str:
        st = self.model.state
        return st.unit_strategies[st.unit_code[self.index]]

    @property
    def target(self) -> float:
        return float(self.model.state.unit_target[self.index])

    @property
    def output(self) -> float:
        return float(self.model.state.unit_output[self.index])

    @property
    def reported_capacity(self) -> float:
        return float(self.model.state.unit_reported_capacity[self.index])

    def query(self, q: float) -> np.ndarray:
        """Ask the unit's own (true, private) process what its learned inputs need for ``q``."""
        ti = self.model.layout.true_inputs
        e = self._entries
        return ti.scale[e] * np.maximum(q, 0.0) ** ti.exponent[e]

    def step(self) -> None:
        """Units act through the vectorised day (:mod:`abm.day`)."""


class CentralPlanner(mesa.Agent):
    """The central planner: each night turns the reports into a plan with its planning method
    (:mod:`abm.planning`)."""

    def __init__(self, model: PlanningEconomy, method) -> None:  # noqa: ANN001
        super().__init__(model)
        self.method = method
        self.last_inputs = None
        self.last_decision = None
        self.fallback = False

    def plan(self, inputs):  # noqa: ANN001, ANN201
        """Call the planning method on tonight's inputs and remember both.

        If the method fails (a solver that stops without an optimum), yesterday's plan is kept
        and ``fallback`` is set, so that a run survives a bad night; with no earlier plan the
        error propagates.
        """
        from innatura.planner.errors import ConvergenceError, InfeasiblePlanError

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
        """The planner acts through the vectorised day (:mod:`abm.day`)."""
