"""Production units' input functions and the stacked coefficient curve they make together.

OLIN-EP (Eq. 4, Fig. 1; PLoS ONE Fig. 1) lets a technical coefficient vary with the output
of its column's good. A *production unit* knows its input use for an order of ``q`` units,
``g(q)`` (an :class:`InputFunction`); several units making the same good are *stacked* by
output (the first takes orders up to its capacity, then the next, ...), and the coefficient
at total output ``x`` is total input over ``x`` (:class:`StackedCurve`). Units report their
curves by sampling themselves ("how much milk for one pound of cheese? two? three?") and
interpolating (:class:`PiecewiseLinearCurve`, :class:`SmoothCurve`).

Every coefficient curve here satisfies :class:`planner.economy.CoefficientCurve`:
``curve(x)`` is the input per unit of output at output ``x`` (vectorised), and
``curve.derivative(x)`` its derivative in ``x``. Curves are immutable and compare by value.
They are the scalar reference: :class:`planner.curves.CurveStore` evaluates many cells at once
from arrays and is tested against them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
from innatura.planner.curves.arrays import as_float, like_input
from innatura.planner.errors import InvalidInputError

__all__ = [
    "X_FLOOR",
    "ConstantCurve",
    "InputFunction",
    "PowerLawInput",
    "StackedCurve",
]

logger = logging.getLogger(__name__)

#: Output below which a coefficient is evaluated at ``X_FLOOR`` (the coefficient of an
#: infinitesimal order). ``g(x) / x`` has no value at ``x = 0`` and may diverge there
#: (``sqrt(q) / q``); planners evaluate curves at zero output on their first iteration.
X_FLOOR = 1e-9


@runtime_checkable
class InputFunction(Protocol):
    """A production unit's use of one input for an order of ``q`` units: ``g(q)``, ``g'(q)``."""

    def __call__(self, q: np.ndarray | float) -> np.ndarray | float: ...

    def derivative(self, q: np.ndarray | float) -> np.ndarray | float: ...


@dataclass(frozen=True)
class PowerLawInput:
    """Input use ``g(q) = scale * q ** exponent`` of one production unit (an :class:`InputFunction`).

    The Selviaria factories (OLIN-EP Section 5, Fig. 2) are power laws: ``2q/1000`` is
    ``PowerLawInput(0.002, 1)``, ``10 sqrt(q)/1000`` is ``PowerLawInput(0.01, 0.5)`` and
    ``q^2/1000/1000`` is ``PowerLawInput(1e-6, 2)``.

    Args:
        scale: input per unit of ``q ** exponent``, ``>= 0``.
        exponent: returns to scale of the input, ``> 0`` (``< 1``: economies of scale).

    Note:
        ``__call__`` is the *input use*, not a coefficient; ``coefficient(x)`` is ``g(x) / x``.
        Orders ``q <= 0`` use nothing.
    """

    scale: float
    exponent: float

    def __post_init__(self) -> None:
        if not np.isfinite(self.scale) or self.scale < 0:
            raise InvalidInputError(f"PowerLawInput.scale: must be finite and >= 0, got {self.scale!r}")
        if not np.isfinite(self.exponent) or self.exponent <= 0:
            raise InvalidInputError(f"PowerLawInput.exponent: must be finite and > 0, got {self.exponent!r}")
        object.__setattr__(self, "scale", float(self.scale))
        object.__setattr__(self, "exponent", float(self.exponent))

    def __call__(self, q: np.ndarray | float) -> np.ndarray | float:
        qa = np.maximum(as_float(q), 0.0)
        return like_input(self.scale * qa**self.exponent, q)

    def derivative(self, q: np.ndarray | float) -> np.ndarray | float:
        """``g'(q) = scale * exponent * q ** (exponent - 1)``; the right derivative at ``q = 0``
        is used for ``q <= 0`` (evaluated at :data:`X_FLOOR` when it diverges)."""
        qa = np.maximum(as_float(q), 0.0)
        if self.exponent < 1:
            qa = np.maximum(qa, X_FLOOR)
        return like_input(self.scale * self.exponent * qa ** (self.exponent - 1.0), q)

    def coefficient(self, x: np.ndarray | float) -> np.ndarray | float:
        """Input per unit of output of this unit alone, ``g(x) / x`` (floored at :data:`X_FLOOR`)."""
        xa = np.maximum(as_float(x), X_FLOOR)
        return like_input(self.scale * xa ** (self.exponent - 1.0), x)


@dataclass(frozen=True)
class ConstantCurve:
    """A coefficient that does not depend on output: ``f(x) = value``, ``f'(x) = 0``."""

    value: float

    def __post_init__(self) -> None:
        if not np.isfinite(self.value) or self.value < 0:
            raise InvalidInputError(f"ConstantCurve.value: must be finite and >= 0, got {self.value!r}")
        object.__setattr__(self, "value", float(self.value))

    def __call__(self, x: np.ndarray | float) -> np.ndarray | float:
        return like_input(np.full(np.shape(x), self.value), x)

    def derivative(self, x: np.ndarray | float) -> np.ndarray | float:
        return like_input(np.zeros(np.shape(x)), x)


@dataclass(frozen=True)
class StackedCurve:
    """Coefficient of production units stacked by output (OLIN-EP Fig. 1 / Fig. 2).

    Orders up to ``capacities[0]`` go to the first unit, the next ``capacities[1]`` to the
    second, and so on. **The last unit takes everything beyond its predecessors**: its
    capacity is reported by :attr:`total_capacity` (what a planner should bound production
    by) but the curve itself extends past it, so that a solver iterate beyond capacity still
    has a finite, smooth coefficient. The coefficient at total output ``x`` is total input
    over ``x``:

    ``f(x) = sum_u g_u(o_u(x)) / x``,  ``o_u(x) = clip(x - C_{u-1}, 0, c_u)``  (``C`` cumulative).

    Args:
        capacities: capacity of each unit in stacking order, ``> 0`` (the last may be ``inf``).
        input_functions: each unit's :class:`InputFunction` for this input.

    Below :data:`X_FLOOR` the coefficient is evaluated at ``X_FLOOR``.
    """

    capacities: tuple[float, ...]
    input_functions: tuple[InputFunction, ...]
    _lower: np.ndarray = field(init=False, repr=False, compare=False)
    _width: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        caps = np.atleast_1d(np.asarray(self.capacities, dtype=float)).ravel()
        funcs = tuple(self.input_functions)
        if len(funcs) == 0 or len(caps) != len(funcs):
            raise InvalidInputError(
                f"StackedCurve: {len(caps)} capacities for {len(funcs)} input functions; need one per unit"
            )
        if np.isnan(caps).any() or (caps <= 0).any() or np.isinf(caps[:-1]).any():
            raise InvalidInputError(
                f"StackedCurve.capacities: must be positive and finite (the last may be inf), got {caps.tolist()!r}"
            )
        for k, g in enumerate(funcs):
            if not (callable(g) and hasattr(g, "derivative")):
                raise InvalidInputError(f"StackedCurve.input_functions[{k}]: {g!r} has no __call__/derivative")
        object.__setattr__(self, "capacities", tuple(float(c) for c in caps))
        object.__setattr__(self, "input_functions", funcs)
        lower = np.concatenate([[0.0], np.cumsum(caps[:-1])])
        width = caps.copy()
        width[-1] = np.inf  # the last unit takes everything beyond
        object.__setattr__(self, "_lower", lower)
        object.__setattr__(self, "_width", width)

    @property
    def lower_bounds(self) -> np.ndarray:
        """Total output at which each unit starts taking orders, ``(n_units,)`` (``0`` first)."""
        return self._lower

    @property
    def n_units(self) -> int:
        return len(self.capacities)

    @property
    def total_capacity(self) -> float:
        """Sum of the units' capacities (``inf`` if the last is unbounded)."""
        return float(np.sum(self.capacities))

    def dispatch(self, x: np.ndarray | float) -> np.ndarray:
        """Split a target output over the units in stacking order.

        Shapes:
            ``x``: any shape ``S``; returns shape ``S + (n_units,)`` with the orders per unit;
            they sum to ``max(x, 0)``.
        """
        xa = np.maximum(as_float(x), 0.0)
        return np.clip(xa[..., None] - self._lower, 0.0, self._width)

    def total_input(self, x: np.ndarray | float) -> np.ndarray | float:
        """Total input use ``G(x) = sum_u g_u(o_u(x))`` of all units for a total output ``x``."""
        orders = self.dispatch(x)
        total = np.zeros(orders.shape[:-1])
        for u, g in enumerate(self.input_functions):
            total = total + np.asarray(g(orders[..., u]), dtype=float)
        return like_input(total, x)

    def _active_slope(self, xa: np.ndarray) -> np.ndarray:
        """``G'(x)``: derivative of the unit whose range holds ``x`` (right derivative at breaks)."""
        unit = np.searchsorted(self._lower, xa, side="right") - 1
        unit = np.clip(unit, 0, self.n_units - 1)
        orders = self.dispatch(xa)
        slope = np.zeros(xa.shape)
        for u, g in enumerate(self.input_functions):
            sel = unit == u
            if sel.any():
                slope[sel] = np.asarray(g.derivative(orders[..., u][sel]), dtype=float)
        return slope

    def __call__(self, x: np.ndarray | float) -> np.ndarray | float:
        xa = np.maximum(as_float(x), X_FLOOR)
        return like_input(np.asarray(self.total_input(xa)) / xa, x)

    def derivative(self, x: np.ndarray | float) -> np.ndarray | float:
        """``f'(x) = G'(x) / x - G(x) / x^2`` (zero below :data:`X_FLOOR`, where ``f`` is flat)."""
        xr = as_float(x)
        xa = np.maximum(xr, X_FLOOR)
        G = np.asarray(self.total_input(xa), dtype=float)
        d = self._active_slope(xa) / xa - G / xa**2
        return like_input(np.where(xr < X_FLOOR, 0.0, d), x)
