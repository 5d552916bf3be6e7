"""The names of the reporting strategies and defences, and the one function that reads each.

Everything that takes a strategy or a defence (``PlanningEconomy(citizen_strategy=...,
defences=...)``, ``innatura run --citizen-strategy/--unit-strategy/--defence``, the
misreporting sweep, the browser view) reads it with :func:`parse_strategy` or
:func:`parse_defences`, so one text means one object everywhere:

    >>> parse_strategy("ratchet(1.3, ramp_days=5)", kind="unit")
    Ratchet(factor=1.3, ramp_days=5)
    >>> str(parse_strategy("inflate", kind="citizen"))
    'inflate(factor=1.5)'
    >>> [d.name for d in parse_defences("audit(probability=0.5)+robust")]
    ['audit', 'robust']
    >>> str(parse_defences("audit(0.5)")[0])
    'audit(probability=0.5, penalty=0.5, penalty_days=3, tolerance=0.02, citizens=True, units=True)'

The tables below are plain dicts; importing this module registers nothing. A strategy class
of your own needs no entry: pass the object itself, and its ``to_dict()`` names its class.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from innatura.abm.adversarial.adaptive import AdaptiveInflate, AdaptiveInputs
from innatura.abm.adversarial.base import Honest, Parameters, Strategy, import_class, parse_call, split_top_level
from innatura.abm.adversarial.citizen_strategies import Deflate, Hoard, Inflate, Noise
from innatura.abm.adversarial.defences import Audit, BeliefUpdate, Defence, ICPenalty, RobustAggregation
from innatura.abm.adversarial.unit_strategies import Collude, OverstateCapacity, OverstateInputs, Ratchet
from innatura.planner.errors import InvalidInputError

__all__ = [
    "CITIZEN_STRATEGIES",
    "DEFENCES",
    "STRATEGIES",
    "UNIT_STRATEGIES",
    "is_builtin",
    "parse_defence",
    "parse_defences",
    "parse_strategy",
]

logger = logging.getLogger(__name__)

#: citizen strategy name -> class.
CITIZEN_STRATEGIES: dict[str, type[Strategy]] = {
    c.name: c for c in (Honest, Inflate, Deflate, Noise, Hoard, AdaptiveInflate)
}
#: unit strategy name -> class.
UNIT_STRATEGIES: dict[str, type[Strategy]] = {
    c.name: c for c in (Honest, OverstateInputs, Ratchet, OverstateCapacity, Collude, AdaptiveInputs)
}
#: every strategy name -> class (``honest`` serves both kinds).
STRATEGIES: dict[str, type[Strategy]] = {**CITIZEN_STRATEGIES, **UNIT_STRATEGIES}
#: defence name -> class (``"none"`` is the empty chain, not a defence).
DEFENCES: dict[str, type[Defence]] = {c.name: c for c in (Audit, RobustAggregation, BeliefUpdate, ICPenalty)}


def is_builtin(cls: type) -> bool:
    """Whether ``cls`` is the class a table names (its text form then reads back by name)."""
    name = str(getattr(cls, "name", ""))
    return STRATEGIES.get(name) is cls or DEFENCES.get(name) is cls


def _from_mapping(data: Mapping[str, Any], table: Mapping[str, type[Parameters]], what: str) -> Parameters:
    params = dict(data)
    name = params.pop("name", None)
    path = params.pop("class", None)
    cls: type[Parameters]
    if path is not None:
        found = import_class(path)
        if not issubclass(found, Parameters):
            raise InvalidInputError(f"{what} class {path!r} is not a strategy or a defence")
        cls = found
    elif name in table:
        cls = table[name]
    else:
        raise InvalidInputError(f"{what} {name!r} is unknown; known: {', '.join(table)}")
    return cls.build((), params, text=str(dict(data)))


def _parse(value: Any, table: Mapping[str, type[Parameters]], base: type, what: str) -> Any:
    if isinstance(value, base):
        return value
    if isinstance(value, Mapping):
        return _from_mapping(value, table, what)
    if isinstance(value, str):
        name, args, kwargs = parse_call(value, what)
        if name not in table:
            raise InvalidInputError(f"{what} {name!r} is unknown; known: {', '.join(table)}")
        return table[name].build(args, kwargs, text=value.strip())
    raise InvalidInputError(f"{what} {value!r}: expected a name such as {next(iter(table))!r}, "
                            f"a {base.__name__} or a dict with 'name'")


def parse_strategy(value: Any, kind: str) -> Strategy:
    """The strategy ``value`` names, for agents of ``kind`` (``"citizen"`` or ``"unit"``).

    Args:
        value: a :class:`Strategy`; a text ``"name"`` or ``"name(1.5, key=value)"``; a dict
            ``{"name": ..., <parameters>}`` (``to_dict()``); or ``(name, primary parameter)``
            (the older form ``("inflate", 1.5)``).
        kind: which agents use it; a strategy of the other kind is refused.

    Raises:
        InvalidInputError: an unknown name, an unknown or invalid parameter, or a strategy of
            the other kind; the message names it and lists the known ones.
    """
    table = CITIZEN_STRATEGIES if kind == "citizen" else UNIT_STRATEGIES
    what = f"{kind} strategy"
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        strategy = _parse(value[0], STRATEGIES, Strategy, what)
        strategy = strategy.with_param(float(value[1])) if strategy.primary else strategy
    else:
        strategy = _parse(value, STRATEGIES, Strategy, what)
    if strategy.kind not in (kind, "any"):
        raise InvalidInputError(f"{what} {str(strategy)!r} is a {strategy.kind} strategy; "
                                f"{kind} strategies: {', '.join(table)}")
    return strategy


def parse_defence(value: Any) -> Defence:
    """One defence from a :class:`Defence`, a text ``"audit(0.3)"`` or a dict (``to_dict()``)."""
    return _parse(value, DEFENCES, Defence, "defence")


def parse_defences(value: Any) -> tuple[Defence, ...]:
    """A chain of defences, applied in order.

    Args:
        value: ``None``, ``"none"`` or ``()`` for no defence; one defence (see
            :func:`parse_defence`); a text of defences joined by ``+`` (``"audit+robust"``);
            or a sequence of any of these (``"none"`` items are skipped).
    """
    if value is None:
        return ()
    items = [value] if isinstance(value, str | Defence | Mapping) else list(value)
    out: list[Defence] = []
    for item in items:
        pieces = split_top_level(item, "+") if isinstance(item, str) else [item]
        out.extend(parse_defence(p) for p in pieces if not (isinstance(p, str) and p == "none"))
    return tuple(out)
