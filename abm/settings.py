"""The settings of one run: a frozen, validated-once object (:class:`RunSettings`).

:class:`~abm.model.PlanningEconomy` reads every option from its ``settings``; the phases of a
day take the settings they use. Plain keyword arguments (``PlanningEconomy("selviaria",
misreport_share=0.2)``, as ``mesa.batch_run`` passes them) and a ready object
(``PlanningEconomy("selviaria", settings=RunSettings(misreport_share=0.2))``) give the same run.

Settings are plain data: :meth:`RunSettings.to_dict` is JSON-safe (strategies and defences as
their dicts, see :mod:`abm.adversarial.vocabulary`) and :meth:`RunSettings.from_dict` reads
it back to an equal object, so that a run can be saved and resumed in a fresh process.

    >>> s = RunSettings(misreport_share=0.2, citizen_strategy="inflate(1.7)", defences="audit")
    >>> s.citizen_strategy
    Inflate(factor=1.7)
    >>> RunSettings.from_dict(s.to_dict()) == s
    True
    >>> RunSettings.from_options(misreport_shar=0.2)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    innatura.planner.errors.InvalidInputError: PlanningEconomy: unknown option 'misreport_shar' (did you mean ...
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
from innatura.abm.adversarial.base import Strategy
from innatura.abm.adversarial.citizen_strategies import Inflate
from innatura.abm.adversarial.defences import Defence
from innatura.abm.adversarial.unit_strategies import OverstateInputs
from innatura.abm.adversarial.vocabulary import parse_defences, parse_strategy
from innatura.planner.errors import InvalidInputError

__all__ = ["ALIASES", "DEFAULT_CITIZEN_STRATEGY", "DEFAULT_UNIT_STRATEGY", "PLANS", "RunSettings"]

logger = logging.getLogger(__name__)

#: the strategy misreporting citizens use unless told otherwise: claim half again their need.
DEFAULT_CITIZEN_STRATEGY = Inflate(1.5)
#: the strategy misreporting units use unless told otherwise: report 30% more input use.
DEFAULT_UNIT_STRATEGY = OverstateInputs(1.3)

#: the plans a run can follow: one national plan, or the plan on the region graph
#: (docs/model.md, "The regional plan").
PLANS = ("national", "regional")

#: older spellings of options, still accepted: ``citizen_misreport=("inflate", 1.5)``.
ALIASES = {"citizen_misreport": "citizen_strategy", "unit_misreport": "unit_strategy"}


def _number(name: str, value: Any, low: float, high: float = math.inf, *, closed_high: bool = True,
            optional: bool = False) -> float | None:
    if value is None and optional:
        return None
    try:
        ok = not isinstance(value, bool) and math.isfinite(float(value))
        x = float(value)
    except (TypeError, ValueError):
        ok = False
    if not ok or x < low or x > high or (not closed_high and x == high):
        bracket = "]" if closed_high else ")"
        raise InvalidInputError(f"{name}: a number in [{low:g}, {high:g}{bracket}, got {value!r}")
    return x


def _whole(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise InvalidInputError(f"{name}: a whole number >= {low}, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class RunSettings:
    """Everything that configures a run besides its scenario and its seed.

    Attributes:
        planner: planning method, a key of :data:`abm.planning.METHODS` (``"olin"``).
        planner_options: keyword arguments for the planning method's factory (JSON-safe).
        days: days after which the model stops (``running = False``); ``None``: the scenario's.
        investment_share: ``sigma``, in ``[0, 1)``; ``None``: the scenario's.
        safety_stock: days of cover of final goods the planner keeps before investing
            (docs/model.md, "Safety stocks"); ``None``: the scenario's (``0``: OLIN-EP's plan).
        noise: probability a day of the scenario's loss events (enables them); ``None``: the
            scenario's own setting. A scenario without loss events gets one over all final and
            industrial goods, losing 20%.
        misreport_share: share of citizens and of scenario units drawn to misreport.
        citizen_strategy, unit_strategy: the strategy the drawn citizens / units use
            (:mod:`abm.adversarial`): an object, or its text (``"inflate(1.5)"``,
            ``"ratchet(1.3, ramp_days=5)"``).
        defences: defences applied to the reports each night, in order: objects, texts
            (``"audit(probability=0.5)"``, ``"audit+robust"``), or ``"none"``.
        query_budget: queries each unit spends on learning its curve before the first night.
        query_noise: relative noise of a query's answer.
        daily_queries: extra queries a unit may spend a day when a target leaves its sampled range.
        max_samples: bound on a unit's samples.
        observation_gap: relative distance under which an observation replaces a sample
            instead of adding one.
        output_loss: ``(probability, fraction)``: each day each unit loses ``fraction`` of its
            output with ``probability``.
        shifts: production shifts a day; an input made in one region reaches another a shift later.
        strict: raise :class:`abm.invariants.InvariantError` when a day breaks an invariant.
        collect_agents: keep agent-level rows (units and regions) each day.
        single_region: merge all regions into one (no geography, as in the OLIN-EP papers).
        staffed_capacity: show the planner unit capacities cut to what each unit's region can
            staff with its labour (see :func:`abm.night.staffed_capacity`).
        regional_dispatch: each shift, move the part of a target a region cannot staff or equip
            to the good's units elsewhere (see :func:`abm.redispatch.redispatch`).
        regional_labour_rounds: times a night the planner re-plans with the capacities of units
            in regions whose labour the plan overdraws cut to what that labour staffs
            (:func:`abm.night.regional_labour_cut`; docs/model.md, "Regional friction"); ``0``:
            the plain national plan. A fallback of the national plan only: the regional plan
            plans regional labour itself.
        plan: ``"regional"`` (production, stocks, labour and shipments planned on the region
            graph; execution follows the plan's shipments) or ``"national"`` (one stock per good,
            one labour pool per type; execution's transport moves surpluses to deficits);
            ``None``: the scenario's choice, else national (docs/model.md, "In the agent
            model").
    """

    planner: str = "olin"
    planner_options: Mapping[str, Any] = field(default_factory=dict)
    days: int | None = None
    investment_share: float | None = None
    safety_stock: float | None = None
    noise: float | None = None
    misreport_share: float = 0.0
    citizen_strategy: Strategy = DEFAULT_CITIZEN_STRATEGY
    unit_strategy: Strategy = DEFAULT_UNIT_STRATEGY
    defences: tuple[Defence, ...] = ()
    query_budget: int = 8
    query_noise: float = 0.0
    daily_queries: int = 1
    max_samples: int = 48
    observation_gap: float = 0.02
    output_loss: tuple[float, float] = (0.0, 0.0)
    shifts: int = 8
    strict: bool = False
    collect_agents: bool = True
    single_region: bool = False
    staffed_capacity: bool = False
    regional_dispatch: bool = False
    regional_labour_rounds: int = 3
    plan: str | None = None

    def __post_init__(self) -> None:
        for name, value in self._validated().items():
            object.__setattr__(self, name, value)

    def _validated(self) -> dict[str, Any]:
        """Every field checked and in its canonical type."""
        if not isinstance(self.planner, str) or not self.planner:
            raise InvalidInputError(f"planner: a method name, got {self.planner!r}")
        if not isinstance(self.planner_options, Mapping):
            raise InvalidInputError(f"planner_options: a dict of keyword arguments, got {self.planner_options!r}")
        if self.plan is not None and self.plan not in PLANS:
            raise InvalidInputError(f"plan: one of {', '.join(PLANS)}, got {self.plan!r}")
        loss = tuple(self.output_loss) if isinstance(self.output_loss, (tuple, list)) else ()
        if len(loss) != 2:
            raise InvalidInputError(f"output_loss: (probability, fraction), got {self.output_loss!r}")
        return {
            "planner_options": dict(self.planner_options),
            "days": None if self.days is None else _whole("days", self.days, 1),
            "investment_share": _number("investment_share", self.investment_share, 0.0, 1.0, closed_high=False,
                                        optional=True),
            "safety_stock": _number("safety_stock", self.safety_stock, 0.0, optional=True),
            "noise": _number("noise", self.noise, 0.0, 1.0, optional=True),
            "misreport_share": _number("misreport_share", self.misreport_share, 0.0, 1.0),
            "citizen_strategy": parse_strategy(self.citizen_strategy, kind="citizen"),
            "unit_strategy": parse_strategy(self.unit_strategy, kind="unit"),
            "defences": parse_defences(self.defences),
            "query_budget": _whole("query_budget", self.query_budget, 1),
            "query_noise": _number("query_noise", self.query_noise, 0.0),
            "daily_queries": _whole("daily_queries", self.daily_queries, 0),
            "max_samples": _whole("max_samples", self.max_samples, 2),
            "observation_gap": _number("observation_gap", self.observation_gap, 0.0),
            "output_loss": (_number("output_loss probability", loss[0], 0.0, 1.0),
                            _number("output_loss fraction", loss[1], 0.0, 1.0)),
            "shifts": _whole("shifts", self.shifts, 1),
            "regional_labour_rounds": _whole("regional_labour_rounds", self.regional_labour_rounds, 0),
            **{k: bool(getattr(self, k)) for k in ("strict", "collect_agents", "single_region",
                                                   "staffed_capacity", "regional_dispatch")},
        }

    # -- construction from keywords and from data ---------------------------------------------
    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The option names, in order."""
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_options(cls, **options: Any) -> RunSettings:
        """Settings from keyword options (as ``PlanningEconomy(**options)`` takes them).

        Raises:
            InvalidInputError: an unknown option (the message names it, a close known name,
                and every known option) or an invalid value (the message names the option).
        """
        known = cls.names()
        clean: dict[str, Any] = {}
        for key, value in options.items():
            name = ALIASES.get(key, key)
            if name not in known:
                close = difflib.get_close_matches(key, [*known, *ALIASES], n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise InvalidInputError(f"PlanningEconomy: unknown option {key!r}{hint}; known options: "
                                        f"{', '.join(known)}")
            if name in clean:
                raise InvalidInputError(f"PlanningEconomy: option {name!r} given twice (as {key!r})")
            clean[name] = value
        return cls(**clean)

    def replace(self, **options: Any) -> RunSettings:
        """These settings with some options changed (validated like :meth:`from_options`)."""
        return RunSettings.from_options(**{**self.__dict__, **options})

    def to_dict(self) -> dict[str, Any]:
        """The settings as JSON-safe plain data (:meth:`from_dict` reads it back).

        Raises:
            InvalidInputError: ``planner_options`` hold something JSON cannot carry.
        """
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["citizen_strategy"] = self.citizen_strategy.to_dict()
        out["unit_strategy"] = self.unit_strategy.to_dict()
        out["defences"] = [d.to_dict() for d in self.defences]
        out["output_loss"] = list(self.output_loss)
        try:
            json.dumps(out["planner_options"], allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(f"planner_options: not plain data ({exc}): {self.planner_options!r}") from None
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunSettings:
        """Settings from :meth:`to_dict`'s output (unknown keys are refused)."""
        data = dict(data)
        if "output_loss" in data:
            data["output_loss"] = tuple(data["output_loss"])
        return cls.from_options(**data)

    def require(self, name: str) -> float:
        """The value of an option the scenario fills in (``investment_share``, ``safety_stock``,
        ``days``), in settings :meth:`resolved` against it.

        Raises:
            InvalidInputError: the option is still ``None`` (the settings are not resolved).
        """
        value = getattr(self, name)
        if value is None:
            raise InvalidInputError(f"{name}: not resolved against a scenario (see RunSettings.resolved)")
        return value

    def resolved(self, *, investment_share: float, safety_stock: float, days: int,
                 plan: str = "national") -> RunSettings:
        """The settings with the scenario's values in place of ``None`` for
        ``investment_share``, ``safety_stock``, ``days`` and ``plan``."""
        return dataclasses.replace(
            self, plan=plan if self.plan is None else self.plan,
            investment_share=investment_share if self.investment_share is None else self.investment_share,
            safety_stock=safety_stock if self.safety_stock is None else self.safety_stock,
            days=days if self.days is None else self.days,
        )
