"""What production units use of each input: constant coefficients and reported curves, per unit.

The national plan stacks the units of a good into one coefficient curve per cell (OLIN-EP
Fig. 1); the regional plan keeps every unit apart, because units of one good sit in different
regions and draw on different stocks and labour. :class:`InputUse` holds, per (unit, input)
entry, either a constant coefficient (input per unit of the unit's output) or an input
function ``g(q)`` (the input for an order of ``q`` units: a reported curve, OLIN-EP Eq. 4).

Input functions are evaluated all at once: :class:`~innatura.planner.curves.PowerLawInput`
and functions offering ``knots() -> (q, g, b)`` (linear interpolation of the input use
through ``(q, g)`` from ``q[0] = 0``, beyond ``q[-1]`` the power law ``g[-1] (q / q[-1]) ** b``
or the last segment's line when ``b`` is ``None``: what units report after active learning)
are vectorised; any other :class:`~innatura.planner.curves.InputFunction` is called entry by
entry.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from innatura.planner.curves import X_FLOOR, PowerLawInput
from innatura.planner.errors import InvalidInputError

__all__ = ["InputUse"]

logger = logging.getLogger(__name__)


def _int_array(name: str, value, size: int | None = None) -> np.ndarray:  # noqa: ANN001
    arr = np.asarray(value)
    if arr.size == 0:
        arr = arr.astype(np.int64).reshape(0)
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise InvalidInputError(f"{name}: expected a 1-d array of integer indices, got dtype {arr.dtype}, "
                                f"shape {arr.shape}")
    if size is not None and arr.size != size:
        raise InvalidInputError(f"{name}: {arr.size} entries, expected {size}")
    return arr.astype(np.int64)


class _Knots:
    """Concatenated knot tables ``(q, g, b)``; a knot's search key is ``2 t + q / q_max`` for table ``t``."""

    def __init__(self, tables: list[tuple[np.ndarray, np.ndarray, float | None]]):
        lens = np.array([q.size for q, _, _ in tables], dtype=np.int64)
        m = lens.size
        self.start = np.concatenate([[0], np.cumsum(lens)[:-1]]).astype(np.int64) if m else np.zeros(0, np.int64)
        self.end = self.start + lens
        self.q = np.concatenate([q for q, _, _ in tables]) if m else np.zeros(0)
        self.g = np.concatenate([g for _, g, _ in tables]) if m else np.zeros(0)
        self.qmax = self.q[self.end - 1] if m else np.zeros(0)
        self.gmax = self.g[self.end - 1] if m else np.zeros(0)
        table = np.repeat(np.arange(m), lens)
        self.key = 2.0 * table + (self.q / self.qmax[table] if m else self.q)
        dq = np.diff(self.q)
        with np.errstate(divide="ignore", invalid="ignore"):
            s = np.where(dq > 0, np.diff(self.g) / np.where(dq > 0, dq, 1.0), 0.0)
        self.slope = np.concatenate([s, [0.0]])  # slope of the segment starting at each knot
        self.b = np.array([np.nan if b is None else float(b) for _, _, b in tables], dtype=float)

    def evaluate(self, o: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Input use and its derivative of table ``t`` at ``o[t]``."""
        o = np.maximum(o, 0.0)
        tab = np.arange(o.size)
        seg = np.searchsorted(self.key, 2.0 * tab + np.minimum(o / self.qmax, 1.0), side="right") - 1
        seg = np.clip(seg, self.start, self.end - 2)
        val = self.g[seg] + self.slope[seg] * (o - self.q[seg])
        der = self.slope[seg]
        beyond = o > self.qmax
        if beyond.any():
            power = beyond & ~np.isnan(self.b)
            ratio = np.where(beyond, o / self.qmax, 1.0)
            b = np.where(np.isnan(self.b), 1.0, self.b)
            last = self.slope[self.end - 2]
            val = np.where(power, self.gmax * ratio**b, np.where(beyond, self.gmax + last * (o - self.qmax), val))
            der = np.where(power, b * self.gmax / self.qmax * ratio ** (b - 1.0), np.where(beyond, last, der))
        return val, der


@dataclass(frozen=True, eq=False)
class InputUse:
    """Input use of production units, one entry per (unit, input good).

    Constant entries ``k`` use ``coefficient[k] * q`` of good ``good[k]`` when unit ``unit[k]``
    makes ``q``; curve entries ``k`` use ``curves[k](q)`` of ``curve_good[k]`` (an input
    function, not a coefficient: the input for the whole order). A unit may have both for the
    same good; they add up.

    Attributes:
        unit, good, coefficient: constant entries, shape ``(E,)``; coefficients finite, ``>= 0``.
        curve_unit, curve_good: curve entries, shape ``(K,)``.
        curves: ``K`` input functions (``g(q)`` and ``g.derivative(q)``, vectorised in ``q``).
    """

    unit: np.ndarray
    good: np.ndarray
    coefficient: np.ndarray
    curve_unit: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    curve_good: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    curves: tuple = ()
    # the curve entries sorted by how they are evaluated (set by ``_index_curves``)
    _power: np.ndarray = field(init=False, repr=False)
    _p_scale: np.ndarray = field(init=False, repr=False)
    _p_exp: np.ndarray = field(init=False, repr=False)
    _knot_idx: np.ndarray = field(init=False, repr=False)
    _knots: _Knots = field(init=False, repr=False)
    _slow: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        unit = _int_array("inputs.unit", self.unit)
        object.__setattr__(self, "unit", unit)
        object.__setattr__(self, "good", _int_array("inputs.good", self.good, unit.size))
        coef = np.asarray(self.coefficient, dtype=float).reshape(-1)
        if coef.size != unit.size:
            raise InvalidInputError(f"inputs.coefficient: {coef.size} values for {unit.size} entries")
        bad = np.flatnonzero(~np.isfinite(coef) | (coef < 0))
        if bad.size:
            k = int(bad[0])
            raise InvalidInputError(f"inputs.coefficient: invalid value {float(coef[k])!r} at entry {k} "
                                    f"(unit {int(unit[k])}, input good {int(self.good[k])})")
        object.__setattr__(self, "coefficient", coef)
        cu = _int_array("inputs.curve_unit", self.curve_unit)
        object.__setattr__(self, "curve_unit", cu)
        object.__setattr__(self, "curve_good", _int_array("inputs.curve_good", self.curve_good, cu.size))
        curves = tuple(self.curves)
        if len(curves) != cu.size:
            raise InvalidInputError(f"inputs.curves: {len(curves)} input functions for {cu.size} curve entries")
        for k, g in enumerate(curves):
            if not (callable(g) and hasattr(g, "derivative")):
                raise InvalidInputError(f"inputs.curves[{k}]: {g!r} is not an input function (no derivative)")
        object.__setattr__(self, "curves", curves)
        self._index_curves()

    @classmethod
    def from_coefficients(cls, coefficients, unit_good: np.ndarray, curves: Sequence = ()) -> InputUse:  # noqa: ANN001
        """Every unit uses the constant column of its good, ``coefficients[:, unit_good[u]]``.

        Args:
            coefficients: ``(n, n)`` input of row good per unit of column good (dense or sparse).
            unit_good: good of each unit, ``(U,)``.
            curves: optional curve entries ``(unit, input good, input function)``.
        """
        import scipy.sparse as sp

        A = sp.csc_matrix(coefficients, dtype=float)
        cols = A[:, np.asarray(unit_good, dtype=np.int64)].tocoo()
        entries = tuple(curves)
        return cls(
            unit=cols.col.astype(np.int64), good=cols.row.astype(np.int64), coefficient=cols.data,
            curve_unit=np.array([int(e[0]) for e in entries], dtype=np.int64),
            curve_good=np.array([int(e[1]) for e in entries], dtype=np.int64),
            curves=tuple(e[2] for e in entries),
        )

    # -- vectorised evaluation ---------------------------------------------------------------
    def _index_curves(self) -> None:
        power, knots, slow = [], [], []
        tables = []
        for k, g in enumerate(self.curves):
            if isinstance(g, PowerLawInput):
                power.append(k)
            elif callable(getattr(g, "knots", None)):
                q, gv, b = g.knots()
                knots.append(k)
                tables.append((np.asarray(q, dtype=float), np.asarray(gv, dtype=float), b))
            else:
                slow.append(k)
        object.__setattr__(self, "_power", np.array(power, dtype=np.int64))
        object.__setattr__(self, "_p_scale", np.array([self.curves[k].scale for k in power], dtype=float))
        object.__setattr__(self, "_p_exp", np.array([self.curves[k].exponent for k in power], dtype=float))
        object.__setattr__(self, "_knot_idx", np.array(knots, dtype=np.int64))
        object.__setattr__(self, "_knots", _Knots(tables))
        object.__setattr__(self, "_slow", np.array(slow, dtype=np.int64))

    @property
    def n_curves(self) -> int:
        return int(self.curve_unit.size)

    def curve_values(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Input use ``g_k(q_k)`` and derivative ``g_k'(q_k)`` of every curve entry.

        Shapes:
            ``q``: the order of each curve entry, ``(K,)``; returns two ``(K,)`` arrays.
        """
        q = np.maximum(np.asarray(q, dtype=float), 0.0)
        val = np.zeros(q.size)
        der = np.zeros(q.size)
        p = self._power
        if p.size:
            e = self._p_exp
            val[p] = self._p_scale * q[p] ** e
            base = np.where(e < 1.0, np.maximum(q[p], X_FLOOR), q[p])
            der[p] = self._p_scale * e * base ** (e - 1.0)
        if self._knot_idx.size:
            val[self._knot_idx], der[self._knot_idx] = self._knots.evaluate(q[self._knot_idx])
        for k in self._slow.tolist():
            val[k] = float(self.curves[k](q[k]))
            der[k] = float(self.curves[k].derivative(q[k]))
        return val, der

    def secant_slopes(self, base: np.ndarray, point: np.ndarray) -> np.ndarray:
        """Slope of every curve entry's input use between unit outputs ``base`` and ``point``.

        The secant ``(g(p) - g(b)) / (p - b)``; where the two (nearly) coincide, the derivative
        ``g'(b)``. Negative slopes are clipped to 0. This is the linearisation of successive
        linear programming: exact at both points.

        Shapes:
            ``base``, ``point``: per unit ``(U,)``; returns ``(K,)``.
        """
        if not self.n_curves:
            return np.zeros(0)
        b = np.asarray(base, dtype=float)[self.curve_unit]
        p = np.asarray(point, dtype=float)[self.curve_unit]
        gb, db = self.curve_values(b)
        far = np.abs(p - b) > 1e-9 * np.maximum(1.0, np.abs(b))
        out = db.copy()
        if far.any():
            gp, _ = self.curve_values(p)
            out[far] = (gp[far] - gb[far]) / (p[far] - b[far])
        return np.maximum(out, 0.0)

    def entry_use(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Input use of every constant entry ``(E,)`` and curve entry ``(K,)`` at unit outputs ``q`` ``(U,)``."""
        q = np.maximum(np.asarray(q, dtype=float), 0.0)
        const = self.coefficient * q[self.unit]
        curve = self.curve_values(q[self.curve_unit])[0] if self.n_curves else np.zeros(0)
        return const, curve

    def use(self, q: np.ndarray, unit_region: np.ndarray, n_regions: int, n_goods: int,
            slopes: np.ndarray | None = None, base: np.ndarray | None = None) -> np.ndarray:
        """Input use per region and good at unit outputs ``q``, ``(R, n)``.

        With ``slopes`` the curve entries use their linearisation through ``base`` (default 0):
        ``g(base) + slope (q - base)``; without, the input functions themselves.
        """
        q = np.maximum(np.asarray(q, dtype=float), 0.0)
        key = unit_region[self.unit] * n_goods + self.good
        out = np.bincount(key, self.coefficient * q[self.unit], minlength=n_regions * n_goods)
        if self.n_curves:
            cu = self.curve_unit
            if slopes is None:
                g = self.curve_values(q[cu])[0]
            else:
                b = np.zeros(q.size) if base is None else np.asarray(base, dtype=float)
                g0 = self.curve_values(b[cu])[0] if base is not None else np.zeros(cu.size)
                g = g0 + slopes * (q[cu] - b[cu])
            out += np.bincount(unit_region[cu] * n_goods + self.curve_good, g, minlength=n_regions * n_goods)
        return out.reshape(n_regions, n_goods)
