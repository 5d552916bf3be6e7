"""Coefficient curves fitted to sampled points: what production units report (OLIN-EP 4.1).

A unit asks itself its input needs ``g(q)`` at chosen orders ``q`` (active learning) and
reports the coefficient ``g(q) / q`` as a curve: interpolated linearly
(:class:`PiecewiseLinearCurve`) or smoothly (:class:`SmoothCurve`). Both satisfy
:class:`planner.economy.CoefficientCurve` and are re-exported by :mod:`planner.curves`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from innatura.planner.curves.arrays import as_float, finite_tuple, like_input
from innatura.planner.errors import InvalidInputError
from numpy.typing import ArrayLike
from scipy.interpolate import PchipInterpolator, make_lsq_spline

__all__ = ["PiecewiseLinearCurve", "SmoothCurve"]

logger = logging.getLogger(__name__)


def _sorted_samples(name: str, xs: ArrayLike, values: ArrayLike) -> tuple[tuple[float, ...], tuple[float, ...]]:
    xs_t = finite_tuple(f"{name}.xs", xs)
    vs_t = finite_tuple(f"{name}.values", values, nonneg=True)
    if len(xs_t) != len(vs_t) or len(xs_t) == 0:
        raise InvalidInputError(f"{name}: {len(xs_t)} sample points for {len(vs_t)} values")
    xa = np.asarray(xs_t)
    if (np.diff(xa) <= 0).any():
        raise InvalidInputError(f"{name}.xs: sample points must be strictly increasing, got {list(xs_t)!r}")
    return xs_t, vs_t


def _coefficients_from_inputs(name: str, qs: ArrayLike, inputs: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    q = np.asarray(finite_tuple(f"{name}.qs", qs, positive=True))
    g = np.asarray(finite_tuple(f"{name}.inputs", inputs, nonneg=True))
    if q.shape != g.shape:
        raise InvalidInputError(f"{name}: {q.size} orders for {g.size} input amounts")
    order = np.argsort(q)
    return q[order], g[order] / q[order]


@dataclass(frozen=True)
class PiecewiseLinearCurve:
    """Linear interpolation of a coefficient through sampled points, flat outside them.

    What a production unit reports after active learning: it asks itself the input needs
    ``g(q)`` at chosen orders ``q`` and interpolates the coefficient ``g(q) / q``
    (OLIN-EP Section 4.1; see :meth:`from_inputs`).

    Args:
        xs: strictly increasing output levels.
        values: coefficient at each level, ``>= 0``.

    The derivative is the slope of the segment holding ``x`` (right derivative at the sample
    points), zero outside ``[xs[0], xs[-1])``.
    """

    xs: tuple[float, ...]
    values: tuple[float, ...]
    _x: np.ndarray = field(init=False, repr=False, compare=False)
    _v: np.ndarray = field(init=False, repr=False, compare=False)
    _slope: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        xs, vs = _sorted_samples("PiecewiseLinearCurve", self.xs, self.values)
        object.__setattr__(self, "xs", xs)
        object.__setattr__(self, "values", vs)
        x, v = np.asarray(xs), np.asarray(vs)
        object.__setattr__(self, "_x", x)
        object.__setattr__(self, "_v", v)
        object.__setattr__(self, "_slope", np.diff(v) / np.diff(x) if x.size > 1 else np.zeros(0))

    @classmethod
    def from_inputs(cls, qs: ArrayLike, inputs: ArrayLike) -> PiecewiseLinearCurve:
        """Fit from sampled input use: coefficient ``inputs[k] / qs[k]`` at output ``qs[k] > 0``."""
        q, coef = _coefficients_from_inputs("PiecewiseLinearCurve", qs, inputs)
        return cls(tuple(q), tuple(coef))

    def __call__(self, x: np.ndarray | float) -> np.ndarray | float:
        return like_input(np.interp(as_float(x), self._x, self._v), x)

    def derivative(self, x: np.ndarray | float) -> np.ndarray | float:
        xa = as_float(x)
        if self._x.size < 2:
            return like_input(np.zeros(xa.shape), x)
        seg = np.searchsorted(self._x, xa, side="right") - 1
        inside = (seg >= 0) & (seg < self._x.size - 1)
        d = np.where(inside, self._slope[np.clip(seg, 0, self._slope.size - 1)], 0.0)
        return like_input(d, x)


@dataclass(frozen=True)
class SmoothCurve:
    """A smooth coefficient curve fitted to samples, flat (and non-negative) outside them.

    Two fits (:meth:`fit`): ``"pchip"`` interpolates with a monotone piecewise-cubic Hermite
    polynomial (it preserves monotone runs of the samples, no overshoot); ``"lsq"`` is a
    least-squares cubic B-spline with ``n_knots`` interior knots, for noisy samples.

    Args:
        xs: strictly increasing sample points.
        values: sampled coefficients, ``>= 0``.
        method: ``"pchip"`` or ``"lsq"``.
        n_knots: interior knots of the ``"lsq"`` fit (ignored by ``"pchip"``).
    """

    xs: tuple[float, ...]
    values: tuple[float, ...]
    method: str = "pchip"
    n_knots: int = 4
    _f: Callable[[np.ndarray], np.ndarray] = field(init=False, repr=False, compare=False)
    _df: Callable[[np.ndarray], np.ndarray] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        xs, vs = _sorted_samples("SmoothCurve", self.xs, self.values)
        object.__setattr__(self, "xs", xs)
        object.__setattr__(self, "values", vs)
        x, v = np.asarray(xs), np.asarray(vs)
        if self.method == "pchip":
            if x.size < 2:
                raise InvalidInputError("SmoothCurve: pchip needs at least 2 sample points")
            f = PchipInterpolator(x, v, extrapolate=False)
            df = f.derivative()
        elif self.method == "lsq":
            k = 3
            n_knots = int(self.n_knots)
            if n_knots < 0 or x.size < n_knots + k + 1:
                raise InvalidInputError(
                    f"SmoothCurve: lsq with {n_knots} interior knots needs >= {n_knots + k + 1} samples, got {x.size}"
                )
            interior = np.quantile(x, np.linspace(0, 1, n_knots + 2)[1:-1]) if n_knots else np.zeros(0)
            t = np.concatenate([[x[0]] * (k + 1), interior, [x[-1]] * (k + 1)])
            try:
                f = make_lsq_spline(x, v, t, k=k)
            except (ValueError, np.linalg.LinAlgError) as exc:
                raise InvalidInputError(f"SmoothCurve: lsq fit failed ({exc}); use fewer knots") from exc
            df = f.derivative()
        else:
            raise InvalidInputError(f"SmoothCurve.method: {self.method!r}; expected 'pchip' or 'lsq'")
        object.__setattr__(self, "_f", f)
        object.__setattr__(self, "_df", df)

    @classmethod
    def fit(cls, xs: ArrayLike, values: ArrayLike, method: str = "pchip", n_knots: int = 4) -> SmoothCurve:
        """Fit a smooth curve to coefficient samples (see the class docstring for ``method``)."""
        x = np.asarray(xs, dtype=float).ravel()
        order = np.argsort(x)
        v = np.asarray(values, dtype=float).ravel()
        if v.shape != x.shape:
            raise InvalidInputError(f"SmoothCurve.fit: {x.size} sample points for {v.size} values")
        return cls(tuple(x[order]), tuple(v[order]), method=method, n_knots=n_knots)

    @classmethod
    def from_inputs(cls, qs: ArrayLike, inputs: ArrayLike, method: str = "pchip", n_knots: int = 4) -> SmoothCurve:
        """Fit from sampled input use: coefficient ``inputs[k] / qs[k]`` at output ``qs[k] > 0``."""
        q, coef = _coefficients_from_inputs("SmoothCurve", qs, inputs)
        return cls(tuple(q), tuple(coef), method=method, n_knots=n_knots)

    def _raw(self, xa: np.ndarray) -> np.ndarray:
        lo, hi = self.xs[0], self.xs[-1]
        return np.asarray(self._f(np.clip(xa, lo, hi)), dtype=float)

    def __call__(self, x: np.ndarray | float) -> np.ndarray | float:
        return like_input(np.maximum(self._raw(as_float(x)), 0.0), x)

    def derivative(self, x: np.ndarray | float) -> np.ndarray | float:
        xa = as_float(x)
        lo, hi = self.xs[0], self.xs[-1]
        inside = (xa >= lo) & (xa < hi) & (self._raw(xa) > 0.0)
        d = np.asarray(self._df(np.clip(xa, lo, hi)), dtype=float)
        return like_input(np.where(inside, d, 0.0), x)
