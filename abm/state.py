"""The mutable, hot state of a simulation: numpy arrays that the agents view into.

Everything that changes from day to day lives in one :class:`State`, so that a day is a handful
of vectorised operations, and a checkpoint is mostly this object's arrays (:mod:`abm.checkpoint`
saves every array field, and checks it against the freshly built model's on restore).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from innatura.abm.active_learning import UnitSamples
from innatura.abm.reporting import Evidence

if TYPE_CHECKING:  # pragma: no cover
    from innatura.abm.adversarial.base import Strategy
    from innatura.abm.day import DayObservation
    from innatura.abm.reporting import NightReports

__all__ = ["State"]

logger = logging.getLogger(__name__)


@dataclass(eq=False)
class State:
    """Day-to-day state (shapes as in :class:`abm.layout.Layout`).

    Attributes:
        day: days simulated so far (0 before the first step).
        stocks: stock per region and good, ``(R, n)`` (zero on labour goods).
        externalities: cumulative externalities (OLIN-EP Eq. 6).
        citizen_code, citizen_param: each citizen's reporting strategy (a position in
            ``citizen_strategies``, the distinct strategy objects in use) and its parameter, ``(C,)``.
        citizen_factor: last reported demand factor, ``(C,)``.
        citizen_received: share of its true need each citizen received yesterday, ``(C,)``.
        citizen_satisfaction: exponential average of ``citizen_received``, ``(C,)``.
        unit_code, unit_param: each unit's reporting strategy and parameter, ``(U,)``.
        unit_input_factor, unit_reported_capacity: last reports, ``(U,)``.
        unit_target, unit_output: last day's target and gross output, ``(U,)``.
        unit_true_use, unit_reported_use: last day's input use of the learned inputs, true and
            as the unit's report predicted it at the executed output (summed over inputs), ``(U,)``.
        samples: what each scenario unit learned about its own process (``None`` for implicit
            workshops, whose technology is public).
        sample_version: bumped whenever a unit's samples change, ``(U,)``.
        extra_queries: queries spent after the initial budget, ``(U,)``.
        last_draw: yesterday's national draw on each good's stock (inputs used up, capital
            held, consumption delivered), ``(n,)``; ``None`` before the first day.
    """

    day: int
    stocks: np.ndarray
    citizen_code: np.ndarray
    citizen_param: np.ndarray
    unit_code: np.ndarray
    unit_param: np.ndarray
    samples: list[UnitSamples | None]
    citizen_strategies: tuple[Strategy, ...]
    unit_strategies: tuple[Strategy, ...]
    externalities: float = 0.0
    citizen_factor: np.ndarray = None  # type: ignore[assignment]
    citizen_received: np.ndarray = None  # type: ignore[assignment]
    citizen_satisfaction: np.ndarray = None  # type: ignore[assignment]
    unit_input_factor: np.ndarray = None  # type: ignore[assignment]
    unit_reported_capacity: np.ndarray = None  # type: ignore[assignment]
    unit_target: np.ndarray = None  # type: ignore[assignment]
    unit_output: np.ndarray = None  # type: ignore[assignment]
    unit_true_use: np.ndarray = None  # type: ignore[assignment]
    unit_reported_use: np.ndarray = None  # type: ignore[assignment]
    sample_version: np.ndarray = None  # type: ignore[assignment]
    extra_queries: np.ndarray = None  # type: ignore[assignment]
    last_draw: np.ndarray | None = None

    def __post_init__(self) -> None:
        C, U = self.citizen_code.size, self.unit_code.size
        defaults = {
            "citizen_factor": np.ones(C), "citizen_received": np.zeros(C), "citizen_satisfaction": np.zeros(C),
            "unit_input_factor": np.ones(U), "unit_reported_capacity": np.zeros(U), "unit_target": np.zeros(U),
            "unit_output": np.zeros(U), "unit_true_use": np.zeros(U), "unit_reported_use": np.zeros(U),
            "sample_version": np.zeros(U, dtype=np.int64), "extra_queries": np.zeros(U, dtype=np.int64),
        }
        for name, value in defaults.items():
            if getattr(self, name) is None:
                setattr(self, name, value)

    # -- strategies ---------------------------------------------------------------------------
    def strategy(self, kind: str, index: int) -> Strategy:
        """The strategy of citizen (``kind="citizen"``) or unit ``index``."""
        table, codes, _ = self._strategy_arrays(kind)
        return table[int(codes[index])]

    def assign(self, kind: str, index: np.ndarray | int, strategy: Strategy) -> None:
        """Give the agents ``index`` of ``kind`` the strategy ``strategy`` (and its parameter)."""
        table, codes, params = self._strategy_arrays(kind)
        if strategy in table:
            code = table.index(strategy)
        else:
            code = len(table)
            setattr(self, f"{kind}_strategies", (*table, strategy))
        codes[index] = code
        params[index] = strategy.param

    def _strategy_arrays(self, kind: str) -> tuple[tuple[Strategy, ...], np.ndarray, np.ndarray]:
        if kind == "citizen":
            return self.citizen_strategies, self.citizen_code, self.citizen_param
        return self.unit_strategies, self.unit_code, self.unit_param

    # -- the day's results --------------------------------------------------------------------
    def evidence(self) -> Evidence:
        """What execution revealed so far, for tonight's reports and defences (no copies)."""
        return Evidence(self.day + 1, self.unit_output, self.unit_target, self.unit_true_use, self.unit_reported_use,
                        self.citizen_received)

    def record_reports(self, reports: NightReports) -> None:
        """Keep tonight's (defended) reports: tomorrow's ``previous`` reports."""
        self.citizen_factor = reports.citizen_factor
        self.unit_input_factor = reports.unit_input_factor
        self.unit_reported_capacity = reports.unit_capacity

    def record_day(self, obs: DayObservation) -> None:
        """Roll over to the next day with what the day's observation holds."""
        self.stocks = obs.stocks
        self.last_draw = obs.last_draw
        self.unit_target = obs.unit_target
        self.unit_output = obs.unit_output
        self.citizen_received = obs.citizen_received
        self.citizen_satisfaction = obs.citizen_satisfaction
        self.unit_true_use = obs.unit_true_use
        self.unit_reported_use = obs.unit_reported_use
        self.externalities = obs.externalities
        self.day += 1
