"""``innatura experiment misreporting``: a resumable sweep of misreporting strategies and defences.

Runs every (planner, strategy, share, defence, seed) of the grid with
:func:`abm.adversarial.experiment.run_misreporting` through :func:`abm.sweep.run_sweep` (a Dask
cluster of local worker processes by default, ``--scheduler ADDRESS`` for an existing cluster,
``--local`` in this process), writing each run's metrics to ``DIR/runs/<run_id>.json`` as it
finishes and all of them to ``DIR/runs.parquet``; then ``DIR/summary.md`` (printed too) and
``DIR/welfare_loss_<planner>.png`` heatmaps. Re-running the same command after an interruption
runs only what is missing.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from innatura.planner.atomic import atomic_write_text

if TYPE_CHECKING:  # pragma: no cover
    from innatura.abm.sweep import SweepResult

__all__ = ["DEFAULTS", "configure", "run"]

logger = logging.getLogger(__name__)

#: most seeds per cell of the grid.
MAX_SEEDS = 10_000
#: defaults: a small scenario, a few days and two seeds finish in a few minutes on 2 cores.
DEFAULTS: dict[str, Any] = {
    "scenario": "butter-village", "shares": "0,0.1,0.2,0.4", "strategies": "inflate,ratchet", "planners": "olin",
    "defences": "none,audit,robust", "seeds": 2, "days": 10, "audit_probability": 0.3,
}


def _names(text: str) -> list[str]:
    from innatura.abm.adversarial.base import split_top_level

    return split_top_level(text, ",")


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the command's arguments."""
    from innatura.abm.adversarial.vocabulary import DEFENCES, STRATEGIES
    from innatura.cli.args import real, real_list, whole, worker_count
    from innatura.scenarios.limits import MAX_DAYS

    d = DEFAULTS
    parser.add_argument("--scenario", default=d["scenario"],
                        help=f"scenario name or TOML file (default {d['scenario']})")
    parser.add_argument("--shares", type=real_list(0.0, 1.0), default=real_list(0.0, 1.0)(d["shares"]),
                        metavar="F,F,...", help=f"shares of misreporting citizens and units (default {d['shares']})")
    parser.add_argument("--strategies", type=_names, default=_names(d["strategies"]), metavar="S,S,...",
                        help=f"strategies, of: {', '.join(s for s in STRATEGIES if s != 'honest')}; with parameters as "
                             f"ratchet(ramp_days=3) (default {d['strategies']})")
    parser.add_argument("--planners", type=_names, default=_names(d["planners"]), metavar="P,P,...",
                        help=f"planning methods (default {d['planners']})")
    parser.add_argument("--defences", type=_names, default=_names(d["defences"]), metavar="D,D,...",
                        help=f"defences, of: none, {', '.join(DEFENCES)}; combine with + "
                             f"(audit+robust) (default {d['defences']})")
    parser.add_argument("--planner-option", action="append", default=[], metavar="PLANNER:KEY=VALUE",
                        help="an option of one planner's factory, e.g. learned:model=runs/learned (repeatable)")
    parser.add_argument("--seeds", type=whole(1, MAX_SEEDS), default=d["seeds"],
                        help=f"seeds 0..N-1 per cell (default {d['seeds']})")
    parser.add_argument("--days", type=whole(1, MAX_DAYS), default=d["days"],
                        help=f"days per run (default {d['days']})")
    parser.add_argument("--audit-probability", type=real(0.0, 1.0), default=d["audit_probability"], metavar="P",
                        help=f"audit probability per agent and night (default {d['audit_probability']})")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="address of an existing Dask scheduler (default: a local cluster of worker processes)")
    parser.add_argument("--local", action="store_true", help="run in this process, without Dask")
    parser.add_argument("--workers", type=worker_count(), default=None,
                        help="worker processes of the local cluster (1 to the CPUs; default: CPUs, at most 4)")
    parser.add_argument("--out", required=True, type=Path, help="output directory (re-use it to resume)")
    parser.add_argument("--no-plots", action="store_true", help="skip the heatmap PNGs")
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no printed table")


def run(args: argparse.Namespace) -> int:
    """Run the sweep (or what is left of it) and write the table, summary and heatmaps."""
    from innatura.abm.adversarial.experiment import (
        check_planners,
        misreporting_configs,
        planner_options,
        run_misreporting,
        scenario_spec,
    )
    from innatura.abm.sweep import run_sweep
    from innatura.cli.outputs import FolderLock, check_output_dir
    from innatura.planner.errors import InvalidInputError
    from innatura.scenarios.limits import check_model_fits

    if not args.shares or not args.strategies or not args.planners or not args.defences:
        raise InvalidInputError("--shares, --strategies, --planners and --defences must each name at least one value")
    if args.local and args.scheduler:
        raise InvalidInputError("--local and --scheduler exclude each other")
    check_planners(args.planners)
    if not getattr(args, "verbose", 0) and not args.local:  # the Dask scheduler logs every worker's start at INFO
        importlib.import_module("distributed")  # sets up its loggers, which are then quietened

        for name in [n for n in logging.root.manager.loggerDict if n.split(".")[0] == "distributed"]:
            logging.getLogger(name).setLevel(logging.WARNING)
    options = planner_options(args.planner_option, args.planners)
    out: Path = check_output_dir(args.out)
    spec = scenario_spec(args.scenario)  # the scenario is valid and fits in memory before anything runs
    check_model_fits(spec)
    configs = misreporting_configs(scenario=args.scenario, shares=args.shares, strategies=args.strategies,
                                   planners=args.planners, defences=args.defences, seeds=range(args.seeds),
                                   days=args.days, audit_probability=args.audit_probability,
                                   planner_options=options)
    start = time.perf_counter()
    with FolderLock(out, "a sweep"):
        result = run_sweep(configs, run_misreporting, out, scheduler=args.scheduler, local=args.local,
                           n_workers=args.workers, progress=not args.quiet and sys.stderr.isatty())
        return _report(args, configs, result, time.perf_counter() - start, spec.content_hash)


def _report(args: argparse.Namespace, configs: list, result: SweepResult, seconds: float, content_hash: str) -> int:
    """Write ``summary.md`` (and the heatmaps) for this command's grid; print the summary."""
    from innatura.abm.adversarial.report import summary_markdown, summary_table, write_heatmaps

    out: Path = args.out
    wanted = {c["strategy"] for c in configs} | {"honest"}
    table = result.table
    if not table.empty:  # the summary covers this command's grid, even if DIR holds more runs
        table = table[table["planner"].isin(args.planners) & table["strategy"].isin(wanted)
                      & table["defence"].isin(args.defences) & table["share"].isin(args.shares)
                      & (table["scenario"] == args.scenario) & (table["days"] == args.days)
                      & (table.get("scenario_hash", content_hash) == content_hash)]
    summary = summary_table(table)
    md = (f"# Misreporting sweep: {args.scenario}\n\n"
          f"{len(configs)} runs ({len(result.ran)} run now, {len(result.skipped)} found finished), "
          f"{args.days} days, seeds 0..{args.seeds - 1}, audit probability {args.audit_probability}. "
          f"welfare: mean share of need received by the citizens who reported truthfully; welfare_loss: "
          f"the same citizens in the honest run with the same seed, minus welfare (positive = worse); "
          f"precision/recall: of the agents the defences flagged against those who misreported.\n\n"
          + summary_markdown(summary))
    atomic_write_text(out / "summary.md", md)
    files = [] if args.no_plots else write_heatmaps(summary, out, args.defences)
    if not args.quiet:
        print(summary_markdown(summary), end="")
        print(f"{len(result.ran)} runs in {seconds:.1f} s ({len(result.skipped)} already finished); wrote "
              f"{result.path}, {out / 'summary.md'}" + "".join(f", {f}" for f in files))
    failed = int((table.get("error", "").fillna("") != "").sum()) if not table.empty and "error" in table else 0
    if failed:
        print(f"{failed} runs failed: see the 'error' column of {result.path}", file=sys.stderr)
    return 0
