"""``PlanningEconomy``: the Mesa model of an economy planned in natura, day by day.

Build it from a scenario (a built-in name, a TOML path or a :class:`scenarios.spec.ScenarioSpec`)
and step it; each step is one day (DESIGN.md "One simulated day"): citizens and units report,
the central planner plans the night, units execute with their TRUE technology, goods are lost,
shipped and handed out, and the day is observed (metrics, curve refits, invariants).

    >>> model = PlanningEconomy("selviaria", rng=42)
    >>> for _ in range(10):
    ...     model.step()
    >>> model.datacollector.get_model_vars_dataframe()["humanity"]  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import mesa
import numpy as np
from innatura.abm.active_learning import learn_units
from innatura.abm.agents import CentralPlanner, Citizen, ProductionUnit, Region
from innatura.abm.collect import day_metrics, metric_columns, model_reporters, region_rows, unit_rows
from innatura.abm.day import execute, observe, plan, report
from innatura.abm.invariants import check_day
from innatura.abm.layout import Layout, build_layout, merge_regions
from innatura.abm.planners import make_planner
from innatura.abm.reporting import CITIZEN_STRATEGIES, UNIT_STRATEGIES, strategy_codes
from innatura.abm.state import State
from innatura.abm.transport import path_keep
from innatura.planner.errors import InvalidInputError
from innatura.scenarios.limits import check_model_fits
from mesa.discrete_space import Network

__all__ = ["PHASES", "PlanningEconomy", "load_spec"]

logger = logging.getLogger(__name__)

#: phases of a day, as timed in :attr:`PlanningEconomy.timings`.
PHASES = ("report", "plan", "execute", "collect")


def load_spec(scenario: Any):  # noqa: ANN201
    """A scenario spec from a built-in name, a TOML path, or a spec (returned as is)."""
    if hasattr(scenario, "to_economy"):
        return scenario
    from innatura import scenarios

    if hasattr(scenarios, "load"):
        return scenarios.load(scenario)
    from pathlib import Path

    from innatura.scenarios.loader import load_toml  # pragma: no cover - before the registry exists

    builtin = Path(scenarios.__file__).parent / "builtin" / f"{scenario}.toml"
    return load_toml(builtin if builtin.exists() else scenario)


class PlanningEconomy(mesa.Model):
    """An economy planned in natura: regions, citizens, production units and a central planner.

    Args:
        scenario: built-in scenario name, path to a scenario TOML file, or a spec.
        rng: seed or ``numpy.random.Generator`` (Mesa's ``rng=``); all randomness flows from it.
        planner: planning method, a key of :data:`abm.planners.PLANNERS` (``"olin"``).
        planner_options: keyword arguments for the planner's factory.
        investment_share: ``sigma``; default the scenario's.
        safety_stock: days of cover of final goods the planner keeps before investing
            (docs/model.md, "Safety stocks"); default the scenario's (``0``: OLIN-EP's plan).
        noise: probability a day of the scenario's loss events (enables them); ``None``: the
            scenario's own setting. A scenario without loss events gets one over all final and
            industrial goods, losing 20%.
        misreport_share: share of citizens and of scenario units drawn to misreport.
        citizen_misreport, unit_misreport: ``(strategy, parameter)`` they use.
        query_budget: queries each unit spends on learning its curve before the first night.
        query_noise: relative noise of a query's answer.
        daily_queries: extra queries a unit may spend a day when a target leaves its sampled range.
        max_samples, observation_gap: bound on a unit's samples; relative distance under which
            an observation replaces a sample instead of adding one.
        output_loss: ``(probability, fraction)``: each day each unit loses ``fraction`` of its
            output with ``probability``.
        shifts: production shifts a day; an input made in one region reaches another a shift later.
        defences: names in :data:`abm.reporting.DEFENCES`, applied to the reports in order.
        strict: raise :class:`abm.invariants.InvariantError` when a day breaks an invariant.
        collect_agents: keep agent-level rows (units and regions) each day.
        single_region: merge all regions into one (no geography, as in the OLIN-EP papers).
        staffed_capacity: show the planner unit capacities cut to what each unit's region can
            staff with its labour (a regionally feasible plan; see :func:`abm.day.staffed_capacity`).
        regional_dispatch: each shift, move the part of a target a region cannot staff or equip
            to the good's units elsewhere (see :func:`abm.redispatch.redispatch`).
        regional_labour_rounds: times a night the planner re-plans with the capacities of units
            in regions whose labour the plan overdraws cut to what that labour staffs
            (:func:`abm.day.regional_labour_cut`; docs/model.md, "Regional friction"); ``0``:
            the plain national plan.
    """

    def __init__(
        self,
        scenario: Any = "selviaria",
        *,
        rng: Any = None,
        planner: str = "olin",
        planner_options: dict[str, Any] | None = None,
        investment_share: float | None = None,
        safety_stock: float | None = None,
        noise: float | None = None,
        misreport_share: float = 0.0,
        citizen_misreport: tuple[str, float] = ("inflate", 1.5),
        unit_misreport: tuple[str, float] = ("overstate_inputs", 1.3),
        query_budget: int = 8,
        query_noise: float = 0.0,
        daily_queries: int = 1,
        max_samples: int = 48,
        observation_gap: float = 0.02,
        output_loss: tuple[float, float] = (0.0, 0.0),
        shifts: int = 8,
        defences: Sequence[str] = ("none",),
        strict: bool = False,
        collect_agents: bool = True,
        single_region: bool = False,
        staffed_capacity: bool = False,
        regional_dispatch: bool = False,
        regional_labour_rounds: int = 3,
    ) -> None:
        self.config: dict[str, Any] = {
            k: v for k, v in locals().items() if k not in ("self", "__class__")
        }
        super().__init__(rng=rng)
        spec = check_model_fits(load_spec(scenario))
        self.spec = spec
        self.layout: Layout = build_layout(spec)
        if single_region:
            self.layout = merge_regions(self.layout)
        lay = self.layout
        self.investment_share = float(lay.investment_share if investment_share is None else investment_share)
        if isinstance(regional_labour_rounds, bool) or not isinstance(regional_labour_rounds, (int, np.integer)) \
                or regional_labour_rounds < 0:
            raise InvalidInputError(f"regional_labour_rounds: a whole number >= 0, got {regional_labour_rounds!r}")
        self.regional_labour_rounds = int(regional_labour_rounds)
        if not 0.0 <= self.investment_share < 1.0:
            raise InvalidInputError(f"investment_share: must be in [0, 1), got {self.investment_share!r}")
        self.safety_stock = float(lay.safety_stock if safety_stock is None else safety_stock)
        if not (np.isfinite(self.safety_stock) and self.safety_stock >= 0.0):
            raise InvalidInputError(f"safety_stock: days of cover, a finite number >= 0, got {safety_stock!r}")
        if noise is not None and not 0.0 <= noise <= 1.0:
            raise InvalidInputError(f"noise: a daily probability in [0, 1], got {noise!r}")
        if not 0.0 <= misreport_share <= 1.0:
            raise InvalidInputError(f"misreport_share: must be in [0, 1], got {misreport_share!r}")
        self.noise = noise
        if noise is not None and not lay.loss_events:
            self.layout = lay = _with_default_losses(lay, spec)
        self.query_budget = int(query_budget)
        self.daily_queries = int(daily_queries)
        self.max_samples = int(max_samples)
        self.observation_gap = float(observation_gap)
        self.output_loss = (float(output_loss[0]), float(output_loss[1]))
        self.shifts = int(shifts)
        self.staffed_capacity = bool(staffed_capacity)
        self.regional_dispatch = bool(regional_dispatch)
        if self.shifts < 1:
            raise InvalidInputError(f"shifts: must be >= 1, got {shifts!r}")
        self.defences = tuple(defences)
        self.strict = bool(strict)
        self.collect_agents = bool(collect_agents)

        # space: regions are the nodes of the scenario's graph
        self.space = Network(lay.graph, random=self.random)
        cells = [self.space[i] for i in range(lay.n_regions)]
        self.regions = [Region(self, r, cells[r]) for r in range(lay.n_regions)]
        self.citizens = [Citizen(self, i, cells[r]) for i, r in enumerate(lay.citizen_region.tolist())]
        self.units = [ProductionUnit(self, u, cells[r]) for u, r in enumerate(lay.unit_region.tolist())]
        self.central_planner = CentralPlanner(self, make_planner(planner, **(planner_options or {})))
        self.planner_name = planner

        self.state = self._initial_state(misreport_share, citizen_misreport, unit_misreport, query_noise)
        self._learned = {u: self.units[u]._entries for u in range(lay.n_units) if self.state.samples[u] is not None}
        self._cells = self._curve_cells()
        self.path_keep = path_keep(lay.paths, lay.edge_loss) if lay.paths.shape[1] else None
        self._fit_cache: dict = {}
        self._cell_cache: dict = {}
        self.metrics: dict[str, float] = {}
        self.timings: dict[str, list[float]] = {p: [] for p in PHASES}
        self.unit_log: list[dict[str, np.ndarray]] = []
        self.region_log: list[dict[str, np.ndarray]] = []
        self.columns = metric_columns(lay)
        self.datacollector = mesa.DataCollector(model_reporters=model_reporters(self.columns))
        self.last_outcome = None

    # -- construction ----------------------------------------------------------------------
    def _initial_state(self, share, citizen_mis, unit_mis, query_noise) -> State:  # noqa: ANN001
        lay, rng = self.layout, self.rng
        C, U = lay.n_citizens, lay.n_units
        c_names = tuple(CITIZEN_STRATEGIES)
        u_names = tuple(UNIT_STRATEGIES)
        c_code = np.zeros(C, dtype=np.int64)
        c_param = np.ones(C)
        u_code, _ = strategy_codes(lay.unit_strategy, UNIT_STRATEGIES)
        u_param = lay.unit_factor.copy()
        if share > 0:
            liars = rng.random(C) < share
            c_code[liars], _ = strategy_codes([citizen_mis[0]], CITIZEN_STRATEGIES)
            c_param[liars] = float(citizen_mis[1])
            eligible = ~lay.unit_implicit & (u_code == 0)
            pick = eligible & (rng.random(U) < share)
            u_code[pick], _ = strategy_codes([unit_mis[0]], UNIT_STRATEGIES)
            u_param[pick] = float(unit_mis[1])
        entries = [np.flatnonzero((lay.true_inputs.unit == u) & lay.entry_curve) for u in range(U)]
        learners = [u for u in range(U) if not lay.unit_implicit[u] and entries[u].size]
        horizon = np.array([self._horizon(u) for u in learners])
        ti = lay.true_inputs
        found = learn_units(
            lambda k, q: ti.scale[entries[learners[k]]] * q ** ti.exponent[entries[learners[k]]],
            len(learners), np.array([entries[u].size for u in learners]), horizon, self.query_budget,
            rng=rng, query_noise=query_noise,
        )
        samples: list = [None] * U
        for u, s in zip(learners, found, strict=True):
            samples[u] = s
        return State(day=0, stocks=lay.initial_stocks.copy(), citizen_code=c_code, citizen_param=c_param,
                     unit_code=u_code, unit_param=u_param, samples=samples,
                     citizen_strategies=c_names, unit_strategies=u_names)

    def _horizon(self, u: int) -> float:
        """Top of a unit's query range: its capacity, else twice its good's largest bounded capacity."""
        lay = self.layout
        if np.isfinite(lay.unit_capacity[u]):
            return float(lay.unit_capacity[u])
        same = (lay.unit_good == lay.unit_good[u]) & np.isfinite(lay.unit_capacity)
        return float(2.0 * lay.unit_capacity[same].sum()) if same.any() else 1000.0

    def _curve_cells(self) -> list[tuple[int, int, list[int], list[int]]]:
        lay = self.layout
        out = []
        for cell in lay.economy.curves:
            units = np.flatnonzero((lay.unit_good == cell.col) & ~lay.unit_pooled)
            units = units[np.lexsort((units, lay.unit_stack[units]))].tolist()
            bounded = np.isfinite(lay.unit_capacity[units])
            if (~bounded).any():
                units = units[: int(np.argmax(~bounded)) + 1]
            local = []
            for u in units:
                goods = lay.true_inputs.good[self.units[u]._entries].tolist()
                local.append(goods.index(cell.row) if cell.row in goods else -1)
            out.append((cell.row, cell.col, units, local))
        return out

    # -- the day ---------------------------------------------------------------------------
    def step(self) -> None:
        """Simulate one day: report, plan, execute, observe (timed per phase)."""
        t0 = time.perf_counter()
        reports = report(self)
        t1 = time.perf_counter()
        _, decision, targets, weights = plan(self, reports)
        t2 = time.perf_counter()
        out = execute(self, reports, decision, targets, weights)
        violations = check_day(self.layout, out, self.state.day + 1, strict=self.strict)
        observe(self, out)
        self.state.day += 1
        t3 = time.perf_counter()
        self.metrics = day_metrics(self, out, len(violations))
        self.datacollector.collect(self)
        if self.collect_agents:
            self.unit_log.append(unit_rows(self, out))
            self.region_log.append(region_rows(self, out))
        self.last_outcome = out
        t4 = time.perf_counter()
        for name, dt in zip(PHASES, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            self.timings[name].append(dt)

    def reported_inputs(self, unit: int) -> list:
        """The input functions unit ``unit`` reported last night (one per learned input, in the
        order of :attr:`abm.agents.ProductionUnit.learned_inputs`); empty for public technology."""
        from innatura.abm.day import _unit_fits

        return [] if self.state.samples[unit] is None else _unit_fits(self, unit)

    @property
    def day(self) -> int:
        return self.state.day

    def model_frame(self):  # noqa: ANN201
        """The collected model-level rows as a DataFrame (one row per day, ``day`` first)."""
        df = self.datacollector.get_model_vars_dataframe()
        return df.reset_index(drop=True)[self.columns]


def _with_default_losses(lay: Layout, spec) -> Layout:  # noqa: ANN001
    from dataclasses import replace

    from innatura.abm.layout import LossEvent

    goods = np.flatnonzero(~lay.labour_mask)
    del spec
    return replace(lay, loss_events=(LossEvent(goods, 0.0, 0.2, "economy"),))
