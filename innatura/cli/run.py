"""``innatura run``: simulate a scenario day by day and write its results.

With no arguments it runs the default scenario for 30 days and writes ``runs/<scenario>-<seed>/``:
``model.csv`` (one row per day), ``units.parquet``, ``regions.parquet``, ``citizens.parquet``,
``summary.json``, PNG figures, and ``checkpoint.pkl`` (every ``--checkpoint-every`` days and at
the end); ``innatura run --resume DIR`` continues a run from its checkpoint with results
identical to an uninterrupted run. Whatever was written stays valid if a run fails or is
interrupted: every file is replaced atomically, and the rows of the days simulated so far are
written before the error is reported.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from innatura.cli.outputs import FolderLock, check_output_dir

if TYPE_CHECKING:  # pragma: no cover
    from innatura.abm.model import PlanningEconomy

__all__ = ["configure", "run"]

logger = logging.getLogger(__name__)

DEFAULT_DAYS = 30
#: most re-plans a night for regional labour (each is a full plan)
MAX_LABOUR_ROUNDS = 100


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``innatura run``."""
    from innatura.abm.active_learning import MAX_QUERY_BUDGET
    from innatura.cli.args import real, seed, whole
    from innatura.scenarios.limits import MAX_DAYS

    parser.add_argument("scenario", nargs="?", default=None,
                        help="built-in scenario name or scenario TOML file (default: the default demo)")
    parser.add_argument("--days", type=whole(1, MAX_DAYS), default=None,
                        help=f"days to simulate (default {DEFAULT_DAYS})")
    parser.add_argument("--seed", type=seed, default=None, help="random seed, 0 to 2**63-1 (default: the scenario's)")
    parser.add_argument("--planner", default="olin", help="planning method (default olin)")
    parser.add_argument("--model", type=Path, default=None, metavar="DIR",
                        help="checkpoint of a trained planner (for --planner learned; see innatura train learned)")
    parser.add_argument("--investment", type=real(0.0, 1.0, hi_open=True), default=None, metavar="F",
                        help="investment share sigma in [0, 1) (default: the scenario's)")
    parser.add_argument("--safety-stock", type=real(0.0, 365.0), default=None, metavar="DAYS",
                        help="days of cover of final goods the planner keeps before investing "
                             "(default: the scenario's)")
    parser.add_argument("--noise", type=real(0.0, 1.0), default=None, metavar="P",
                        help="daily probability of the scenario's stock-loss events")
    parser.add_argument("--misreport-share", type=real(0.0, 1.0), default=0.0, metavar="F",
                        help="share of citizens and units that misreport (with --citizen-strategy / --unit-strategy)")
    parser.add_argument("--citizen-strategy", default=None, metavar="S",
                        help="how misreporting citizens report: honest, inflate, deflate, noise, hoard, with "
                             "parameters as inflate(1.5) (default inflate(factor=1.5))")
    parser.add_argument("--unit-strategy", default=None, metavar="S",
                        help="how misreporting units report: honest, overstate_inputs, ratchet, overstate_capacity, "
                             "collude, with parameters as ratchet(1.3, ramp_days=5) (default overstate_inputs(1.3))")
    parser.add_argument("--defence", action="append", default=[], metavar="D",
                        help="a defence applied to the reports each night: audit, robust, belief, ic, with parameters "
                             "as audit(probability=0.5); repeat or join with + for several (default none)")
    parser.add_argument("--query-budget", type=whole(1, MAX_QUERY_BUDGET), default=8,
                        help=f"queries per unit for active learning (1 to {MAX_QUERY_BUDGET}; default 8)")
    parser.add_argument("--single-region", action="store_true", help="merge all regions into one (no geography)")
    parser.add_argument("--staffed-capacity", action="store_true",
                        help="plan with unit capacities cut to what regional labour can staff")
    parser.add_argument("--regional-dispatch", action="store_true",
                        help="move target shares a region cannot staff or equip to the good's other units")
    parser.add_argument("--regional-labour-rounds", type=whole(0, MAX_LABOUR_ROUNDS), default=3, metavar="K",
                        help="re-plans a night with capacities cut to regional labour "
                             "(default 3; 0: national plan only)")
    parser.add_argument("--strict", action="store_true", help="stop at the first broken invariant")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default runs/<scenario>-<seed>)")
    parser.add_argument("--checkpoint-every", type=whole(0), default=10, metavar="K",
                        help="checkpoint every K days (0: only at the end)")
    parser.add_argument("--resume", type=Path, default=None, metavar="DIR", help="continue the run saved in DIR")
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG figures")
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no summary table")


def _write(model: PlanningEconomy, out: Path, settings: dict, wall: float, final: bool, plots: bool) -> list[Path]:
    from innatura.abm.checkpoint import save_checkpoint
    from innatura.abm.outputs import run_summary, write_agent_tables, write_json, write_model_csv

    files = [write_model_csv(model, out)]
    files.append(save_checkpoint(model, out / "checkpoint.pkl", extra={"settings": settings}))
    if final:
        files += write_agent_tables(model, out)
        files.append(write_json(out / "summary.json", run_summary(model, settings, wall)))
        if plots:
            from innatura.abm.plots import write_run_figures

            files += write_run_figures(model.model_frame(), out)
    return files


def _table(model: PlanningEconomy) -> str:
    df = model.model_frame()
    rows = [("humanity", "humanity"), ("planned humanity", "planned_humanity"), ("min fulfilment", "min_fulfilment"),
            ("unmet demand", "unmet_demand"), ("plan error", "plan_error"), ("losses", "losses"),
            ("externalities", "externalities"), ("misreport flags", "misreport_flags")]
    lines = [f"{'metric':<18}{'first':>12}{'last':>12}{'min':>12}{'max':>12}"]
    for label, col in rows:
        s = df[col]
        lines.append(f"{label:<18}{s.iloc[0]:>12.4g}{s.iloc[-1]:>12.4g}{s.min():>12.4g}{s.max():>12.4g}")
    t = {k: sum(v) / len(v) for k, v in model.timings.items() if v}
    lines.append("seconds per day: " + ", ".join(f"{k} {v:.3f}" for k, v in t.items()))
    return "\n".join(lines)


def _build(args: argparse.Namespace, name: str, seed: int, days: int) -> tuple[PlanningEconomy, dict[str, Any]]:
    """The model of a new run and the settings ``summary.json`` records."""
    from innatura.abm.model import PlanningEconomy

    strategies = {k: v for k, v in (("citizen_strategy", args.citizen_strategy),
                                    ("unit_strategy", args.unit_strategy)) if v is not None}
    model = PlanningEconomy(name, rng=seed, planner=args.planner, days=days, investment_share=args.investment,
                            safety_stock=args.safety_stock,
                            planner_options={"model": str(args.model)} if args.model is not None else {},
                            noise=args.noise, misreport_share=args.misreport_share, defences=args.defence,
                            query_budget=args.query_budget, single_region=args.single_region,
                            staffed_capacity=args.staffed_capacity, regional_dispatch=args.regional_dispatch,
                            regional_labour_rounds=args.regional_labour_rounds, strict=args.strict, **strategies)
    s = model.settings
    settings = {"scenario_arg": str(name), "seed": seed, "days": days, "planner": args.planner,
                "investment_share": model.investment_share, "safety_stock": model.safety_stock, "noise": args.noise,
                "misreport_share": args.misreport_share, "citizen_strategy": str(s.citizen_strategy),
                "unit_strategy": str(s.unit_strategy), "defences": [str(d) for d in s.defences],
                "query_budget": args.query_budget, "single_region": args.single_region,
                "staffed_capacity": args.staffed_capacity, "regional_dispatch": args.regional_dispatch,
                "regional_labour_rounds": args.regional_labour_rounds}
    return model, settings


def _resumed(args: argparse.Namespace) -> tuple[PlanningEconomy, dict[str, Any], Path, int]:
    """``(model, settings, out, days)`` of a run continued from ``--resume DIR``."""
    from innatura.abm.checkpoint import load_checkpoint
    from innatura.planner.errors import InvalidInputError

    folder = Path(args.resume)
    if not folder.exists():
        raise InvalidInputError(f"--resume {folder}: no such folder, so no checkpoint to continue from")
    if not folder.is_dir():
        raise InvalidInputError(f"--resume {folder}: a file, not a run folder, so no checkpoint to continue from; "
                                "give the output folder (--out) of an earlier run")
    if not (folder / "checkpoint.pkl").is_file():
        raise InvalidInputError(f"--resume {folder}: no checkpoint.pkl there, so no run to continue "
                                "(innatura run writes one every --checkpoint-every days and at the end)")
    out = check_output_dir(args.out if args.out is not None else folder)
    model, extra = load_checkpoint(folder / "checkpoint.pkl")
    settings = dict(extra.get("settings", {}))
    days = args.days if args.days is not None else int(settings.get("days", DEFAULT_DAYS))
    settings["days"] = days
    model.run_until(days)
    return model, settings, out, days


def _started(args: argparse.Namespace) -> tuple[PlanningEconomy, dict[str, Any], Path, int]:
    """``(model, settings, out, days)`` of a new run: every input is checked before the model is built."""
    from innatura import scenarios
    from innatura.abm.model import load_spec

    name = args.scenario if args.scenario is not None else scenarios.DEFAULT_SCENARIO
    spec = load_spec(name)
    seed = args.seed if args.seed is not None else int(spec.scenario.seed)
    days = args.days if args.days is not None else DEFAULT_DAYS
    out = check_output_dir(args.out if args.out is not None else Path("runs") / f"{spec.name}-{seed}")
    model, settings = _build(args, name, seed, days)
    return model, settings, out, days


def _simulate(model: PlanningEconomy, out: Path, settings: dict[str, Any], days: int,
              args: argparse.Namespace) -> list[Path]:
    """Step to ``days``, checkpointing; on any failure write what was simulated, then re-raise."""
    from tqdm import tqdm

    every = int(args.checkpoint_every)
    start = time.perf_counter()
    bar = tqdm(total=days, initial=model.state.day, desc=model.layout.name, unit="day",
               disable=args.quiet or not sys.stderr.isatty())
    try:
        while model.running:
            model.step()
            bar.update(1)
            bar.set_postfix(humanity=f"{model.metrics.get('humanity', float('nan')):.3g}")
            if every and model.state.day % every == 0 and model.state.day < days:
                _write(model, out, settings, time.perf_counter() - start, final=False, plots=False)
    except BaseException:
        if model.state.day > 0:
            _write(model, out, settings, time.perf_counter() - start, final=False, plots=False)
            logger.error("stopped on day %d; results so far and a checkpoint are in %s", model.state.day + 1, out)
        raise
    finally:
        bar.close()
    return _write(model, out, settings, time.perf_counter() - start, final=True, plots=not args.no_plots)


def run(args: argparse.Namespace) -> int:
    """Run (or resume) a simulation; returns the exit status.

    The output folder is locked while the run writes (:class:`~innatura.cli.outputs.FolderLock`):
    a second run into the same folder is refused.
    """
    from innatura.abm.outputs import seed_was_used

    model, settings, out, days = _resumed(args) if args.resume is not None else _started(args)
    with FolderLock(out, "a run"):
        files = _simulate(model, out, settings, days, args)
    if not args.quiet:
        print(f"{model.layout.name}: {model.state.day} days, planner {settings.get('planner')}, "
              f"{model.layout.n_citizens} citizens, {model.layout.n_units} units, {model.layout.n_goods} goods, "
              f"{model.layout.n_regions} regions")
        print(_table(model))
        print(f"wrote {len(files)} files to {out}/")
    if "seed" in settings and not seed_was_used(model, settings["seed"]):
        print(f"note: seed {settings['seed']} was not used: nothing in this run drew a random number, so every seed "
              "gives these results (turn on the scenario's stochastic losses with --noise P)", file=sys.stderr)
    return 0
