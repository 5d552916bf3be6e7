"""The examples in the docstrings run and print what they say (doctest), module by module.

Modules are found under the installed ``innatura`` package (so the layer folders are imported
under their real names); only modules whose source holds an example are imported.
"""

from __future__ import annotations

import doctest
import importlib
import importlib.util
from pathlib import Path

import pytest

LAYERS = ("innatura.planner", "innatura.scenarios", "innatura.abm", "innatura.viz", "innatura.cli")


def _modules_with_examples() -> list[str]:
    """Modules of the layers whose source holds ``>>>``, found by reading the files (importing
    nothing beyond the layers' own ``__init__``)."""
    found = []
    for layer in LAYERS:
        spec = importlib.util.find_spec(layer)
        for folder in spec.submodule_search_locations or ():
            for path in sorted(Path(folder).rglob("*.py")):
                if ">>>" not in path.read_text(encoding="utf-8"):
                    continue
                parts = path.relative_to(folder).with_suffix("").parts
                parts = parts[:-1] if parts[-1] == "__init__" else parts
                found.append(".".join((layer, *parts)))
    return sorted(found)


MODULES = ["innatura", *_modules_with_examples()]
#: packages that load torch on import (the ``learn`` extra)
TORCH_PACKAGES = ("innatura.planner.learned", "innatura.abm.learning")
NEEDS_TORCH = pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch is not installed")


def _param(name: str) -> object:
    if name.startswith(TORCH_PACKAGES):
        return pytest.param(name, marks=[pytest.mark.learn, NEEDS_TORCH])
    return name


def test_the_modules_with_examples_are_found():
    assert {"innatura.abm.settings", "innatura.abm.model", "innatura.abm.adversarial.vocabulary"} <= set(MODULES)


@pytest.mark.parametrize("name", [_param(m) for m in MODULES])
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
