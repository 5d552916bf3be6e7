"""Files a run writes: ``model.csv``, agent-level Parquet tables, ``summary.json`` (atomically).

* ``model.csv``: one row per day, the columns of docs/model.md ("Collected data") and the
  report statistics of :mod:`abm.collect`.
* ``units.parquet``: one row per unit and day (target, output, reports, learned samples).
* ``regions.parquet``: one row per region and day (stocks, deliveries, worst share).
* ``citizens.parquet``: one row per citizen, its state at the end of the run.
* ``summary.json``: the run's settings, sizes, final and aggregate metrics, phase timings.
"""

from __future__ import annotations

import io
import json
import logging
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from innatura.abm.collect import citizen_table
from innatura.planner.atomic import atomic_write_bytes

if TYPE_CHECKING:  # pragma: no cover
    from innatura.abm.model import PlanningEconomy

__all__ = ["first_day_at_least", "run_summary", "seed_was_used", "write_agent_tables", "write_json", "write_model_csv"]

logger = logging.getLogger(__name__)


def write_model_csv(model: PlanningEconomy, out: Path) -> Path:
    """Write the model-level rows collected so far to ``out/model.csv``."""
    path = Path(out) / "model.csv"
    atomic_write_bytes(path, model.model_frame().to_csv(index=False).encode())
    return path


def _parquet(frame: pd.DataFrame, path: Path) -> Path:
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    atomic_write_bytes(path, buf.getvalue())
    return path


def _concat(rows: list[dict[str, np.ndarray]]) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame()
    return pd.DataFrame({k: np.concatenate([r[k] for r in rows]) for k in rows[0]})


def write_agent_tables(model: PlanningEconomy, out: Path) -> list[Path]:
    """Write ``units.parquet``, ``regions.parquet``, ``citizens.parquet`` and ``edges.parquet``
    into ``out``, and with a regional plan ``diagnostics.parquet`` (each night's binding
    constraints and their shadow prices, since the run was built or resumed)."""
    out = Path(out)
    lay = model.layout
    units = _concat(model.unit_log)
    if not units.empty:
        units.insert(2, "name", np.asarray(lay.unit_names, dtype=object)[units["unit"].to_numpy()])
        units["good"] = np.asarray(lay.goods, dtype=object)[units["good"].to_numpy()]
        units["region"] = np.asarray(lay.regions, dtype=object)[units["region"].to_numpy()]
    regions = _concat(model.region_log)
    if not regions.empty:
        regions["region"] = np.asarray(lay.regions, dtype=object)[regions["region"].to_numpy()]
    cit = pd.DataFrame(citizen_table(model))
    cit["profile"] = np.asarray(lay.profiles, dtype=object)[cit["profile"].to_numpy()]
    cit["region"] = np.asarray(lay.regions, dtype=object)[cit["region"].to_numpy()]
    edges = _concat(model.edge_log)
    if not edges.empty:
        for column in ("source", "target"):
            edges[column] = np.asarray(lay.regions, dtype=object)[edges[column].to_numpy()]
    files = [_parquet(units, out / "units.parquet"), _parquet(regions, out / "regions.parquet"),
             _parquet(cit, out / "citizens.parquet"), _parquet(edges, out / "edges.parquet")]
    if model.settings.plan == "regional":
        files.append(_parquet(_concat(model.diagnostics_log), out / "diagnostics.parquet"))
    return files


def first_day_at_least(days: np.ndarray, values: np.ndarray, level: float) -> int | None:
    """First day whose value reaches ``level`` (``None`` if never)."""
    hit = np.flatnonzero(np.asarray(values, dtype=float) >= level)
    return int(np.asarray(days)[hit[0]]) if hit.size else None


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (np.floating, np.integer)):
        return _clean(value.item())
    return value


def seed_was_used(model: PlanningEconomy, seed: int) -> bool:
    """Whether anything in ``model`` drew from its random generator since it was seeded with
    ``seed``: when nothing did, every seed gives the same results and the seed means nothing.
    All of a model's randomness flows from ``model.rng`` (docs/model.md), so comparing its
    state with a fresh generator's decides it."""
    return model.rng.bit_generator.state != np.random.default_rng(seed).bit_generator.state


def _nan_stat(stat: Callable[[np.ndarray], Any], values: np.ndarray) -> float:
    """``stat`` over the finite values; NaN (without numpy's warning) when there are none, as in
    an economy without citizens, whose humanity is undefined."""
    return float(stat(values)) if np.isfinite(values).any() else float("nan")


def run_summary(model: PlanningEconomy, settings: dict[str, Any], wall_s: float) -> dict[str, Any]:
    """The ``summary.json`` content of a run."""
    df = model.model_frame()
    lay = model.layout
    last = df.iloc[-1] if len(df) else None
    hum = df["humanity"].to_numpy(dtype=float) if len(df) else np.zeros(0)
    metrics = {}
    if last is not None:
        metrics = {
            "humanity_final": last["humanity"], "humanity_mean": _nan_stat(np.nanmean, hum),
            "humanity_min": _nan_stat(np.nanmin, hum), "humanity_max": _nan_stat(np.nanmax, hum),
            "planned_humanity_final": last["planned_humanity"], "min_fulfilment_final": last["min_fulfilment"],
            "externalities": last["externalities"], "unmet_demand_final": last["unmet_demand"],
            "plan_error_mean": float(df["plan_error"].mean()), "losses_total": float(df["losses"].sum()),
            "misreport_flags_total": float(df["misreport_flags"].sum()),
            "invariant_violations_total": float(df["invariant_violations"].sum()),
            "first_day_humanity_0999": first_day_at_least(df["day"].to_numpy(), hum, 0.999),
        }
    seed_info: dict[str, Any] = {}
    if "seed" in settings:
        used = seed_was_used(model, int(settings["seed"]))
        seed_info = {"seed_used": used}
        if not used:
            seed_info["seed_note"] = ("nothing in this run drew a random number (no stochastic losses, misreporting "
                                      "draws or noisy queries), so every seed gives these results")
    return {
        "scenario": lay.name, **settings, **seed_info, "days_simulated": int(model.state.day),
        "sizes": {"regions": lay.n_regions, "goods": lay.n_goods, "profiles": len(lay.profiles),
                  "units": lay.n_units, "citizens": lay.n_citizens},
        "metrics": {k: _clean(v) for k, v in metrics.items()},
        "seconds_per_day": {k: _clean(float(np.mean(v))) if v else None for k, v in model.timings.items()},
        "wall_seconds": round(float(wall_s), 3),
        "columns": list(df.columns),
    }


def write_json(path: Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` as indented JSON (NaN/inf as ``null``), atomically."""
    text = json.dumps(payload, indent=2, sort_keys=False, default=_clean, allow_nan=False)
    atomic_write_bytes(Path(path), (text + "\n").encode())
    return Path(path)
