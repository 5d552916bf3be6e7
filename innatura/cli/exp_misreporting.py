"""``innatura experiment misreporting``: the shipped study ``misreporting`` with its grid as flags.

A thin alias of ``innatura experiment run misreporting``: each flag replaces one field of the
shipped study (``innatura experiment list --show misreporting``), which then runs as every
study does (``innatura experiment run``): one side lies at a time (each of ``--strategies``
on its side, the other side honest), every (planner, strategy, share, defence, seed) against
the honest run with the same seed, on a local Dask cluster by default (``--scheduler
ADDRESS``, ``--local``), resumable; ``DIR/outcomes.parquet``, ``DIR/report.md`` and its PNGs.
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

__all__ = ["DEFAULTS", "configure", "run"]

logger = logging.getLogger(__name__)

#: most seeds per cell of the grid.
MAX_SEEDS = 10_000
#: the flags' defaults: the shipped study ``misreporting`` (a small scenario, a few days and
#: two seeds finish in well under a minute on 2 cores).
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
    from innatura.cli.args import real, real_list, whole
    from innatura.cli.exp_run import add_execution
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
                        help=f"audit probability per agent and night of a bare 'audit' (default "
                             f"{d['audit_probability']})")
    add_execution(parser)


def _defence(text: str, probability: float) -> str:
    """``text`` with each bare ``audit`` auditing with ``probability``."""
    from innatura.abm.adversarial.base import split_top_level

    if probability == DEFAULTS["audit_probability"]:
        return text
    return "+".join(f"audit(probability={probability!r})" if p == "audit" else p for p in split_top_level(text, "+"))


def study_of(args: argparse.Namespace) -> Any:
    """The study the flags describe (:class:`abm.study.StudySpec`)."""
    from innatura.abm.adversarial.experiment import planner_options, strategy_kind
    from innatura.abm.study.spec import spec_from_dict
    from innatura.planner.errors import InvalidInputError

    if not args.shares or not args.strategies or not args.planners or not args.defences:
        raise InvalidInputError("--shares, --strategies, --planners and --defences must each name at least one value")
    mixes = [{f"{strategy_kind(s)}s": s, "label": s} for s in args.strategies]
    levers: dict[str, Any] = {"defence": [_defence(d, args.audit_probability) for d in args.defences]}
    if len(args.planners) > 1:
        levers["planner"] = args.planners
    options = {k: v for k, v in planner_options(args.planner_option, args.planners).items() if v}
    data = {"study": {"name": "misreporting", "description": "One side lies at a time (innatura experiment "
                      "misreporting)", "scenarios": [str(args.scenario)], "seeds": args.seeds, "days": args.days,
                      "planner": args.planners[0], "planner_options": options},
            "levers": levers, "uncertainties": {"share": [float(s) for s in args.shares], "strategies": mixes}}
    return spec_from_dict(data, "innatura experiment misreporting")


def run(args: argparse.Namespace) -> int:
    """Run the study the flags describe (or what is left of it)."""
    from innatura.cli.exp_run import execute, print_result

    result = execute(study_of(args), args)
    print_result(result, args.quiet)
    return 0
