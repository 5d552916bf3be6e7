"""``innatura run``: simulate a scenario day by day and write its results.

With no arguments it runs the default scenario for 30 days and writes ``runs/<scenario>-<seed>/``:
``model.csv`` (one row per day), ``units.parquet``, ``regions.parquet``, ``citizens.parquet``,
``summary.json``, PNG figures, the run's own copy of its scenario (``scenario.toml``) and its
checkpoint (``checkpoint/``, every ``--checkpoint-every`` days and at the end;
:mod:`innatura.abm.checkpoint`). ``innatura run --resume DIR`` continues the run saved in
``DIR`` with results identical, byte for byte, to a run that never stopped; what a resumed run
may change is in :mod:`innatura.cli.resume`. Whatever was written stays valid if a run fails or
is interrupted: every file is replaced atomically, the checkpoint manifest last, and the rows
of the days simulated so far are written before the error is reported.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from innatura.cli.outputs import FolderLock, check_output_dir

if TYPE_CHECKING:  # pragma: no cover
    from innatura.abm.model import PlanningEconomy
    from innatura.scenarios.spec import ScenarioSpec

__all__ = ["configure", "run"]

logger = logging.getLogger(__name__)

DEFAULT_DAYS = 30
#: most re-plans a night for regional labour (each is a full plan)
MAX_LABOUR_ROUNDS = 100
#: what the run flags that default to ``None`` on the parser mean when left out of a new run.
DEFAULTS: dict[str, Any] = {"planner": "olin", "misreport_share": 0.0, "defence": [], "query_budget": 8,
                            "single_region": False, "staffed_capacity": False, "regional_dispatch": False,
                            "regional_labour_rounds": 3, "plan": None}


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``innatura run``.

    The run flags default to ``None`` (the defaults below are applied by :func:`_build`), so
    that ``--resume`` can tell a flag given from a flag left out (:mod:`innatura.cli.resume`).
    """
    from innatura.abm.active_learning import MAX_QUERY_BUDGET
    from innatura.cli.args import real, seed, whole
    from innatura.scenarios.limits import MAX_DAYS

    parser.epilog = ("With --resume DIR the run continues from its checkpoint with its own scenario copy, seed and "
                     "settings: a run flag given with --resume must agree with the saved run (it is refused "
                     "otherwise); --days, --checkpoint-every, --strict, --quiet, --no-plots, --shipment-map may "
                     "change, and --out copies the run into a new or empty folder and continues there.")
    parser.add_argument("scenario", nargs="?", default=None,
                        help="built-in scenario name or scenario TOML file (default: the default demo)")
    parser.add_argument("--days", type=whole(1, MAX_DAYS), default=None,
                        help=f"days to simulate (default {DEFAULT_DAYS}; with --resume: the day to run to)")
    parser.add_argument("--seed", type=seed, default=None, help="random seed, 0 to 2**63-1 (default: the scenario's)")
    parser.add_argument("--planner", default=None, help=f"planning method (default {DEFAULTS['planner']})")
    parser.add_argument("--model", type=Path, default=None, metavar="DIR",
                        help="checkpoint of a trained planner (for --planner learned; see innatura train learned)")
    parser.add_argument("--investment", type=real(0.0, 1.0, hi_open=True), default=None, metavar="F",
                        help="investment share sigma in [0, 1) (default: the scenario's)")
    parser.add_argument("--safety-stock", type=real(0.0, 365.0), default=None, metavar="DAYS",
                        help="days of cover of final goods the planner keeps before investing "
                             "(default: the scenario's)")
    parser.add_argument("--noise", type=real(0.0, 1.0), default=None, metavar="P",
                        help="daily probability of the scenario's stock-loss events")
    parser.add_argument("--misreport-share", type=real(0.0, 1.0), default=None, metavar="F",
                        help="share of citizens and units that misreport (with --citizen-strategy / --unit-strategy; "
                             "default 0)")
    parser.add_argument("--citizen-strategy", default=None, metavar="S",
                        help="how misreporting citizens report: honest, inflate, deflate, noise, hoard, with "
                             "parameters as inflate(1.5) (default inflate(factor=1.5))")
    parser.add_argument("--unit-strategy", default=None, metavar="S",
                        help="how misreporting units report: honest, overstate_inputs, ratchet, overstate_capacity, "
                             "collude, with parameters as ratchet(1.3, ramp_days=5) (default overstate_inputs(1.3))")
    parser.add_argument("--defence", action="append", default=None, metavar="D",
                        help="a defence applied to the reports each night: audit, robust, belief, ic, with parameters "
                             "as audit(probability=0.5); repeat or join with + for several (default none)")
    parser.add_argument("--query-budget", type=whole(1, MAX_QUERY_BUDGET), default=None,
                        help=f"queries per unit for active learning (1 to {MAX_QUERY_BUDGET}; "
                             f"default {DEFAULTS['query_budget']})")
    parser.add_argument("--plan", choices=("national", "regional"), default=None,
                        help="plan on the region graph (regional: production, stocks, labour and shipments per "
                             "region; execution follows the plan's shipments) or one national plan "
                             "(default: the scenario's [planning] plan, else national)")
    parser.add_argument("--regional-method", type=_regional_method, default=None, metavar="M",
                        help="method of the regional plan (with --plan regional): lp (exact LPs) or decomposed; "
                             "default: by the LP's size")
    parser.add_argument("--regional-layers", type=whole(1, 64), default=None, metavar="L",
                        help="plan the day in L layers with shipments between them (with --plan regional and "
                             "--regional-method lp): what a region makes in one layer reaches other regions' units "
                             "in the next; default: the overnight timing")
    parser.add_argument("--single-region", action="store_true", default=None,
                        help="merge all regions into one (no geography)")
    parser.add_argument("--staffed-capacity", action="store_true", default=None,
                        help="plan with unit capacities cut to what regional labour can staff")
    parser.add_argument("--regional-dispatch", action="store_true", default=None,
                        help="move target shares a region cannot staff or equip to the good's other units")
    parser.add_argument("--regional-labour-rounds", type=whole(0, MAX_LABOUR_ROUNDS), default=None, metavar="K",
                        help="re-plans a night with capacities cut to regional labour "
                             f"(default {DEFAULTS['regional_labour_rounds']}; 0: national plan only)")
    parser.add_argument("--strict", action="store_true", help="stop at the first broken invariant")
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder (default runs/<scenario>-<seed>; with --resume: DIR, or a new or empty "
                             "folder to copy the run into)")
    parser.add_argument("--checkpoint-every", type=whole(0), default=10, metavar="K",
                        help="checkpoint every K days (0: only at the end)")
    parser.add_argument("--resume", type=Path, default=None, metavar="DIR",
                        help="continue the run saved in DIR (its checkpoint/ and scenario.toml)")
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG figures")
    parser.add_argument("--shipment-map", action="append", default=None, metavar="GOOD",
                        help="also draw the last day's planned and executed shipments of GOOD per edge "
                             "(shipment_map_<GOOD>.png; repeat for several goods)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no summary table")


class RunWriter:
    """Writes a run's files into ``out``: ``model.csv`` and the checkpoint as it goes, and
    everything at the end.

    A new run replaces the run its folder held: its first checkpoint replaces that run's
    checkpoint and scenario copy at once (:func:`abm.checkpoint.save_checkpoint` with
    ``replace_run``), so that the folder never holds parts of two runs.

    Args:
        model, out, settings: the run, its folder, the settings ``summary.json`` records.
        plots: draw the PNG figures at the end.
        replaces: the run is new (it replaces whatever run its folder held).
        goods: the goods whose shipment maps are drawn besides all goods' (``--shipment-map``).
    """

    def __init__(self, model: PlanningEconomy, out: Path, settings: dict[str, Any], plots: bool,
                 replaces: bool, goods: Sequence[str] = ()) -> None:
        from innatura.abm.shipment_plots import check_goods

        self.model, self.out, self.settings, self.plots = model, out, settings, plots
        self.goods = check_goods(model, goods, "--shipment-map")
        self.replaces = replaces
        self.start = time.perf_counter()

    def rows(self) -> list[Path]:
        """Write ``model.csv`` (the rows of every day simulated so far)."""
        from innatura.abm.outputs import write_model_csv

        return [write_model_csv(self.model, self.out)]

    def checkpoint(self) -> Path:
        """Save the checkpoint (the manifest last: the previous one stays whole until then)."""
        from innatura.abm.checkpoint import save_checkpoint

        where = save_checkpoint(self.model, self.out, extra={"settings": self.settings}, replace_run=self.replaces)
        self.replaces = False
        return where

    def final(self) -> list[Path]:
        """Write every output of a finished run."""
        from innatura.abm.outputs import run_summary, write_agent_tables, write_json

        files = [*self.rows(), self.checkpoint(), *write_agent_tables(self.model, self.out)]
        wall = time.perf_counter() - self.start
        files.append(write_json(self.out / "summary.json", run_summary(self.model, self.settings, wall)))
        if self.plots:
            from innatura.abm.plots import write_run_figures
            from innatura.abm.shipment_plots import write_shipment_figures

            files += write_run_figures(self.model.model_frame(), self.out)
            files += write_shipment_figures(self.model, self.out, goods=self.goods)
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


def _option(args: argparse.Namespace, name: str) -> Any:
    """A run flag's value, or its default for a new run (:data:`DEFAULTS`)."""
    value = getattr(args, name)
    return DEFAULTS[name] if value is None else value


def _regional_method(text: str) -> str:
    """The ``--regional-method`` value: one of the regional plan's methods."""
    from innatura.planner.regional import METHODS

    if text not in METHODS:
        raise argparse.ArgumentTypeError(f"{text!r} is not a regional method; expected one of {', '.join(METHODS)}")
    return text


def _planner_options(args: argparse.Namespace) -> dict[str, Any]:
    """The planning method's options from the run flags: ``model`` (``--model``),
    ``regional_method`` (``--regional-method``) and ``regional_layers`` (``--regional-layers``)."""
    options: dict[str, Any] = {}
    if args.model is not None:
        options["model"] = str(Path(args.model).resolve())
    if args.regional_method is not None:
        options["regional_method"] = args.regional_method
    if getattr(args, "regional_layers", None) is not None:
        options["regional_layers"] = int(args.regional_layers)
    return options


def _build(args: argparse.Namespace, spec: ScenarioSpec, name: str, seed: int,
           days: int) -> tuple[PlanningEconomy, dict[str, Any]]:
    """The model of a new run of ``spec`` (given as ``name``) and the settings ``summary.json``
    records."""
    from innatura.abm.model import PlanningEconomy

    strategies = {k: v for k, v in (("citizen_strategy", args.citizen_strategy),
                                    ("unit_strategy", args.unit_strategy)) if v is not None}
    flags = {k: _option(args, k) for k in DEFAULTS}
    model = PlanningEconomy(spec, rng=seed, planner=flags["planner"], days=days, investment_share=args.investment,
                            safety_stock=args.safety_stock,
                            planner_options=_planner_options(args),
                            noise=args.noise, misreport_share=flags["misreport_share"], defences=flags["defence"],
                            query_budget=flags["query_budget"], single_region=flags["single_region"],
                            staffed_capacity=flags["staffed_capacity"], regional_dispatch=flags["regional_dispatch"],
                            regional_labour_rounds=flags["regional_labour_rounds"], plan=flags["plan"],
                            strict=args.strict, **strategies)
    s = model.settings
    settings = {"scenario_arg": str(name), "seed": seed, "days": days, "planner": s.planner,
                "investment_share": model.investment_share, "safety_stock": model.safety_stock, "noise": s.noise,
                "misreport_share": s.misreport_share, "citizen_strategy": str(s.citizen_strategy),
                "unit_strategy": str(s.unit_strategy), "defences": [str(d) for d in s.defences],
                "query_budget": s.query_budget, "single_region": s.single_region,
                "staffed_capacity": s.staffed_capacity, "regional_dispatch": s.regional_dispatch,
                "regional_labour_rounds": s.regional_labour_rounds, "plan": s.plan}
    return model, settings


def _started(args: argparse.Namespace) -> tuple[PlanningEconomy, dict[str, Any], Path, int]:
    """``(model, settings, out, days)`` of a new run: every input is checked before the model is built."""
    from innatura import scenarios
    from innatura.abm.model import load_spec

    name = args.scenario if args.scenario is not None else scenarios.DEFAULT_SCENARIO
    spec = load_spec(name)
    seed = args.seed if args.seed is not None else int(spec.scenario.seed)
    days = args.days if args.days is not None else DEFAULT_DAYS
    out = check_output_dir(args.out if args.out is not None else Path("runs") / f"{spec.name}-{seed}")
    model, settings = _build(args, spec, name, seed, days)
    return model, settings, out, days


def _simulate(model: PlanningEconomy, writer: RunWriter, days: int, args: argparse.Namespace) -> list[Path]:
    """Step to ``days``, checkpointing every ``--checkpoint-every`` days; on a failure write the
    rows simulated so far (``model.csv``), then re-raise.

    A failure inside a day leaves the model between two days, so no checkpoint is written
    then: the last checkpoint (of a whole day) stays, and ``--resume`` continues from it.
    """
    from tqdm import tqdm

    every = int(args.checkpoint_every)
    bar = tqdm(total=days, initial=model.state.day, desc=model.layout.name, unit="day",
               disable=args.quiet or not sys.stderr.isatty())
    try:
        while model.running:
            model.step()
            bar.update(1)
            bar.set_postfix(humanity=f"{model.metrics.get('humanity', float('nan')):.3g}")
            if every and model.state.day % every == 0 and model.state.day < days:
                writer.rows()
                writer.checkpoint()
    except BaseException:
        if len(model.model_frame()):
            writer.rows()
            logger.error("stopped on day %d; the results of the days before are in %s, and --resume %s continues "
                         "from its last checkpoint", model.state.day + 1, writer.out, writer.out)
        raise
    finally:
        bar.close()
    return writer.final()


def _resume(args: argparse.Namespace, stack: contextlib.ExitStack) -> tuple[PlanningEconomy, RunWriter, int]:
    """The model, writer and last day of a run continued from ``--resume DIR`` (with ``DIR``
    and the output folder locked on ``stack``)."""
    from innatura.abm.checkpoint import open_checkpoint
    from innatura.cli.resume import check_resume_flags, resume_days, resume_out
    from innatura.planner.errors import InvalidInputError

    folder = Path(args.resume)
    if not folder.is_dir():
        open_checkpoint(folder)  # raises, saying why: no such folder, a file, an old pickled checkpoint
        raise InvalidInputError(f"--resume {folder}: not a run folder")
    stack.enter_context(FolderLock(folder, "a run"))
    checkpoint = open_checkpoint(folder)
    check_resume_flags(args, checkpoint)
    days = resume_days(args, checkpoint)
    out = resume_out(args, folder)
    if out != folder:
        stack.enter_context(FolderLock(out, "a run"))
        checkpoint.copy_to(out)
        logger.info("copied the run of %s into %s", folder, out)
    model = checkpoint.restore()
    model.run_until(days)
    if args.strict:
        model.settings = model.settings.replace(strict=True)
    settings = {**checkpoint.extra.get("settings", {}), "days": days}
    writer = RunWriter(model, out, settings, plots=not args.no_plots, replaces=False, goods=args.shipment_map or ())
    return model, writer, days


def run(args: argparse.Namespace) -> int:
    """Run (or resume) a simulation; returns the exit status.

    The output folder is locked while the run writes (:class:`~innatura.cli.outputs.FolderLock`):
    a second run into the same folder is refused. A resumed run locks its folder before it
    reads the checkpoint.
    """
    from innatura.abm.outputs import seed_was_used

    with contextlib.ExitStack() as stack:
        if args.resume is not None:
            model, writer, days = _resume(args, stack)
        else:
            model, settings, out, days = _started(args)
            stack.enter_context(FolderLock(out, "a run"))
            writer = RunWriter(model, out, settings, plots=not args.no_plots, replaces=True,
                               goods=args.shipment_map or ())
        files = _simulate(model, writer, days, args)
    settings = writer.settings
    if not args.quiet:
        lay = model.layout
        print(f"{lay.name}: {model.state.day} days, planner {model.settings.planner}, {lay.n_citizens} citizens, "
              f"{lay.n_units} units, {lay.n_goods} goods, {lay.n_regions} regions")
        print(_table(model))
        print(f"wrote {len(files)} files to {writer.out}/")
    if "seed" in settings and not seed_was_used(model, settings["seed"]):
        print(f"note: seed {settings['seed']} was not used: nothing in this run drew a random number, so every seed "
              "gives these results (turn on the scenario's stochastic losses with --noise P)", file=sys.stderr)
    return 0
