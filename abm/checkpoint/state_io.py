"""The day-to-day state of a model as JSON and arrays, and back (:class:`~abm.state.State`).

Every array field of the :class:`~abm.state.State` is saved as ``state/<field>``; on restore
it must have the type and shape of the same field in the freshly built model (the layout
fixes them), so a field added to ``State`` later is saved and checked without a change
here. The units' samples (:class:`~abm.active_learning.UnitSamples`, one ragged table per
unit) are saved as flat arrays (``samples/*``); the strategies in use as their dicts
(:meth:`abm.adversarial.base.Parameters.to_dict`); the day and the cumulative externalities
in the manifest.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING, Any

import numpy as np
from innatura.abm.active_learning import UnitSamples
from innatura.abm.adversarial.vocabulary import parse_strategy
from innatura.abm.checkpoint.files import ArrayFile, Field
from innatura.abm.checkpoint.guard import check_exact, check_no_import
from innatura.planner.errors import InputFileError, InvalidInputError

if TYPE_CHECKING:  # pragma: no cover
    from innatura.abm.model import PlanningEconomy
    from innatura.abm.state import State

__all__ = ["capture_state", "restore_state"]

logger = logging.getLogger(__name__)

#: fields saved in the manifest, or in a form of their own, rather than as one array each.
_SPECIAL = {"day", "externalities", "samples", "citizen_strategies", "unit_strategies"}
#: array fields that are ``None`` before the first day (only), with the layout axes of their shape.
_OPTIONAL = {"last_draw": ("goods",)}


def _samples(samples: list[UnitSamples | None]) -> dict[str, np.ndarray]:
    have = [u for u, s in enumerate(samples) if s is not None]
    rows = [s for s in samples if s is not None]
    return {
        "samples/unit": np.asarray(have, dtype=np.int64),
        "samples/count": np.asarray([s.qs.size for s in rows], dtype=np.int64),
        "samples/queries": np.asarray([s.queries for s in rows], dtype=np.int64),
        "samples/qs": np.concatenate([s.qs for s in rows]) if rows else np.zeros(0),
        "samples/values": np.concatenate([s.values.ravel() for s in rows]) if rows else np.zeros(0),
    }


def capture_state(state: State) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """``(manifest part, arrays)`` of ``state``.

    Raises:
        InvalidInputError: a field of the state that is neither an array nor one of the
            fields saved in a form of their own (the state gained a field of a new kind).
    """
    arrays = _samples(state.samples)
    for f in dataclasses.fields(state):
        value = getattr(state, f.name)
        if f.name in _SPECIAL or value is None:
            continue
        if not isinstance(value, np.ndarray):
            raise InvalidInputError(f"State.{f.name}: a {type(value).__name__} cannot be saved (state fields are "
                                    "arrays; give abm.checkpoint.state_io a form for it)")
        arrays[f"state/{f.name}"] = value
    data = {
        "day": int(state.day), "externalities": float(state.externalities),
        "citizen_strategies": [s.to_dict() for s in state.citizen_strategies],
        "unit_strategies": [s.to_dict() for s in state.unit_strategies],
    }
    return data, arrays


def _restore_samples(npz: ArrayFile, fresh: list[UnitSamples | None]) -> list[UnitSamples | None]:
    """The units' samples; units that learn are those of the fresh model, with their inputs."""
    learners = [u for u, s in enumerate(fresh) if s is not None]
    widths = [s.values.shape[1] for s in fresh if s is not None]
    k = len(learners)
    unit = npz.get("samples/unit", np.int64, (k,))
    if unit.tolist() != learners:
        raise InputFileError(npz.path, "the units with samples are not the units of this economy that learn",
                             field="array 'samples/unit'")
    count = npz.get("samples/count", np.int64, (k,))
    queries = npz.get("samples/queries", np.int64, (k,))
    width = np.asarray(widths, dtype=np.int64)
    if (count < 1).any() or (queries < 0).any():
        raise InputFileError(npz.path, "every learning unit keeps at least one sample and spends no negative "
                             "number of queries", field="array 'samples/count'")
    qs = npz.get("samples/qs", np.float64, (int(count.sum()),))
    values = npz.get("samples/values", np.float64, (int((count * width).sum()),))
    if not (np.all(np.isfinite(qs)) and np.all(qs > 0) and np.all(np.isfinite(values)) and np.all(values >= 0)):
        raise InputFileError(npz.path, "orders must be finite and positive, input use finite and >= 0",
                             field="array 'samples/qs'")
    out: list[UnitSamples | None] = [None] * len(fresh)
    q_end, v_end = np.cumsum(count), np.cumsum(count * width)
    for i, u in enumerate(learners):
        q = qs[q_end[i] - count[i]:q_end[i]].copy()
        if (np.diff(q) <= 0).any():
            raise InputFileError(npz.path, f"the orders of unit {u} are not strictly increasing",
                                 field="array 'samples/qs'")
        v = values[v_end[i] - count[i] * width[i]:v_end[i]].reshape(int(count[i]), int(width[i])).copy()
        out[u] = UnitSamples(q, v, int(queries[i]))
    return out


def _strategies(manifest: Field, key: str, kind: str) -> tuple:
    items = manifest.get(key, list)
    if not items:
        raise manifest.error("expected at least one strategy (honest)", key)
    out = []
    for i, item in enumerate(items):
        where = f"{manifest.name}.{key}[{i}]"
        check_no_import(item, manifest.path, where)
        try:
            out.append(parse_strategy(item, kind=kind))
        except InvalidInputError as exc:
            raise InputFileError(manifest.path, str(exc), field=where) from None
        check_exact(item, out[-1].to_dict(), manifest.path, where)
    return tuple(out)


def _check_codes(npz: ArrayFile, state: State) -> None:
    for kind in ("citizen", "unit"):
        codes = getattr(state, f"{kind}_code")
        table = getattr(state, f"{kind}_strategies")
        if codes.size and (codes.min() < 0 or codes.max() >= len(table)):
            raise InputFileError(npz.path, f"strategy codes must lie in [0, {len(table) - 1}]",
                                 field=f"array 'state/{kind}_code'")


def restore_state(model: PlanningEconomy, manifest: Field, npz: ArrayFile) -> None:
    """Put the saved state into ``model`` (freshly built from the same scenario and settings).

    Raises:
        InputFileError: a field missing or of another type or shape (naming file and field).
    """
    fresh, lay = model.state, model.layout
    sizes = {"goods": lay.n_goods}
    values: dict[str, Any] = {"day": manifest.get("day", int)}
    for f in dataclasses.fields(fresh):
        current = getattr(fresh, f.name)
        if f.name in _SPECIAL:
            continue
        if isinstance(current, np.ndarray):
            values[f.name] = npz.get(f"state/{f.name}", current.dtype, current.shape)
        elif f.name in _OPTIONAL and values["day"] > 0:
            values[f.name] = npz.get(f"state/{f.name}", np.float64, tuple(sizes[a] for a in _OPTIONAL[f.name]))
    for name in ("stocks",):
        if not (np.all(np.isfinite(values[name])) and np.all(values[name] >= 0)):
            raise InputFileError(npz.path, "stocks must be finite and >= 0", field=f"array 'state/{name}'")
    values["samples"] = _restore_samples(npz, fresh.samples)
    values["citizen_strategies"] = _strategies(manifest, "citizen_strategies", "citizen")
    values["unit_strategies"] = _strategies(manifest, "unit_strategies", "unit")
    values["externalities"] = manifest.get("externalities", float)
    state = dataclasses.replace(fresh, **values)
    _check_codes(npz, state)
    model.state = state
