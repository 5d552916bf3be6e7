"""What strategies and defences share: parameters as a frozen dataclass, one name, and one
text form that the model, the command line, the sweep and the browser view all read.

A reporting strategy (:class:`Strategy`) or a defence (:class:`abm.adversarial.defences.Defence`)
is a frozen dataclass of parameters with a ``name``. Its text form is a call:
``"ratchet(1.3, ramp_days=5)"`` (positional parameters in field order, then keywords; a bare
``"ratchet"`` takes the defaults), and ``str(obj)`` gives the canonical form with every
parameter named, ``"ratchet(factor=1.3, ramp_days=5)"``, which reads back to an equal object.
``to_dict()`` gives ``{"name": ..., <parameters>}`` (JSON-safe), :func:`from_dict` reads it.
The tables of known names are plain dicts in :mod:`abm.adversarial.vocabulary`; nothing
registers itself on import.

A strategy is called once a night with a :class:`abm.reporting.StrategyContext` holding every
agent that uses it, and answers for all of them at once (vectorised). The model gives each
agent one parameter (``ctx.param``): a strategy's *primary* parameter (``Strategy.primary``)
travels that way, so that agents on one strategy may differ in it; the other fields are shared.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar

import numpy as np
from innatura.abm.reporting import StrategyContext
from innatura.planner.errors import InvalidInputError

__all__ = [
    "Honest",
    "Parameters",
    "Strategy",
    "check_positive",
    "format_call",
    "parse_call",
    "split_top_level",
]

logger = logging.getLogger(__name__)


def check_positive(owner: str, name: str, value: float, *, low: float = 0.0, high: float = np.inf,
                   closed_low: bool = False) -> None:
    """Raise :class:`InvalidInputError` naming ``owner.name`` unless ``value`` is finite and in range."""
    try:
        ok = bool(np.isfinite(value) and (value >= low if closed_low else value > low) and value <= high)
    except TypeError:
        ok = False
    if not ok:
        bound = f"{'[' if closed_low else '('}{low}, {high}]"
        raise InvalidInputError(f"{owner}: {name} must be a number in {bound}, got {value!r}")


def check_whole(owner: str, name: str, value: Any, low: int) -> None:
    """Raise :class:`InvalidInputError` unless ``value`` is a whole number ``>= low``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer, float)) or int(value) != value \
            or value < low:
        raise InvalidInputError(f"{owner}: {name} must be a whole number >= {low}, got {value!r}")


def split_top_level(text: str, sep: str) -> list[str]:
    """Split ``text`` at ``sep`` outside parentheses and quotes: ``"audit(0.3, penalty=0.5),robust"``
    at ``","`` gives ``["audit(0.3, penalty=0.5)", "robust"]``; empty pieces are dropped."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def parse_call(text: str, what: str = "name") -> tuple[str, tuple[Any, ...], dict[str, Any]]:
    """Read ``"name"`` or ``"name(1.3, ramp_days=5)"``: ``(name, positional, keywords)``.

    Values are Python literals (numbers, strings, booleans, ``None``, tuples).

    Raises:
        InvalidInputError: the text is not a name or a call with literal arguments.
    """
    source = str(text).strip()
    try:
        node = ast.parse(source, mode="eval").body
    except SyntaxError:
        raise InvalidInputError(f"{what} {source!r}: expected NAME or NAME(value, key=value, ...)") from None
    if isinstance(node, ast.Name):
        return node.id, (), {}
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        raise InvalidInputError(f"{what} {source!r}: expected NAME or NAME(value, key=value, ...)")
    try:
        args = tuple(ast.literal_eval(a) for a in node.args)
        kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg is not None}
    except ValueError:
        raise InvalidInputError(f"{what} {source!r}: parameters must be numbers, strings or booleans") from None
    if any(k.arg is None for k in node.keywords):
        raise InvalidInputError(f"{what} {source!r}: expected NAME or NAME(value, key=value, ...)")
    return node.func.id, args, kwargs


def format_call(name: str, params: Mapping[str, Any]) -> str:
    """``name(key=value, ...)`` with Python literals; ``name`` alone when there are no parameters."""
    if not params:
        return name
    return f"{name}({', '.join(f'{k}={v!r}' for k, v in params.items())})"


@dataclass(frozen=True)
class Parameters:
    """Base of the named parameter sets (strategies, defences): text and dict forms.

    Subclasses are frozen dataclasses whose fields are plain scalars (numbers, strings,
    booleans); ``name`` (a class attribute) is the name in :mod:`abm.adversarial.vocabulary`.
    """

    name: ClassVar[str] = ""

    def params(self) -> dict[str, Any]:
        """The parameters as a dict, in field order (numpy scalars made Python scalars)."""
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = v.item() if isinstance(v, np.generic) else v
        return out

    def __str__(self) -> str:
        return format_call(self.name, self.params())

    def to_dict(self) -> dict[str, Any]:
        """``{"name": ..., <parameters>}``; a class that is not in the vocabulary's tables also
        gives ``"class": "module:QualName"``, so that it reads back in a fresh process."""
        from innatura.abm.adversarial.vocabulary import is_builtin

        out: dict[str, Any] = {"name": self.name, **self.params()}
        if not is_builtin(type(self)):
            out["class"] = f"{type(self).__module__}:{type(self).__qualname__}"
        return out

    @classmethod
    def build(cls, args: tuple[Any, ...], kwargs: Mapping[str, Any], text: str = "") -> Parameters:
        """``cls(*args, **kwargs)`` with errors that name the parameter and the known ones."""
        names = [f.name for f in fields(cls) if f.init]
        label = text or cls.name
        if len(args) > len(names):
            raise InvalidInputError(f"{label!r}: {cls.__name__} takes at most {len(names)} parameters "
                                    f"({', '.join(names) or 'none'}), got {len(args)}")
        unknown = [k for k in kwargs if k not in names]
        if unknown:
            raise InvalidInputError(f"{label!r}: {cls.__name__} has no parameter {unknown[0]!r}; "
                                    f"parameters: {', '.join(names) or 'none'}")
        twice = [names[i] for i in range(len(args)) if names[i] in kwargs]
        if twice:
            raise InvalidInputError(f"{label!r}: parameter {twice[0]!r} given twice")
        return cls(**dict(zip(names, args, strict=False)), **kwargs)


def import_class(path: str) -> type:
    """The class at ``"module:QualName"``."""
    module, _, qualname = str(path).partition(":")
    try:
        obj: Any = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise InvalidInputError(f"class {path!r} cannot be imported: {exc}") from None
    if not isinstance(obj, type):
        raise InvalidInputError(f"{path!r} is not a class")
    return obj


@dataclass(frozen=True)
class Strategy(Parameters):
    """Base of the reporting strategies (subclasses are frozen dataclasses).

    Class attributes:
        name: the strategy's name (``"inflate"``).
        kind: ``"citizen"`` (answers demand factors ``(k,)``), ``"unit"`` (answers ``(input
            factors (k,), capacity factors (k,))``) or ``"any"``.
        primary: the field whose value the model hands each agent as ``ctx.param`` (``""``:
            none; the agents' parameter is then 1).
    """

    kind: ClassVar[str] = ""
    primary: ClassVar[str] = ""

    def report(self, ctx: StrategyContext) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """The reports of the ``ctx.index.size`` agents that use this strategy tonight."""
        raise NotImplementedError

    def __call__(self, ctx: StrategyContext) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        return self.report(ctx)

    def new_memory(self, size: int) -> Any:
        """What the strategy remembers in one model for the ``size`` agents of its kind (an
        object with ``state_dict()`` / ``load_state_dict()`` of plain data), handed back each
        night as ``ctx.memory``; ``None`` (the default): it remembers nothing."""
        return None

    @property
    def param(self) -> float:
        """The primary parameter (what each agent on this strategy gets as ``ctx.param``)."""
        return float(getattr(self, self.primary)) if self.primary else 1.0

    def with_param(self, value: float) -> Strategy:
        """The same strategy with primary parameter ``value`` (itself when it has none)."""
        return dataclasses.replace(self, **{self.primary: value}) if self.primary else self


@dataclass(frozen=True)
class Honest(Strategy):
    """Report the truth: demand factor 1, input factor 1, capacity factor 1."""

    name = "honest"
    kind = "any"

    def report(self, ctx: StrategyContext) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        ones = np.ones(ctx.index.size)
        return (ones, ones.copy()) if ctx.kind == "unit" else ones
