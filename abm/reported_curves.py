"""The reported economy's curves: what each unit's report says its inputs are, and the stacked
curve cells the planner sees, cached between nights.

A unit's report is its fitted input functions (:meth:`abm.active_learning.UnitSamples.fitted`)
times its input factor; a curve cell of the reported economy stacks the reports of the units
that make its column's good (OLIN-EP Fig. 1), with the units' reported capacities. Both change
only when a unit's samples, its factor or a capacity change, so :class:`ReportedCurves` keeps
them and rebuilds only what changed: on most nights nothing.

The structure (which units stack in which cell, which inputs each unit learns) is plain data
(:meth:`ReportedCurves.to_dict`). The reports in use are state, not a mere cache: a unit's
report stays the fit it made when its samples' version or its factor last changed, and an
observation that agrees with a known sample to 1e-12 replaces that sample's values without
a new version (:meth:`abm.active_learning.UnitSamples.add`), so a fit made afresh from the
samples can differ from the report in use in the last digits. :meth:`ReportedCurves.state_dict`
gives the reports in use as arrays (the samples each was fitted to), and
:meth:`ReportedCurves.load_state_dict` rebuilds exactly those reports; the stacked cells are
rebuilt from them, identically, on first use.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from innatura.abm.active_learning import SampledInput
from innatura.planner.curves import InputFunction, PowerLawInput, StackedCurve
from innatura.planner.economy import CurveCell
from innatura.planner.errors import InvalidInputError

__all__ = ["CellUnits", "ReportedCurves"]

logger = logging.getLogger(__name__)

#: the input function of a stacked unit that does not use a cell's input.
_NO_INPUT = PowerLawInput(0.0, 1.0)


@dataclass(frozen=True)
class CellUnits:
    """Who stacks in one curve cell of the economy.

    Attributes:
        row, col: the cell (input good, output good).
        units: the units that make ``col``, in stacking order (up to the first unbounded one).
        local: for each of them, the position of ``row`` among the inputs it learns, ``-1``
            when it does not use ``row``.
    """

    row: int
    col: int
    units: tuple[int, ...]
    local: tuple[int, ...]


class ReportedCurves:
    """Each learning unit's reported input functions and the reported curve cells, cached.

    Args:
        cells: who stacks in each curve cell of the economy, in the economy's order.
        learned: unit -> the entries of ``Layout.true_inputs`` whose use it learns.

    Attributes:
        cells, learned: as given.
    """

    def __init__(self, cells: tuple[CellUnits, ...], learned: dict[int, np.ndarray]) -> None:
        self.cells = tuple(cells)
        self.learned = {int(u): np.asarray(e, dtype=np.int64) for u, e in learned.items()}
        self._fits: dict[int, tuple[tuple[int, float], list[SampledInput]]] = {}
        self._cells: dict[int, tuple[tuple, CurveCell]] = {}
        self._input_use: tuple[tuple, Any] | None = None

    @classmethod
    def of(cls, layout: Any, learners: list[int], entries: list[np.ndarray]) -> ReportedCurves:
        """The structure of ``layout`` (an :class:`abm.layout.Layout`): ``learners`` are the units
        that learn curves, ``entries[u]`` the curve entries of unit ``u``."""
        out = []
        for cell in layout.economy.curves:
            units = np.flatnonzero((layout.unit_good == cell.col) & ~layout.unit_pooled)
            units = units[np.lexsort((units, layout.unit_stack[units]))].tolist()
            bounded = np.isfinite(layout.unit_capacity[units])
            if (~bounded).any():
                units = units[: int(np.argmax(~bounded)) + 1]
            local = []
            for u in units:
                goods = layout.true_inputs.good[entries[u]].tolist()
                local.append(goods.index(cell.row) if cell.row in goods else -1)
            out.append(CellUnits(int(cell.row), int(cell.col), tuple(units), tuple(local)))
        return cls(tuple(out), {u: entries[u] for u in learners})

    def clear(self) -> None:
        """Forget the cached reports (they are rebuilt on next use)."""
        self._fits.clear()
        self._cells.clear()
        self._input_use = None

    def unit_fits(self, unit: int, state: Any) -> list[SampledInput]:
        """The input functions unit ``unit`` reports: its fits times its input factor, one per
        learned input (``state``: the model's :class:`abm.state.State`)."""
        key = (int(state.sample_version[unit]), float(state.unit_input_factor[unit]))
        hit = self._fits.get(unit)
        if hit is None or hit[0] != key:
            hit = (key, state.samples[unit].fitted(key[1]))
            self._fits[unit] = hit
        return hit[1]

    def curve_cells(self, state: Any, capacity: np.ndarray) -> tuple[CurveCell, ...]:
        """The curve cells of the reported economy: each cell's units stacked with their reports
        and ``capacity`` per unit."""
        out = []
        for c, cell in enumerate(self.cells):
            caps = tuple(float(capacity[u]) for u in cell.units)
            key = tuple((int(state.sample_version[u]), float(state.unit_input_factor[u])) for u in cell.units) + caps
            hit = self._cells.get(c)
            if hit is None or hit[0] != key:
                funcs = tuple(self.unit_fits(u, state)[k] if k >= 0 else _NO_INPUT
                              for u, k in zip(cell.units, cell.local, strict=True))
                hit = (key, CurveCell(cell.row, cell.col, StackedCurve(caps, funcs)))
                self._cells[c] = hit
            out.append(hit[1])
        return tuple(out)

    def scaled_cells(self, state: Any, capacity: np.ndarray, scale: np.ndarray) -> tuple[CurveCell, ...]:
        """The curve cells of the reported economy with unit ``u``'s report multiplied by
        ``scale[u]`` (a planner's correction of what it believes the unit overstates); not cached.

        Args:
            state: the model's state; capacity: per unit, ``(U,)``.
            scale: per unit, positive, ``(U,)``; 1 keeps a report as it is.
        """
        plain = self.curve_cells(state, capacity)
        out = []
        for c, cell in enumerate(self.cells):
            if all(k < 0 or scale[u] == 1.0 for u, k in zip(cell.units, cell.local, strict=True)):
                out.append(plain[c])  # no unit of the cell is corrected: the cell as reported
                continue
            caps = tuple(float(capacity[u]) for u in cell.units)
            funcs: list[InputFunction] = []
            for u, k in zip(cell.units, cell.local, strict=True):
                if k < 0:
                    funcs.append(_NO_INPUT)
                    continue
                f = self.unit_fits(u, state)[k]
                funcs.append(f if scale[u] == 1.0 else f.with_factor(f.factor * float(scale[u])))
            out.append(CurveCell(cell.row, cell.col, StackedCurve(caps, tuple(funcs))))
        return tuple(out)

    def planned_use(self, true_inputs: Any, state: Any, targets: np.ndarray) -> np.ndarray:
        """The plan's input use of every (unit, input) entry at ``targets``, ``(E,)``: the units'
        REPORTED curves for the inputs they learn, the public constant coefficients otherwise."""
        out = true_inputs.use(np.maximum(targets, 0.0))
        for u, ent in self.learned.items():
            if targets[u] > 0 and ent.size:
                out[ent] = [f(float(targets[u])) for f in self.unit_fits(u, state)]
        return out

    def input_use(self, true_inputs: Any, entry_curve: np.ndarray, state: Any) -> Any:
        """Every unit's input use as the reports state it, unit by unit (an
        :class:`~innatura.planner.regional.InputUse` for the regional plan): the learned inputs as
        the units' reported input functions, every other entry of ``true_inputs`` (the public
        technology, ``~entry_curve``) as its constant coefficient."""
        from innatura.planner.regional import InputUse

        learners = sorted(u for u in self.learned if state.samples[u] is not None and self.learned[u].size)
        key = tuple((int(state.sample_version[u]), float(state.unit_input_factor[u])) for u in learners)
        if self._input_use is not None and self._input_use[0] == key:
            return self._input_use[1]
        const = ~entry_curve
        ent = [self.learned[u] for u in learners]
        curve_unit = np.repeat(np.array(learners, dtype=np.int64), [e.size for e in ent])
        curve_good = true_inputs.good[np.concatenate(ent)] if ent else np.zeros(0, dtype=np.int64)
        curves = tuple(f for u in learners for f in self.unit_fits(u, state))
        use = InputUse(true_inputs.unit[const], true_inputs.good[const], true_inputs.scale[const], curve_unit,
                       curve_good, curves)
        self._input_use = (key, use)
        return use

    def reported_use(self, unit: int, state: Any, q: float) -> float:
        """Unit ``unit``'s reported use of its learned inputs at output ``q``, summed."""
        return sum(float(f(q)) for f in self.unit_fits(unit, state))

    # -- the reports in use, as arrays (for checkpoints) --------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """The reports in use: for each unit with a report (``k`` units), the key it was made for
        and the samples it was fitted to.

        Returns:
            ``unit``, ``version`` (whole numbers) and ``factor`` (the sample version and input
            factor of the report), ``count`` (samples per report), each ``(k,)``; ``qs``, the
            samples' orders, concatenated; ``values``, their input use ``(count, inputs)`` per
            unit, flattened row by row and concatenated.
        """
        units = sorted(self._fits)
        qs, values, count = [], [], []
        for u in units:
            fits = self._fits[u][1]
            q = np.asarray(fits[0].qs, dtype=float) if fits else np.zeros(0)
            v = np.stack([np.asarray(f.values, dtype=float) for f in fits], axis=1) if fits else np.zeros((0, 0))
            qs.append(q)
            values.append(v.ravel())
            count.append(q.size)
        return {
            "unit": np.asarray(units, dtype=np.int64),
            "version": np.asarray([self._fits[u][0][0] for u in units], dtype=np.int64),
            "factor": np.asarray([self._fits[u][0][1] for u in units], dtype=float),
            "count": np.asarray(count, dtype=np.int64),
            "qs": np.concatenate(qs) if qs else np.zeros(0),
            "values": np.concatenate(values) if values else np.zeros(0),
        }

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Rebuild the reports :meth:`state_dict` gave (the stacked cells follow on first use).

        Raises:
            InvalidInputError: a unit that learns no curve, counts that do not add up to the
                samples, or samples that are no curve (orders not increasing, values negative).
        """
        units, count = np.asarray(state["unit"]), np.asarray(state["count"])
        k = units.size
        if not all(np.asarray(state[key]).shape == (k,) for key in ("version", "factor", "count")):
            raise InvalidInputError(f"reported curves: 'unit', 'version', 'factor' and 'count' must have {k} entries")
        if k and ((np.diff(units) <= 0).any() or not set(units.tolist()) <= set(self.learned)):
            raise InvalidInputError("reported curves: 'unit' must list units that learn curves, each once, in order")
        if (count < 0).any():
            raise InvalidInputError("reported curves: 'count' must not be negative")
        width = np.asarray([self.learned[int(u)].size for u in units], dtype=np.int64)
        qs, values = np.asarray(state["qs"], dtype=float), np.asarray(state["values"], dtype=float)
        if qs.size != count.sum() or values.size != int((count * width).sum()):
            raise InvalidInputError(f"reported curves: {qs.size} orders and {values.size} values for counts "
                                    f"{count.tolist()[:8]}... and {width.tolist()[:8]}... inputs")
        q_end, v_end = np.cumsum(count), np.cumsum(count * width)
        fits: dict[int, tuple[tuple[int, float], list[SampledInput]]] = {}
        for i, u in enumerate(units.tolist()):
            q = qs[q_end[i] - count[i]:q_end[i]]
            v = values[v_end[i] - count[i] * width[i]:v_end[i]].reshape(int(count[i]), int(width[i]))
            factor = float(state["factor"][i])
            fits[u] = ((int(state["version"][i]), factor),
                       [SampledInput(tuple(q), tuple(v[:, j]), factor) for j in range(int(width[i]))])
        self._fits = fits
        self._cells.clear()

    # -- plain data ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The structure as JSON-safe data (the caches are derived and left out)."""
        return {
            "cells": [[c.row, c.col, list(c.units), list(c.local)] for c in self.cells],
            "learned": {str(u): e.tolist() for u, e in self.learned.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReportedCurves:
        """Read :meth:`to_dict`'s output back."""
        cells = tuple(CellUnits(int(r), int(c), tuple(map(int, us)), tuple(map(int, loc)))
                      for r, c, us, loc in data["cells"])
        return cls(cells, {int(u): np.asarray(e, dtype=np.int64) for u, e in data["learned"].items()})
