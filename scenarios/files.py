"""Reading input files safely: scenario TOML, market JSON and input-output CSV tables.

Every reader of a user's file goes through :func:`read_text`, which accepts only a regular
file of at most :data:`MAX_INPUT_BYTES` (a device such as ``/dev/zero``, a pipe or a folder is
refused instead of read forever) holding UTF-8 text; :func:`read_json` adds strict JSON
(no ``NaN``, no nesting deeper than :data:`MAX_NESTING`: parsers and messages recurse once
per level). Every failure is an
:class:`~planner.errors.InputFileError` that names the file and, where it can, the line.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from innatura.planner.errors import InputFileError

__all__ = ["MAX_INPUT_BYTES", "MAX_NESTING", "check_nesting", "nesting_depth", "read_json", "read_text"]

logger = logging.getLogger(__name__)

#: largest input file read (the shipped detailed US table is about 2 MB).
MAX_INPUT_BYTES = 256 * 1024**2
#: deepest nesting of lists and tables accepted in a JSON or TOML input (a scenario needs 4).
MAX_NESTING = 64


def read_text(path: str | os.PathLike[str], what: str = "input file") -> str:
    """The UTF-8 text of the regular file at ``path`` (a leading byte-order mark is dropped).

    Args:
        path: the file.
        what: what the file should be, for messages (``"scenario file"``).

    Raises:
        InputFileError: the file is missing, is a folder or a device, is larger than
            :data:`MAX_INPUT_BYTES`, cannot be read, or is not UTF-8 (naming line and column).
    """
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InputFileError(path, f"cannot read: no such {what}") from None
    except OSError as exc:
        raise InputFileError(path, f"cannot read the {what}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(info.st_mode):
        raise InputFileError(path, f"is a folder; expected a {what}")
    if not stat.S_ISREG(info.st_mode):
        raise InputFileError(path, f"is not a regular file (a device, pipe or socket); expected a {what}")
    if info.st_size > MAX_INPUT_BYTES:
        raise InputFileError(path, f"{info.st_size} bytes; a {what} may have at most {MAX_INPUT_BYTES} bytes")
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise InputFileError(path, f"cannot read the {what}: {exc.strerror or exc}") from None
    if len(data) > MAX_INPUT_BYTES:
        raise InputFileError(path, f"more than {MAX_INPUT_BYTES} bytes; a {what} may have at most that")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputFileError(
            path, f"not UTF-8 text: byte 0x{data[exc.start]:02x} at line {line}, column {column} "
            "(save the file as UTF-8)",
        ) from None
    return text[1:] if text.startswith("\ufeff") else text


def nesting_depth(data: Any) -> int:
    """How deeply lists and dicts nest in parsed ``data`` (a scalar is 0), without recursion."""
    deepest = 0
    stack = [(data, 1)]
    while stack:
        item, depth = stack.pop()
        children: Iterable[Any]
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, (list, tuple)):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list, tuple)))
    return deepest


def check_nesting(data: Any, path: str | os.PathLike[str], what: str) -> Any:
    """Return ``data``; raise :class:`InputFileError` if it nests deeper than :data:`MAX_NESTING`."""
    if nesting_depth(data) > MAX_NESTING:
        raise InputFileError(path, f"nested more than {MAX_NESTING} levels deep; a {what} needs only a few")
    return data


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number; use a finite number")


def read_json(path: str | os.PathLike[str], what: str = "JSON file") -> Any:
    """Parse the JSON file at ``path`` strictly (``NaN`` and ``Infinity`` are refused).

    Raises:
        InputFileError: as :func:`read_text`, or the text is not JSON (naming line and column),
            or it nests deeper than :data:`MAX_NESTING`.
    """
    text = read_text(path, what)
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise InputFileError(path, f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except ValueError as exc:
        raise InputFileError(path, f"not valid JSON: {exc}") from None
    except RecursionError:
        raise InputFileError(path, f"nested too deeply; a {what} needs only a few levels") from None
    return check_nesting(data, path, what)
