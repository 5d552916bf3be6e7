"""What a checkpoint refuses beyond a wrong type: code to import, values a reader would bend.

* A strategy or a defence of one's own is saved as its dict with ``"class": "module:QualName"``
  (:meth:`abm.adversarial.base.Parameters.to_dict`). Reading such a dict elsewhere imports the
  module; reading it from a checkpoint would let a crafted run folder import (and so run) any
  module on the path. :func:`check_no_import` refuses a class whose module is not imported yet:
  whoever resumes a run that uses their own classes imports their module first.
* The readers of settings, strategies and defences are lenient with Python callers (``"yes"``
  is true, ``2`` is ``2.0``); a checkpoint holds exactly what :meth:`to_dict` wrote, so
  :func:`check_exact` refuses data that does not read back to itself.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from innatura.planner.errors import InputFileError

__all__ = ["check_exact", "check_no_import"]

logger = logging.getLogger(__name__)


def check_no_import(data: Any, path: Path, field: str) -> None:
    """Raise :class:`InputFileError` if ``data`` (parsed JSON) names a class, under a ``"class"``
    key, whose module is not imported in this process."""
    stack = [(data, field)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, Mapping):
            named = item.get("class")
            if named is not None:
                module = str(named).partition(":")[0]
                if module not in sys.modules:
                    raise InputFileError(path, f"names the class {named!r} of a module that is not imported; a "
                                         "checkpoint never imports code: import the module before loading",
                                         field=f"{where}.class")
            stack.extend((v, f"{where}.{k}") for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((v, f"{where}[{i}]") for i, v in enumerate(item))


def _difference(given: Any, back: Any, where: str) -> tuple[str, Any] | None:
    """The first place where ``given`` and ``back`` differ in value or JSON type."""
    if isinstance(given, Mapping) and isinstance(back, Mapping):
        for key in sorted(set(given) | set(back)):
            if key not in given or key not in back:
                return f"{where}.{key}", given.get(key, "<missing>")
            found = _difference(given[key], back[key], f"{where}.{key}")
            if found:
                return found
        return None
    if isinstance(given, list) and isinstance(back, list) and len(given) == len(back):
        for i, (a, b) in enumerate(zip(given, back, strict=True)):
            found = _difference(a, b, f"{where}[{i}]")
            if found:
                return found
        return None
    return None if json.dumps(given) == json.dumps(back) else (where, given)


def check_exact(given: Any, back: Any, path: Path, field: str) -> None:
    """Raise :class:`InputFileError` unless ``given`` (read from ``path``) equals ``back`` (what
    the object read from it writes), types included; the message names the first field that
    differs and what the reader would have made of it."""
    found = _difference(given, back, field)
    if found is not None:
        where, value = found
        raise InputFileError(path, "not the value (or the type) this field holds; a checkpoint holds exactly what "
                             "innatura wrote", field=where, value=value)
