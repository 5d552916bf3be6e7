"""The rows a model collected so far, as arrays, and back (``rows.npz``).

* The DataCollector's model-level rows (``model.csv``): one array per column, ``model/<i>``
  for the ``i``-th of the model's columns, of whole numbers or floats as collected, so that
  the restored frame has the same types and writes the same bytes.
* The unit and region logs (``units.parquet``, ``regions.parquet``): one array per column,
  ``units/<i>`` of shape ``(days, units)``, ``regions/<i>`` of shape ``(days, regions)``.

The manifest lists each table's column names and types. The DataCollector's per-agent records
(``get_agenttype_vars_dataframe``) are not saved: after a resume they hold the days simulated
since; the unit and region logs hold every day.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
from innatura.abm.checkpoint.files import ArrayFile, Field
from innatura.abm.checkpoint.tree import ARRAY_DTYPES
from innatura.planner.errors import InputFileError, InvalidInputError

if TYPE_CHECKING:  # pragma: no cover
    from innatura.abm.model import PlanningEconomy

__all__ = ["capture_rows", "restore_rows"]

logger = logging.getLogger(__name__)

#: the type each kind of collected number is saved as.
_KINDS = {"f": np.float64, "i": np.int64, "u": np.int64, "b": np.bool_}


def _plain(name: str, values: Any) -> np.ndarray:
    out = np.asarray(values)
    if out.dtype.kind not in _KINDS:
        raise InvalidInputError(f"{name}: values of {out.dtype} cannot be saved (numbers and booleans only)")
    return out.astype(_KINDS[out.dtype.kind], copy=False)


def _table(name: str, columns: dict[str, np.ndarray]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    arrays = {f"{name}/{i}": values for i, values in enumerate(columns.values())}
    return {"columns": list(columns), "dtypes": [str(v.dtype) for v in columns.values()]}, arrays


def _log(name: str, log: list[dict[str, np.ndarray]], size: int) -> dict[str, np.ndarray]:
    if not log:
        return {}
    columns = list(log[0])
    if any(list(day) != columns or any(np.shape(day[c]) != (size,) for c in columns) for day in log):
        raise InvalidInputError(f"{name} log: every day must have the columns {columns}, each of {size} values")
    return {c: _plain(f"{name} log column {c!r}", np.stack([np.asarray(day[c]) for day in log])) for c in columns}


def capture_rows(model: PlanningEconomy) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """``(manifest part, arrays)`` of the rows ``model`` collected."""
    model_vars = model.datacollector.model_vars
    data: dict[str, Any] = {"days": len(model_vars[model.columns[0]]) if model.columns else 0,
                            "log_days": len(model.unit_log)}
    arrays: dict[str, np.ndarray] = {}
    tables = {"model": {c: _plain(f"model column {c!r}", model_vars[c]) for c in model.columns},
              "units": _log("units", model.unit_log, model.layout.n_units),
              "regions": _log("regions", model.region_log, model.layout.n_regions)}
    for name, columns in tables.items():
        data[name], found = _table(name, columns)
        arrays.update(found)
    return data, arrays


def _read_table(rows: Field, npz: ArrayFile, name: str, shape: tuple[int, ...]) -> dict[str, np.ndarray]:
    table = rows.sub(name)
    columns, dtypes = table.get("columns", list), table.get("dtypes", list)
    names = {str(d) for d in ARRAY_DTYPES}
    if len(columns) != len(dtypes) or not all(isinstance(c, str) for c in columns) or \
            not all(isinstance(d, str) and d in names for d in dtypes):
        raise table.error(f"expected as many column names as types, each type one of {sorted(names)}")
    if len(set(columns)) != len(columns):
        raise table.error("a column is listed twice", "columns")
    return {c: npz.get(f"{name}/{i}", np.dtype(d), shape) for i, (c, d) in enumerate(zip(columns, dtypes,
                                                                                         strict=True))}


def _fresh_columns(model: PlanningEconomy) -> dict[str, list[str] | None]:
    """The columns the model's unit and region logs get each day (``None`` where they cannot be
    found without a day: the check of the saved columns then rests on the indices)."""
    from types import SimpleNamespace

    from innatura.abm.collect import region_rows, unit_rows

    lay = model.layout
    U, R, n, m = lay.n_units, lay.n_regions, lay.n_goods, lay.economy.bundles.shape[1]
    day = SimpleNamespace(targets=np.zeros(U), production=SimpleNamespace(output=np.zeros(U), output_lost=np.zeros(U)),
                          delivery=SimpleNamespace(region_share=np.ones((R, m)), delivered=np.zeros((R, n))))
    out: dict[str, list[str] | None] = {}
    for name, rows in (("units", unit_rows), ("regions", region_rows)):
        try:
            out[name] = list(rows(model, day))  # type: ignore[arg-type]
        except (AttributeError, TypeError, ValueError, IndexError):  # pragma: no cover - a day needs more now
            out[name] = None
    return out


def _check_log(npz: ArrayFile, name: str, table: dict[str, np.ndarray], fresh: list[str] | None,
               sizes: dict[str, int]) -> None:
    """The saved log has the model's columns, and its indices point at units, goods, regions."""
    if fresh is not None and list(table) != fresh:
        raise InputFileError(npz.path, f"expected the columns {fresh}", field=f"rows.{name}.columns",
                             value=list(table))
    for column, size in sizes.items():
        values = table.get(column)
        if values is None or values.dtype != np.int64 or (values.size and (values.min() < 0 or values.max() >= size)):
            raise InputFileError(npz.path, f"expected whole numbers in [0, {size})", field=f"rows.{name}.{column}")


def restore_rows(model: PlanningEconomy, manifest: Field, npz: ArrayFile) -> None:
    """Put the saved rows into ``model``; the model-level columns must be the model's own.

    Raises:
        InputFileError: naming the file and the field of any problem.
    """
    rows = manifest.sub("rows")
    days, log_days = rows.get("days", int), rows.get("log_days", int)
    if days != model.state.day or log_days not in (0, days) or (log_days and not model.settings.collect_agents):
        raise rows.error(f"{days} days of rows and {log_days} of agent logs for a run at day {model.state.day} that "
                         f"{'collects' if model.settings.collect_agents else 'does not collect'} agent logs", "days")
    table = _read_table(rows, npz, "model", (days,))
    if list(table) != list(model.columns):
        raise rows.error("not the columns of this economy's model-level rows", "model.columns")
    lay, logs = model.layout, {}
    fresh = _fresh_columns(model) if log_days else {}
    indices = {"units": {"unit": lay.n_units, "good": lay.n_goods, "region": lay.n_regions},
               "regions": {"region": lay.n_regions}}
    for name, size in (("units", lay.n_units), ("regions", lay.n_regions)):
        stacked = _read_table(rows, npz, name, (log_days, size))
        if log_days:
            _check_log(npz, name, stacked, fresh[name], indices[name])
        logs[name] = [{c: v[d] for c, v in stacked.items()} for d in range(log_days)]
    model_vars = {c: v.tolist() for c, v in table.items()}
    model.datacollector.model_vars = model_vars
    model.unit_log, model.region_log = logs["units"], logs["regions"]
    model.metrics = {c: values[-1] for c, values in model_vars.items()} if days else {}
