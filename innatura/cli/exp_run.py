"""``innatura experiment run STUDY --out DIR``: run a study file (or a shipped study by name).

A study (``docs/misreporting.md``, "Studies") names scenarios, seeds, levers, uncertainties, a
sampling design and outcomes. Its runs go to a local Dask cluster of worker processes by
default (``--scheduler ADDRESS`` for an existing cluster, ``--local`` in this process), each
written to ``DIR/runs/<run_id>.json`` as it finishes, keyed by its configuration and the
scenario's content, so re-running the command after an interruption runs only what is missing.
Then ``DIR/outcomes.parquet`` (one row per case), ``DIR/report.md`` and its PNGs.

    innatura experiment list
    innatura experiment run misreporting-both-sides --out runs/both-sides
    innatura experiment run my-study.toml --out runs/mine --local
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from innatura.abm.study import StudyResult, StudySpec

__all__ = ["add_execution", "configure", "execute", "run"]

logger = logging.getLogger(__name__)


def add_execution(parser: argparse.ArgumentParser) -> None:
    """The flags of where and how a study runs (shared with ``experiment misreporting``)."""
    from innatura.cli.args import worker_count

    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="address of an existing Dask scheduler (default: a local cluster of worker processes)")
    parser.add_argument("--local", action="store_true", help="run in this process, without Dask")
    parser.add_argument("--workers", type=worker_count(), default=None,
                        help="worker processes of the local cluster (1 to the CPUs; default: CPUs, at most 4)")
    parser.add_argument("--out", required=True, type=Path, help="output directory (re-use it to resume)")
    parser.add_argument("--no-plots", action="store_true", help="skip the report's PNGs")
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no printed table")


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the command's arguments."""
    parser.add_argument("study", metavar="STUDY",
                        help="a shipped study's name (innatura experiment list) or a study TOML file")
    add_execution(parser)


def execute(spec: StudySpec, args: argparse.Namespace) -> StudyResult:
    """Run ``spec`` under ``args.out`` as the flags say (the folder locked while it runs)."""
    from innatura.abm.study import case_configs, run_study
    from innatura.cli.outputs import FolderLock, check_output_dir
    from innatura.planner.errors import InvalidInputError

    if args.local and args.scheduler:
        raise InvalidInputError("--local and --scheduler exclude each other")
    out: Path = check_output_dir(args.out)
    case_configs(spec)  # every case configures (scenarios load) before the folder is touched
    if not getattr(args, "verbose", 0) and not args.local:  # the Dask scheduler logs every worker's start at INFO
        importlib.import_module("distributed")
        for name in [n for n in logging.root.manager.loggerDict if n.split(".")[0] == "distributed"]:
            logging.getLogger(name).setLevel(logging.WARNING)
    with FolderLock(out, "a study"):
        return run_study(spec, out, scheduler=args.scheduler, local=args.local, n_workers=args.workers,
                         progress=not args.quiet and sys.stderr.isatty(), plots=not args.no_plots)


def print_result(result: StudyResult, quiet: bool) -> None:
    """The per-defence table and what was written (unless ``quiet``); failed runs on stderr."""
    from innatura.abm.study.report import defence_summary, markdown_table

    table = result.outcomes
    if not quiet:
        print(markdown_table(defence_summary(table)), end="")
        print(f"{len(result.sweep.ran)} runs in {result.seconds:.1f} s ({len(result.sweep.skipped)} already finished); "
              f"wrote " + ", ".join(str(f) for f in result.files))
    failed = int((table["error"].fillna("") != "").sum()) if "error" in table.columns else 0
    if failed:
        print(f"{failed} runs failed: see the 'error' column of {result.files[0]}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    """Run the study (or what is left of it) and write its outcomes and report."""
    from innatura.abm.study import load

    result = execute(load(args.study), args)
    print_result(result, args.quiet)
    return 0
