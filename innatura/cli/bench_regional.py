"""``innatura bench regional``: time the regional plan against the national plan on the same nights.

Builds a random economy of the requested size (:func:`innatura.scenarios.builders.synthetic.synthetic_spec`, the
economy of ``innatura bench day``) and plans ``--nights`` nights in a row from the scenario's
initial stocks, each night's opening stocks being the decomposed plan's expected closing
stocks of the night before (an economy that executes the regional plan as planned; the
agent model does not follow regional plans yet) and its closing targets the model's safety
stock (days) of the plan's regional draw. On every night it times, on the same reports and
stocks:

- ``national``: the model's nightly plan as it runs today (:func:`abm.day.plan`: the national
  plan and its regional-labour re-planning rounds);
- ``decomposed``: :func:`planner.regional.plan_regional` with ``method="decomposed"``;
- ``lp``: the exact regional LPs, with ``--exact`` and only while they have at most
  ``--exact-max-variables`` columns.

It prints seconds per night for each, the ratio to the national plan measured in the same
run, the plans' smallest fulfilment (the regional plans' is feasible on the region graph; the
national plan's is not checked against it) and the decomposed plan's bottleneck, and a JSON
record.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["bench_regional", "configure", "regional_problem", "run"]

logger = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``innatura bench regional``."""
    parser.add_argument("--citizens", type=int, default=100_000, help="citizens (default 100000)")
    parser.add_argument("--units", type=int, default=1_000, help="production units with learned curves (default 1000)")
    parser.add_argument("--goods", type=int, default=5_000, help="goods (default 5000)")
    parser.add_argument("--regions", type=int, default=20, help="regions (default 20)")
    parser.add_argument("--profiles", type=int, default=200, help="consumption profiles (default 200)")
    parser.add_argument("--nights", type=int, default=3, help="timed nights after one warm-up day (default 3)")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--exact", action="store_true", help="also time the exact LPs (small economies only)")
    parser.add_argument("--exact-max-variables", type=int, default=200_000,
                        help="skip the exact LPs above this many columns (default 200000)")
    parser.add_argument("--json", type=Path, default=None, help="also write the JSON record to this file")


def regional_problem(model, reports, stocks=None, target=None):  # noqa: ANN001, ANN201
    """The night's :class:`planner.regional.RegionalProblem` of an agent model after ``reports``.

    Units keep their reported capacities and report their learned inputs as input functions;
    every other input is the public constant coefficient. Demand is the citizens' reported
    weights per region and profile. ``stocks`` default to the model's, the closing targets
    ``target`` ``(R, n)`` to none.
    """
    from innatura.planner.regional import InputUse, RegionalProblem

    lay, st = model.layout, model.state
    ti = lay.true_inputs
    const = ~lay.entry_curve
    curve_unit, curve_good, curves = [], [], []
    for u in np.unique(ti.unit[lay.entry_curve]).tolist():
        entries = np.flatnonzero((ti.unit == u) & lay.entry_curve)
        for e, fit in zip(entries.tolist(), model.reported_inputs(u), strict=True):
            curve_unit.append(u)
            curve_good.append(int(ti.good[e]))
            curves.append(fit)
    inputs = InputUse(ti.unit[const], ti.good[const], ti.scale[const], np.array(curve_unit, dtype=np.int64),
                      np.array(curve_good, dtype=np.int64), tuple(curves))
    R, m = lay.population.shape
    key = lay.citizen_region * m + lay.citizen_profile
    demand = np.bincount(key, reports.citizen_factor, minlength=R * m).reshape(R, m)
    stocks = st.stocks if stocks is None else stocks
    return RegionalProblem(
        goods=lay.goods, kinds=lay.economy.kinds, regions=lay.regions, profiles=lay.profiles,
        bundles=lay.economy.bundles, demand=demand, stocks=np.where(lay.labour_mask[None, :], 0.0, stocks),
        labour=lay.labour_supply, unit_good=lay.unit_good, unit_region=lay.unit_region,
        unit_capacity=reports.unit_capacity, inputs=inputs, edge_src=lay.edge_src, edge_dst=lay.edge_dst,
        edge_capacity=lay.edge_capacity, edge_loss=lay.edge_loss, investment_share=model.investment_share,
        closing_target=target, unit_names=lay.unit_names,
    )


def _timed(fn):  # noqa: ANN001, ANN202
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def _night(model, reports, stocks, target, exact: bool, exact_max: int) -> tuple[dict, Any]:  # noqa: ANN001
    from innatura.abm.day import plan
    from innatura.planner.regional import lp_size, plan_regional

    model.state.stocks = stocks.copy()
    night, t_nat = _timed(lambda: plan(model, reports))
    decision = night.decision
    problem, t_build = _timed(lambda: regional_problem(model, reports, stocks, target))
    dec, t_dec = _timed(lambda: plan_regional(problem, "decomposed"))
    rec = {
        "national_seconds": t_nat, "problem_seconds": t_build, "decomposed_seconds": t_dec,
        "national_planned_humanity": float(decision.planned_humanity),
        "decomposed_planned_humanity": dec.planned_humanity, "decomposed_bottleneck": dec.bottleneck,
        "decomposed_safety_share": dec.safety_share, "decomposed_evaluations": dec.slp_iterations,
        "lp_variables": lp_size(problem),
    }
    if exact and lp_size(problem) <= exact_max:
        lp, t_lp = _timed(lambda: plan_regional(problem, "lp"))
        rec.update(lp_seconds=t_lp, lp_planned_humanity=lp.planned_humanity, lp_status=lp.status)
    return rec, dec


def bench_regional(citizens: int, units: int, goods: int, regions: int, profiles: int, nights: int, seed: int,
                   exact: bool = False, exact_max: int = 200_000) -> dict:
    """Build the economy and time ``nights`` nights (see the module docstring)."""
    from innatura.abm.day import plan, report
    from innatura.abm.model import PlanningEconomy
    from innatura.scenarios.builders.synthetic import synthetic_spec

    spec = synthetic_spec(citizens=citizens, units=units, goods=goods, regions=regions, profiles=profiles,
                          seed=seed, bundle_size=20)
    model = PlanningEconomy(spec, rng=seed, collect_agents=False)
    reports = report(model)
    lay = model.layout
    stocks, target = model.state.stocks.copy(), None
    plan(model, reports)  # untimed: the first night builds every reported curve
    rows = []
    for night in range(1, nights + 1):
        rec, dec = _night(model, reports, stocks, target, exact, exact_max)
        rows.append({"night": night, **rec})
        stocks = dec.closing_expected
        target = np.where(lay.final[None, :], model.settings.safety_stock * (dec.inputs_used + dec.delivered), 0.0)
    mean = {k: float(np.mean([r[k] for r in rows])) for k in rows[0] if k.endswith("_seconds")}
    if any("lp_seconds" not in r for r in rows):
        mean.pop("lp_seconds", None)
    return {
        "sizes": {"citizens": lay.n_citizens, "units": lay.n_units, "goods": lay.n_goods, "regions": lay.n_regions,
                  "directed_edges": int(lay.edge_src.size), "profiles": len(lay.profiles),
                  "curve_cells": len(lay.economy.curves)},
        "nights": rows, "mean_seconds": mean,
        "decomposed_to_national": mean["decomposed_seconds"] / mean["national_seconds"],
        "lp_to_national": mean["lp_seconds"] / mean["national_seconds"] if "lp_seconds" in mean else None,
    }


def run(args: argparse.Namespace) -> int:
    """Run the benchmark; print the table and the JSON record."""
    from innatura.planner.atomic import atomic_write_bytes
    from innatura.planner.errors import InvalidInputError

    if min(args.citizens, args.units, args.goods, args.regions, args.profiles, args.nights) < 1:
        raise InvalidInputError("bench regional: sizes and --nights must be positive")
    rec = bench_regional(args.citizens, args.units, args.goods, args.regions, args.profiles, args.nights, args.seed,
                         args.exact, args.exact_max_variables)
    s = rec["sizes"]
    print(f"regional plan: {s['goods']} goods, {s['regions']} regions ({s['directed_edges']} directed edges), "
          f"{s['units']} units, {s['citizens']} citizens, {s['profiles']} profiles; {args.nights} nights, each "
          "opening with the decomposed plan's closing stocks of the night before")
    print(f"{'night':>5}{'national s':>12}{'decomposed s':>14}{'lp s':>10}{'HU nat':>9}{'HU dec':>9}{'HU lp':>9}"
          "  bottleneck")
    for r in rec["nights"]:
        lp_s = f"{r['lp_seconds']:.3f}" if "lp_seconds" in r else "-"
        lp_h = f"{r['lp_planned_humanity']:.4f}" if "lp_planned_humanity" in r else "-"
        print(f"{r['night']:>5}{r['national_seconds']:>12.3f}{r['decomposed_seconds']:>14.3f}{lp_s:>10}"
              f"{r['national_planned_humanity']:>9.4f}{r['decomposed_planned_humanity']:>9.4f}{lp_h:>9}  "
              f"{r['decomposed_bottleneck'] or '-'}")
    ratio = f"decomposed / national = {rec['decomposed_to_national']:.2f}"
    if rec["lp_to_national"] is not None:
        ratio += f"; lp / national = {rec['lp_to_national']:.2f}"
    print(ratio)
    text = json.dumps(rec, indent=2, default=float)
    print(text)
    if args.json is not None:
        atomic_write_bytes(Path(args.json), (text + "\n").encode())
    return 0
