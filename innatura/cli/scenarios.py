"""``innatura scenarios``: list the scenarios that ship with innatura, or describe one.

    innatura scenarios                      # name and one-line description of each
    innatura scenarios --json               # the same as JSON
    innatura scenarios selviaria            # goods, profiles, units, regions of one scenario
    innatura scenarios archipelago --dump archipelago.toml   # write it as an editable file
"""

from __future__ import annotations

import argparse
import json
import logging

import numpy as np

from innatura import scenarios

__all__ = ["configure", "run"]

logger = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the command's arguments."""
    parser.add_argument("name", nargs="?", help="a scenario name or .toml path to describe (default: list all)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--dump", metavar="PATH", help="write the named scenario as a TOML file")


def _summary(spec: scenarios.ScenarioSpec) -> dict:
    kinds = [g.kind for g in spec.goods]
    pop = spec.population_by_region()
    return {
        "name": spec.name,
        "description": spec.description,
        "population_note": spec.scenario.population_note,
        "days": spec.scenario.days,
        "seed": spec.scenario.seed,
        "goods": {k: kinds.count(k) for k in ("final", "industrial", "labour")},
        "profiles": {p.name: p.population for p in spec.profiles},
        "units": len(spec.units),
        "curve_cells": len(spec.to_economy().curves),
        "regions": {name: int(n) for name, n in zip(spec.region_names, pop.sum(axis=1), strict=True)},
        "edges": spec.graph().number_of_edges(),
        "investment_share": spec.planning.investment_share,
        "method": spec.planning.method,
        "losses_enabled": spec.losses.enabled,
    }


def run(args: argparse.Namespace) -> int:
    """List the scenarios, or describe / dump the named one; returns the exit status."""
    if args.name is None:
        if args.dump:
            raise scenarios.ScenarioError("<command line>", [(("--dump",), args.dump, "name the scenario to dump")])
        rows = scenarios.available()
        if args.json:
            listing = [{"name": n, "description": d, "default": n == scenarios.DEFAULT_SCENARIO} for n, d in rows]
            print(json.dumps(listing, indent=2))
        else:
            width = max(len(n) for n, _ in rows) + 2
            for name, description in rows:
                mark = " (default)" if name == scenarios.DEFAULT_SCENARIO else ""
                print(f"{name:<{width}}{description}{mark}")
        return 0
    if args.dump:
        from innatura.cli.outputs import check_output_file

        check_output_file(args.dump, "--dump")
    spec = scenarios.load(args.name)
    if args.dump:
        path = scenarios.dump_toml(spec, args.dump)
        print(f"wrote {path}")
        return 0
    info = _summary(spec)
    if args.json:
        print(json.dumps(info, indent=2, default=lambda o: o.item() if isinstance(o, np.generic) else str(o)))
        return 0
    for key, value in info.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}: {v}" for k, v in value.items())
        print(f"{key:<17}{value}")
    return 0
