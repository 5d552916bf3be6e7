"""How a production unit learns the curve it reports (OLIN-EP Section 4.1).

A unit does not know its input functions in closed form. It "asks itself" how much of each
input an order of ``q`` units needs (a *query* of its own private, true process), and
interpolates between the answers. Queries are rationed by a budget, so the unit chooses where
to ask: it starts at the top of its range and bisects, each time, the interval where the
interpolation is most likely wrong (the widest interval weighted by the change of slope of
the sampled input use around it, a curvature estimate). Executing a plan reveals the true input
use at the executed order for free; the unit adds that observation and refits.

The fitted report is a :class:`SampledInput` per (unit, input): linear interpolation of the
input use ``g(q)`` through ``(0, 0)`` and the samples, extended past the last sample by the power
law through the last two samples (exact for power-law technologies, and never the optimistic
straight line that would invite the planner to order far beyond what the unit has seen). It is a
:class:`planner.curves.InputFunction`, so stacked units give the planner
a :class:`planner.curves.StackedCurve` coefficient.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from innatura.planner.errors import InvalidInputError

__all__ = ["MAX_QUERY_BUDGET", "SampledInput", "UnitSamples", "choose_queries", "curve_error", "learn_units",
           "summed_use"]

logger = logging.getLogger(__name__)

#: most queries a unit may spend on learning its curve: samples closer than 0.1% of the order
#: replace each other, so far fewer distinct samples survive, and each query costs time.
MAX_QUERY_BUDGET = 10_000


@dataclass(frozen=True)
class SampledInput:
    """Input use interpolated through samples: ``g(0) = 0``, linear between samples, and beyond the
    last sample ``q_k`` the power law ``g_k (q / q_k) ** b`` through the last two samples
    (``b`` clipped to ``[0.25, 4]``; the last segment's line when a sample is zero).

    Args:
        qs: strictly increasing positive orders.
        values: input use at each order, ``>= 0``.
        factor: a multiplier applied to every value (a report that overstates inputs).
    """

    qs: tuple[float, ...]
    values: tuple[float, ...]
    factor: float = 1.0
    _q: np.ndarray = field(init=False, repr=False, compare=False)
    _g: np.ndarray = field(init=False, repr=False, compare=False)
    _dq: np.ndarray = field(init=False, repr=False, compare=False)
    _lazy: dict[str, np.ndarray | float | None] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        q = np.asarray(self.qs, dtype=float)
        g = np.asarray(self.values, dtype=float) * float(self.factor)
        if q.ndim != 1 or q.shape != g.shape or q.size == 0:
            raise InvalidInputError(f"SampledInput: {q.size} orders for {g.size} values")
        if not (np.all(np.isfinite(q)) and np.all(np.isfinite(g))) or (q <= 0).any() or (g < 0).any():
            raise InvalidInputError("SampledInput: orders must be finite and positive, values finite and >= 0")
        if (np.diff(q) <= 0).any():
            raise InvalidInputError("SampledInput: orders must be strictly increasing")
        q = np.concatenate([[0.0], q])
        self._set_knots(q, np.concatenate([[0.0], g]), np.diff(q))

    def _set_knots(self, q: np.ndarray, g: np.ndarray, dq: np.ndarray) -> None:
        """Set the interpolation's knots ``q``, ``g`` (from 0) and ``dq = diff(q)``; the slopes and
        the tail exponent follow on first use."""
        object.__setattr__(self, "_q", q)
        object.__setattr__(self, "_g", g)
        object.__setattr__(self, "_dq", dq)
        object.__setattr__(self, "_lazy", {})

    @property
    def _s(self) -> np.ndarray:
        """The slope of each segment between knots."""
        s = self._lazy.get("s")
        if s is None:
            s = self._lazy["s"] = np.diff(self._g) / self._dq
        return s  # type: ignore[return-value]

    @property
    def _b(self) -> float | None:
        """The tail's exponent (``None``: the last segment's line)."""
        if "b" not in self._lazy:
            q, g = self._q, self._g
            b = 1.0
            if q.size >= 3 and g[-2] > 0 and g[-1] > 0:
                b = float(np.clip(np.log(g[-1] / g[-2]) / np.log(q[-1] / q[-2]), 0.25, 4.0))
            self._lazy["b"] = b if g[-1] > 0 and (q.size < 3 or g[-2] > 0) else None
        return self._lazy["b"]  # type: ignore[return-value]

    @classmethod
    def _checked(cls, qs: tuple[float, ...], values: tuple[float, ...], factor: float, q: np.ndarray,
                 dq: np.ndarray, g: np.ndarray) -> SampledInput:
        """The function of ``qs``, ``values`` and ``factor`` whose checks the caller made:
        ``q`` the orders from 0, ``dq`` their differences, ``g`` the values times ``factor`` from 0."""
        out = object.__new__(cls)
        object.__setattr__(out, "qs", qs)
        object.__setattr__(out, "values", values)
        object.__setattr__(out, "factor", factor)
        out._set_knots(q, g, dq)
        return out

    @classmethod
    def columns(cls, qs: np.ndarray, values: np.ndarray, factor: float = 1.0) -> list[SampledInput]:
        """``[SampledInput(tuple(qs), tuple(values[:, j]), factor) for each column j]``, the
        same functions to the last bit, with the checks made once for all columns."""
        q = np.asarray(qs, dtype=float)
        v = np.asarray(values, dtype=float)
        g = v * float(factor)
        ok = (q.ndim == 1 and v.ndim == 2 and v.shape[0] == q.size and q.size > 0 and bool(np.all(np.isfinite(q)))
              and bool(np.all(np.isfinite(g))) and not (q <= 0).any() and not (g < 0).any()
              and not (np.diff(q) <= 0).any())
        if not ok:  # the constructor names what is wrong
            return [cls(tuple(q), tuple(v[:, j]), factor) for j in range(v.shape[1] if v.ndim == 2 else 0)]
        q_tuple = tuple(np.asarray(qs))
        q0 = np.concatenate([[0.0], q])
        dq = np.diff(q0)
        knots = np.concatenate([np.zeros((v.shape[1], 1)), g.T], axis=1)
        return [cls._checked(q_tuple, tuple(v[:, j]), factor, q0, dq, knots[j]) for j in range(v.shape[1])]

    def with_factor(self, factor: float) -> SampledInput:
        """``SampledInput(self.qs, self.values, factor)``, the same function to the last bit,
        without checking the samples again."""
        g = np.asarray(self.values, dtype=float) * float(factor)
        if not (np.all(np.isfinite(g)) and not (g < 0).any()):
            return SampledInput(self.qs, self.values, factor)
        return self._checked(self.qs, self.values, factor, self._q, self._dq, np.concatenate([[0.0], g]))

    def __call__(self, q: np.ndarray | float) -> np.ndarray | float:
        qa = np.maximum(np.asarray(q, dtype=float), 0.0)
        out = np.interp(qa, self._q, self._g)
        beyond = qa > self._q[-1]
        if beyond.any():
            qk, gk = self._q[-1], self._g[-1]
            ext = gk * (qa / qk) ** self._b if self._b is not None else gk + self._s[-1] * (qa - qk)
            out = np.where(beyond, ext, out)
        return float(out) if np.ndim(q) == 0 else out

    def derivative(self, q: np.ndarray | float) -> np.ndarray | float:
        qa = np.maximum(np.asarray(q, dtype=float), 0.0)
        seg = np.clip(np.searchsorted(self._q, qa, side="right") - 1, 0, self._s.size - 1)
        out = self._s[seg]
        beyond = qa > self._q[-1]
        if beyond.any() and self._b is not None:
            qk, gk, b = self._q[-1], self._g[-1], self._b
            out = np.where(beyond, b * gk / qk * (np.maximum(qa, qk) / qk) ** (b - 1.0), out)
        return float(out) if np.ndim(q) == 0 else out

    def knots(self) -> tuple[np.ndarray, np.ndarray, float | None]:
        """``(q, g, b)``: orders from 0, input use (times ``factor``) and the tail exponent
        (``None``: the last segment's line), so that planners can evaluate many of these
        functions at once (:class:`planner.curves.CurveStore`)."""
        return self._q, self._g, self._b


@dataclass
class UnitSamples:
    """What one unit knows about its own process: sampled orders and input use per input.

    Attributes:
        qs: sampled orders, strictly increasing, shape ``(k,)``.
        values: input use at each order for each of the unit's inputs, shape ``(k, e)``.
        queries: queries spent so far (observations from execution are free).
    """

    qs: np.ndarray
    values: np.ndarray
    queries: int = 0

    def add(self, q: float, g: np.ndarray, min_gap: float = 1e-3) -> bool:
        """Insert a sample; a sample within ``min_gap`` (relative) of a known order replaces it."""
        if not (np.isfinite(q) and q > 0 and np.all(np.isfinite(g))):
            return False
        if self.qs.size:
            k = int(np.argmin(np.abs(self.qs - q)))
            if abs(self.qs[k] - q) <= min_gap * max(q, self.qs[k]):
                changed = not np.allclose(self.values[k], g, rtol=1e-12, atol=0.0)
                self.values[k] = g
                return changed
        pos = int(np.searchsorted(self.qs, q))
        self.qs = np.insert(self.qs, pos, q)
        self.values = np.insert(self.values, pos, g, axis=0)
        return True

    def prune(self, max_samples: int) -> None:
        """Drop the least informative samples (smallest change of slope) beyond ``max_samples``."""
        while self.qs.size > max(max_samples, 2):
            q = np.concatenate([[0.0], self.qs])
            v = np.concatenate([np.zeros((1, self.values.shape[1])), self.values], axis=0)
            norm = np.maximum(np.abs(v).max(axis=0), 1e-300)
            s = np.diff(v / norm, axis=0) / np.diff(q)[:, None]
            score = np.abs(np.diff(s, axis=0)).sum(axis=1) * (q[2:] - q[:-2])  # interior samples
            k = int(np.argmin(score[:-1])) if score.size > 1 else 0  # keep the top sample
            self.qs = np.delete(self.qs, k)
            self.values = np.delete(self.values, k, axis=0)

    def fitted(self, factor: float = 1.0) -> list[SampledInput]:
        """The unit's interpolated input functions, one per input."""
        return SampledInput.columns(self.qs, self.values, factor)


def choose_queries(qs: np.ndarray, g: np.ndarray) -> float:
    """Next order to query: the midpoint of the interval whose interpolation looks worst.

    The score of an interval is its width times the largest change of slope at its ends
    (summed over inputs after scaling each input by its largest sampled value), a proxy for
    the error of linear interpolation ``h^2 |g''| / 8``; the first interval starts at ``0``.

    Args:
        qs: sampled orders, increasing, ``(k,)`` with ``k >= 1``.
        g: input use at those orders, ``(k, e)``.
    """
    q = np.concatenate([[0.0], qs])
    norm = np.maximum(np.abs(g).max(axis=0), 1e-300)
    v = np.concatenate([np.zeros((1, g.shape[1])), g / norm], axis=0)
    h = np.diff(q)
    s = np.diff(v, axis=0) / h[:, None]  # (k, e)
    ds = np.abs(np.diff(s, axis=0)).sum(axis=1) if s.shape[0] > 1 else np.zeros(0)
    curv = np.zeros(h.size)
    if ds.size:
        curv[:-1] = np.maximum(curv[:-1], ds)
        curv[1:] = np.maximum(curv[1:], ds)
    score = h * (curv + 1e-9 * h / q[-1])
    k = int(np.argmax(score))
    return 0.5 * (q[k] + q[k + 1])


#: a unit's TRUE input use: ``f(unit, q) -> (e,)``.
TrueUse = Callable[[int, float], np.ndarray]


def _ask(samples: UnitSamples, true_use: TrueUse, unit: int, q: float, rng: np.random.Generator | None,
         query_noise: float) -> None:
    """Query unit ``unit``'s process at ``q`` (with the answer's noise) and add the answer."""
    g = np.asarray(true_use(unit, q), dtype=float)
    if query_noise > 0 and rng is not None:
        g = g * np.maximum(1.0 + query_noise * rng.standard_normal(g.shape), 0.0)
    samples.add(q, g)
    samples.queries += 1


def learn_units(
    true_use: TrueUse,
    n_units: int,
    n_inputs: np.ndarray,
    horizon: np.ndarray,
    budget: int,
    rng: np.random.Generator | None = None,
    query_noise: float = 0.0,
) -> list[UnitSamples]:
    """Active learning of every unit's input functions under a query budget.

    Args:
        true_use: ``f(unit, q) -> (e,)`` the unit's TRUE input use for an order ``q``.
        n_units: number of units.
        n_inputs: inputs per unit, ``(U,)``.
        horizon: top of each unit's query range (its capacity, or a scale when unbounded).
        budget: queries per unit, 1 to :data:`MAX_QUERY_BUDGET`.
        rng: generator for the answers' noise (needed when ``query_noise > 0``).
        query_noise: relative standard deviation of a query's answer (a manager's estimate).

    Returns:
        One :class:`UnitSamples` per unit.
    """
    if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or not 1 <= budget <= MAX_QUERY_BUDGET:
        raise InvalidInputError(f"query budget: a whole number in [1, {MAX_QUERY_BUDGET}], got {budget!r}")
    out = []
    for u in range(n_units):
        e = int(n_inputs[u])
        top = float(horizon[u])
        samples = UnitSamples(np.zeros(0), np.zeros((0, e)))
        _ask(samples, true_use, u, top, rng, query_noise)
        while samples.queries < budget:
            q = choose_queries(samples.qs, samples.values) if e else top * 0.5 ** samples.queries
            _ask(samples, true_use, u, q, rng, query_noise)
        out.append(samples)
    return out


def curve_error(true_use: TrueUse, samples: UnitSamples, unit: int, top: float, points: int = 200) -> float:
    """Mean relative error of the fitted input use against the truth over ``[top/100, top]``."""
    grid = np.geomspace(top / 100.0, top, points)
    truth = np.array([true_use(unit, q) for q in grid])  # (points, e)
    fits = samples.fitted()
    if not fits:
        return 0.0
    fit = np.stack([f(grid) for f in fits], axis=1)
    scale = np.maximum(np.abs(truth), 1e-300)
    return float(np.mean(np.abs(fit - truth) / scale))


def summed_use(funcs: list[Any], q: float) -> float:
    """``sum(float(g(q)) for g in funcs)`` to the last bit, at one order ``q > 0``: the input
    functions of one unit's fit (:meth:`UnitSamples.fitted`, which share their orders) evaluated
    together, as :func:`numpy.interp` evaluates each, within their samples; one by one otherwise."""
    first = funcs[0] if funcs else None
    knots = getattr(first, "_q", None)
    if knots is None or q >= knots[-1] or any(getattr(g, "_q", None) is not knots for g in funcs):
        return sum(float(g(q)) for g in funcs)
    j = int(np.searchsorted(knots, q, side="right")) - 1
    if knots[j] == q:
        values = np.array([g._g[j] for g in funcs])
    else:
        lo = np.array([g._g[j] for g in funcs])
        hi = np.array([g._g[j + 1] for g in funcs])
        values = (hi - lo) / (knots[j + 1] - knots[j]) * (q - knots[j]) + lo
    return sum(values.tolist())
