"""Scenarios by name: built-in TOML files and Python builders.

* Built-in files: ``scenarios/builtin/<name>.toml`` (found by name).
* Builders: the explicit table :data:`BUILDERS` (``name -> "module:function"``); a builder is
  a function returning a :class:`~scenarios.spec.ScenarioSpec`, called with the keyword
  parameters given to :func:`load`. Nothing registers itself on import.
* Shipped real IO tables: :data:`scenarios.io_tables.shipped.SHIPPED`, built by
  :func:`~scenarios.io_tables.shipped.build_shipped`.

``load`` also takes a path to any scenario file.
"""

from __future__ import annotations

import functools
import importlib
import logging
import os
import tomllib
from pathlib import Path
from typing import Any

from innatura.scenarios.errors import ScenarioError, UnknownScenarioError
from innatura.scenarios.io_tables.shipped import SHIPPED, build_shipped
from innatura.scenarios.loader import load_toml
from innatura.scenarios.spec import ScenarioSpec

__all__ = ["BUILDERS", "BUILTIN_DIR", "DEFAULT_SCENARIO", "available", "load", "names"]

logger = logging.getLogger(__name__)

#: folder of the built-in scenario files.
BUILTIN_DIR = Path(__file__).resolve().parent / "builtin"

#: Python builders: scenario name -> ``"module:function"``; the module also defines
#: ``DESCRIPTION`` (the one-line description, read without building).
BUILDERS: dict[str, str] = {
    "archipelago": "innatura.scenarios.builders.archipelago:build",
    "five-regions": "innatura.scenarios.builders.five_regions:build",
}

#: the scenario ``innatura run`` runs when none is named.
DEFAULT_SCENARIO = "archipelago"


def _builtin_files() -> dict[str, Path]:
    return {p.stem: p for p in sorted(BUILTIN_DIR.glob("*.toml"))}


def names() -> list[str]:
    """Names of every built-in scenario and builder, sorted."""
    return sorted(set(_builtin_files()) | set(BUILDERS) | set(SHIPPED))


def _builder(name: str) -> tuple[str, Any]:
    """``(description, build function)`` of a Python builder or a shipped table."""
    if name in SHIPPED:
        return SHIPPED[name].description, functools.partial(build_shipped, name)
    module, _, func = BUILDERS[name].partition(":")
    mod = importlib.import_module(module)
    return str(getattr(mod, "DESCRIPTION", "")), getattr(mod, func)


def available() -> list[tuple[str, str]]:
    """``(name, one-line description)`` of every scenario :func:`load` knows by name, sorted."""
    out: dict[str, str] = {}
    for name, path in _builtin_files().items():
        try:
            meta = tomllib.loads(path.read_text(encoding="utf-8")).get("scenario", {})
            out[name] = str(meta.get("description", ""))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            out[name] = f"(unreadable: {exc})"
    for name in [*BUILDERS, *SHIPPED]:
        out[name] = _builder(name)[0]
    return sorted(out.items())


def _looks_like_path(name: str | os.PathLike[str]) -> bool:
    text = os.fspath(name)
    return isinstance(name, os.PathLike) or text.endswith(".toml") or os.sep in text or "/" in text


def load(name: str | os.PathLike[str], **params: Any) -> ScenarioSpec:
    """Load a scenario by name (built-in file or builder) or from a TOML file path.

    Args:
        name: ``"butter-village"``, ``"archipelago"``, ... (see :func:`available`) or a path.
        **params: for a builder, its keyword arguments (e.g. ``seed``, ``regions``); for a
            file, run-setting overrides (``days``, ``seed``, ``investment_share``, ``method``,
            ``losses_enabled``; see :meth:`ScenarioSpec.with_overrides`).

    Raises:
        UnknownScenarioError: no scenario has that name (the message lists the known ones).
        ScenarioError: the file or the builder's spec is invalid, or ``name`` is neither a
            string nor a path.
    """
    if not isinstance(name, (str, os.PathLike)):
        raise ScenarioError("<scenario>", [(None, name, f"expected a scenario name, a path to a .toml file or a "
                                                        f"ScenarioSpec, got {type(name).__name__} {name!r}")])
    if _looks_like_path(name):
        spec = load_toml(name)
    elif name in BUILDERS or name in SHIPPED:
        _, build = _builder(name)
        try:
            spec = build(**params)
        except TypeError as exc:
            problem = (tuple(params) or ("params",), params, f"bad builder parameters: {exc}")
            raise ScenarioError(f"<{name}>", [problem]) from None
        if not isinstance(spec, ScenarioSpec):
            raise TypeError(f"builder of {name!r} returned {type(spec).__name__}, not ScenarioSpec")
        return spec.located(f"<{name}>")
    elif name in _builtin_files():
        spec = load_toml(_builtin_files()[name])
    else:
        raise UnknownScenarioError(str(name), names())
    return spec.with_overrides(**params) if params else spec
