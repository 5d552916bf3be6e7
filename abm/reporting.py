"""What a night's reports are made of: the context a strategy sees, report validation, the
reports the central planner receives, the evidence defences check them against.

Each night every citizen reports a *demand factor* (its reported need over its profile's
bundle: 1 when honest) and every production unit reports its fitted input curves scaled by an
*input factor* and its capacity scaled by a *capacity factor* (both 1 when honest). How an
agent reports is its strategy (:mod:`abm.adversarial`); the model keeps one strategy and one
parameter per agent and calls each strategy ONCE a night on all the agents that use it
(:func:`strategy_reports`), so a strategy is a small vectorised object.

Reports are never trusted blindly: :func:`validate_factors` replaces NaN/inf with the honest
value, clips negative and absurd values, and flags them. Defences (audits, robust aggregation,
belief updates) are callables ``(reports, evidence) -> reports`` applied in order
(:func:`apply_defences`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from innatura.planner.errors import InvalidInputError

if TYPE_CHECKING:  # pragma: no cover
    from innatura.abm.adversarial.base import Strategy

__all__ = [
    "CITIZEN_FACTOR_MAX",
    "UNIT_FACTOR_MAX",
    "Evidence",
    "NightReports",
    "StrategyContext",
    "apply_defences",
    "strategy_reports",
    "validate_factors",
]

logger = logging.getLogger(__name__)

#: largest demand factor a citizen's report may carry (a tenfold claim is absurd, not a lie
#: worth planning for); larger ones are clipped and flagged.
CITIZEN_FACTOR_MAX = 10.0
#: largest factor (and smallest, its inverse) on a unit's input curves and capacity.
UNIT_FACTOR_MAX = 100.0


@dataclass(frozen=True, eq=False)
class Evidence:
    """What execution revealed so far, for strategies and defences to look at.

    Attributes:
        day: the day being planned.
        unit_output: yesterday's output per unit, ``(U,)``.
        unit_target: yesterday's target per unit, ``(U,)``.
        unit_true_use: yesterday's true input use per unit (all inputs summed), ``(U,)``.
        unit_reported_use: yesterday's reported input use at the executed output, ``(U,)``.
        citizen_received: yesterday's received share of need per citizen, ``(C,)``.
    """

    day: int
    unit_output: np.ndarray
    unit_target: np.ndarray
    unit_true_use: np.ndarray
    unit_reported_use: np.ndarray
    citizen_received: np.ndarray


@dataclass(frozen=True, eq=False)
class StrategyContext:
    """What a strategy sees when it reports for the ``k`` agents that use it.

    Attributes:
        index: the agents' indices (citizens or units), shape ``(k,)``.
        param: each agent's strategy parameter (factor, noise level), shape ``(k,)``.
        day: the day being planned (1 for the first night).
        rng: the model's generator (the only source of randomness).
        previous: the agents' reports of the previous night (units: input factors), ``(k,)``.
        evidence: what execution revealed so far (all agents; index it with ``index``), or
            ``None`` when the caller has none.
        kind: ``"citizen"`` or ``"unit"``: which kind of agent reports.
        regions: the region of EVERY agent of this kind whose report is compared with its
            neighbours' (units: those that report a curve), ``-1`` for the others, ``(N,)``;
            ``None`` when the caller has none.
        memory: what the strategy remembers in this model (its ``new_memory``, kept by the
            model per strategy; ``None`` for the strategies that remember nothing).
    """

    index: np.ndarray
    param: np.ndarray
    day: int
    rng: np.random.Generator
    previous: np.ndarray
    evidence: Evidence | None = None
    kind: str = "citizen"
    regions: np.ndarray | None = None
    memory: Any = None


def validate_factors(values: np.ndarray, low: float, high: float) -> tuple[np.ndarray, np.ndarray]:
    """Clean reported factors: NaN/inf -> 1 (honest), clip to ``[low, high]``; flag what changed.

    Returns:
        ``(clean, flagged)``: the cleaned factors and a boolean mask of the invalid reports.
    """
    v = np.asarray(values, dtype=float)
    bad = ~np.isfinite(v)
    clean = np.where(bad, 1.0, v)
    clipped = np.clip(clean, low, high)
    return clipped, bad | (clipped != clean)


def strategy_reports(codes: np.ndarray, table: Sequence[Strategy], make_context: Callable[[np.ndarray], Any],
                     outputs: int, memory: Callable[[int], Any] | None = None) -> list[np.ndarray]:
    """Call each strategy once on all the agents that use it.

    Args:
        codes: each agent's strategy, a position in ``table``, ``(k,)``.
        table: the strategies.
        make_context: ``f(positions) -> StrategyContext`` for the agents at ``positions`` of
            ``codes`` (positions, not agent indices).
        outputs: 1 (citizens: demand factor) or 2 (units: input and capacity factors).
        memory: ``f(code) -> memory`` of the strategy at ``code`` (``StrategyContext.memory``).

    Returns:
        ``outputs`` arrays of shape ``(k,)``, in the order of ``codes``.
    """
    out = [np.ones(codes.size) for _ in range(outputs)]
    for code in np.unique(codes):  # a handful of strategies, each vectorised over its agents
        pos = np.flatnonzero(codes == code)
        ctx = make_context(pos)
        held = None if memory is None else memory(int(code))
        answer = table[int(code)].report(ctx if held is None else replace(ctx, memory=held))
        res = (answer,) if isinstance(answer, np.ndarray) else answer
        for k in range(outputs):
            out[k][pos] = res[k]
    return out


@dataclass(frozen=True, eq=False)
class NightReports:
    """The validated reports of one night, as the central planner receives them.

    Attributes:
        citizen_factor: demand factor per citizen, ``(C,)``.
        unit_input_factor: multiplier on each unit's fitted input curves, ``(U,)``.
        unit_capacity: reported capacity per unit, ``(U,)``.
        flags: number of reports flagged invalid or suspicious tonight.
        flagged_citizens, flagged_units: who was flagged tonight (by validation or a defence),
            ``(C,)`` / ``(U,)``; ``None``: nobody.
        raw: the validated reports before any defence touched them (``None``: these are they);
            see :attr:`before_defences`.
    """

    citizen_factor: np.ndarray
    unit_input_factor: np.ndarray
    unit_capacity: np.ndarray
    flags: int = 0
    flagged_citizens: np.ndarray | None = None
    flagged_units: np.ndarray | None = None
    raw: NightReports | None = None

    @property
    def before_defences(self) -> NightReports:
        """What the agents reported tonight (validated), before the defences: the ground truth
        of who misreported (:mod:`abm.adversarial.detection`)."""
        return self if self.raw is None else self.raw

    def flagged(self) -> tuple[np.ndarray, np.ndarray]:
        """``(citizens, units)`` flagged tonight, as boolean masks."""
        C, U = np.shape(self.citizen_factor)[0], np.shape(self.unit_input_factor)[0]
        fc = np.zeros(C, dtype=bool) if self.flagged_citizens is None else np.asarray(self.flagged_citizens, bool)
        fu = np.zeros(U, dtype=bool) if self.flagged_units is None else np.asarray(self.flagged_units, bool)
        return fc, fu


def apply_defences(chain: Sequence[Callable[[NightReports, Evidence], NightReports]], reports: NightReports,
                   evidence: Evidence) -> NightReports:
    """Apply the defences in order: callables ``f(reports, evidence) -> reports`` (bound
    defences of :mod:`abm.adversarial.defences`, or any function of that shape). The result
    keeps the reports it started from as :attr:`NightReports.raw`."""
    raw = reports.before_defences
    for defence in chain:
        out = defence(reports, evidence)
        if not isinstance(out, NightReports):
            raise InvalidInputError(f"defence {defence!r} returned {type(out).__name__}, expected NightReports")
        reports = replace(out, flags=out.flags)
    return reports if reports is raw else replace(reports, raw=raw)
