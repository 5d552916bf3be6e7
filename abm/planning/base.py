"""What a planning method sees and answers: :class:`PlanningInputs`, :class:`PlanDecision` and
the :class:`PlanningMethod` protocol.

Every night the :class:`~abm.central_planner.CentralPlanner` aggregates the reports into a
:class:`PlanningInputs` and calls ``method.plan(inputs)``, which returns a
:class:`PlanDecision`. A planning method is any object with a ``name`` and that ``plan``
method. ``PlanDecision.unit_targets`` may be left ``None``: the central planner then splits
each good's production over its units in stacking order
(:func:`abm.planning.dispatch.dispatch_targets`). A method that reads the model beyond the
night's inputs (the units' histories: :mod:`abm.planning.learned_io`) defines ``bind(model)``,
which the central planner calls once, when it is built.

When the run plans on the region graph (``RunSettings.plan = "regional"``), the inputs carry
the night's :class:`~innatura.planner.regional.RegionalProblem` (``inputs.regional``); a method
that plans regionally answers with each region's deliveries and fulfilment and the morning and
evening shipments (:func:`abm.regional.decision_fields`), which execution follows. A method
that ignores ``inputs.regional`` plans as before, and execution's transport moves its goods.

A method that keeps memory from night to night (a warm start, a history of observations)
gives it as plain data with ``state_dict()`` and takes it back with ``load_state_dict(state)``,
so that a run can be checkpointed and resumed with identical results (:mod:`abm.checkpoint`;
docs/architecture.md, "a planning method"). Plain data is a dict with string keys whose values
are numbers, strings, booleans, ``None``, numpy arrays (floats, whole numbers, booleans), and
lists or dicts of these. A method without memory returns ``{}``. A method without these two
methods cannot be checkpointed: saving the run refuses with a message that says so.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
from innatura.planner.economy import Economy
from innatura.planner.errors import InvalidInputError

if TYPE_CHECKING:  # pragma: no cover
    from innatura.planner.regional import RegionalProblem

__all__ = ["PlanDecision", "PlanningInputs", "PlanningMethod", "StatefulMethod", "check_state"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class PlanningInputs:
    """Everything a planning method may use on a night, built from the reports.

    Attributes:
        day: the day being planned (1 for the first night).
        economy: the REPORTED economy: the units' reported curves (stacked), per-citizen
            bundles, and the reported demand (citizens times their report factors) as
            ``population``.
        stocks: national opening stock per good, ``(n,)``; zero on labour goods.
        labour_supply: national labour supply per good, ``(n,)``; zero off labour goods.
        capacity: reported capacity per good, ``(n,)``; ``inf`` where unbounded, 0 where no
            unit makes the good.
        investment_share: ``sigma``.
        safety_stock: the safety stocks to keep before investing: days of cover (a number), or
            target stocks per good ``(n,)`` (see :func:`abm.day.safety_target`).
        regional_stocks: ``(R, n)``; regional_demand: reported demand weights ``(R, m)``.
        unit_good, unit_region, unit_capacity: the units' good, region and REPORTED capacity.
        rng: the model's generator, for planners that sample.
        regional: the night's regional problem (reported units, regional stocks, labour and
            demand, the edges, the closing targets) when the run plans on the region graph;
            ``None`` for a national plan.
    """

    day: int
    economy: Economy
    stocks: np.ndarray
    labour_supply: np.ndarray
    capacity: np.ndarray
    investment_share: float
    safety_stock: float | np.ndarray
    regional_stocks: np.ndarray
    regional_demand: np.ndarray
    unit_good: np.ndarray
    unit_region: np.ndarray
    unit_capacity: np.ndarray
    rng: np.random.Generator
    regional: RegionalProblem | None = None


@dataclass(frozen=True, eq=False)
class PlanDecision:
    """A night's plan.

    Attributes:
        production: planned output per good, ``(n,)`` (consumption plus investment stages).
        allocation: goods handed to each profile, ``(n, m)``.
        fulfilment: planned share of each profile's (reported) bundle, ``(m,)``.
        planned_humanity: Eq. 5 of the plan.
        unit_targets: target per unit ``(U,)``, or ``None`` for dispatch in stacking order.
        unit_inputs: the inputs the plan allots each (unit, input) entry of
            ``Layout.true_inputs`` at its target, ``(E,)``: what the reports said the targets
            need. Filled by the central planner when a method leaves it ``None``.
        info: free-form diagnostics (iterations, solver status) for logs.
        delivered: what each region hands out of each good, ``(R, n)``, or ``None``: each
            region hands out its share of ``allocation`` by reported demand weight.
        regional_fulfilment: the share of its bundle each region gives each profile, ``(R, m)``,
            with ``delivered``; ``None`` otherwise.
        morning_shipments, evening_shipments: units of each good sent along each directed edge
            before production and after it, ``(D, n)`` (what leaves the edge's source, before
            its loss), or ``None``: execution's transport moves the goods.
        phase_shipments: a plan in layers (``timing="layers"``): units of each good sent along
            each directed edge between layers ``k`` and ``k + 1`` of the day, ``(L - 1, D, n)``;
            ``None`` otherwise.
        diagnostics: the constraints that bind tonight and their shadow prices, columns
            :data:`abm.regional.DIAGNOSTIC_COLUMNS`, or ``None``.
    """

    production: np.ndarray
    allocation: np.ndarray
    fulfilment: np.ndarray
    planned_humanity: float
    unit_targets: np.ndarray | None = None
    unit_inputs: np.ndarray | None = None
    info: dict[str, Any] = field(default_factory=dict)
    delivered: np.ndarray | None = None
    regional_fulfilment: np.ndarray | None = None
    morning_shipments: np.ndarray | None = None
    evening_shipments: np.ndarray | None = None
    phase_shipments: np.ndarray | None = None
    diagnostics: dict[str, np.ndarray] | None = None


@runtime_checkable
class PlanningMethod(Protocol):
    """A planning method: ``plan(inputs) -> PlanDecision``, with a ``name`` for logs.

    A method may keep memory from night to night (a warm start); the model holds one method
    object per run (:attr:`abm.central_planner.CentralPlanner.method`). To be checkpointed it also
    provides :class:`StatefulMethod`'s two methods.
    """

    name: str

    def plan(self, inputs: PlanningInputs) -> PlanDecision: ...


@runtime_checkable
class StatefulMethod(PlanningMethod, Protocol):
    """A planning method whose memory can be saved and restored (what a checkpoint needs).

    ``state_dict()`` returns the memory as plain data (see the module's docstring); a new
    method object built with the same options and given that data by ``load_state_dict``
    plans every later night exactly as the original would. The options the method was built
    with are not part of the state: the model rebuilds the method from its settings
    (``planner``, ``planner_options``) before loading the state. ``load_state_dict`` refuses
    data of the wrong kind (:class:`InvalidInputError`, never another error); what it cannot
    know before it sees the economy (the length of a warm start) it checks on the first night.
    """

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: Mapping[str, Any]) -> None: ...


def check_state(method: str, state: Any, keys: set[str]) -> None:
    """Raise :class:`InvalidInputError` unless ``state`` is a mapping with exactly ``keys``
    (for ``load_state_dict`` of method ``method``)."""
    if not isinstance(state, Mapping):
        raise InvalidInputError(f"planner {method!r}: its state must be a dict, got {type(state).__name__}")
    if set(state) != keys:
        missing, unknown = sorted(keys - set(state)), sorted(set(state) - keys)
        raise InvalidInputError(f"planner {method!r}: state fields {sorted(keys)} expected; missing {missing}, "
                                f"unknown {unknown}")
