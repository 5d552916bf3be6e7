"""``innatura bench day``: time one simulated day, split into report / plan / execute / collect.

Builds a random economy of the requested size (:func:`scenarios.builders.synthetic.synthetic_spec`), runs a
warm-up day and then ``--days`` timed days, and prints a table and a JSON record: seconds per
day for each phase, the planner's share of the day, and the set-up time. The reference point
is the planner itself: the agent model's own work (report, execute, collect) is reported as a
ratio to the planning time, which should stay well below 1.

The economy is one region by default, with half a day of safety stock (see
:func:`scenarios.builders.synthetic.synthetic_spec`), so that the timed days are days of a fed economy: the
record carries the last day's humanity and plan error to show it. With ``--regions R > 1`` the
national plan meets regional labour and transport that it does not model, and a random
economy of thousands of goods starves within days (docs/model.md, "Regional friction"); the
timings then describe days of heavy rationing. ``--plan regional`` plans on the region graph
instead (docs/model.md, "The regional plan"); ``--plan both`` runs the same economy with the
national plan as the reference and then the regional plan, and prints their per-day times,
humanity and the ratio regional / national.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np

__all__ = ["bench_day", "configure", "run"]

logger = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``innatura bench day``."""
    from innatura.cli.args import memory_count, seed, whole
    from innatura.scenarios.limits import BYTES_PER_CITIZEN, MAX_REGIONS

    parser.add_argument("--citizens", type=memory_count(1, BYTES_PER_CITIZEN, "citizens"), default=100_000,
                        help="citizens (default 100000)")
    parser.add_argument("--units", type=whole(1, 1_000_000), default=1_000, help="production units (default 1000)")
    parser.add_argument("--goods", type=whole(1, 1_000_000), default=5_000, help="goods (default 5000)")
    parser.add_argument("--regions", type=whole(1, MAX_REGIONS), default=1,
                        help="regions (default 1; see the module docstring)")
    parser.add_argument("--profiles", type=whole(1, 100_000), default=200, help="consumption profiles (default 200)")
    parser.add_argument("--days", type=whole(0, 100_000), default=3,
                        help="timed days after one warm-up day (default 3)")
    parser.add_argument("--seed", type=seed, default=0, help="random seed")
    parser.add_argument("--plan", choices=("national", "regional", "both"), default="national",
                        help="the nightly plan (default national; both: national as the reference, then regional)")
    parser.add_argument("--json", type=Path, default=None, help="also write the JSON record to this file")


def bench_day(citizens: int, units: int, goods: int, regions: int, profiles: int, days: int, seed: int,
              plan: str = "national") -> dict:
    """Build the economy, simulate ``1 + days`` days with the ``plan`` (``"national"`` or
    ``"regional"``), return the timing record."""
    from innatura.abm.model import PHASES, PlanningEconomy
    from innatura.scenarios.builders.synthetic import synthetic_spec

    t0 = time.perf_counter()
    spec = synthetic_spec(citizens=citizens, units=units, goods=goods, regions=regions, profiles=profiles,
                          seed=seed, bundle_size=20)
    t1 = time.perf_counter()
    model = PlanningEconomy(spec, rng=seed, collect_agents=False, plan=plan)
    t2 = time.perf_counter()
    model.step()  # warm-up: first night builds every reported curve
    warm = {p: model.timings[p][-1] for p in PHASES}
    for _ in range(days):
        model.step()
    per_day = {p: float(np.mean(model.timings[p][1:])) if days else float("nan") for p in PHASES}
    total = sum(per_day.values())
    lay = model.layout
    frame = model.model_frame()
    return {
        "sizes": {"citizens": lay.n_citizens, "units": lay.n_units, "scenario_units": int((~lay.unit_implicit).sum()),
                  "goods": lay.n_goods, "regions": lay.n_regions, "profiles": len(lay.profiles),
                  "curve_cells": len(lay.economy.curves)},
        "seconds_per_day": per_day, "seconds_per_day_total": total,
        "planner_share": per_day["plan"] / total if total > 0 else float("nan"),
        "model_to_planner_ratio": (total - per_day["plan"]) / per_day["plan"] if per_day["plan"] > 0 else float("nan"),
        "warmup_day": warm, "spec_seconds": t1 - t0, "setup_seconds": t2 - t1,
        "setup_split": dict(model.setup_timings), "days_timed": days,
        "plan": plan, "humanity_last": model.metrics.get("humanity"),
        "humanity_min": float(frame["humanity"].min()),
        "plan_error_last": model.metrics.get("plan_error"),
        # day by day (the warm-up day first): what the targets of a fed economy are about
        "humanity_per_day": [float(v) for v in frame["humanity"]],
        "plan_error_per_day": [float(v) for v in frame["plan_error"]],
        "plan_seconds_per_day": [float(v) for v in model.timings["plan"]],
    }


def run(args: argparse.Namespace) -> int:
    """Run the benchmark; print the table and the JSON record."""
    from innatura.cli.outputs import check_output_file
    from innatura.planner.atomic import atomic_write_bytes
    from innatura.scenarios.limits import check_fits, model_bytes

    if args.json is not None:
        check_output_file(args.json, "--json")
    need = model_bytes(args.citizens, args.regions, 2 * args.regions, args.units + args.goods, args.goods)
    check_fits(need, f"{args.citizens} citizens, {args.units} units and {args.goods} goods",
               "--citizens/--units/--goods/--regions")
    plans = ("national", "regional") if args.plan == "both" else (args.plan,)
    records = {p: bench_day(args.citizens, args.units, args.goods, args.regions, args.profiles, args.days, args.seed,
                            plan=p) for p in plans}
    for rec in records.values():
        _print(args, rec)
    if len(records) == 2:
        nat, reg = records["national"], records["regional"]
        print(f"regional / national: {reg['seconds_per_day_total'] / nat['seconds_per_day_total']:.2f} x the time a "
              f"day; humanity last day {reg['humanity_last']:.4g} vs {nat['humanity_last']:.4g}, lowest "
              f"{reg['humanity_min']:.4g} vs {nat['humanity_min']:.4g}")
    rec = records[plans[-1]] if len(records) == 1 else records
    text = json.dumps(rec, indent=2, default=float)
    print(text)
    if args.json is not None:
        atomic_write_bytes(Path(args.json), (text + "\n").encode())
    return 0


def _print(args: argparse.Namespace, rec: dict) -> None:
    """The table of one record."""
    s = rec["sizes"]
    print(f"{rec['plan']} plan: day of {s['citizens']} citizens, {s['units']} units ({s['scenario_units']} with "
          f"learned curves), {s['goods']} goods, {s['regions']} regions, {s['profiles']} profiles; "
          f"mean of {args.days} days")
    print(f"{'phase':<10}{'s/day':>10}{'share':>9}")
    for phase, sec in rec["seconds_per_day"].items():
        print(f"{phase:<10}{sec:>10.4f}{sec / rec['seconds_per_day_total']:>9.1%}")
    print(f"{'total':<10}{rec['seconds_per_day_total']:>10.4f}")
    print(f"planner share {rec['planner_share']:.1%}; last day: humanity {rec['humanity_last']:.4g}, "
          f"plan error {rec['plan_error_last']:.4g}")
    print(f"{'day':>4}{'humanity':>12}{'plan error':>12}{'plan s':>9}")
    for d, (h, e, t) in enumerate(zip(rec["humanity_per_day"], rec["plan_error_per_day"],
                                      rec["plan_seconds_per_day"], strict=True), start=1):
        print(f"{d:>4}{h:>12.4g}{e:>12.3g}{t:>9.2f}")
    split = ", ".join(f"{k} {v:.2f}" for k, v in rec["setup_split"].items())
    print(f"agent model (report+execute+collect) / planner = {rec['model_to_planner_ratio']:.3f}; "
          f"set-up {rec['setup_seconds']:.2f} s ({split}), spec {rec['spec_seconds']:.2f} s")
