"""Plain data with arrays: the form every saved piece of a run takes (:func:`split`, :func:`join`).

A *state* (what a planning method's ``state_dict()`` returns, a defence's memory, a decision's
diagnostics) is a tree of dicts with string keys, lists, strings, booleans, ``None``, whole
numbers, floats and numpy arrays. :func:`split` turns it into strict JSON plus a flat table of
arrays (stored in an ``.npz`` file): each array becomes ``{"$array": KEY}`` and each float that
JSON cannot carry (``nan``, ``inf``) ``{"$float": "nan"}``. :func:`join` reads both back into an
equal tree. Nothing else is accepted: an object of any other type is refused with the path to
it, so that a saved run never holds code.

    >>> import numpy as np
    >>> data, arrays = split({"last": np.array([1.0, 2.0]), "nights": 3, "gap": float("inf")}, "planner")
    >>> data
    {'last': {'$array': 'planner/last'}, 'nights': 3, 'gap': {'$float': 'inf'}}
    >>> join(data, arrays, "planner")
    {'last': array([1., 2.]), 'nights': 3, 'gap': inf}
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from innatura.planner.errors import InvalidInputError

__all__ = ["ARRAY_DTYPES", "join", "split"]

logger = logging.getLogger(__name__)

#: the array types a saved state may hold (no objects, no strings: nothing that needs code to read).
ARRAY_DTYPES = (np.dtype(np.float64), np.dtype(np.int64), np.dtype(np.bool_))

_FLOATS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def _array(value: np.ndarray, where: str) -> np.ndarray:
    out = np.asarray(value)
    if out.dtype.kind == "f":
        out = out.astype(np.float64, copy=False)
    elif out.dtype.kind in "iu":
        out = out.astype(np.int64, copy=False)
    if out.dtype not in ARRAY_DTYPES:
        raise InvalidInputError(f"{where}: an array of {out.dtype} cannot be saved (floats, whole numbers or "
                                "booleans only)")
    return np.ascontiguousarray(out)


def _scalar(value: Any, where: str) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, np.bool_):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (float, np.floating)):
        x = float(value)
        return x if math.isfinite(x) else {"$float": "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")}
    raise InvalidInputError(f"{where}: a {type(value).__name__} is not plain data (numbers, strings, booleans, "
                            "None, lists, dicts with string keys and numpy arrays only)")


def split(tree: Any, prefix: str) -> tuple[Any, dict[str, np.ndarray]]:
    """``(JSON-safe data, arrays by key)`` of ``tree``; array keys start with ``prefix``.

    Raises:
        InvalidInputError: something in ``tree`` is not plain data (the message gives its path).
    """
    arrays: dict[str, np.ndarray] = {}

    def walk(item: Any, path: str) -> Any:
        if isinstance(item, np.ndarray):
            arrays[path] = _array(item, path)
            return {"$array": path}
        if isinstance(item, Mapping):
            out = {}
            for key, value in item.items():
                if not isinstance(key, str) or key.startswith("$") or "/" in key:
                    raise InvalidInputError(f"{path}: key {key!r} (keys are strings without '/' that do not "
                                            "start with '$')")
                out[key] = walk(value, f"{path}/{key}")
            return out
        if isinstance(item, (list, tuple)):
            return [walk(value, f"{path}/{i}") for i, value in enumerate(item)]
        return _scalar(item, path)

    return walk(tree, prefix), arrays


def join(data: Any, arrays: Mapping[str, np.ndarray], where: str) -> Any:
    """The tree :func:`split` gave ``data`` and ``arrays`` for.

    Raises:
        InvalidInputError: a reference to an array that ``arrays`` lacks, or a malformed
            marker (the message gives ``where`` and the path inside).
    """

    def walk(item: Any, path: str) -> Any:
        if isinstance(item, dict):
            if set(item) == {"$array"}:
                key = item["$array"]
                if not isinstance(key, str) or key not in arrays:
                    raise InvalidInputError(f"{where}: {path}: refers to an array {key!r} the checkpoint lacks")
                return arrays[key]
            if set(item) == {"$float"}:
                if item["$float"] not in _FLOATS:
                    raise InvalidInputError(f"{where}: {path}: {item['$float']!r} is not nan, inf or -inf")
                return _FLOATS[item["$float"]]
            if any(str(k).startswith("$") for k in item):
                raise InvalidInputError(f"{where}: {path}: unknown marker {sorted(item)!r}")
            return {k: walk(v, f"{path}/{k}") for k, v in item.items()}
        if isinstance(item, list):
            return [walk(v, f"{path}/{i}") for i, v in enumerate(item)]
        return item

    return walk(data, "")
