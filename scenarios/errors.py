"""Errors raised while reading, validating and building scenarios.

Every message names where the problem is: the file (or ``<python>`` for specs built in
code), the field path inside the scenario (``units[2].inputs.Lucloelium.scale``) and the
offending value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

from innatura.planner.errors import InvalidInputError

__all__ = ["ScenarioError", "ScenarioFieldError", "UnknownScenarioError", "format_path", "format_value"]

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


class ScenarioFieldError(ValueError):
    """A cross-field check failed at ``path``; raised inside validators, wrapped by the loader.

    Attributes:
        path: location inside the scenario, e.g. ``("units", 2, "inputs", "Lucloelium")``.
        value: the offending value.
    """

    def __init__(self, path: Sequence[str | int], value: Any, message: str):
        super().__init__(message)
        self.path = tuple(path)
        self.value = value
        self.message = message


class ScenarioError(InvalidInputError):
    """A scenario file or spec is invalid.

    Attributes:
        source: the file (or ``<python>``, ``<string>``) the scenario came from.
        problems: one ``(path, value, message)`` triple per problem found (``path`` is ``None``
            for a problem with the file as a whole, such as a TOML syntax error).
    """

    def __init__(self, source: str, problems: Iterable[tuple[tuple[str | int, ...] | None, Any, str]]):
        self.source = str(source)
        self.problems = tuple(problems)
        lines = [
            f"{self.source}: {m}" if p is None else f"{self.source}: {format_path(p)}: {m} (got {format_value(v)})"
            for p, v, m in self.problems
        ]
        if len(lines) == 1:
            text = lines[0]
        else:
            text = f"{self.source}: {len(lines)} problems\n  " + "\n  ".join(lines)
        super().__init__(text)


class UnknownScenarioError(ScenarioError, KeyError):
    """No built-in scenario, builder or file has the requested name."""

    def __init__(self, name: str, known: Sequence[str]):
        super().__init__(
            "<registry>",
            [(None, name, f"unknown scenario {name!r}; known scenarios: {', '.join(known)} "
                          "(or give a path to a .toml file)")],
        )
        self.name = name
        self.known = tuple(known)

    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0]


def format_path(path: Sequence[str | int]) -> str:
    """Render a field path the way it reads in the file: ``units[2].inputs."Vorpal Pick +1"``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            key = part if _BARE_KEY.match(part) else '"' + part.replace('"', '\\"') + '"'
            out += ("." if out else "") + key
    return out or "<scenario>"


def format_value(value: Any, limit: int = 80) -> str:
    """A short ``repr`` of ``value`` for messages (long tables are cut)."""
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
