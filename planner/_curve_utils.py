"""Small array helpers shared by the curve modules."""

from __future__ import annotations

import numpy as np
from innatura.planner.errors import InvalidInputError

__all__ = ["_asfloat", "_finite_tuple", "_out"]


def _asfloat(x: np.ndarray | float) -> np.ndarray:
    return np.asarray(x, dtype=float)


def _out(value: np.ndarray, like: np.ndarray | float) -> np.ndarray | float:
    """Return a Python float for scalar input, an array otherwise."""
    return float(value) if np.ndim(like) == 0 else value


def _finite_tuple(name: str, values, *, positive: bool = False, nonneg: bool = False) -> tuple[float, ...]:
    arr = np.atleast_1d(np.asarray(values, dtype=float)).ravel()
    if not np.all(np.isfinite(arr)):
        raise InvalidInputError(f"{name}: entries must be finite, got {arr.tolist()!r}")
    if positive and (arr <= 0).any():
        raise InvalidInputError(f"{name}: entries must be positive, got {arr.tolist()!r}")
    if nonneg and (arr < 0).any():
        raise InvalidInputError(f"{name}: entries must be non-negative, got {arr.tolist()!r}")
    return tuple(float(v) for v in arr)
