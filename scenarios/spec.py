"""Typed, frozen scenario specs: what a scenario file says, validated.

A :class:`ScenarioSpec` is the validated content of a scenario TOML file (see
``scenarios/FORMAT.md`` for every field) or of a Python builder. Field-level checks live on
the models; the checks that relate fields to each other (unknown goods, kinds, regions, a
connected graph) are in :mod:`scenarios.checks`. Every failure becomes a
:class:`~scenarios.errors.ScenarioError` naming the source, the field path and the value.

The arrays the planner and the agent model need (``to_economy()``, initial stocks, labour
supply, units, the region graph, populations per region) are computed by
:mod:`scenarios.arrays`; the methods here forward to it.
"""

from __future__ import annotations

import math
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any, Literal

from innatura.scenarios.errors import ScenarioError, ScenarioFieldError
from innatura.scenarios.fields import (
    ALL_REGIONS,
    REPORTING_STRATEGIES,
    Amount,
    AmountMap,
    Capacity,
    Exponent,
    FrozenDict,
    Name,
    Population,
    Positive,
    Rate,
    Regional,
    Seed,
    Share,
    Slug,
    at_most,
    one_line,
)
from innatura.scenarios.limits import MAX_DAYS, MAX_REGION_EDGES, MAX_REGIONS
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    ValidationError,
    model_validator,
)

if TYPE_CHECKING:  # pragma: no cover
    import networkx as nx
    import numpy as np
    from innatura.planner.economy import Economy
    from innatura.scenarios.arrays import UnitArrays

__all__ = [
    "ALL_REGIONS",
    "REPORTING_STRATEGIES",
    "FrozenDict",
    "Good",
    "LossEvent",
    "Losses",
    "Planning",
    "PowerLaw",
    "Profile",
    "RegionEdge",
    "RegionNode",
    "Regions",
    "ScenarioMeta",
    "ScenarioSpec",
    "Unit",
    "validation_problems",
]

class _Spec(BaseModel):
    """Base of every spec model: frozen, unknown fields rejected.

    Build whole scenarios through :class:`ScenarioSpec` (or :func:`scenarios.load`), whose
    errors are :class:`~scenarios.errors.ScenarioError`; a part built alone (``Good(...)``)
    raises pydantic's ``ValidationError``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


class ScenarioMeta(_Spec):
    """``[scenario]``: name, the one-line description, and run defaults."""

    name: Slug
    description: Annotated[str, Strict(), StringConstraints(min_length=1, max_length=300), AfterValidator(one_line)]
    population_note: Annotated[str, Strict()] = ""
    days: Annotated[int, Strict(), Field(ge=1), at_most(MAX_DAYS, "a run keeps rows for every day")] = 100
    seed: Seed = 0


class Good(_Spec):
    """``[[goods]]``: a good, its kind, its externality weight ``w_j`` (Eq. 6) and transport loss."""

    name: Name
    kind: Literal["final", "industrial", "labour"]
    externality: Amount = 0.0
    transport_loss: Rate = 0.0


class PowerLaw(_Spec):
    """A unit's input use for an order of ``q`` units: ``scale * q ** exponent``."""

    scale: Amount
    exponent: Exponent


class Profile(_Spec):
    """``[[profiles]]``: citizens on a consumption profile and their per-citizen daily bundle."""

    name: Name
    population: Population
    bundle: AmountMap
    regions: AmountMap | None = None


class Unit(_Spec):
    """``[[units]]``: a production unit: its good, region, capacity and power-law inputs."""

    name: Name
    good: Name
    region: Name | None = None
    capacity: Capacity = math.inf
    inputs: Annotated[dict[Name, PowerLaw], AfterValidator(FrozenDict)] = FrozenDict()
    reporting: Literal["honest", "overstate_inputs", "overstate_capacity"] = "honest"
    reporting_factor: Positive = 1.0


class RegionNode(_Spec):
    """``[[regions.nodes]]``: a region and its share of the population."""

    name: Name
    population_share: Share | None = None


class RegionEdge(_Spec):
    """``[[regions.edges]]``: a transport link between two regions."""

    source: Name
    target: Name
    capacity: Capacity = math.inf
    loss: Rate = 0.0


class Regions(_Spec):
    """``[regions]``: explicit ``nodes`` and ``edges``, or a networkx ``generator``."""

    nodes: Annotated[tuple[RegionNode, ...], Field(max_length=MAX_REGIONS)] = ()
    edges: Annotated[tuple[RegionEdge, ...], Field(max_length=MAX_REGION_EDGES)] = ()
    generator: Annotated[str, Strict()] | None = None
    params: Annotated[dict[str, Annotated[int, Strict()] | Annotated[float, Strict()]],
                      AfterValidator(FrozenDict)] = FrozenDict()
    prefix: Name = "region-"
    capacity: Capacity = math.inf
    loss: Rate = 0.0
    population_shares: tuple[Share, ...] | None = None
    seed: Seed | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Regions:
        if self.generator is None:
            if not self.nodes:
                raise ScenarioFieldError(("regions", "nodes"), [], "give at least one node, or a generator")
            extra = [f for f in ("params", "population_shares", "seed") if getattr(self, f)]
            if extra:
                raise ScenarioFieldError(("regions", extra[0]), getattr(self, extra[0]), "only used with a generator")
        elif self.nodes or self.edges:
            raise ScenarioFieldError(("regions", "generator"), self.generator,
                                     "give either nodes/edges or a generator, not both")
        return self


class Planning(_Spec):
    """``[planning]``: the planner, the investment share ``sigma``, the safety stock and the plan
    (``"national"`` or ``"regional"``; unset: national)."""

    investment_share: Rate = 0.5
    safety_stock: Annotated[float, Strict(), Field(ge=0, le=365, allow_inf_nan=False)] = 0.0
    method: Annotated[str, Strict(), StringConstraints(pattern=r"^[a-z][a-z0-9_-]*$")] = "olin"
    plan: Literal["national", "regional"] | None = None


class LossEvent(_Spec):
    """``[[losses.events]]``: with ``probability`` a day, ``fraction`` of the goods' stocks vanishes."""

    goods: Annotated[tuple[Name, ...], Field(min_length=1)]
    probability: Share
    fraction: Share
    scope: Literal["economy", "region"] = "economy"


class Losses(_Spec):
    """``[losses]``: stochastic stock losses, off unless ``enabled``."""

    enabled: Annotated[bool, Strict()] = False
    events: tuple[LossEvent, ...] = ()


class ScenarioSpec(_Spec):
    """A validated scenario: goods, coefficients, profiles, units, regions, stocks, planning.

    Build it from a file with :func:`scenarios.load`, or in code with keyword arguments (nested
    values may be model instances or plain dicts). Invalid content raises
    :class:`~scenarios.errors.ScenarioError` naming the field and the value.
    """

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise ScenarioError("<python>", validation_problems(exc)) from None

    scenario: ScenarioMeta
    goods: Annotated[tuple[Good, ...], Field(min_length=1)]
    coefficients: Annotated[dict[Name, AmountMap], AfterValidator(FrozenDict)] = FrozenDict()
    profiles: Annotated[tuple[Profile, ...], Field(min_length=1)]
    units: tuple[Unit, ...] = ()
    regions: Regions = Regions(nodes=(RegionNode(name="main"),))
    inventory: Annotated[dict[Name, Regional], AfterValidator(FrozenDict)] = FrozenDict()
    labour: Annotated[dict[Name, Regional], AfterValidator(FrozenDict)] = FrozenDict()
    planning: Planning = Planning()
    losses: Losses = Losses()

    @model_validator(mode="after")
    def _cross_checks(self) -> ScenarioSpec:
        from innatura.scenarios.checks import check_spec

        check_spec(self)
        return self

    # -- where it came from, and what it is ------------------------------------------------
    @property
    def source(self) -> str:
        """The file this spec was read from (``<archipelago>`` for a builder, ``<python>`` for
        a spec built in code); error messages about the spec name it. Not part of equality."""
        return self.__dict__.get("_source", "<python>")

    def located(self, source: str) -> ScenarioSpec:
        """Record where this spec came from (see :attr:`source`); returns the spec itself."""
        self.__dict__["_source"] = str(source)
        return self

    @cached_property
    def content_hash(self) -> str:
        """SHA-256 of the scenario's canonical TOML (:func:`scenarios.dumps_toml`): equal for
        equal specs whatever file, comments or key order they came from, different as soon as
        any value differs. Results computed from a scenario are keyed by it."""
        import hashlib

        from innatura.scenarios.loader import dumps_toml

        return hashlib.sha256(dumps_toml(self).encode("utf-8")).hexdigest()

    # -- names -----------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.scenario.name

    @property
    def description(self) -> str:
        return self.scenario.description

    @cached_property
    def good_names(self) -> tuple[str, ...]:
        return tuple(g.name for g in self.goods)

    @cached_property
    def profile_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.profiles)

    @cached_property
    def region_names(self) -> tuple[str, ...]:
        from innatura.scenarios.arrays import region_names

        return region_names(self)

    # -- arrays for the planner and the agent model (see scenarios.arrays) ----------------
    def to_economy(self) -> Economy:
        """The planner's :class:`~planner.economy.Economy` with the TRUE curves of the units."""
        from innatura.scenarios.arrays import to_economy

        return to_economy(self)

    def graph(self) -> nx.Graph:
        """The region graph (nodes ``0..R-1``), built deterministically from the seed."""
        from innatura.scenarios.arrays import region_graph

        return region_graph(self)

    def initial_stocks(self) -> np.ndarray:
        """Opening stock per region and good, shape ``(R, n)``; zero on labour goods."""
        from innatura.scenarios.arrays import initial_stocks

        return initial_stocks(self)

    def labour_supply(self) -> np.ndarray:
        """Daily labour supply per region and good, shape ``(R, n)``; zero off labour goods."""
        from innatura.scenarios.arrays import labour_supply

        return labour_supply(self)

    def population_by_region(self) -> np.ndarray:
        """Citizens per region and profile, integers, shape ``(R, m)``."""
        from innatura.scenarios.arrays import population_by_region

        return population_by_region(self)

    def unit_arrays(self) -> UnitArrays:
        """The production units as arrays (good, region, capacity, power-law matrices)."""
        from innatura.scenarios.arrays import unit_arrays

        return unit_arrays(self)

    def with_overrides(self, **changes: Any) -> ScenarioSpec:
        """A re-validated copy with run settings changed.

        Keys: ``days``, ``seed`` (``[scenario]``), ``investment_share``, ``method``
        (``[planning]``), ``losses_enabled`` (``[losses].enabled``).
        """
        data = self.model_dump(mode="python")
        where = {"days": "scenario", "seed": "scenario", "investment_share": "planning", "method": "planning"}
        for key, value in changes.items():
            if key == "losses_enabled":
                data["losses"]["enabled"] = value
            elif key in where:
                data[where[key]][key] = value
            else:
                problem = ((key,), value, f"unknown override; known: {[*where, 'losses_enabled']}")
                raise ScenarioError(f"{self.source} (overrides)", [problem])
        try:
            return ScenarioSpec.model_validate(data).located(self.source)
        except ValidationError as exc:
            raise ScenarioError(f"{self.source} (overrides)", validation_problems(exc)) from None


_MESSAGES = {
    "extra_forbidden": "unknown field (scenarios/FORMAT.md lists the fields)",
    "missing": "required field is missing",
}


def validation_problems(exc: ValidationError) -> list[tuple[tuple[str | int, ...] | None, Any, str]]:
    """Turn pydantic's errors into ``(path, value, message)`` triples with readable paths."""
    problems: list[tuple[tuple[str | int, ...] | None, Any, str]] = []
    errors = exc.errors(include_url=False)
    for err in errors:
        loc = tuple(err["loc"])
        if err["type"] == "too_short" and any(len(e["loc"]) > len(loc) and tuple(e["loc"][: len(loc)]) == loc
                                              for e in errors):
            continue  # a list left short because an item failed: the item's error says it all
        ctx_error = (err.get("ctx") or {}).get("error")
        if isinstance(ctx_error, ScenarioError):  # raised by ScenarioSpec.__init__ under model_validate
            problems.extend(ctx_error.problems)
            continue
        if isinstance(ctx_error, ScenarioFieldError):
            problems.append((ctx_error.path, ctx_error.value, ctx_error.message))
            continue
        path = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        if path and path[-1] == ALL_REGIONS:
            path = path[:-1]
        message = _MESSAGES.get(err["type"], err["msg"])
        if message.startswith("Value error, "):
            message = message[len("Value error, "):]
        problems.append((path, err.get("input"), message))
    return problems
