"""Field types of the scenario specs: validated names, amounts, shares, read-only tables.

Every number type is strict (a TOML string ``"1.5"`` is not a number) and rejects NaN; only
:data:`Capacity` admits ``inf``. Magnitudes are bounded by the format limits of
:mod:`scenarios.limits` (amounts at most ``1e9``, exponents at most ``10``, populations at
most ``1e10``), so that no computation on a valid scenario overflows or loses its tolerances.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Any

from innatura.scenarios.limits import MAX_AMOUNT, MAX_EXPONENT, MAX_POPULATION, MAX_SEED
from pydantic import AfterValidator, BeforeValidator, Field, Strict, StringConstraints
from pydantic_core import PydanticCustomError

__all__ = [
    "ALL_REGIONS",
    "REPORTING_STRATEGIES",
    "Amount",
    "AmountMap",
    "Capacity",
    "Count",
    "Exponent",
    "FrozenDict",
    "Name",
    "Population",
    "Positive",
    "Rate",
    "Regional",
    "Seed",
    "Share",
    "Slug",
    "at_most",
    "one_line",
]

#: key of a regional amount that means "split over the regions by population".
ALL_REGIONS = "*"
#: how a production unit reports its curve and capacity (see docs/model.md).
REPORTING_STRATEGIES = ("honest", "overstate_inputs", "overstate_capacity")


class FrozenDict(dict):
    """A read-only ``dict`` (keeps insertion order; mutating methods raise ``TypeError``)."""

    def _readonly(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("scenario specs are frozen")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _readonly  # type: ignore[assignment]

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(self.items()))


def _no_nan(value: float) -> float:
    if math.isnan(value):
        raise PydanticCustomError("nan", "NaN is not a valid amount")
    return value


def at_most(limit: float, why: str) -> AfterValidator:
    """A validator that refuses values above ``limit`` (``inf`` passes only where the type allows it)."""

    def check(value: float) -> float:
        if value > limit and not math.isinf(value):
            raise PydanticCustomError("too_large", f"at most {limit:g} ({why})")
        return value

    return AfterValidator(check)


_AMOUNT_LIMIT = at_most(MAX_AMOUNT, "larger amounts lose the precision the planner's tolerances assume")


def one_line(value: str) -> str:
    if "\n" in value or "\r" in value:
        raise PydanticCustomError("one_line", "must fit on one line")
    return value


def _clean_name(value: str) -> str:
    if value != value.strip() or any(ord(c) < 32 for c in value):
        raise PydanticCustomError("name", "names must not start or end with spaces or hold control characters")
    return value


def _regional(value: Any) -> Any:
    """A number means "split by population" (``{"*": number}``); a table maps region -> amount."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {ALL_REGIONS: value}
    if isinstance(value, Mapping):
        return value
    raise PydanticCustomError("regional",
                              "expected a number (split over regions by population) or a table region -> amount")


Name = Annotated[str, Strict(), StringConstraints(min_length=1, max_length=200), AfterValidator(_clean_name)]
Slug = Annotated[str, Strict(), StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=80)]
Amount = Annotated[float, Strict(), Field(ge=0, allow_inf_nan=False), _AMOUNT_LIMIT]
Positive = Annotated[float, Strict(), Field(gt=0, allow_inf_nan=False), _AMOUNT_LIMIT]
Exponent = Annotated[float, Strict(), Field(gt=0, allow_inf_nan=False),
                     at_most(MAX_EXPONENT, "q ** exponent overflows for the orders a plan makes")]
Share = Annotated[float, Strict(), Field(ge=0, le=1, allow_inf_nan=False)]
Rate = Annotated[float, Strict(), Field(ge=0, lt=1, allow_inf_nan=False)]
Capacity = Annotated[float, Strict(), Field(gt=0), AfterValidator(_no_nan), _AMOUNT_LIMIT]
Count = Annotated[int, Strict(), Field(ge=0)]
Population = Annotated[int, Strict(), Field(ge=0), at_most(MAX_POPULATION, "more people than the world has")]
Seed = Annotated[int, Strict(), Field(ge=0), at_most(MAX_SEED, "seeds are stored as signed 64-bit integers")]
AmountMap = Annotated[dict[Name, Amount], AfterValidator(FrozenDict)]
Regional = Annotated[dict[Name, Amount], BeforeValidator(_regional), AfterValidator(FrozenDict)]
