"""``PlanningEconomy``: the Mesa model of an economy planned in natura, day by day.

Build it from a scenario (a built-in name, a TOML path or a :class:`scenarios.spec.ScenarioSpec`)
and step it; each step is one day (docs/architecture.md, "One day as a data flow"): citizens
and units report, the central planner plans the night, units execute with their TRUE
technology, goods are lost, shipped and handed out, and the day is observed (metrics, curve
refits, invariants). The model stops (``running = False``) after the run's ``days``.

    >>> model = PlanningEconomy("selviaria", rng=42, days=3)
    >>> model.run_model()
    >>> model.day, model.running
    (3, False)
    >>> round(model.model_frame()["humanity"].iloc[-1], 3)  # doctest: +SKIP
    0.083
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any, TypeVar

import mesa
import numpy as np
from innatura.abm.active_learning import learn_units
from innatura.abm.adversarial.base import Honest
from innatura.abm.adversarial.vocabulary import UNIT_STRATEGIES
from innatura.abm.agents import Citizen, EconomyAgent, ProductionUnit, Region
from innatura.abm.central_planner import CentralPlanner
from innatura.abm.collect import (
    agent_reporters,
    day_metrics,
    edge_rows,
    metric_columns,
    model_reporters,
    region_rows,
    unit_rows,
)
from innatura.abm.day import execute, observe, plan, report
from innatura.abm.invariants import check_day
from innatura.abm.layout import Layout, StockLoss, build_layout, merge_regions
from innatura.abm.planning import make_method
from innatura.abm.reported_curves import ReportedCurves
from innatura.abm.settings import RunSettings
from innatura.abm.shipments import EdgeShipments, day_shipments
from innatura.abm.state import State
from innatura.abm.transport import path_keep
from innatura.planner.errors import InvalidInputError
from innatura.scenarios.limits import check_model_fits
from mesa.discrete_space import Network

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from innatura.abm.day import DayOutcome
    from innatura.scenarios.spec import ScenarioSpec

#: an agent kind of the economy (for :meth:`PlanningEconomy.groups`).
A = TypeVar("A", bound=EconomyAgent)

__all__ = ["DEFAULT_HORIZON", "DEFAULT_LOSS_FRACTION", "PHASES", "PlanningEconomy", "load_spec"]

logger = logging.getLogger(__name__)

#: phases of a day, as timed in :attr:`PlanningEconomy.timings`.
PHASES = ("report", "plan", "execute", "collect")
#: top of the query range of an unbounded unit whose good has no bounded unit either: some
#: order to start learning at (the samples then follow the targets the planner sets).
DEFAULT_HORIZON = 1000.0
#: share of a stock a default loss event takes (``noise=`` on a scenario without loss events).
DEFAULT_LOSS_FRACTION = 0.2


def load_spec(scenario: Any) -> ScenarioSpec:
    """A scenario spec from a built-in name, a TOML path, or a spec (returned as is)."""
    if hasattr(scenario, "to_economy"):
        return scenario
    from innatura import scenarios

    return scenarios.load(scenario)


class PlanningEconomy(mesa.Model):
    """An economy planned in natura: regions, citizens, production units and a central planner.

    Agents: :class:`~abm.agents.Region` (one per node of the region graph),
    :class:`~abm.agents.Citizen`, :class:`~abm.agents.ProductionUnit` and one
    :class:`~abm.central_planner.CentralPlanner`; the classes used are the class attributes
    ``region_type``, ``citizen_type``, ``unit_type`` and ``planner_type``, so that a subclass of
    the model can populate it with subclasses of the agents.

    Attributes:
        settings: the run's :class:`~abm.settings.RunSettings`, with the scenario's values
            filled in (investment share, safety stock, days).
        layout: the economy's static arrays (:class:`~abm.layout.Layout`).
        state: its day-to-day arrays (:class:`~abm.state.State`).
        curves: the units' reported curves (:class:`~abm.reported_curves.ReportedCurves`).
        regions, citizens, units: the agents, by index; central_planner: the planner agent.
        scenario_source, seed: the scenario as given, and the seed (``None`` unless a number).
        defence_chain: the callables applied to the reports each night, in order (the bound
            ``settings.defences``; experiments may add their own).
        metrics: the last day's model-level row; last_outcome: the last
            :class:`~abm.day.DayOutcome`; timings: seconds per phase and day; setup_timings:
            seconds of the set-up (layout, agents, state, rest).
    """

    citizen_type: type[Citizen] = Citizen
    unit_type: type[ProductionUnit] = ProductionUnit
    region_type: type[Region] = Region
    planner_type: type[CentralPlanner] = CentralPlanner

    def __init__(self, scenario: Any = "selviaria", *, rng: Any = None, settings: RunSettings | None = None,
                 **options: Any) -> None:
        """Build the economy of ``scenario``.

        Args:
            scenario: built-in scenario name, path to a scenario TOML file, or a spec.
            rng: seed or ``numpy.random.Generator`` (Mesa's ``rng=``); all randomness flows from it.
            settings: a :class:`~abm.settings.RunSettings`; or give its options as keywords.
            **options: the options of :class:`~abm.settings.RunSettings` (not with
                ``settings``): ``planner``, ``planner_options``, ``plan``, ``days``,
                ``investment_share``, ``safety_stock``, ``noise``, ``misreport_share``,
                ``citizen_strategy``, ``unit_strategy``, ``defences``, ``query_budget``,
                ``query_noise``, ``daily_queries``, ``max_samples``, ``observation_gap``,
                ``output_loss``, ``shifts``, ``strict``, ``collect_agents``, ``single_region``,
                ``staffed_capacity``, ``regional_dispatch``, ``regional_labour_rounds``.

        Raises:
            InvalidInputError: an unknown option (named, with the known ones), an invalid
                value, or an unknown scenario, planner, strategy or defence.
        """
        if settings is not None and options:
            raise InvalidInputError(f"PlanningEconomy: give settings= or options ({', '.join(options)}), not both")
        given = settings if settings is not None else RunSettings.from_options(**options)
        super().__init__(rng=rng)
        t0 = time.perf_counter()
        self.spec = check_model_fits(load_spec(scenario))
        self.scenario_source = scenario
        self.seed = int(rng) if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) else None
        self.layout: Layout = self._layout(given)
        lay = self.layout
        plan = lay.default_plan or "national"
        self.settings = given.resolved(investment_share=lay.investment_share, safety_stock=lay.safety_stock,
                                       days=lay.default_days, plan=plan)
        t1 = time.perf_counter()
        self._place_agents()
        t2 = time.perf_counter()
        entries = [u.entries for u in self.units]
        self.state = self._initial_state(entries)
        t3 = time.perf_counter()
        learners = [u for u in range(lay.n_units) if self.state.samples[u] is not None]
        self.curves = ReportedCurves.of(lay, learners, entries)
        self.path_keep = path_keep(lay.paths, lay.edge_loss) if lay.paths.shape[1] else None
        self.reporting_regions = self._reporting_regions()
        self.defence_chain: list[Any] = [d.bind(self) for d in self.settings.defences]
        #: what the strategies remember, per (kind, strategy code) (:meth:`strategy_memory`).
        self.memories: dict[tuple[str, int], Any] = {}
        self.metrics: dict[str, float] = {}
        self.timings: dict[str, list[float]] = {p: [] for p in PHASES}
        self.unit_log: list[dict[str, np.ndarray]] = []
        self.region_log: list[dict[str, np.ndarray]] = []
        self.edge_log: list[dict[str, np.ndarray]] = []
        #: each night's binding constraints of a regional plan (abm.regional.DIAGNOSTIC_COLUMNS and
        #: ``day``), since the run was built or resumed
        self.diagnostics_log: list[dict[str, np.ndarray]] = []
        self.columns = metric_columns(lay)
        self.datacollector = mesa.DataCollector(
            model_reporters=model_reporters(self.columns),
            agenttype_reporters=agent_reporters(self.unit_type, self.region_type) if self.settings.collect_agents
            else None)
        self.last_outcome: DayOutcome | None = None
        self._groups: dict[type, np.ndarray] = {}
        #: seconds the set-up took: the layout (scenario arrays), the agents, the initial state
        #: (who misreports, the units' active learning), the rest.
        self.setup_timings = {"layout": t1 - t0, "agents": t2 - t1, "state": t3 - t2,
                              "rest": time.perf_counter() - t3}
        self.running = self.state.day < self.settings.require("days")

    # -- construction ----------------------------------------------------------------------
    def _layout(self, settings: RunSettings) -> Layout:
        lay = build_layout(self.spec)
        if settings.single_region:
            lay = merge_regions(lay)
        if settings.noise is not None and not lay.loss_events:
            from dataclasses import replace

            goods = np.flatnonzero(~lay.labour_mask)
            lay = replace(lay, loss_events=(StockLoss(goods, 0.0, DEFAULT_LOSS_FRACTION, "economy"),))
        return lay

    def _place_agents(self) -> None:
        """Regions on the nodes of the region graph, citizens and units in their regions, created
        in bulk (``Agent.create_agents``)."""
        lay = self.layout
        self.space = Network(lay.graph, random=self.random)
        cells = [self.space[i] for i in range(lay.n_regions)]
        self.regions = list(self.region_type.create_agents(self, lay.n_regions, index=list(range(lay.n_regions)),
                                                           cell=cells))
        C = lay.n_citizens
        self.citizens = list(self.citizen_type.create_agents(
            self, C, index=list(range(C)), cell=[cells[r] for r in lay.citizen_region.tolist()]))
        ti = lay.true_inputs
        curve_unit = ti.unit[lay.entry_curve]
        curve_entry = np.flatnonzero(lay.entry_curve)
        bounds = np.searchsorted(curve_unit, np.arange(lay.n_units + 1))  # entries are sorted by unit
        entries = [curve_entry[bounds[u]:bounds[u + 1]] for u in range(lay.n_units)]
        self.units = list(self.unit_type.create_agents(
            self, lay.n_units, index=list(range(lay.n_units)), cell=[cells[r] for r in lay.unit_region.tolist()],
            entries=entries))
        self.central_planner = self.planner_type(self, make_method(self.settings.planner,
                                                                   **self.settings.planner_options))

    def _initial_state(self, entries: list[np.ndarray]) -> State:
        lay, rng, s = self.layout, self.rng, self.settings
        C, U = lay.n_citizens, lay.n_units
        honest = Honest()
        scenario_strategies = [UNIT_STRATEGIES[name]() if name != "honest" else honest for name in lay.unit_strategy]
        state = State(day=0, stocks=lay.initial_stocks.copy(), citizen_code=np.zeros(C, dtype=np.int64),
                      citizen_param=np.ones(C), unit_code=np.zeros(U, dtype=np.int64), unit_param=np.ones(U),
                      samples=[None] * U, citizen_strategies=(honest,), unit_strategies=(honest,))
        for u, strategy in enumerate(scenario_strategies):
            if strategy is not honest:
                state.assign("unit", u, strategy.with_param(float(lay.unit_factor[u])))
        state.unit_param[:] = lay.unit_factor
        if s.misreport_share > 0:
            liars = np.flatnonzero(rng.random(C) < s.misreport_share)
            state.assign("citizen", liars, s.citizen_strategy)
            eligible = ~lay.unit_implicit & (state.unit_code == 0)
            pick = np.flatnonzero(eligible & (rng.random(U) < s.misreport_share))
            state.assign("unit", pick, s.unit_strategy)
        state.samples = self._learn(entries)
        return state

    def _learn(self, entries: list[np.ndarray]) -> list:
        """Each scenario unit with curve inputs learns them under the query budget (OLIN-EP 4.1)."""
        lay, s = self.layout, self.settings
        learners = [u for u in range(lay.n_units) if not lay.unit_implicit[u] and entries[u].size]
        horizon = np.array([self._horizon(u) for u in learners])
        ti = lay.true_inputs
        found = learn_units(
            lambda k, q: ti.scale[entries[learners[k]]] * q ** ti.exponent[entries[learners[k]]],
            len(learners), np.array([entries[u].size for u in learners]), horizon, s.query_budget,
            rng=self.rng, query_noise=s.query_noise,
        )
        samples: list = [None] * lay.n_units
        for u, smp in zip(learners, found, strict=True):
            samples[u] = smp
        return samples

    def _horizon(self, u: int) -> float:
        """Top of a unit's query range: its capacity, else twice its good's largest bounded capacity."""
        lay = self.layout
        if np.isfinite(lay.unit_capacity[u]):
            return float(lay.unit_capacity[u])
        same = (lay.unit_good == lay.unit_good[u]) & np.isfinite(lay.unit_capacity)
        return float(2.0 * lay.unit_capacity[same].sum()) if same.any() else DEFAULT_HORIZON

    def _reporting_regions(self) -> np.ndarray:
        """The region of every unit that reports a curve, ``-1`` for the others (no cover)."""
        lay = self.layout
        has_curve = np.zeros(lay.n_units, dtype=bool)
        has_curve[lay.true_inputs.unit[lay.entry_curve]] = True
        return np.where(has_curve & ~lay.unit_implicit, lay.unit_region, -1)

    @property
    def config(self) -> dict[str, Any]:
        """What rebuilds this model: ``PlanningEconomy(**config)`` (the scenario as given, the
        seed when it was a number, the settings)."""
        return {"scenario": self.scenario_source, "rng": self.seed, "settings": self.settings}

    # -- the agents -------------------------------------------------------------------------
    def groups(self, kind: type[A]) -> list[tuple[type[A], np.ndarray]]:
        """The agent classes of ``kind`` (e.g. :class:`~abm.agents.Citizen` and its subclasses)
        that populate the model, each with the indices of its agents (from ``agents_by_type``).

        Raises:
            InvalidInputError: the AgentSets no longer match the model's arrays (an agent was
                added from outside the model).
        """
        cache = self._groups
        out = []
        for cls, agents in self.agents_by_type.items():
            if not issubclass(cls, kind):
                continue
            hit = cache.get(cls)
            if hit is None or hit.size != len(agents):
                hit = np.sort(np.fromiter((a.index for a in agents), dtype=np.int64, count=len(agents)))
                cache[cls] = hit
            out.append((cls, hit))
        total = sum(ix.size for _, ix in out)
        expected = {Citizen: self.layout.n_citizens, ProductionUnit: self.layout.n_units}.get(kind, total)
        if total != expected:
            raise InvalidInputError(f"{kind.__name__}: {total} agents in the model's AgentSets for {expected} "
                                    "rows of its arrays; agents are created by the model only")
        return out

    def strategy_memory(self, kind: str, code: int) -> Any:
        """The memory of the strategy at ``code`` of the agents of ``kind`` (``"citizen"`` or
        ``"unit"``) in this model, made on first use (``Strategy.new_memory``); ``None`` for a
        strategy that remembers nothing. An adaptive strategy's bandit lives here
        (:mod:`abm.adversarial.adaptive`); checkpoints save it with ``state_dict()``."""
        key = (kind, int(code))
        held = self.memories.get(key)
        if held is None:
            table = self.state.citizen_strategies if kind == "citizen" else self.state.unit_strategies
            size = self.layout.n_citizens if kind == "citizen" else self.layout.n_units
            held = table[int(code)].new_memory(size)
            if held is not None:
                self.memories[key] = held
        return held

    # -- the day ---------------------------------------------------------------------------
    def step(self) -> None:
        """Simulate one day: report, plan, execute, observe (timed per phase); stop after ``days``."""
        t0 = time.perf_counter()
        reports = report(self)
        self.state.record_reports(reports)
        t1 = time.perf_counter()
        night = plan(self, reports)
        t2 = time.perf_counter()
        out = execute(self, night)
        violations = check_day(self.layout, out, self.state.day + 1, strict=self.settings.strict)
        self.state.record_day(observe(self, out))
        t3 = time.perf_counter()
        self.metrics = day_metrics(self, out, len(violations))
        self.last_outcome = out
        if self.settings.collect_agents:
            self.unit_log.append(unit_rows(self, out))
            self.region_log.append(region_rows(self, out))
            self.edge_log.append(edge_rows(self, out))
            if out.decision.diagnostics is not None:
                rows = out.decision.diagnostics
                size = len(next(iter(rows.values()))) if rows else 0
                self.diagnostics_log.append({"day": np.full(size, self.state.day, dtype=np.int64), **rows})
        self.datacollector.collect(self)
        t4 = time.perf_counter()
        for name, dt in zip(PHASES, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            self.timings[name].append(dt)
        self.running = self.state.day < self.settings.require("days")

    def run_until(self, days: int) -> None:
        """Set the day the run stops at (``running`` follows); e.g. to extend a resumed run."""
        self.settings = self.settings.replace(days=days)
        self.running = self.state.day < self.settings.require("days")

    def remove_all_agents(self) -> None:
        """Refused, as for one agent (see :meth:`abm.agents.EconomyAgent.remove`)."""
        raise InvalidInputError("the agents of a PlanningEconomy cannot be removed (its arrays are laid out by "
                                "the scenario)")

    def reported_inputs(self, unit: int) -> list:
        """The input functions unit ``unit`` reported last night (one per learned input, in the
        order of :attr:`abm.agents.ProductionUnit.learned_inputs`); empty for public technology."""
        return [] if self.state.samples[unit] is None else self.curves.unit_fits(unit, self.state)

    @property
    def day(self) -> int:
        return self.state.day

    @property
    def last_shipments(self) -> EdgeShipments | None:
        """The last day's shipments per directed edge and good, planned and executed
        (:class:`~abm.shipments.EdgeShipments`, read-only copies); ``None`` before the first day."""
        if self.last_outcome is None:
            return None
        return day_shipments(self.last_outcome, int(self.layout.edge_src.size))

    @property
    def investment_share(self) -> float:
        """``sigma`` of this run (the scenario's unless set)."""
        return float(self.settings.require("investment_share"))

    @property
    def safety_stock(self) -> float:
        """Days of safety stock of this run (the scenario's unless set)."""
        return float(self.settings.require("safety_stock"))

    def model_frame(self) -> pd.DataFrame:
        """The collected model-level rows as a DataFrame (one row per day, ``day`` first)."""
        df = self.datacollector.get_model_vars_dataframe()
        return df.reset_index(drop=True)[self.columns]
