"""Observation histories of a running agent model, for type inference (:mod:`planner.learned.histories`).

:class:`HistoryRecorder` reads a :class:`~abm.model.PlanningEconomy` night by night; it never
changes the model. Per production unit that reports input curves it keeps what the planner
could see (the night's reported curve at a reference output, capacity, audits, the plan's
target and allotment, the output, the inputs execution drew, the region's labour slack and
stock) and the truth (the unit's true use against its report, its strategy).

Two ways to drive it:

* **offline** (datasets): ``recorder.step()`` runs one day of the model between
  :meth:`~HistoryRecorder.before_day` (a snapshot of the units' fitted curves, which the day's
  refit will change) and :meth:`~HistoryRecorder.after_day`; :func:`record_run` runs a whole
  run so;
* **online** (a planning method, while the model plans a night): :meth:`HistoryRecorder.sync`
  completes the previous night from the last day's outcome and records tonight's reports;
  ``recorder.histories(include_tonight=True)`` then ends with tonight, whose execution fields
  are NaN. Tonight's reports are read between the night's reports and the day's refit (the
  state then holds tonight's factors and the curves the planner sees).

    >>> from innatura.abm.model import PlanningEconomy
    >>> model = PlanningEconomy("selviaria", rng=0, days=3)
    >>> h = record_run(model)
    >>> h.values.shape[:2], h.log_scale.shape
    ((3, 3), (3, 3))
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from innatura.abm.active_learning import summed_use
from innatura.planner.errors import InvalidInputError
from innatura.planner.learned.histories import FIELDS, PRE_PLAN, UnitHistories

if TYPE_CHECKING:  # pragma: no cover
    from innatura.abm.active_learning import UnitSamples
    from innatura.abm.layout import Layout
    from innatura.abm.model import PlanningEconomy

__all__ = ["TINY_TARGET", "HistoryRecorder", "curve_units", "decode_fits", "encode_fits", "record_run",
           "unit_graph"]

logger = logging.getLogger(__name__)

#: a target below this share of the top of the range a unit learned its curve on is rounding
#: dust of the plan, not an operating point: it does not move the unit's reference output.
TINY_TARGET = 1e-6


def curve_units(model: PlanningEconomy) -> np.ndarray:
    """The units of ``model`` that report input curves (they learned them), sorted, ``(U,)``."""
    st = model.state
    return np.array([u for u in sorted(model.curves.learned) if st.samples[u] is not None], dtype=np.int64)


def _pairs(groups: np.ndarray) -> np.ndarray:
    """Every ordered pair ``(a, b)``, ``a != b``, of positions in the same group, ``(2, P)``."""
    out = []
    for g in np.unique(groups):
        members = np.flatnonzero(groups == g)
        if members.size > 1:
            a, b = np.meshgrid(members, members, indexing="ij")
            keep = a != b
            out.append(np.stack([a[keep], b[keep]]))
    return np.concatenate(out, axis=1) if out else np.zeros((2, 0), dtype=np.int64)


def unit_graph(layout: Layout, units: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The graph of ``units`` (positions ``0..U-1``) and each edge's relation
    (:data:`planner.learned.histories.EDGE_KINDS`): supplier -> customer when a unit makes a
    good another uses (any of its inputs), its reverse, same region, same good.

    Returns:
        ``(edges (2, E), kind (E,))``, int64.
    """
    ti = layout.true_inputs
    pos = np.full(layout.n_units, -1, dtype=np.int64)
    pos[units] = np.arange(units.size)
    good = layout.unit_good[units]
    mine = pos[ti.unit] >= 0
    customer, needed = pos[ti.unit[mine]], ti.good[mine]
    sup = [np.stack([np.flatnonzero(good == g), np.full(int((good == g).sum()), c)])
           for c, g in zip(customer.tolist(), needed.tolist(), strict=True)]
    supply = np.concatenate(sup, axis=1) if sup else np.zeros((2, 0), dtype=np.int64)
    supply = np.unique(supply[:, supply[0] != supply[1]], axis=1)
    parts = [supply, supply[::-1], _pairs(layout.unit_region[units]), _pairs(good)]
    edges = np.concatenate(parts, axis=1).astype(np.int64)
    kind = np.concatenate([np.full(p.shape[1], k, dtype=np.int64) for k, p in enumerate(parts)])
    return edges, kind


def _audit_counters(model: PlanningEconomy) -> tuple[np.ndarray, np.ndarray] | None:
    """Audits and catches per unit so far, summed over the model's audit defences (``None``: none)."""
    from innatura.abm.adversarial.defences import AuditRun

    runs = [d for d in model.defence_chain if isinstance(d, AuditRun)]
    if not runs:
        return None
    audited = np.sum([r.audited_units for r in runs], axis=0)
    caught = np.sum([r.caught_units for r in runs], axis=0)
    return audited, caught


class HistoryRecorder:
    """Night-by-night observations of the curve-reporting units of one model (see the module).

    Args:
        model: the model to read (never changed).

    Attributes:
        units: the units recorded, their indices in the model, ``(U,)``.
        edges, edge_kind: their graph (:func:`unit_graph`).

    Raises:
        InvalidInputError: no unit of the model reports an input curve (its technology is
            public: there is nothing to infer).
    """

    def __init__(self, model: PlanningEconomy) -> None:
        self.model = model
        self.units = curve_units(model)
        if self.units.size == 0:
            raise InvalidInputError(f"scenario {model.layout.name!r}: no production unit reports an input curve "
                                    "(every unit's technology is public), so there is nothing to infer")
        self.entries = [model.curves.learned[int(u)] for u in self.units]
        self._horizon = np.array([float(np.max(self._samples(int(u)).qs)) for u in self.units])
        self._q_ref = self._horizon.copy()
        self.edges, self.edge_kind = unit_graph(model.layout, self.units)
        counters = _audit_counters(model)
        self._audit_seen = None if counters is None else (counters[0].copy(), counters[1].copy())
        self._fits: list[list[Any]] | None = None
        self._prev: tuple[list[list[Any]], np.ndarray] | None = None
        self._last_output = np.zeros(self.units.size)
        self._pending: dict[str, np.ndarray] | None = None
        self._pending_day = -1
        self._rows: list[np.ndarray] = []
        self._truth: list[np.ndarray] = []

    def _samples(self, unit: int) -> UnitSamples:
        samples = self.model.state.samples[unit]
        if samples is None:  # curve_units() keeps only units that learn their curves
            raise InvalidInputError(f"unit {unit} of {self.model.layout.name!r} learns no curve")
        return samples

    # -- the night ----------------------------------------------------------------------------
    def before_day(self) -> list[list[Any]]:
        """Snapshot the units' fitted curves (unscaled): the curves tonight's reports scale.
        Call before ``model.step()`` (or, online, before the day's refit)."""
        self._fits = [self._samples(int(u)).fitted(1.0) for u in self.units]
        return self._fits

    def _use(self, fits: list[list[Any]], factor: np.ndarray, q: np.ndarray) -> np.ndarray:
        """Reported use of the learned inputs at ``q`` per unit (NaN where ``q`` is not > 0)."""
        out = np.full(self.units.size, np.nan)
        for k, (funcs, f) in enumerate(zip(fits, factor.tolist(), strict=True)):
            if q[k] > 0:
                out[k] = f * summed_use(funcs, float(q[k]))
        return out

    def tonight(self) -> dict[str, np.ndarray]:
        """Record the fields known before tonight's plan (:data:`planner.learned.histories.PRE_PLAN`)
        and the truth at the reference output; returns them. Idempotent until :meth:`after_day`."""
        if self._pending is not None:
            return self._pending
        fits = self._fits if self._fits is not None else self.before_day()
        model, u = self.model, self.units
        st = model.state
        factor = np.asarray(st.unit_input_factor, dtype=float)[u]
        q_ref = self._q_ref.copy()
        rep_ref = self._use(fits, factor, q_ref)
        prev_ref = self._use(*self._prev, q_ref) if self._prev is not None else np.full(u.size, np.nan)
        rep_prev_out = self._use(fits, factor, self._last_output)
        audited, caught = np.zeros(u.size), np.zeros(u.size)
        counters = _audit_counters(model)
        if counters is not None:
            seen = self._audit_seen or (np.zeros_like(counters[0]), np.zeros_like(counters[1]))
            audited, caught = (counters[0] - seen[0])[u].astype(float), (counters[1] - seen[1])[u].astype(float)
            self._audit_seen = (counters[0].copy(), counters[1].copy())
        true_ref = np.array([float(model.units[int(k)].query(q).sum()) for k, q in zip(u, q_ref, strict=True)])
        with np.errstate(divide="ignore", invalid="ignore"):
            truth = np.where((true_ref > 0) & (rep_ref > 0), np.log(true_ref / rep_ref), np.nan)
        self._pending_day = st.day
        self._pending = {"q_ref": q_ref, "reported_ref": rep_ref, "reported_prev_ref": prev_ref,
                         "reported_prev_output": rep_prev_out,
                         "reported_capacity": np.asarray(st.unit_reported_capacity, dtype=float)[u],
                         "audited": audited, "caught": caught, "log_scale": truth, "factor": factor}
        return self._pending

    def after_day(self) -> None:
        """Complete the night with what the day's execution revealed (``model.last_outcome`` and
        the state's last day); call after ``model.step()`` (online: before the next night's
        :meth:`tonight`)."""
        model, u = self.model, self.units
        out = model.last_outcome
        if out is None:
            raise InvalidInputError("HistoryRecorder.after_day: the model has not simulated a day yet")
        pre = self.tonight()
        lay, st = model.layout, model.state
        planned = out.planned_targets if out.planned_targets is not None else out.targets
        alloc = out.decision.unit_inputs
        post = {
            "target": np.asarray(planned, dtype=float)[u],
            "reported_use": np.array([float(alloc[e].sum()) for e in self.entries]) if alloc is not None
            else np.full(u.size, np.nan),
            "output": np.asarray(out.production.output, dtype=float)[u],
            "drawn": np.asarray(st.unit_true_use, dtype=float)[u],
            "reported_use_output": np.asarray(st.unit_reported_use, dtype=float)[u],
            **_region_features(lay, out, u),
        }
        row = np.stack([pre[f] if f in PRE_PLAN else post[f] for f in FIELDS], axis=-1)
        self._rows.append(row)
        self._truth.append(pre["log_scale"])
        self._prev = (self._fits or [], pre["factor"])
        self._fits, self._pending = None, None
        self._last_output = post["output"]
        self._q_ref = np.where(post["target"] > TINY_TARGET * self._horizon, post["target"], self._q_ref)

    def step(self) -> None:
        """Simulate one day of the model and record its night (offline use)."""
        self.before_day()
        self.model.step()
        self.after_day()

    def sync(self) -> dict[str, np.ndarray]:
        """Online use, from a planning method tonight (as often as it is called in a night: the
        night may be re-planned): complete the previous night if a day has passed since it was
        recorded, and record tonight's reports; returns tonight's fields."""
        if self._pending is not None and self.model.state.day != self._pending_day:
            self.after_day()
        return self.tonight()

    # -- memory, for run checkpoints ----------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """What the recorder remembers, as arrays: the nights recorded, tonight's pending fields
        and the fitted curves they were read from (:meth:`load_state_dict` restores them). A night
        whose day has passed is completed first (as the next :meth:`sync` would): what its
        execution revealed is in the model now, and a restored model no longer has it."""
        if self._pending is not None and self.model.last_outcome is not None \
                and self.model.state.day != self._pending_day:
            self.after_day()
        U = self.units.size
        pending = self._pending or {}
        out = {
            "rows": np.stack(self._rows) if self._rows else np.zeros((0, U, len(FIELDS))),
            "truth": np.stack(self._truth) if self._truth else np.zeros((0, U)),
            "horizon": self._horizon.copy(), "q_ref": self._q_ref.copy(), "last_output": self._last_output.copy(),
            "audit_seen": np.zeros((0,)) if self._audit_seen is None else np.stack(self._audit_seen).astype(float),
            "pending_day": np.array([self._pending_day if self._pending is not None else -1], dtype=np.int64),
            "pending": np.stack([pending[k] for k in _PENDING]) if pending else np.zeros((0, U)),
            "prev_factor": np.zeros(0) if self._prev is None else np.asarray(self._prev[1], dtype=float),
        }
        out.update(encode_fits("fits", self._fits))
        out.update(encode_fits("prev", None if self._prev is None else self._prev[0]))
        return out

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Restore what :meth:`state_dict` gave.

        Raises:
            InvalidInputError: a field is missing or of another shape than this model's units.
        """
        U = self.units.size
        try:
            rows, truth = np.asarray(state["rows"], dtype=float), np.asarray(state["truth"], dtype=float)
            if rows.ndim != 3 or rows.shape[1:] != (U, len(FIELDS)) or truth.shape != rows.shape[:2]:
                raise ValueError(f"rows {rows.shape}, truth {truth.shape} for {U} units")
            self._rows, self._truth = list(rows), list(truth)
            self._horizon, self._q_ref = _vector(state["horizon"], U), _vector(state["q_ref"], U)
            self._last_output = _vector(state["last_output"], U)
            seen = np.asarray(state["audit_seen"])
            self._audit_seen = None if seen.size == 0 else (seen[0].astype(np.int64), seen[1].astype(np.int64))
            day = int(np.asarray(state["pending_day"])[0])
            pending = np.asarray(state["pending"], dtype=float)
            self._pending = None if day < 0 else {k: pending[i].copy() for i, k in enumerate(_PENDING)}
            self._pending_day = day
            self._fits = decode_fits("fits", state)
            prev = decode_fits("prev", state)
            self._prev = None if prev is None else (prev, _vector(state["prev_factor"], U))
        except (KeyError, ValueError, IndexError, TypeError) as exc:
            raise InvalidInputError(f"unit histories' state: {exc}") from exc

    # -- the result ---------------------------------------------------------------------------
    def histories(self, include_tonight: bool = False, meta: dict[str, Any] | None = None) -> UnitHistories:
        """The nights recorded so far (plus tonight's reports, execution fields NaN, when
        ``include_tonight``), with the units' strategies as they are now."""
        rows, truth = list(self._rows), list(self._truth)
        if include_tonight and self._pending is not None:
            pre = self._pending
            rows.append(np.stack([pre[f] if f in PRE_PLAN else np.full(self.units.size, np.nan) for f in FIELDS], -1))
            truth.append(pre["log_scale"])
        U, F = self.units.size, len(FIELDS)
        values = np.stack(rows) if rows else np.zeros((0, U, F))
        st, lay = self.model.state, self.model.layout
        names = tuple(dict.fromkeys(s.name for s in st.unit_strategies))
        code = np.array([names.index(st.unit_strategies[int(c)].name) for c in st.unit_code[self.units]],
                        dtype=np.int64)
        info = {"scenario": lay.name, "seed": self.model.seed, "nights": int(values.shape[0])}
        return UnitHistories(
            values=values, log_scale=np.stack(truth) if truth else np.zeros((0, U)),
            misreport=np.array([names[c] != "honest" for c in code], dtype=bool), strategy=code,
            strategy_names=names, unit_ids=self.units.copy(), region=lay.unit_region[self.units].astype(np.int64),
            good=lay.unit_good[self.units].astype(np.int64), edges=self.edges, edge_kind=self.edge_kind,
            has_audit=self._audit_seen is not None, meta={**info, **(meta or {})},
        )


#: the pending fields of a night, in the order :meth:`HistoryRecorder.state_dict` stacks them.
_PENDING = ("q_ref", "reported_ref", "reported_prev_ref", "reported_prev_output", "reported_capacity", "audited",
            "caught", "log_scale", "factor")


def _vector(value: Any, size: int) -> np.ndarray:
    out = np.asarray(value, dtype=float)
    if out.shape != (size,):
        raise ValueError(f"expected {size} values, got shape {out.shape}")
    return out.copy()


def encode_fits(prefix: str, fits: list[list[Any]] | None) -> dict[str, np.ndarray]:
    """Units' fitted input functions (:class:`~abm.active_learning.SampledInput` lists, one per
    unit, all with factor 1 and the unit's samples) as flat arrays under ``prefix``."""
    if fits is None:
        return {f"{prefix}_count": np.zeros(0, dtype=np.int64)}
    counts = np.array([[len(funcs[0].qs) if funcs else 0, len(funcs)] for funcs in fits], dtype=np.int64)
    qs = [np.asarray(funcs[0].qs, dtype=float) for funcs in fits if funcs]
    vals = [np.asarray([f.values for f in funcs], dtype=float).ravel() for funcs in fits if funcs]
    return {f"{prefix}_count": counts, f"{prefix}_q": np.concatenate(qs) if qs else np.zeros(0),
            f"{prefix}_v": np.concatenate(vals) if vals else np.zeros(0)}


def decode_fits(prefix: str, state: dict[str, np.ndarray]) -> list[list[Any]] | None:
    """The fits :func:`encode_fits` encoded (``None`` when it encoded none)."""
    from innatura.abm.active_learning import SampledInput

    counts = np.asarray(state[f"{prefix}_count"], dtype=np.int64)
    if counts.size == 0:
        return None
    q_all, v_all = np.asarray(state[f"{prefix}_q"], dtype=float), np.asarray(state[f"{prefix}_v"], dtype=float)
    out, iq, iv = [], 0, 0
    for k, e in counts.reshape(-1, 2).tolist():
        qs = tuple(q_all[iq:iq + k].tolist())
        vals = v_all[iv:iv + k * e].reshape(e, k)
        out.append([SampledInput(qs, tuple(v.tolist())) for v in vals])
        iq, iv = iq + k, iv + k * e
    return out


def _region_features(lay: Layout, out: Any, units: np.ndarray) -> dict[str, np.ndarray]:
    """Per unit: the unused share of its region's labour and the closing stock of its good in
    its region, in days of the good's national output (NaN where undefined)."""
    supply = lay.labour_supply[:, lay.labour_mask].sum(axis=1)
    used = out.production.used[:, lay.labour_mask].sum(axis=1)
    slack = np.divide(supply - used, supply, out=np.full(supply.shape, np.nan), where=supply > 0)
    reg, good = lay.unit_region[units], lay.unit_good[units]
    made = np.asarray(out.produced, dtype=float)[good]
    cover = np.divide(out.closing[reg, good], made, out=np.full(units.size, np.nan), where=made > 0)
    return {"labour_slack": np.clip(slack[reg], 0.0, 1.0), "stock_cover": cover}


def record_run(model: PlanningEconomy, days: int | None = None, meta: dict[str, Any] | None = None,
               progress: Callable[[int], None] | None = None) -> UnitHistories:
    """Run ``model`` for ``days`` days (default: until it stops) and return its histories.

    Args:
        model: a fresh model (or one whose earlier days need not be recorded).
        days: days to simulate; ``None``: until ``model.running`` is false.
        meta: JSON-safe description stored with the histories.
        progress: called with the day after each day.
    """
    recorder = HistoryRecorder(model)
    day = 0
    while (model.running if days is None else day < days):
        recorder.step()
        day += 1
        if progress is not None:
            progress(day)
    return recorder.histories(meta=meta)
