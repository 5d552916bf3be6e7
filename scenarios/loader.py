"""Read and write scenario TOML files (``scenarios/FORMAT.md`` describes the format).

:func:`load_toml` parses with :mod:`tomllib` and validates into a
:class:`~scenarios.spec.ScenarioSpec`; syntax errors (with line and column) and validation
errors (with field path and value) become :class:`~scenarios.errors.ScenarioError` naming the
file. :func:`dump_toml` writes a spec back so that ``load_toml(dump_toml(spec))`` equals
``spec``; it writes atomically (temporary file, then ``os.replace``).
"""

from __future__ import annotations

import logging
import math
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from innatura.planner.atomic import atomic_write_text
from innatura.planner.errors import InputFileError
from innatura.scenarios.errors import ScenarioError
from innatura.scenarios.files import check_nesting, read_text
from innatura.scenarios.spec import ALL_REGIONS, ScenarioSpec, validation_problems
from pydantic import ValidationError

__all__ = ["dump_toml", "dumps_toml", "load_toml", "loads_toml", "spec_from_dict"]

logger = logging.getLogger(__name__)

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def spec_from_dict(data: Mapping[str, Any], source: str = "<python>") -> ScenarioSpec:
    """Validate a parsed scenario (the dict :mod:`tomllib` returns) into a spec.

    Raises:
        ScenarioError: naming ``source``, the field path and the value of every problem.
    """
    try:
        return ScenarioSpec.model_validate(data).located(source)
    except ValidationError as exc:
        raise ScenarioError(source, validation_problems(exc)) from None


def loads_toml(text: str, source: str = "<string>") -> ScenarioSpec:
    """Parse and validate scenario TOML ``text``; ``source`` names it in error messages."""
    try:
        data = check_nesting(tomllib.loads(text), source, "scenario")
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(source, [(None, None, f"TOML syntax error: {exc}")]) from None
    except RecursionError:
        raise ScenarioError(source, [(None, None, "nested too deeply; a scenario needs only a few levels")]) from None
    except InputFileError as exc:
        raise ScenarioError(source, [(None, None, exc.problem)]) from None
    return spec_from_dict(data, source)


def load_toml(path: str | os.PathLike[str]) -> ScenarioSpec:
    """Read and validate the scenario file at ``path`` (a regular UTF-8 file; see
    :func:`scenarios.files.read_text`)."""
    try:
        text = read_text(path, "scenario file")
    except InputFileError as exc:
        raise ScenarioError(str(path), [(None, None, exc.problem)]) from None
    return loads_toml(text, str(path))


# -- writing -------------------------------------------------------------------------------
def _key(key: str) -> str:
    return key if _BARE.match(key) else _string(key)


def _string(text: str) -> str:
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 32 or ord(ch) == 127:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }" if value else "{}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} {value!r} to TOML")


def _pairs(table: Mapping[str, Any]) -> list[str]:
    return [f"{_key(k)} = {_value(v)}" for k, v in table.items()]


def _regional(amounts: Mapping[str, float]) -> Any:
    return amounts[ALL_REGIONS] if set(amounts) == {ALL_REGIONS} else dict(amounts)


def dumps_toml(spec: ScenarioSpec) -> str:
    """The scenario as TOML text (fields left at their defaults are not written)."""
    data = spec.model_dump(mode="python", exclude_defaults=True)
    lines: list[str] = [f"# {spec.scenario.name}: {spec.scenario.description}", "", "[scenario]"]
    lines += _pairs(data["scenario"])
    for good in data["goods"]:
        lines += ["", "[[goods]]", *_pairs(good)]
    for output, column in data.get("coefficients", {}).items():
        lines += ["", f"[coefficients.{_key(output)}]", *_pairs(column)]
    for profile in data["profiles"]:
        lines += ["", "[[profiles]]", *_pairs(profile)]
    for unit in data.get("units", ()):
        lines += ["", "[[units]]", *_pairs(unit)]
    regions = dict(data.get("regions", {}))
    if "regions" in data:
        nodes, edges = regions.pop("nodes", ()), regions.pop("edges", ())
        lines += ["", "[regions]", *_pairs(regions)] if regions else []
        for node in nodes:
            lines += ["", "[[regions.nodes]]", *_pairs(node)]
        for edge in edges:
            lines += ["", "[[regions.edges]]", *_pairs(edge)]
    for section in ("inventory", "labour"):
        if data.get(section):
            lines += ["", f"[{section}]"]
            lines += [f"{_key(g)} = {_value(_regional(a))}" for g, a in data[section].items()]
    if data.get("planning"):
        lines += ["", "[planning]", *_pairs(data["planning"])]
    if data.get("losses"):
        losses = dict(data["losses"])
        events = losses.pop("events", ())
        lines += ["", "[losses]", *_pairs(losses)] if losses else []
        for event in events:
            lines += ["", "[[losses.events]]", *_pairs(event)]
    return "\n".join(lines) + "\n"


def dump_toml(spec: ScenarioSpec, path: str | os.PathLike[str], header: Sequence[str] = ()) -> Path:
    """Write ``spec`` as TOML to ``path`` atomically; returns the path.

    The file loads back (:func:`load_toml`) into a spec equal to ``spec``.

    Args:
        spec: the scenario.
        path: the file to write (replaced atomically: readers never see half a file).
        header: comment lines written above the TOML (without the leading ``#``).
    """
    path = Path(path)
    text = "".join(f"# {line}\n" for line in header) + dumps_toml(spec)
    atomic_write_text(path, text)
    logger.info("wrote scenario %s to %s", spec.scenario.name, path)
    return path
