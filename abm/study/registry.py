"""The studies that ship with innatura, found by name after a normal install.

The shipped study files are package data (``innatura/abm/study/builtin/*.toml``); a name that
is not one of them is read as a path to a study file.

    >>> "misreporting-both-sides" in names()
    True
"""

from __future__ import annotations

import logging
import os
import tomllib
from pathlib import Path

from innatura.abm.study.spec import StudyError, StudySpec, load_study

__all__ = ["BUILTIN_DIR", "available", "find", "load", "names"]

logger = logging.getLogger(__name__)

#: the folder of the shipped study files.
BUILTIN_DIR = Path(__file__).resolve().parent / "builtin"


def _files() -> dict[str, Path]:
    return {p.stem: p for p in sorted(BUILTIN_DIR.glob("*.toml"))}


def names() -> list[str]:
    """Names of the shipped studies, sorted."""
    return sorted(_files())


def available() -> list[tuple[str, str]]:
    """``(name, one-line description)`` of every shipped study."""
    out = []
    files = _files()
    for name, path in sorted(files.items()):
        try:
            meta = tomllib.loads(path.read_text(encoding="utf-8")).get("study", {})
            out.append((name, str(meta.get("description", ""))))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            out.append((name, f"(unreadable: {exc})"))
    return out


def find(name: str | os.PathLike[str]) -> Path:
    """The file of the shipped study ``name``, or ``name`` as a path.

    Raises:
        StudyError: neither a shipped study nor an existing file (the message lists the shipped ones).
    """
    text = os.fspath(name)
    files = _files()
    if text in files:
        return files[text]
    path = Path(text)
    if path.exists() or text.endswith(".toml") or os.sep in text:
        return path
    raise StudyError("<studies>", [(None, None, f"unknown study {text!r}; shipped studies: "
                                                f"{', '.join(files)} (or give a path to a .toml file)")])


def load(name: str | os.PathLike[str]) -> StudySpec:
    """The study ``name`` (a shipped study's name or a file's path), validated."""
    return load_study(find(name))
