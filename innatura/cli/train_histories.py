"""``innatura train histories``: simulate unit histories for type inference and save them.

Runs the agent model over scenarios x seeds x misreporting mixes (:mod:`abm.learning.dataset`)
and writes ``DIR/runs/<scenario>-<mix>-s<seed>.npz`` (one per run, as it ends) and
``DIR/index.json``. Read back with :meth:`planner.learned.histories.HistoryDataset.load`, or
give the folder to ``innatura train inference --dataset``.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["add_simulation_flags", "configure", "run", "simulate"]

logger = logging.getLogger(__name__)

#: the mixes simulated unless told otherwise.
DEFAULT_MIXES = "honest,overstate,ratchet,collude,varied,audited,collude-regions"


def add_simulation_flags(parser: argparse.ArgumentParser, required: bool = False) -> None:
    """The flags that say what to simulate (shared with ``train inference``)."""
    from innatura.cli.args import seed, whole

    parser.add_argument("--scenario", action="append", metavar="S", required=required,
                        help="scenario, with builder parameters after a colon (archipelago:seed=5,regions=10); "
                             "repeat for several (default archipelago)")
    parser.add_argument("--seeds", type=whole(1, 10_000), default=2,
                        help="model seeds per scenario and mix (default 2)")
    parser.add_argument("--first-seed", type=seed, default=0, help="the first model seed (default 0)")
    parser.add_argument("--mixes", default=DEFAULT_MIXES,
                        help=f"misreporting mixes, comma-separated (default {DEFAULT_MIXES})")
    parser.add_argument("--days", type=whole(1, 10_000), default=30, help="nights per run (default 30)")


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the command's arguments."""
    add_simulation_flags(parser)
    parser.add_argument("--out", required=True, type=Path, help="dataset folder")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def simulate(args: argparse.Namespace, out: Path | None, quiet: bool) -> Any:
    """Simulate the dataset the flags name into ``out``; returns the
    :class:`~planner.learned.histories.HistoryDataset`."""
    from tqdm import tqdm

    from innatura.abm.learning.dataset import generate_dataset, parse_mixes

    mixes = parse_mixes(args.mixes)
    scenarios = args.scenario or ["archipelago"]
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    total = len(scenarios) * len(mixes) * len(seeds)
    bar = tqdm(total=total, desc="train histories", unit="run", disable=quiet or not sys.stderr.isatty())

    def tick(name: str) -> None:
        bar.update(1)
        bar.set_postfix_str(name)

    try:
        return generate_dataset(scenarios, seeds, mixes, args.days, out=out, progress=tick)
    finally:
        bar.close()


def run(args: argparse.Namespace) -> int:
    """Simulate and write the dataset."""
    from innatura.cli.outputs import check_output_dir

    out = check_output_dir(args.out)
    start = time.perf_counter()
    ds = simulate(args, out, args.quiet)
    seconds = time.perf_counter() - start
    units = sum(r.units for r in ds.runs)
    nights = sum(r.nights * r.units for r in ds.runs)
    liars = sum(int(r.misreport.sum()) for r in ds.runs)
    print(f"{len(ds)} runs in {seconds:.1f} s: {units} units ({liars} misreporting), {nights} unit-nights")
    print(f"dataset: {out / 'index.json'}, {out / 'runs'}")
    return 0
