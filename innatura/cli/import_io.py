"""``innatura import-io TABLE --format ... --out scenario.toml``: a real IO table as a scenario.

Industries become final goods, value added one labour good, final-demand groups profiles
(households: ``--population`` citizens), one production unit per industry with curves equal
to the table's coefficients at the observed output (``--returns-to-scale``). Flows are the
table's money flows per day treated as physical quantities; the written file says so. See
:mod:`scenarios.io_tables.to_scenario` for the full mapping.
"""

from __future__ import annotations

import argparse
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from innatura.scenarios.spec import ScenarioSpec

__all__ = ["configure", "run", "write_scenario"]

logger = logging.getLogger(__name__)


def _slug(text: str) -> str:
    if not re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", text) or len(text) > 80:
        raise argparse.ArgumentTypeError(f"expected a slug ([a-z0-9][a-z0-9_.-]*, at most 80 characters), got {text!r}")
    return text


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the command's arguments."""
    from innatura.cli.args import real, whole
    from innatura.cli.io_solve import add_table_arguments
    from innatura.scenarios.io_tables import POLICIES
    from innatura.scenarios.limits import MAX_DAYS, MAX_POPULATION

    add_table_arguments(parser)
    parser.add_argument("--out", required=True, type=Path, help="scenario TOML file to write")
    parser.add_argument("--name", type=_slug, default=None,
                        help="scenario name (a slug; default from the output file name)")
    parser.add_argument("--population", type=whole(1, MAX_POPULATION), default=1000,
                        help="household citizens sharing household final demand (default 1000)")
    parser.add_argument("--returns-to-scale", type=real(0.0, 1.0, lo_open=True), default=1.0, metavar="E",
                        help="returns-to-scale exponent in (0, 1]: output grows as inputs**E (default 1: constant)")
    parser.add_argument("--investment-share", type=real(0.0, 1.0, hi_open=True), default=0.1,
                        help="planner investment share in [0, 1) (default 0.1)")
    parser.add_argument("--inventory-days", type=real(0.0, 3650.0), default=1.0,
                        help="opening stock in days of the day-1 requirement (default 1)")
    parser.add_argument("--days", type=whole(1, MAX_DAYS), default=365, help="default run length in days (default 365)")
    parser.add_argument("--negative-policy", default="clip", choices=sorted(POLICIES),
                        help="negative cells and final demand (default clip; scenarios need non-negative values)")


def write_scenario(spec: ScenarioSpec, header: list[str], path: Path) -> Path:
    """Write ``spec`` as TOML with ``header`` comment lines on top, atomically."""
    from innatura.scenarios.loader import dump_toml

    return dump_toml(spec, path, header=header)


def run(args: argparse.Namespace) -> int:
    """Load the table, build and validate the scenario, write it; exit status 0."""
    from innatura.cli.outputs import check_output_file
    from innatura.scenarios.io_tables import load_table
    from innatura.scenarios.io_tables.to_scenario import table_header, table_to_spec

    check_output_file(args.out)
    table = load_table(args.table, args.format, year=args.year, negative_policy=args.negative_policy)
    name = args.name or re.sub(r"[^a-z0-9_.-]+", "-", args.out.stem.lower()).strip("-.") or "io-table"
    spec = table_to_spec(
        table, name, population=args.population, returns_to_scale=args.returns_to_scale,
        investment_share=args.investment_share, inventory_days=args.inventory_days, days=args.days,
    )
    write_scenario(spec, table_header(table, args.population, args.returns_to_scale), args.out)
    print(f"wrote {args.out}: scenario {name!r}, {len(spec.goods)} goods, {len(spec.profiles)} profiles, "
          f"{len(spec.units)} units")
    return 0
