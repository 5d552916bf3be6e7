"""Resumable parameter sweeps, run locally or on a Dask cluster.

A sweep is a list of run configurations (plain JSON-able dicts, each with its ``seed``) and a
picklable function ``run_fn(config) -> dict`` of metrics. Each run is identified by a run id
derived from its configuration, and its result is written atomically to
``DIR/runs/<run_id>.json`` the moment it arrives. Re-running the same sweep after an
interruption (Ctrl-C, a killed process, a lost worker) skips the finished runs and runs only
the rest: nothing is lost and nothing runs twice. ``DIR/runs.parquet`` is rebuilt from the
per-run files at the end, one row per run (config columns, seed, metrics).

The same configuration gives the same result wherever it runs: ``run_fn`` must take all its
randomness from ``config["seed"]``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from innatura.planner.atomic import atomic_path, atomic_write_text
from innatura.planner.errors import InvalidInputError
from innatura.scenarios.limits import max_workers

__all__ = ["SweepResult", "collect_runs", "run_id", "run_sweep"]

logger = logging.getLogger(__name__)

RunFn = Callable[[dict[str, Any]], Mapping[str, Any]]


def run_id(config: Mapping[str, Any]) -> str:
    """Stable identifier of a run: a hash of its canonical JSON configuration (seed included).

    Args:
        config: the run's configuration; keys and values must be JSON-serialisable.

    Returns:
        16 hexadecimal characters, identical across processes, machines and Python versions.
    """
    try:
        canonical = json.dumps(config, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"sweep config is not plain JSON ({exc}): {config!r}") from None
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class SweepResult:
    """What a sweep did.

    Attributes:
        table: one row per finished run (all of them, earlier sessions included).
        ran: run ids executed in this call.
        skipped: run ids found finished on disk and not run again.
        path: the ``runs.parquet`` written.
    """

    table: pd.DataFrame
    ran: tuple[str, ...]
    skipped: tuple[str, ...]
    path: Path


def _write_atomic(path: Path, payload: Mapping[str, Any]) -> None:
    atomic_write_text(path, json.dumps(payload, sort_keys=True))


def _record(config: Mapping[str, Any], rid: str, metrics: Mapping[str, Any]) -> dict[str, Any]:
    clash = set(config) & set(metrics)
    if clash:
        raise InvalidInputError(f"run {rid}: metric names clash with config keys: {sorted(clash)}")
    return {"run_id": rid, **config, **metrics}


def _execute(run_fn: RunFn, config: dict[str, Any]) -> dict[str, Any]:
    """Runs one configuration (here or in a worker); returns its metrics as a plain dict.

    BLAS runs on one thread wherever the run executes: a multi-threaded reduction sums in an
    order that depends on the thread count, and Dask workers pin it to one, so without this the
    same configuration could differ in the last bits between a local run and a Dask run.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return dict(run_fn(dict(config)))


def collect_runs(out_dir: str | os.PathLike[str]) -> pd.DataFrame:
    """Read every finished run under ``out_dir/runs`` into one table, sorted by run id."""
    runs_dir = Path(out_dir) / "runs"
    rows = []
    for path in sorted(runs_dir.glob("*.json")):
        try:
            rows.append(json.loads(path.read_text()))
        except json.JSONDecodeError as exc:  # a torn file cannot exist (atomic writes); say so if it does
            raise InvalidInputError(f"{path}: not a valid run record ({exc})") from None
    return pd.DataFrame(rows).sort_values("run_id", ignore_index=True) if rows else pd.DataFrame()


def run_sweep(
    configs: Iterable[Mapping[str, Any]],
    run_fn: RunFn,
    out_dir: str | os.PathLike[str],
    *,
    scheduler: str | None = None,
    local: bool = False,
    n_workers: int | None = None,
    progress: bool = True,
) -> SweepResult:
    """Run every configuration not yet finished under ``out_dir``; write results as they arrive.

    Args:
        configs: run configurations (JSON-able dicts, each with its ``seed``). Duplicates are
            run once.
        run_fn: picklable function (a module-level function) mapping a config to its metrics.
        out_dir: the sweep's folder; ``runs/`` and ``runs.parquet`` are written there.
        scheduler: address of an existing Dask scheduler (``tcp://host:8786``); ``None`` starts
            a local cluster of worker processes.
        local: run in this process, without Dask (for debugging and for tests of identity).
        n_workers: worker processes of the local cluster, 1 to the CPU count (default: the CPU
            count, at most 4).
        progress: show a progress bar counting runs.

    Returns:
        A :class:`SweepResult`.
    """
    from tqdm.auto import tqdm

    if n_workers is not None and not (isinstance(n_workers, int) and 1 <= n_workers <= max_workers()):
        raise InvalidInputError(f"n_workers: a whole number from 1 to {max_workers()} (the CPUs of this machine), "
                                f"got {n_workers!r}")
    out = Path(out_dir)
    runs_dir = out / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    todo, skipped = _pending(configs, runs_dir)
    logger.info("sweep %s: %d to run, %d already finished", out, len(todo), len(skipped))
    bar = tqdm(total=len(todo) + len(skipped), initial=len(skipped), unit="run",
               disable=not progress, desc="runs")
    ran: list[str] = []
    try:
        if local or not todo:
            for rid, config in todo.items():
                _write_atomic(runs_dir / f"{rid}.json", _record(config, rid, _execute(run_fn, config)))
                ran.append(rid)
                bar.update()
        else:
            ran = _run_dask(todo, run_fn, runs_dir, scheduler, n_workers, bar)
    finally:
        bar.close()
    table = collect_runs(out)
    path = out / "runs.parquet"
    with atomic_path(path, suffix=".parquet") as tmp:
        table.to_parquet(tmp, index=False)
    return SweepResult(table=table, ran=tuple(ran), skipped=tuple(skipped), path=path)


def _pending(configs: Iterable[Mapping[str, Any]], runs_dir: Path) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """The configurations still to run, by run id, and the ids found finished in ``runs_dir``."""
    todo: dict[str, dict[str, Any]] = {}
    skipped: list[str] = []
    for config in configs:
        config = dict(config)
        if "seed" not in config:
            raise InvalidInputError(f"sweep config without 'seed': {config!r}")
        rid = run_id(config)
        if (runs_dir / f"{rid}.json").exists():
            skipped.append(rid)
        elif rid not in todo:
            todo[rid] = config
    return todo, skipped


def _run_dask(todo: dict[str, dict[str, Any]], run_fn: RunFn, runs_dir: Path,
              scheduler: str | None, n_workers: int | None, bar: Any) -> list[str]:
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler is None:
        workers = n_workers or min(4, os.cpu_count() or 1)
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.WARNING)
        client = Client(cluster)
    else:
        client = Client(scheduler)
    ran: list[str] = []
    try:
        futures = {client.submit(_execute, run_fn, config, key=f"innatura-run-{rid}", pure=False): rid
                   for rid, config in todo.items()}
        for future in as_completed(futures):
            rid = futures[future]
            _write_atomic(runs_dir / f"{rid}.json", _record(todo[rid], rid, future.result()))
            ran.append(rid)
            bar.update()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return ran
