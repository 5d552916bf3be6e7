"""Small array helpers of the curve classes: float arrays in, a float or an array out."""

from __future__ import annotations

import numpy as np
from innatura.planner.errors import InvalidInputError
from numpy.typing import ArrayLike

__all__ = ["as_float", "finite_tuple", "like_input"]


def as_float(x: np.ndarray | float) -> np.ndarray:
    """``x`` as a float64 array (no copy when it already is one)."""
    return np.asarray(x, dtype=float)


def like_input(value: np.ndarray, like: np.ndarray | float) -> np.ndarray | float:
    """``value`` as a Python float when ``like`` is a scalar, as an array otherwise."""
    return float(value) if np.ndim(like) == 0 else value


def finite_tuple(name: str, values: ArrayLike, *, positive: bool = False, nonneg: bool = False) -> tuple[float, ...]:
    """``values`` as a tuple of finite floats; errors name the field ``name`` and the values."""
    arr = np.atleast_1d(np.asarray(values, dtype=float)).ravel()
    if not np.all(np.isfinite(arr)):
        raise InvalidInputError(f"{name}: entries must be finite, got {arr.tolist()!r}")
    if positive and (arr <= 0).any():
        raise InvalidInputError(f"{name}: entries must be positive, got {arr.tolist()!r}")
    if nonneg and (arr < 0).any():
        raise InvalidInputError(f"{name}: entries must be non-negative, got {arr.tolist()!r}")
    return tuple(float(v) for v in arr)
