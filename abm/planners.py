"""The interface between the central planner agent and the planning methods of :mod:`planner`.

Every night the :class:`~abm.agents.CentralPlanner` aggregates the reports into a
:class:`PlanningInputs` and calls ``planner.plan(inputs)``, which returns a
:class:`PlanDecision`. A planning method is any object with a ``name`` and that ``plan``
method (:class:`Planner`); :data:`PLANNERS` maps a name to a factory, so a new method joins
the model with one line in its own module::

    from innatura.abm.planners import register_planner
    register_planner("learned", LearnedPlanner)

``PlanDecision.unit_targets`` may be left ``None``: the central planner then splits each
good's production over its units in stacking order (:func:`dispatch_targets`).
"""

from __future__ import annotations

import importlib
import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
from innatura.planner.economy import Economy
from innatura.planner.errors import InvalidInputError

__all__ = [
    "PLANNERS",
    "OlinPlanner",
    "PlanDecision",
    "Planner",
    "PlanningInputs",
    "check_options",
    "dispatch_targets",
    "make_planner",
    "register_planner",
]

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
    """

    production: np.ndarray
    allocation: np.ndarray
    fulfilment: np.ndarray
    planned_humanity: float
    unit_targets: np.ndarray | None = None
    unit_inputs: np.ndarray | None = None
    info: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Planner(Protocol):
    """A planning method: ``plan(inputs) -> PlanDecision``."""

    name: str

    def plan(self, inputs: PlanningInputs) -> PlanDecision: ...


#: planner name -> factory (keyword arguments from the model's ``planner_options``). A value
#: that is a string ``"module:attribute"`` is imported on first use.
PLANNERS: dict[str, Callable[..., Planner] | str] = {}


def register_planner(name: str, factory: Callable[..., Planner] | str) -> None:
    """Make a planning method available to the model under ``name``."""
    PLANNERS[name] = factory


def make_planner(name: str, **options: Any) -> Planner:
    """Build the planner called ``name``; unknown names raise :class:`InvalidInputError`."""
    if name not in PLANNERS:
        raise InvalidInputError(f"planner {name!r} is unknown; known: {sorted(PLANNERS)}")
    factory = PLANNERS[name]
    if isinstance(factory, str):
        module, _, attr = factory.partition(":")
        factory = getattr(importlib.import_module(module), attr)
        PLANNERS[name] = factory
    check_options(name, factory, options)
    return factory(**options)


def check_options(name: str, factory: Callable[..., Planner], options: dict[str, Any]) -> None:
    """Raise :class:`InvalidInputError` unless ``options`` fit the factory's parameters: a
    required option missing (``--planner learned`` without ``--model``) or an unknown one."""
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):  # a builtin without a signature: let it check for itself
        return
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    named = {k: p for k, p in params.items() if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                                            inspect.Parameter.KEYWORD_ONLY)}
    unknown = sorted(set(options) - set(named))
    if unknown:
        known = sorted(named) or "none"
        raise InvalidInputError(f"planner {name!r}: unknown option {unknown[0]!r}; its options: {known}")
    missing = [k for k, p in named.items() if p.default is inspect.Parameter.empty and k not in options]
    if missing:
        hint = " (innatura run --model DIR, or --planner-option learned:model=DIR)" if missing[0] == "model" else ""
        raise InvalidInputError(f"planner {name!r}: needs the option {missing[0]!r}{hint}")


def dispatch_targets(production: np.ndarray, unit_good: np.ndarray, capacity: np.ndarray,
                     stack: np.ndarray, pooled: np.ndarray, pool_share: np.ndarray) -> np.ndarray:
    """Split each good's planned production over its units.

    Stacked units fill in stacking order (the first takes orders up to its capacity, then the
    next, ...), as :meth:`planner.curves.StackedCurve.dispatch` does for one good, here for all
    goods at once. The last stacked unit takes whatever is beyond, unless the good has pooled
    units (see :mod:`abm.layout`): then they share the rest by ``pool_share``.

    Args:
        production: planned output per good, ``(n,)``.
        unit_good, capacity, stack, pooled, pool_share: per unit ``(U,)``: good, (reported)
            capacity, stacking rank, whether pooled, share of the good's pooled orders.

    Returns:
        Target per unit, ``(U,)``; the targets of a good sum to its production.
    """
    x = np.maximum(np.asarray(production, dtype=float), 0.0)
    n = x.size
    targets = np.zeros(unit_good.size)
    has_pool = np.zeros(n, dtype=bool)
    has_pool[unit_good[pooled]] = True
    real = np.flatnonzero(~pooled)
    if real.size:
        order = real[np.lexsort((real, stack[real], unit_good[real]))]
        g = unit_good[order]
        cap = capacity[order].astype(float)
        first = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
        start = np.repeat(first, np.diff(np.r_[first, g.size]))  # group start of every unit
        unbounded = ~np.isfinite(cap)
        fin = np.where(unbounded, 0.0, cap)
        before = np.cumsum(fin) - fin  # exclusive cumulative capacity, then per group
        n_inf = np.cumsum(unbounded) - unbounded
        lower = np.where(n_inf - n_inf[start] > 0, np.inf, before - before[start])
        last = np.r_[g[1:] != g[:-1], True] & ~has_pool[g]
        width = np.where(last, np.inf, cap)
        targets[order] = np.clip(x[g] - lower, 0.0, width)
    taken = np.bincount(unit_good[real], targets[real], minlength=n)
    rest = np.maximum(x - taken, 0.0)
    targets[pooled] = rest[unit_good[pooled]] * pool_share[pooled]
    return targets


class OlinPlanner:
    """OLIN-EP's bounded daily plan (docs/model.md, "The bounded daily plan"), via
    :func:`planner.daily_plan.plan_day`; each night starts its successive LPs from the
    previous night's production.

    Args:
        warm_start: start the successive LPs from yesterday's production.
        options: further keyword arguments of ``plan_day`` (``max_slp_iter``, ``tol``).
    """

    name = "olin"

    def __init__(self, warm_start: bool = True, **options: Any) -> None:
        self.warm_start = bool(warm_start)
        self.options = dict(options)
        self._last: np.ndarray | None = None

    def plan(self, inputs: PlanningInputs) -> PlanDecision:
        from innatura.planner.daily_plan import plan_day

        start = self._last if self.warm_start and self._last is not None and self._last.any() else None
        options = {"safety_stock": inputs.safety_stock, **self.options}
        p = plan_day(inputs.economy, inputs.stocks, inputs.labour_supply, inputs.capacity,
                     inputs.investment_share, x_start=start, **options)
        self._last = np.asarray(p.production, dtype=float)
        return PlanDecision(
            production=np.asarray(p.production, dtype=float),
            allocation=np.asarray(p.allocation, dtype=float),
            fulfilment=np.asarray(p.fulfilment, dtype=float),
            planned_humanity=float(p.planned_humanity),
            info={"status": p.status, "lp_iterations": p.lp_iterations, "slp_iterations": p.slp_iterations},
        )


register_planner("olin", OlinPlanner)
register_planner("learned", "innatura.abm.planners_learned:LearnedPlanner")
register_planner("exchange", "innatura.abm.planners_exchange:ExchangePlanner")
