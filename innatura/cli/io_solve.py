"""``innatura io solve TABLE --format {bea,wiod,pymrio}``: solve a real IO table and check it.

Loads the table (BEA: the folder holding ``use.csv`` and ``make.csv``, or the ``use.csv`` path;
WIOD: the CSV file, ``--year`` picks the year, default the latest; pymrio: a saved system or
``test``), builds ``A`` and final demand ``f``, solves ``(I - A) x = f`` and reports the size,
density, largest column sum, spectral radius, and the relative error between ``x`` and the
table's own gross output (``relative_error`` in ``--json`` output).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from innatura.scenarios.io_tables.solve import TableSolution
    from innatura.scenarios.io_tables.table import IOTable

__all__ = ["add_table_arguments", "configure", "report", "run"]

logger = logging.getLogger(__name__)


def add_table_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments naming a table, shared by ``io solve`` and ``import-io``."""
    from innatura.scenarios.io_tables import FORMATS

    parser.add_argument("table", metavar="TABLE",
                        help="BEA: folder with use.csv and make.csv (or use.csv); WIOD: the CSV file; "
                             "pymrio: a saved system's folder, or 'test'")
    parser.add_argument("--format", required=True, choices=sorted(FORMATS), help="table format")
    from innatura.cli.args import whole

    parser.add_argument("--year", type=whole(1000, 9999), default=None,
                        help="year to load (WIOD: default the latest in the file)")


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the command's arguments."""
    from innatura.scenarios.io_tables import POLICIES

    add_table_arguments(parser)
    parser.add_argument("--negative-policy", default="keep", choices=sorted(POLICIES),
                        help="negative cells and negative final demand: "
                             + "; ".join(f"{k}: {v}" for k, v in POLICIES.items()) + " (default: keep)")
    parser.add_argument("--method", default=None, help="solver of planner.leontief.solve_io (default: its choice)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def report(table: IOTable, solution: TableSolution, load_seconds: float) -> dict:
    """The JSON-ready report of a loaded and solved table."""
    out = {
        "name": table.name,
        "source": table.source,
        "format": table.format,
        "year": table.year,
        "unit": table.unit,
        "size": table.n,
        "nonzeros": int(table.A.nnz),
        "density": table.density,
        "max_column_sum": table.max_column_sum,
        "final_demand_components": len(table.final_demand_codes),
        "regions": list(table.region_names),
        "total_gross_output": float(table.gross_output.sum()),
        "total_solved_output": float(solution.x.sum()),
        "load_seconds": load_seconds,
        **solution.to_dict(),
        "negatives": table.negatives.to_dict(limit=10) if table.negatives is not None else None,
        "notes": list(table.notes),
    }
    return out


def _text(rep: dict) -> str:
    rows = [
        ("table", rep["name"]), ("source", rep["source"]), ("unit", rep["unit"]),
        ("size", f"{rep['size']} industries, {rep['final_demand_components']} final-demand components"
                 + (f", {len(rep['regions'])} regions" if rep["regions"] else "")),
        ("density", f"{rep['density']:.4f} ({rep['nonzeros']} non-zeros)"),
        ("max column sum", f"{rep['max_column_sum']:.6f}"),
        ("spectral radius", f"{rep['spectral_radius']:.6f}"),
        ("negatives", rep["negatives"]["policy"] + ": " + (
            f"{rep['negatives']['negative_coefficients']} coefficients, "
            f"{rep['negatives']['negative_final_demand']} net final demand, "
            f"{rep['negatives']['negative_component_entries']} component entries"
            + (" (clipped)" if rep["negatives"]["changed"] else " (kept)")) if rep["negatives"] else "-"),
        ("solver", f"{rep['method']}, {rep['iterations']} iterations, residual {rep['residual']:.3e}"),
        ("relative error", f"{rep['relative_error']:.3e} (max per industry {rep['max_relative_error']:.3e})"),
        ("gross output", f"table {rep['total_gross_output']:.6g}, solved {rep['total_solved_output']:.6g}"),
        ("time", f"load {rep['load_seconds']:.3f} s, solve {rep['solve_seconds']:.3f} s"),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def run(args: argparse.Namespace) -> int:
    """Load, solve and report; exit status 0."""
    from innatura.scenarios.io_tables import load_table
    from innatura.scenarios.io_tables.solve import solve_table

    start = time.perf_counter()
    table = load_table(args.table, args.format, year=args.year, negative_policy=args.negative_policy)
    load_seconds = time.perf_counter() - start
    solution = solve_table(table, method=args.method)
    rep = report(table, solution, load_seconds)
    if args.json:
        json.dump(rep, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(_text(rep))
    return 0
