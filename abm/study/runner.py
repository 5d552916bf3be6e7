"""Run a study: every case through the resumable sweep, then the outcomes table and the report.

:func:`run_study` expands a :class:`~abm.study.spec.StudySpec` into its cases
(:mod:`abm.study.design`), runs those not yet finished under ``out`` with
:func:`abm.sweep.run_sweep` (a local Dask cluster of worker processes by default, a
``scheduler`` address for an existing cluster, or ``local=True`` in this process; each result
written atomically to ``out/runs/<run_id>.json`` as it arrives, the run id hashing the
configuration with the scenario's content hash), and writes:

* ``out/outcomes.parquet``: the tidy table of the study: one row per case (scenario, seed and
  the variables as the study names them, the run id, the strategies and defence as run) and
  one column per outcome kept (``[outcomes] keep``);
* ``out/report.md`` and its PNGs (:mod:`abm.study.report`);
* ``out/study.toml``: the study as it was run (its canonical dump).

Running the same study again after an interruption runs only what is missing; a folder may
hold the runs of several studies (each report covers its own cases).
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from innatura.abm.study.design import Case, case_configs
from innatura.abm.study.spec import StudySpec
from innatura.abm.sweep import SweepResult, run_id, run_sweep
from innatura.planner.atomic import atomic_path, atomic_write_text

__all__ = ["StudyResult", "outcome_table", "run_study"]

logger = logging.getLogger(__name__)

#: the label columns of ``outcomes.parquet``, before the outcomes.
LABELS = ("scenario", "seed", "planner", "defence", "mix", "share", "citizen_factor", "unit_factor")


@dataclass(frozen=True)
class StudyResult:
    """What :func:`run_study` did.

    Attributes:
        outcomes: the study's outcome table (``outcomes.parquet``).
        sweep: the sweep's result (runs run now and found finished).
        cases: the study's cases.
        seconds: wall time of the runs.
        files: the files written (table, report, figures).
    """

    outcomes: pd.DataFrame
    sweep: SweepResult
    cases: tuple[Case, ...]
    seconds: float
    files: tuple[Path, ...]


def outcome_table(spec: StudySpec, cases: list[Case] | tuple[Case, ...], runs: pd.DataFrame,
                  every: bool = False) -> pd.DataFrame:
    """The tidy outcome table: one row per case, labels then the kept outcomes (``nan`` for a
    run that failed; its message in ``error``); ``every``: every outcome, kept or not."""
    from innatura.abm.study.spec import OUTCOMES

    keep = list(OUTCOMES) if every else spec.outcomes.names()
    rows = [{**c.labels, "run_id": run_id(c.config), "citizen_strategy": c.config["citizen_strategy"],
             "unit_strategy": c.config["unit_strategy"], "defence_run": c.config["defence"]} for c in cases]
    table = pd.DataFrame(rows)
    if runs.empty:
        return table
    found = runs.set_index("run_id")
    metrics = [k for k in ("error", *keep) if k in found.columns]
    out = table.join(found[metrics], on="run_id")
    for k in keep:
        if k not in out.columns:
            out[k] = float("nan")
    return out


def run_study(spec: StudySpec, out: str | os.PathLike[str], *, scheduler: str | None = None, local: bool = False,
              n_workers: int | None = None, progress: bool = True, plots: bool = True) -> StudyResult:
    """Run what is left of ``spec`` under ``out`` and write its outcomes and report.

    Args:
        spec: the study.
        out: the study's folder (re-use it to resume).
        scheduler: address of an existing Dask scheduler; ``None``: a local cluster.
        local: run in this process, without Dask.
        n_workers: worker processes of the local cluster (default: the CPUs, at most 4).
        progress: show a progress bar.
        plots: write the report's figures.

    Raises:
        StudyError: a case that cannot be configured (naming the study file and field).
    """
    from innatura.abm.adversarial.experiment import run_misreporting
    from innatura.abm.study.report import write_report

    folder = Path(out)
    cases = case_configs(spec)
    start = time.perf_counter()
    sweep = run_sweep([c.config for c in cases], run_misreporting, folder, scheduler=scheduler, local=local,
                      n_workers=n_workers, progress=progress)
    seconds = time.perf_counter() - start
    table = outcome_table(spec, cases, sweep.table)
    path = folder / "outcomes.parquet"
    with atomic_path(path, suffix=".parquet") as tmp:
        table.to_parquet(tmp, index=False)
    atomic_write_text(folder / "study.toml", dump_study(spec))
    report = write_report(spec, outcome_table(spec, cases, sweep.table, every=True), folder,
                          sweep=_sweep_note(sweep, cases, seconds), plots=plots)
    files = [path, folder / "study.toml", *report]
    return StudyResult(outcomes=table, sweep=sweep, cases=tuple(cases), seconds=seconds, files=tuple(files))


def _sweep_note(sweep: SweepResult, cases: list[Case], seconds: float) -> dict[str, Any]:
    ids = {run_id(c.config) for c in cases}
    return {"cases": len(cases), "runs": len(ids), "ran": len(set(sweep.ran) & ids),
            "found": len(set(sweep.skipped) & ids), "seconds": seconds}


def _toml_value(value: Any) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(value)


def dump_study(spec: StudySpec) -> str:
    """The study as TOML (what :func:`abm.study.spec.loads_study` reads back to an equal spec,
    scenario files named by absolute path)."""
    data = spec.model_dump(exclude_none=True, exclude={"source"})
    data["study"]["scenarios"] = spec.scenario_paths()
    lines = []
    for section, fields in data.items():
        if not fields:
            continue
        lines.append(f"[{section}]")
        lines.extend(f"{k} = {_toml_value(v)}" for k, v in fields.items())
        lines.append("")
    return "\n".join(lines)
