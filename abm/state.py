"""The mutable, hot state of a simulation: numpy arrays that the agents view into.

Everything that changes from day to day lives in one :class:`State`, so that a day is a handful
of vectorised operations, and a checkpoint is this object plus the generators' states.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
from innatura.abm.active_learning import UnitSamples

__all__ = ["State"]

logger = logging.getLogger(__name__)


@dataclass(eq=False)
class State:
    """Day-to-day state (shapes as in :class:`abm.layout.Layout`).

    Attributes:
        day: days simulated so far (0 before the first step).
        stocks: stock per region and good, ``(R, n)`` (zero on labour goods).
        externalities: cumulative externalities (OLIN-EP Eq. 6).
        citizen_code, citizen_param: each citizen's reporting strategy (a code into
            ``citizen_strategies``) and its parameter, ``(C,)``.
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
    citizen_strategies: tuple[str, ...]
    unit_strategies: tuple[str, ...]
    externalities: float = 0.0
    citizen_factor: np.ndarray = field(default=None)  # type: ignore[assignment]
    citizen_received: np.ndarray = field(default=None)  # type: ignore[assignment]
    citizen_satisfaction: np.ndarray = field(default=None)  # type: ignore[assignment]
    unit_input_factor: np.ndarray = field(default=None)  # type: ignore[assignment]
    unit_reported_capacity: np.ndarray = field(default=None)  # type: ignore[assignment]
    unit_target: np.ndarray = field(default=None)  # type: ignore[assignment]
    unit_output: np.ndarray = field(default=None)  # type: ignore[assignment]
    unit_true_use: np.ndarray = field(default=None)  # type: ignore[assignment]
    unit_reported_use: np.ndarray = field(default=None)  # type: ignore[assignment]
    sample_version: np.ndarray = field(default=None)  # type: ignore[assignment]
    extra_queries: np.ndarray = field(default=None)  # type: ignore[assignment]
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
