"""Helpers the documentation tests share: the build hooks loaded by path, a folder to run in."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
HOOKS = ROOT / "docs" / "hooks"
TUTORIALS = sorted((ROOT / "docs" / "tutorials").glob("[0-9][0-9]-*.py"))


def load_hook(name: str) -> ModuleType:
    """The build hook ``docs/hooks/<name>.py`` as a module (MkDocs loads it by path too)."""
    spec = importlib.util.spec_from_file_location(f"innatura_docs_hook_{name}", HOOKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def decoy_folder(folder: Path) -> Path:
    """``folder`` with ``scenarios/`` and ``abm/`` packages of its own that raise when imported and
    junk built-in scenario files: code that reaches them instead of ``innatura.`` fails."""
    for name in ("scenarios", "abm"):
        package = folder / name
        package.mkdir(exist_ok=True)
        (package / "__init__.py").write_text(
            f"raise ImportError('the folder {name}/ of the current directory was imported; "
            f"use innatura.{name}')\n", encoding="utf-8")
    builtin = folder / "scenarios" / "builtin"
    builtin.mkdir(exist_ok=True)
    for name in ("selviaria", "butter-village", "archipelago"):
        (builtin / f"{name}.toml").write_text("this is not the scenario [\n", encoding="utf-8")
    return folder


def checkout_like(folder: Path) -> Path:
    """A decoy folder that also holds what a checkout has: ``scenarios/data`` and ``examples/``."""
    decoy_folder(folder)
    (folder / "scenarios" / "data").symlink_to(ROOT / "scenarios" / "data", target_is_directory=True)
    shutil.copytree(ROOT / "examples", folder / "examples", ignore=shutil.ignore_patterns("__pycache__"))
    return folder
