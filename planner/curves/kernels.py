"""Elementwise kernels of production units' input use, shared by every vectorised evaluation.

A production unit with a power-law input function uses ``g(q) = scale * q ** exponent`` of an
input for an order of ``q`` units (:class:`~planner.curves.PowerLawInput`, OLIN-EP Section 5);
units stacked by output take the orders ``o_u(x) = clip(x - lower_u, 0, width_u)`` of a total
output ``x`` (:class:`~planner.curves.StackedCurve`, Fig. 1). These functions evaluate many units
at once from parameter arrays (one entry per unit, or per unit and input): the
:class:`~planner.curves.CurveStore` of the solvers and the execution of a day's plan use the
same kernels, so that planned and executed input use agree to the last bit.

Shapes:
    every argument broadcasts; the result has the broadcast shape.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["power_input", "power_slope", "stack_orders"]


def power_input(scale: ArrayLike, exponent: ArrayLike, q: ArrayLike) -> np.ndarray:
    """Input use ``g(q) = scale * max(q, 0) ** exponent`` of power-law units.

    Args:
        scale: input for an order of 1, ``>= 0``.
        exponent: returns to scale, ``> 0`` (``< 1``: economies of scale).
        q: the orders.
    """
    return np.asarray(scale, dtype=float) * np.maximum(np.asarray(q, dtype=float), 0.0) ** np.asarray(
        exponent, dtype=float
    )


def power_slope(scale: ArrayLike, exponent: ArrayLike, q: ArrayLike, floor: float) -> np.ndarray:
    """Marginal input use ``g'(q) = scale * exponent * q ** (exponent - 1)`` of power-law units;
    orders ``q <= 0`` take the right derivative at 0, evaluated at ``floor`` where it diverges
    (``exponent < 1``)."""
    e = np.asarray(exponent, dtype=float)
    qa = np.maximum(np.asarray(q, dtype=float), 0.0)
    base = np.where(e < 1, np.maximum(qa, floor), qa)
    return np.asarray(scale, dtype=float) * e * base ** (e - 1.0)


def stack_orders(x: ArrayLike, lower: ArrayLike, width: ArrayLike) -> np.ndarray:
    """Orders of stacked units for total outputs ``x``: ``clip(x - lower, 0, width)``.

    ``lower`` is the total output at which a unit starts taking orders, ``width`` its capacity
    (``inf`` for the last unit of a stack, which takes everything beyond its predecessors).
    """
    return np.clip(np.asarray(x, dtype=float) - np.asarray(lower, dtype=float), 0.0, width)
