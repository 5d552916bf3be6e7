"""Mesa agents of the planning economy: each kind carries its behaviour, over the model's arrays.

The hot state of every agent lives in :class:`abm.state.State` (numpy arrays indexed by the
agent's ``index``); an agent object exposes its slice under readable names. Each kind's
behaviour is a *whole-population* class method that works on the arrays of all agents of the
class at once, and the model drives it through its AgentSets (``model.agents_by_type``):

* :class:`Citizen`: :meth:`~Citizen.report_demands` (tonight's demand factors) and
  :meth:`~Citizen.consume` (what each received, and the satisfaction it remembers);
* :class:`ProductionUnit`: :meth:`~ProductionUnit.report_all` (input and capacity factors),
  :meth:`~ProductionUnit.produce` (a shift of production with the TRUE technology) and
  :meth:`~ProductionUnit.refit` (learning from what execution revealed);
* :class:`Region`: :meth:`~Region.ship` (goods along the region graph);
* the central planner (:class:`abm.central_planner.CentralPlanner`) turns the reports into a
  night's plan.

Reporting also has a *per-agent* form, :meth:`Citizen.report_demand` and
:meth:`ProductionUnit.report_factors`. The whole-population method groups the agents by their
``strategy`` attribute and calls each strategy once; a subclass that overrides the per-agent
method is called agent by agent instead, so that a new behaviour is plain Python at the speed
cost its author chooses::

    class Cautious(Citizen):
        def report_demand(self) -> float:
            return 0.9 if self.received < 1.0 else 1.0

    class CautiousEconomy(PlanningEconomy):
        citizen_type = Cautious

Agents cannot be removed one by one (:meth:`~EconomyAgent.remove` refuses): the arrays are
laid out by the scenario, and an AgentSet out of step with them would corrupt the run.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
from innatura.abm.execution import ProductionResult, produce
from innatura.abm.reporting import StrategyContext, strategy_reports
from innatura.abm.transport import TransportResult, transport
from innatura.planner.errors import InvalidInputError
from mesa.discrete_space import FixedAgent

if TYPE_CHECKING:  # pragma: no cover
    from innatura.abm.adversarial.base import Strategy
    from innatura.abm.day import DayOutcome
    from innatura.abm.model import PlanningEconomy
    from innatura.abm.reporting import Evidence

__all__ = [
    "QUERY_OVERSHOOT",
    "SATISFACTION_WEIGHT",
    "Citizen",
    "EconomyAgent",
    "ProductionUnit",
    "Region",
]

logger = logging.getLogger(__name__)

#: weight of the last day in a citizen's satisfaction (an exponential average of the share of
#: its need received, capped at 1): about five days of memory, long enough to smooth a single
#: bad delivery, short enough to show a famine within a week.
SATISFACTION_WEIGHT = 0.2
#: where a unit queries its own process when a target leaves its sampled range: at this
#: multiple of the target, so that the next few nights' growth stays inside what it knows.
QUERY_OVERSHOOT = 2.0


class EconomyAgent(FixedAgent):
    """What every agent of the planning economy shares: an ``index`` into the model's arrays,
    a fixed cell of the region graph, and no removal one by one."""

    model: PlanningEconomy

    def __init__(self, model: PlanningEconomy, index: int, cell: Any = None) -> None:
        super().__init__(model)
        self.index = index
        if cell is not None:
            self.cell = cell

    def remove(self) -> None:
        """Refused: the model's arrays (population, stocks, reports) are laid out by the scenario,
        and removing one agent would leave its AgentSet and its arrays out of step."""
        raise InvalidInputError(
            f"{type(self).__name__} {self.index}: agents of a PlanningEconomy cannot be removed one by one "
            "(the model's arrays are laid out by the scenario); change the scenario instead, or give the "
            "agent an honest strategy")

    def step(self) -> None:
        """Agents act through their class's whole-population methods, driven by the model."""


def _overrides(cls: type, base: type, method: str) -> bool:
    return getattr(cls, method) is not getattr(base, method)


class Region(EconomyAgent):
    """A region: a node of the region graph holding an inventory and a population."""

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

    @classmethod
    def ship(cls, model: PlanningEconomy, stocks: np.ndarray, need: np.ndarray,
             capacity: np.ndarray) -> TransportResult:
        """All regions ship goods towards ``need`` along the region graph's shortest paths,
        within the edges' remaining daily ``capacity`` (:func:`abm.transport.transport`)."""
        lay = model.layout
        return transport(stocks, need, lay.paths, capacity, lay.edge_loss, model.path_keep)


class Citizen(EconomyAgent):
    """A citizen on a consumption profile, living in a region."""

    @property
    def region(self) -> Region:
        """The region the citizen lives in."""
        return self.model.regions[int(self.model.layout.citizen_region[self.index])]

    @property
    def profile(self) -> str:
        return self.model.layout.profiles[self.model.layout.citizen_profile[self.index]]

    @property
    def needs(self) -> np.ndarray:
        """True daily need of every good (the profile's bundle), ``(n,)``."""
        return self.model.layout.economy.bundles[:, self.model.layout.citizen_profile[self.index]]

    @property
    def strategy(self) -> Strategy:
        """The citizen's reporting strategy; set it to change how it reports from tonight
        (an object or its text: ``citizen.strategy = "inflate(2.0)"``)."""
        return self.model.state.strategy("citizen", self.index)

    @strategy.setter
    def strategy(self, value: Any) -> None:
        from innatura.abm.adversarial.vocabulary import parse_strategy

        self.model.state.assign("citizen", self.index, parse_strategy(value, kind="citizen"))

    @property
    def report_factor(self) -> float:
        """Last night's demand factor (after validation and defences)."""
        return float(self.model.state.citizen_factor[self.index])

    @property
    def received(self) -> float:
        """Share of its true need received on the last day."""
        return float(self.model.state.citizen_received[self.index])

    @property
    def satisfaction(self) -> float:
        return float(self.model.state.citizen_satisfaction[self.index])

    # -- behaviour ------------------------------------------------------------------------------
    def report_demand(self) -> float:
        """Tonight's demand factor of this citizen (its reported over its true need; 1: honest).

        The per-agent form of :meth:`report_demands`: a subclass that overrides it is called
        once per agent of the subclass; the base class reports by its :attr:`strategy`.
        """
        model = self.model
        index = np.array([self.index])
        ctx = citizen_context(model, index, model.state.evidence())
        memory = model.strategy_memory("citizen", int(model.state.citizen_code[self.index]))
        return float(self.strategy.report(ctx if memory is None else replace(ctx, memory=memory))[0])

    @classmethod
    def report_demands(cls, model: PlanningEconomy, index: np.ndarray, evidence: Evidence) -> np.ndarray:
        """Tonight's demand factors of the citizens ``index`` (all of this class), ``(k,)``,
        before validation: each strategy once on all its citizens, or :meth:`report_demand`
        per citizen when the class overrides it."""
        if _overrides(cls, Citizen, "report_demand"):
            return np.array([model.citizens[i].report_demand() for i in index.tolist()], dtype=float)
        st = model.state
        (out,) = strategy_reports(st.citizen_code[index], st.citizen_strategies,
                                  lambda pos: citizen_context(model, index[pos], evidence), 1,
                                  memory=lambda code: model.strategy_memory("citizen", code))
        return out

    @classmethod
    def consume(cls, model: PlanningEconomy, outcome: DayOutcome) -> tuple[np.ndarray, np.ndarray]:
        """What every citizen received of its need on the day of ``outcome``, and the
        satisfaction it remembers (an exponential average, :data:`SATISFACTION_WEIGHT`).

        The region's delivered share of a profile's reported demand is split over its citizens
        in proportion to their demand factors, so a citizen who claimed more receives more.
        """
        lay, st = model.layout, model.state
        m = lay.population.shape[1]
        grp = lay.citizen_region * m + lay.citizen_profile
        mean_f = np.divide(outcome.weights, lay.population, out=np.ones_like(outcome.weights),
                           where=lay.population > 0).ravel()
        got = np.nan_to_num(outcome.delivery.region_share.ravel()[grp] / np.maximum(mean_f[grp], 1e-300)
                            * st.citizen_factor)
        if st.day == 0:
            return got, got
        keep = 1.0 - SATISFACTION_WEIGHT
        return got, keep * st.citizen_satisfaction + SATISFACTION_WEIGHT * np.minimum(got, 1.0)


def citizen_context(model: PlanningEconomy, index: np.ndarray, evidence: Evidence) -> StrategyContext:
    """What the strategy of the citizens ``index`` sees tonight."""
    st = model.state
    return StrategyContext(index, st.citizen_param[index], st.day + 1, model.rng, st.citizen_factor[index],
                           evidence, "citizen", model.layout.citizen_region)


def unit_context(model: PlanningEconomy, index: np.ndarray, evidence: Evidence) -> StrategyContext:
    """What the strategy of the units ``index`` sees tonight."""
    st = model.state
    return StrategyContext(index, st.unit_param[index], st.day + 1, model.rng, st.unit_input_factor[index],
                           evidence, "unit", model.reporting_regions)


class ProductionUnit(EconomyAgent):
    """A production unit: one good, one region, a private true technology and capacity.

    Attributes:
        entries: the entries of ``Layout.true_inputs`` whose use the unit learns (its curve inputs).
    """

    def __init__(self, model: PlanningEconomy, index: int, cell: Any = None, entries: np.ndarray | None = None) -> None:
        super().__init__(model, index, cell)
        self.entries = np.zeros(0, dtype=np.int64) if entries is None else entries

    @property
    def region(self) -> Region:
        """The region the unit works in."""
        return self.model.regions[int(self.model.layout.unit_region[self.index])]

    @property
    def name(self) -> str:
        return self.model.layout.unit_names[self.index]

    @property
    def good(self) -> str:
        return self.model.layout.goods[self.model.layout.unit_good[self.index]]

    @property
    def learned_inputs(self) -> tuple[str, ...]:
        goods = self.model.layout.goods
        return tuple(goods[g] for g in self.model.layout.true_inputs.good[self.entries])

    @property
    def strategy(self) -> Strategy:
        """The unit's reporting strategy; set it to change how it reports from tonight."""
        return self.model.state.strategy("unit", self.index)

    @strategy.setter
    def strategy(self, value: Any) -> None:
        from innatura.abm.adversarial.vocabulary import parse_strategy

        self.model.state.assign("unit", self.index, parse_strategy(value, kind="unit"))

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
        e = self.entries
        return ti.scale[e] * np.maximum(q, 0.0) ** ti.exponent[e]

    # -- behaviour ------------------------------------------------------------------------------
    def report_factors(self) -> tuple[float, float]:
        """Tonight's ``(input factor, capacity factor)`` of this unit (1, 1: honest).

        The per-agent form of :meth:`report_all`: a subclass that overrides it is called once
        per agent of the subclass; the base class reports by its :attr:`strategy`.
        """
        model = self.model
        ctx = unit_context(model, np.array([self.index]), model.state.evidence())
        memory = model.strategy_memory("unit", int(model.state.unit_code[self.index]))
        inp, cap = self.strategy.report(ctx if memory is None else replace(ctx, memory=memory))
        return float(inp[0]), float(cap[0])

    @classmethod
    def report_all(cls, model: PlanningEconomy, index: np.ndarray,
                   evidence: Evidence) -> tuple[np.ndarray, np.ndarray]:
        """Tonight's input and capacity factors of the units ``index`` (all of this class),
        before validation."""
        if _overrides(cls, ProductionUnit, "report_factors"):
            pairs = [model.units[i].report_factors() for i in index.tolist()]
            return np.array([p[0] for p in pairs], dtype=float), np.array([p[1] for p in pairs], dtype=float)
        st = model.state
        inp, cap = strategy_reports(st.unit_code[index], st.unit_strategies,
                                    lambda pos: unit_context(model, index[pos], evidence), 2,
                                    memory=lambda code: model.strategy_memory("unit", code))
        return inp, cap

    @classmethod
    def produce(cls, model: PlanningEconomy, targets: np.ndarray, stocks: np.ndarray, labour: np.ndarray,
                **options: Any) -> ProductionResult:
        """One shift of production of every unit with its TRUE technology, out of ``stocks`` and
        ``labour`` (:func:`abm.execution.produce`; ``options`` as there)."""
        return produce(targets, model.layout.technology, stocks, labour, **options)

    @classmethod
    def refit(cls, model: PlanningEconomy, outcome: DayOutcome) -> tuple[np.ndarray, np.ndarray]:
        """Every learning unit adds what execution revealed (its true input use at its output)
        to its samples, queries its process at :data:`QUERY_OVERSHOOT` times a target beyond
        what it knows, and refits; returns each unit's ``(true, reported)`` use of its learned
        inputs at its output, ``(U,)`` each, the report being last night's."""
        st, s = model.state, model.settings
        use = outcome.production.entry_use
        true_use = np.zeros(model.layout.n_units)
        rep_use = np.zeros(model.layout.n_units)
        for u, ent in model.curves.learned.items():
            q = float(outcome.production.output[u])
            if q <= 0 or ent.size == 0:
                continue
            g = use[ent]
            true_use[u] = g.sum()
            rep_use[u] = model.curves.reported_use(u, st, q)
            smp = st.samples[u]
            if smp is None:  # a unit without samples has nothing to refit
                continue
            changed = smp.add(q, g, min_gap=s.observation_gap)
            if outcome.targets[u] > smp.qs[-1] * (1 + s.observation_gap) and s.daily_queries > 0:
                top = QUERY_OVERSHOOT * float(outcome.targets[u])
                changed |= smp.add(top, model.units[u].query(top))
                st.extra_queries[u] += 1
            if changed:
                smp.prune(s.max_samples)
                st.sample_version[u] += 1
        return true_use, rep_use
