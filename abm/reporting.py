"""Reporting strategies of citizens and production units, report validation, and defences.

Each night every citizen reports a *demand factor* (its reported need over its profile's
bundle: 1 when honest) and every production unit reports its fitted input curves scaled by an
*input factor* and its capacity scaled by a *capacity factor* (both 1 when honest). How an
agent reports is its strategy, a name in one of the tables below; the model keeps one strategy
code and one parameter per agent and calls each strategy ONCE a night on all the agents that
use it (vectorised), so a strategy is a small function and a new one is one table entry:

    CITIZEN_STRATEGIES["hoard"] = lambda ctx: 1.0 + ctx.param * ctx.day_fraction

Reports are never trusted blindly: :func:`validate_factors` replaces NaN/inf with the honest
value, clips negative and absurd values, and flags them. Defences (audits, robust aggregation,
belief updates) are functions in :data:`DEFENCES` that take the validated
:class:`NightReports` and the :class:`Evidence` gathered from execution and return corrected
reports; the central planner applies the ones the model was built with, in order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from innatura.planner.errors import InvalidInputError

__all__ = [
    "CITIZEN_STRATEGIES",
    "DEFENCES",
    "UNIT_STRATEGIES",
    "Evidence",
    "NightReports",
    "StrategyContext",
    "apply_defences",
    "citizen_reports",
    "strategy_codes",
    "unit_reports",
    "validate_factors",
]

logger = logging.getLogger(__name__)


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
    """

    index: np.ndarray
    param: np.ndarray
    day: int
    rng: np.random.Generator
    previous: np.ndarray
    evidence: Evidence | None = None


def _ones(ctx: StrategyContext) -> np.ndarray:
    return np.ones(ctx.index.size)


def _factor(ctx: StrategyContext) -> np.ndarray:
    return np.asarray(ctx.param, dtype=float).copy()


def _noise(ctx: StrategyContext) -> np.ndarray:
    return 1.0 + ctx.param * ctx.rng.standard_normal(ctx.index.size)


#: citizen strategy -> demand factor of each citizen using it.
CITIZEN_STRATEGIES: dict[str, Callable[[StrategyContext], np.ndarray]] = {
    "honest": _ones,
    "inflate": _factor,  # param: the factor (> 1 inflates, < 1 deflates)
    "noise": _noise,  # param: relative standard deviation
}

#: unit strategy -> (input factor, capacity factor) of each unit using it.
UNIT_STRATEGIES: dict[str, Callable[[StrategyContext], tuple[np.ndarray, np.ndarray]]] = {
    "honest": lambda ctx: (_ones(ctx), _ones(ctx)),
    "overstate_inputs": lambda ctx: (_factor(ctx), _ones(ctx)),  # understates productivity
    "understate_productivity": lambda ctx: (_factor(ctx), _ones(ctx)),
    "overstate_capacity": lambda ctx: (_ones(ctx), _factor(ctx)),
}


def strategy_codes(names, table: dict) -> tuple[np.ndarray, tuple[str, ...]]:  # noqa: ANN001
    """Encode per-agent strategy names as codes into a tuple of known names.

    Raises:
        InvalidInputError: a name that is not in ``table``.
    """
    known = tuple(table)
    lookup = {name: k for k, name in enumerate(known)}
    try:
        codes = np.array([lookup[s] for s in names], dtype=np.int64)
    except KeyError as exc:
        raise InvalidInputError(f"reporting strategy {exc.args[0]!r} is unknown; known: {list(known)}") from None
    return codes, known


def _apply(codes: np.ndarray, names: tuple[str, ...], table: dict, param: np.ndarray, day: int,
           rng: np.random.Generator, previous: np.ndarray, outputs: int,
           evidence: Evidence | None = None) -> list[np.ndarray]:
    out = [np.ones(codes.size) for _ in range(outputs)]
    for code in np.unique(codes):  # a handful of strategies, each vectorised over its agents
        idx = np.flatnonzero(codes == code)
        ctx = StrategyContext(idx, param[idx], day, rng, previous[idx], evidence)
        res = table[names[code]](ctx)
        res = (res,) if outputs == 1 else res
        for k in range(outputs):
            out[k][idx] = res[k]
    return out


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


def citizen_reports(codes, names, param, day, rng, previous, max_factor: float = 10.0, evidence=None):  # noqa: ANN001, ANN201
    """Demand factors of all citizens, validated: ``(factors (C,), flagged (C,))``."""
    (raw,) = _apply(codes, names, CITIZEN_STRATEGIES, param, day, rng, previous, 1, evidence)
    return validate_factors(raw, 0.0, max_factor)


def unit_reports(codes, names, param, day, rng, previous, max_factor: float = 100.0, evidence=None):  # noqa: ANN001, ANN201
    """Input and capacity factors of all units, validated: ``(inputs, capacity, flagged)``."""
    inp, cap = _apply(codes, names, UNIT_STRATEGIES, param, day, rng, previous, 2, evidence)
    inp, f1 = validate_factors(inp, 1.0 / max_factor, max_factor)
    cap, f2 = validate_factors(cap, 1.0 / max_factor, max_factor)
    return inp, cap, f1 | f2


@dataclass(frozen=True, eq=False)
class NightReports:
    """The validated reports of one night, as the central planner receives them.

    Attributes:
        citizen_factor: demand factor per citizen, ``(C,)``.
        unit_input_factor: multiplier on each unit's fitted input curves, ``(U,)``.
        unit_capacity: reported capacity per unit, ``(U,)``.
        flags: number of reports flagged invalid or suspicious tonight.
    """

    citizen_factor: np.ndarray
    unit_input_factor: np.ndarray
    unit_capacity: np.ndarray
    flags: int = 0


@dataclass(frozen=True, eq=False)
class Evidence:
    """What execution revealed so far, for defences to check reports against.

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


#: defence -> ``f(reports, evidence) -> reports``; ``"none"`` passes reports through.
DEFENCES: dict[str, Callable[[NightReports, Evidence], NightReports]] = {
    "none": lambda reports, evidence: reports,
}


def apply_defences(names: tuple, reports: NightReports, evidence: Evidence) -> NightReports:
    """Apply the defences in order: names in :data:`DEFENCES`, or callables
    ``f(reports, evidence) -> reports`` (stateful defences bound to one model, e.g.
    :mod:`abm.adversarial.defences`); unknown names raise :class:`InvalidInputError`."""
    for name in names:
        if not callable(name) and name not in DEFENCES:
            raise InvalidInputError(f"defence {name!r} is unknown; known: {list(DEFENCES)}")
        out = name(reports, evidence) if callable(name) else DEFENCES[name](reports, evidence)
        if not isinstance(out, NightReports):
            raise InvalidInputError(f"defence {name!r} returned {type(out).__name__}, expected NightReports")
        reports = replace(out, flags=out.flags)
    return reports
