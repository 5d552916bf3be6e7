"""Units whose input use is a table of knots, evaluated many at once.

A production unit that learned its input use by sampling (``abm.active_learning``) reports it
as knots ``(q, g, b)``: linear interpolation of the input use through ``(q, g)`` with
``q[0] = 0``, and beyond ``q[-1]`` the power law ``g[-1] (q / q[-1]) ** b`` (or the last
segment's line when ``b`` is NaN). :class:`KnotTables` concatenates the tables of many units
so that one ``searchsorted`` finds every unit's segment.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["KnotTables"]


class KnotTables:
    """The knot tables of many units, table ``i`` for unit ``i`` of an evaluation.

    Args:
        tables: ``(q, g, b)`` per unit: knots ``q`` (increasing, ``q[0] = 0``), input use ``g``
            at them, and the exponent ``b`` of the power-law tail (NaN: linear tail).
    """

    def __init__(self, tables: Sequence[tuple[np.ndarray, np.ndarray, float]]) -> None:
        m = len(tables)
        qs = [np.asarray(t[0], dtype=float) for t in tables]
        gs = [np.asarray(t[1], dtype=float) for t in tables]
        lens = np.array([q.size for q in qs], dtype=np.int64)
        self._start = np.concatenate([[0], np.cumsum(lens)[:-1]]).astype(np.int64) if m else np.zeros(0, np.int64)
        self._end = self._start + lens
        q = np.concatenate(qs) if m else np.zeros(0)
        g = np.concatenate(gs) if m else np.zeros(0)
        self._q, self._g = q, g
        self._qmax = q[self._end - 1] if m else np.zeros(0)
        self._gmax = g[self._end - 1] if m else np.zeros(0)
        table = np.repeat(np.arange(m), lens)
        # a knot's search key is 2 i + q / q_max for table i: one sorted array for all tables
        self._key = 2.0 * table + (q / self._qmax[table] if m else q)
        dq = np.diff(q)
        with np.errstate(divide="ignore", invalid="ignore"):
            s = np.where(dq > 0, np.diff(g) / np.where(dq > 0, dq, 1.0), 0.0)
        self._s = np.concatenate([s, [0.0]])  # slope of the segment starting at each knot
        self._b = np.array([t[2] for t in tables], dtype=float)

    @property
    def nbytes(self) -> int:
        arrays = (self._start, self._end, self._q, self._g, self._qmax, self._gmax, self._key, self._s, self._b)
        return int(sum(a.nbytes for a in arrays))

    def evaluate(self, o: np.ndarray, slope: bool) -> tuple[np.ndarray, np.ndarray]:
        """Input use of unit ``i`` at order ``o[i]`` and (``slope``; else an empty array) its
        slope (the right derivative at a knot).

        Shapes:
            ``o``: ``(n_tables,)``; returns two ``(n_tables,)`` arrays.
        """
        m = o.size
        tab = np.arange(m)
        o = np.maximum(o, 0.0)
        qmax, gmax, b = self._qmax, self._gmax, self._b
        key = 2.0 * tab + np.minimum(o / qmax, 1.0)
        seg = np.searchsorted(self._key, key, side="right") - 1
        seg = np.clip(seg, self._start, self._end - 2)
        val = self._g[seg] + self._s[seg] * (o - self._q[seg])
        beyond = o > qmax
        tail_pow = beyond & ~np.isnan(b)
        tail_lin = beyond & np.isnan(b)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            ratio = np.where(beyond, o / qmax, 1.0)
            bb = np.where(np.isnan(b), 1.0, b)
            val = np.where(tail_pow, gmax * ratio**bb, val)
            last_s = self._s[self._end - 2]
            val = np.where(tail_lin, gmax + last_s * (o - qmax), val)
            der = np.zeros(0)
            if slope:
                der = np.where(tail_pow, bb * gmax / qmax * ratio ** (bb - 1.0), self._s[seg])
        return val, der
