"""Field types of the scenario specs: validated names, amounts, shares, read-only tables.

Every number type is strict (a TOML string ``"1.5"`` is not a number) and rejects NaN; only
:data:`Capacity` admits ``inf``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, Strict, StringConstraints
from pydantic_core import PydanticCustomError

__all__ = [
    "ALL_REGIONS",
    "REPORTING_STRATEGIES",
    "Amount",
    "AmountMap",
    "Capacity",
    "Count",
    "FrozenDict",
    "Name",
    "Positive",
    "Rate",
    "Regional",
    "Share",
    "Slug",
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
Amount = Annotated[float, Strict(), Field(ge=0, allow_inf_nan=False)]
Positive = Annotated[float, Strict(), Field(gt=0, allow_inf_nan=False)]
Share = Annotated[float, Strict(), Field(ge=0, le=1, allow_inf_nan=False)]
Rate = Annotated[float, Strict(), Field(ge=0, lt=1, allow_inf_nan=False)]
Capacity = Annotated[float, Strict(), Field(gt=0), AfterValidator(_no_nan)]
Count = Annotated[int, Strict(), Field(ge=0)]
AmountMap = Annotated[dict[Name, Amount], AfterValidator(FrozenDict)]
Regional = Annotated[dict[Name, Amount], BeforeValidator(_regional), AfterValidator(FrozenDict)]
