"""Observation histories of production units: what the planner saw each night, and the truth.

The exchange format between the agent model (``abm.learning.histories`` records it from a run)
and type inference (:mod:`planner.learned.inference`): one :class:`UnitHistories` per run, a
frozen dataclass of numpy arrays over ``T`` nights and the ``U`` units of the run that report
input curves; a :class:`HistoryDataset` is a tuple of them, saved as one ``.npz`` per run (no
pickle) plus an ``index.json``.

Per night and unit, :data:`FIELDS` (the columns of :attr:`UnitHistories.values`):

- known when the night's reports are in, before the plan (``PRE_PLAN``):
  ``q_ref`` the reference output (the unit's last positive target before tonight, else the top
  of the range it learned its curve on); ``reported_ref`` its reported use of its learned
  inputs at ``q_ref`` (tonight's curve, all learned inputs summed); ``reported_prev_ref`` last
  night's curve at ``q_ref`` (NaN on the first night); ``reported_prev_output`` tonight's curve
  at yesterday's output (NaN when there was none); ``reported_capacity``; ``audited`` and
  ``caught`` (1 when a defence audited / caught the unit tonight; 0 without audits);
- revealed by the day's execution (``POST_EXEC``): ``target`` (the plan's), ``reported_use``
  (the plan's allotment of the learned inputs at the target), ``output``, ``drawn`` (the true
  use of the learned inputs at the output: execution sees it), ``reported_use_output``
  (tonight's curve at the output), ``labour_slack`` (the unused share of the labour of the
  unit's region), ``stock_cover`` (closing stock of the unit's good in its region, in days of
  the good's national output).

Ground truth, for training and evaluation only: :attr:`UnitHistories.log_scale` is
``log(true use / reported use)`` of the learned inputs at ``q_ref`` on tonight's curve (the
factor that corrects tonight's report; 0 for a perfect honest report), :attr:`misreport` whether
the unit's strategy is not honest, :attr:`strategy` which strategy.

The units' graph (:attr:`UnitHistories.edges`, positions ``0..U-1``) has four relations
(:data:`EDGE_KINDS`): supplier -> customer (a unit makes a good another unit uses), its
reverse, same region, same good.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
from innatura.planner.atomic import atomic_path, atomic_write_text
from innatura.planner.errors import InvalidInputError

__all__ = [
    "EDGE_KINDS",
    "FIELDS",
    "FORMAT_VERSION",
    "POST_EXEC",
    "PRE_PLAN",
    "HistoryDataset",
    "UnitHistories",
    "load_histories",
    "save_histories",
    "write_index",
]

logger = logging.getLogger(__name__)

#: fields known before the night's plan.
PRE_PLAN = ("q_ref", "reported_ref", "reported_prev_ref", "reported_prev_output", "reported_capacity",
            "audited", "caught")
#: fields revealed by the day's execution.
POST_EXEC = ("target", "reported_use", "output", "drawn", "reported_use_output", "labour_slack", "stock_cover")
#: the columns of :attr:`UnitHistories.values`, in order.
FIELDS = PRE_PLAN + POST_EXEC
#: the relations of the units' graph, by :attr:`UnitHistories.edge_kind`.
EDGE_KINDS = ("supplier", "customer", "region", "good")
#: version of the ``.npz`` layout.
FORMAT_VERSION = 1

_ARRAYS = ("values", "log_scale", "misreport", "strategy", "unit_ids", "region", "good", "edges", "edge_kind")


@dataclass(frozen=True, eq=False)
class UnitHistories:
    """The nights of one run, for its units that report input curves.

    Shapes: ``T`` nights, ``U`` units, ``F = len(FIELDS)``, ``E`` directed edges.

    Attributes:
        values: observations, ``(T, U, F)`` float64, columns :data:`FIELDS` (NaN: not defined).
        log_scale: truth, ``log(true / reported)`` use at ``q_ref``, ``(T, U)`` (NaN: undefined).
        misreport: truth, the unit's strategy is not honest, ``(U,)`` bool.
        strategy: truth, index into ``strategy_names``, ``(U,)`` int64.
        strategy_names: the strategies' names (``"honest"``, ``"overstate_inputs"``, ...).
        unit_ids: each unit's index in the agent model, ``(U,)``.
        region, good: each unit's region and good (indices of the run's economy), ``(U,)``.
        edges: the units' graph, ``(2, E)`` positions in ``0..U-1`` (source, target).
        edge_kind: relation of each edge, an index into :data:`EDGE_KINDS`, ``(E,)``.
        has_audit: whether a defence audited the units (else ``audited``/``caught`` are 0).
        meta: JSON-safe description (scenario, seed, mix, days).
    """

    values: np.ndarray
    log_scale: np.ndarray
    misreport: np.ndarray
    strategy: np.ndarray
    strategy_names: tuple[str, ...]
    unit_ids: np.ndarray
    region: np.ndarray
    good: np.ndarray
    edges: np.ndarray
    edge_kind: np.ndarray
    has_audit: bool = False
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        v = np.asarray(self.values, dtype=float)
        if v.ndim != 3 or v.shape[2] != len(FIELDS):
            raise InvalidInputError(f"UnitHistories.values: shape (T, U, {len(FIELDS)}), got {v.shape}")
        T, U, _ = v.shape
        checks = {"log_scale": (T, U), "misreport": (U,), "strategy": (U,), "unit_ids": (U,), "region": (U,),
                  "good": (U,)}
        for name, shape in checks.items():
            if np.shape(getattr(self, name)) != shape:
                raise InvalidInputError(f"UnitHistories.{name}: shape {shape}, got {np.shape(getattr(self, name))}")
        e = np.asarray(self.edges)
        if e.ndim != 2 or e.shape[0] != 2 or np.shape(self.edge_kind) != (e.shape[1],):
            raise InvalidInputError(f"UnitHistories.edges: shape (2, E) with edge_kind (E,), got {e.shape} "
                                    f"and {np.shape(self.edge_kind)}")
        if e.size and (e.min() < 0 or e.max() >= U):
            raise InvalidInputError(f"UnitHistories.edges: positions must lie in [0, {U}), got "
                                    f"[{e.min()}, {e.max()}]")
        if np.size(self.edge_kind) and (np.min(self.edge_kind) < 0 or np.max(self.edge_kind) >= len(EDGE_KINDS)):
            raise InvalidInputError(f"UnitHistories.edge_kind: values in [0, {len(EDGE_KINDS)})")
        if np.size(self.strategy) and (np.min(self.strategy) < 0 or np.max(self.strategy) >= len(self.strategy_names)):
            raise InvalidInputError("UnitHistories.strategy: indices outside strategy_names")

    @property
    def nights(self) -> int:
        return int(self.values.shape[0])

    @property
    def units(self) -> int:
        return int(self.values.shape[1])

    def column(self, name: str) -> np.ndarray:
        """One column of :attr:`values`, ``(T, U)``."""
        if name not in FIELDS:
            raise InvalidInputError(f"UnitHistories: unknown field {name!r} (fields: {', '.join(FIELDS)})")
        return self.values[:, :, FIELDS.index(name)]

    @property
    def observed(self) -> np.ndarray:
        """Nights on which execution revealed the unit's true use (it produced), ``(T, U)`` bool."""
        out, drawn, rep = self.column("output"), self.column("drawn"), self.column("reported_use_output")
        with np.errstate(invalid="ignore"):
            return np.isfinite(drawn) & np.isfinite(rep) & (out > 0) & (drawn > 0) & (rep > 0)

    @property
    def labelled(self) -> np.ndarray:
        """Nights whose truth is defined, ``(T, U)`` bool."""
        return np.isfinite(self.log_scale)

    def head(self, nights: int) -> UnitHistories:
        """The first ``nights`` nights (what was known after them)."""
        return _replace(self, values=self.values[:nights], log_scale=self.log_scale[:nights])

    def with_values(self, values: np.ndarray) -> UnitHistories:
        """The same run with other observations (e.g. degraded ones)."""
        return _replace(self, values=values)


def _replace(h: UnitHistories, **changes: Any) -> UnitHistories:
    kwargs = {f.name: getattr(h, f.name) for f in fields(h)}
    kwargs.update(changes)
    return UnitHistories(**kwargs)


def save_histories(path: str | os.PathLike[str], h: UnitHistories) -> Path:
    """Write one run as a compressed ``.npz`` (arrays only, no pickle; atomic)."""
    path = Path(path)
    header = {"format_version": FORMAT_VERSION, "fields": list(FIELDS), "strategy_names": list(h.strategy_names),
              "has_audit": bool(h.has_audit), "meta": dict(h.meta)}
    arrays: dict[str, Any] = {name: np.asarray(getattr(h, name)) for name in _ARRAYS}
    with atomic_path(path, suffix=".npz") as tmp, open(tmp, "wb") as fh:
        arrays["header"] = np.array(json.dumps(header, sort_keys=True))
        np.savez_compressed(fh, **arrays)
    return path


def load_histories(path: str | os.PathLike[str]) -> UnitHistories:
    """Read a run written by :func:`save_histories`.

    Raises:
        InvalidInputError: naming the file, when it is missing, not an ``.npz`` of this layout,
            or of another format version.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(str(data["header"]))
            arrays = {name: data[name] for name in _ARRAYS}
    except FileNotFoundError:
        raise InvalidInputError(f"{path}: not found") from None
    except (OSError, ValueError, KeyError) as exc:
        raise InvalidInputError(f"{path}: not a unit-histories file ({exc})") from None
    if header.get("format_version") != FORMAT_VERSION or tuple(header.get("fields", ())) != FIELDS:
        raise InvalidInputError(f"{path}: format_version = {header.get('format_version')!r} with fields "
                                f"{header.get('fields')!r}; expected version {FORMAT_VERSION}")
    return UnitHistories(
        values=arrays["values"].astype(float), log_scale=arrays["log_scale"].astype(float),
        misreport=arrays["misreport"].astype(bool), strategy=arrays["strategy"].astype(np.int64),
        strategy_names=tuple(header["strategy_names"]), unit_ids=arrays["unit_ids"].astype(np.int64),
        region=arrays["region"].astype(np.int64), good=arrays["good"].astype(np.int64),
        edges=arrays["edges"].astype(np.int64).reshape(2, -1), edge_kind=arrays["edge_kind"].astype(np.int64),
        has_audit=bool(header["has_audit"]), meta=header.get("meta", {}),
    )


@dataclass(frozen=True, eq=False)
class HistoryDataset:
    """Runs of unit histories, saved as ``DIR/runs/<name>.npz`` plus ``DIR/index.json``.

    Attributes:
        runs: one :class:`UnitHistories` per run.
        names: each run's file stem (unique).
    """

    runs: tuple[UnitHistories, ...]
    names: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.runs) != len(self.names) or len(set(self.names)) != len(self.names):
            raise InvalidInputError("HistoryDataset: one unique name per run")

    def __len__(self) -> int:
        return len(self.runs)

    def select(self, keep: Iterable[bool]) -> HistoryDataset:
        """The runs where ``keep`` is true."""
        pairs = [(r, n) for r, n, k in zip(self.runs, self.names, keep, strict=True) if k]
        return HistoryDataset(tuple(r for r, _ in pairs), tuple(n for _, n in pairs))

    def save(self, directory: str | os.PathLike[str]) -> Path:
        """Write every run and the index (atomic files)."""
        directory = Path(directory)
        for run, name in zip(self.runs, self.names, strict=True):
            save_histories(directory / "runs" / f"{name}.npz", run)
        write_index(directory, self.names, [dict(r.meta) for r in self.runs])
        return directory

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> HistoryDataset:
        """Read a dataset written by :meth:`save` (or by ``innatura train histories``).

        Raises:
            InvalidInputError: naming the index or run file that is missing or malformed.
        """
        directory = Path(directory)
        index = directory / "index.json"
        try:
            data = json.loads(index.read_text(encoding="utf-8"))
            names = tuple(str(r["name"]) for r in data["runs"])
        except FileNotFoundError:
            raise InvalidInputError(f"{index}: not found (not a history dataset)") from None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InvalidInputError(f"{index}: not a history dataset index ({exc})") from None
        if data.get("format_version") != FORMAT_VERSION:
            raise InvalidInputError(f"{index}: format_version = {data.get('format_version')!r}, "
                                    f"expected {FORMAT_VERSION}")
        return cls(tuple(load_histories(directory / "runs" / f"{n}.npz") for n in names), names)


def write_index(directory: str | os.PathLike[str], names: Iterable[str], metas: Iterable[Mapping[str, Any]]) -> Path:
    """Write ``DIR/index.json`` naming the runs (atomic)."""
    path = Path(directory) / "index.json"
    runs = [{"name": n, **dict(m)} for n, m in zip(names, metas, strict=True)]
    atomic_write_text(path, json.dumps({"format_version": FORMAT_VERSION, "runs": runs}, indent=1, sort_keys=True))
    return path
