"""``innatura experiment learned-vs-defences``: the learned planner against the hand-made defences.

Runs :func:`abm.learning.study.run_study` on each ``--scenario`` (repeatable; default
:data:`DEFAULT_SCENARIOS`) with ``--misreport-share`` of the units playing each ``--strategy``
(repeatable; default :data:`DEFAULT_STRATEGIES`) on seeds ``0 .. --seeds - 1``, ``--days``
days each (``--single-region``: the regions merged into one; ``--arms``: a subset of
:data:`abm.learning.study.ARMS`, the honest run always run, training only for the learned
arms). The learned arms plan with
``--model DIR`` (a checkpoint of ``innatura train learned --scenario S``, one per scenario);
without it the command first trains one per scenario into ``OUT/model-N`` (the training
defaults of ``train learned``, on the first strategy; training never uses the study's seeds).
Writes into ``--out``: ``runs.csv`` (one row per scenario, strategy, arm and seed),
``summary.csv`` and ``summary.md`` (per arm: mean and standard deviation over seeds of
humanity, plan error, detection precision and recall; mean and standard error of the paired
loss against the honest run and gain over no defence; the share of the no-defence loss
recovered; the share of seeds on the honest run's random stream), ``study.json`` and
``learned_vs_defences.png``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_DAYS", "DEFAULT_SCENARIOS", "DEFAULT_SEEDS", "DEFAULT_STRATEGIES", "configure", "markdown",
           "plot", "run"]

logger = logging.getLogger(__name__)

#: the study's default scenario: archipelago (us-2022 runs with ``--scenario
#: us-2022:returns_to_scale=0.9``: at decreasing returns its units learn private input curves
#: that they can misreport; at constant returns every coefficient is public; its runs take
#: several times archipelago's, past the defaults' 20 minutes on two cores).
DEFAULT_SCENARIOS = ("archipelago",)
#: the default strategies: factors at which misreporting with no defence costs archipelago
#: measurable humanity (overstating by 1.3 or ratcheting to 2.0 does not).
DEFAULT_STRATEGIES = ("overstate_inputs(2.0)", "ratchet(3.0)")
DEFAULT_SEEDS = 4
DEFAULT_DAYS = 20


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the command's arguments."""
    from innatura.abm.learning.study import ARMS
    from innatura.cli.args import real, whole

    parser.add_argument("--scenario", action="append", metavar="S",
                        help="scenario, with builder parameters after a colon, repeatable (default archipelago; "
                             "us-2022 with private curves: us-2022:returns_to_scale=0.9)")
    parser.add_argument("--misreport-share", type=real(0.0, 1.0), default=0.3,
                        help="share of units drawn to misreport (default 0.3)")
    parser.add_argument("--strategy", action="append", metavar="S",
                        help="unit strategy, repeatable (default overstate_inputs(2.0) and ratchet(3.0): both cost "
                             "archipelago measurable humanity with no defence; the learned planner trains on the "
                             "first)")
    parser.add_argument("--seeds", type=whole(1, 1000), default=DEFAULT_SEEDS,
                        help=f"seeds 0 .. N-1 (default {DEFAULT_SEEDS})")
    parser.add_argument("--days", type=whole(1, 10_000), default=DEFAULT_DAYS,
                        help=f"days per run (default {DEFAULT_DAYS})")
    parser.add_argument("--model", type=Path, metavar="DIR", action="append",
                        help="checkpoint of innatura train learned --scenario S, one per --scenario in their order "
                             "(default: train one per scenario into OUT/model-N)")
    parser.add_argument("--arms", default=None, metavar="A,B",
                        help="the arms to run, comma-separated (default all: " + ", ".join(ARMS) + "); the honest "
                             "run is always run")
    parser.add_argument("--single-region", action="store_true",
                        help="merge each scenario's regions into one (the plan without regional friction)")
    parser.add_argument("--audit-probability", type=real(0.0, 1.0), default=0.3,
                        help="audit probability per unit and night of the audit arm (default 0.3)")
    parser.add_argument("--device", default="auto", help="training device when no --model: auto, cpu, cuda, ...")
    parser.add_argument("--out", required=True, type=Path, help="output directory")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _train(args: argparse.Namespace, scenario: str, strategy: str, out: Path, quiet: bool) -> dict[str, Any]:
    """Train a learned planner of ``scenario`` into ``out`` with ``train learned``'s defaults."""
    from tqdm import tqdm

    from innatura.abm.learning.training import train_learned_planner
    from innatura.planner.learned.checkpoint import save_policy
    from innatura.planner.learned.inference import resolve_device

    bar = tqdm(desc=f"train learned {scenario}", unit="step", disable=quiet)
    start = time.perf_counter()
    try:
        trained = train_learned_planner(scenario, misreport_share=args.misreport_share, unit_strategy=strategy,
                                        device=str(resolve_device(args.device)),
                                        progress=lambda stage, i, row: bar.update(1))
    finally:
        bar.close()
    extra = {**trained.extra, "train_seconds": time.perf_counter() - start}
    save_policy(out, trained.policy.policy, trained.policy.config, trained.inference, extra=extra,
                guard=trained.guard)
    if trained.guard is not None:
        print(f"{scenario}: {trained.guard.verdict}")
        extra = {**extra, "guard": trained.guard.to_dict()}
    return extra


def _models(args: argparse.Namespace, scenarios: Sequence[str], strategy: str, out: Path,
            quiet: bool) -> tuple[list[Path], dict[str, Any]]:
    """One checkpoint per scenario: ``--model`` (one per scenario), else trained into ``OUT/model-N``."""
    from innatura.planner.errors import InvalidInputError

    if args.model:
        if len(args.model) != len(scenarios):
            raise InvalidInputError(f"learned-vs-defences: {len(args.model)} --model for {len(scenarios)} scenarios "
                                    "(give one per --scenario, in their order)")
        from innatura.planner.learned.checkpoint import read_meta

        given = {}
        for scenario, path in zip(scenarios, args.model, strict=True):
            guard = read_meta(path, "learned planning policy").get("guard")
            given[scenario] = {"model": str(path), "guard": guard}
            if guard is not None:
                print(f"{scenario}: {path}: the policy guard {'kept' if guard.get('kept') else 'rejected'} the policy "
                      f"(difference {float(guard.get('difference', float('nan'))):+.4f} humanity per day over "
                      f"{len(guard.get('seeds', []))} held-out seeds)")
        return list(args.model), given
    models, training = [], {}
    for k, scenario in enumerate(scenarios):
        path = out / f"model-{k}"
        training[scenario] = _train(args, scenario, strategy, path, quiet)
        print(f"trained the learned planner of {scenario} in {training[scenario]['train_seconds']:.1f} s "
              f"({training[scenario]['device']}) into {path}")
        models.append(path)
    return models, training


def markdown(summary: Sequence[dict[str, Any]]) -> str:
    """The summary as a Markdown table: mean ± sd over seeds; the paired differences (loss
    against the honest run, gain over no defence) as mean ± standard error; ``policy``: whether
    the learned arm planned with its policy (the guard kept it) or with the baseline."""
    def se(row: dict[str, Any], key: str, digits: int = 4) -> str:
        mean, err = row[key], row.get(f"{key}_se", float("nan"))
        return "–" if mean != mean else f"{mean:+.{digits}f} ± {err:.{digits}f}"

    def pm(row: dict[str, Any], key: str, digits: int = 4) -> str:
        mean, sd = row[key], row[f"{key}_sd"]
        return "–" if mean != mean else f"{mean:.{digits}f} ± {sd:.{digits}f}"

    def policy(row: dict[str, Any]) -> str:
        kept = row.get("policy_kept", float("nan"))
        if kept != kept:
            return "–"
        return {1.0: "kept", 0.0: "rejected: baseline"}.get(float(kept), f"kept on {100 * kept:.0f}%")

    lines = ["| scenario | strategy | arm | policy | seeds | humanity | loss vs honest | gain over no defence "
             "| recovered | plan error | precision | recall | same stream |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in summary:
        rec = "–" if r["recovered"] != r["recovered"] else f"{100 * r['recovered']:.0f}%"
        lines.append(f"| {r.get('scenario', '')} | {r['strategy']} | {r['arm']} | {policy(r)} | {r['seeds']} | "
                     f"{pm(r, 'humanity')} | {se(r, 'humanity_loss')} | {se(r, 'gain')} | {rec} | "
                     f"{pm(r, 'plan_error')} | {pm(r, 'precision', 2)} | {pm(r, 'recall', 2)} | "
                     f"{100 * r.get('same_stream', 1.0):.0f}% |")
    return "\n".join(lines) + "\n"


def plot(path: Path, rows: Sequence[dict[str, Any]], summary: Sequence[dict[str, Any]], title: str) -> None:
    """Humanity loss against the honest run per arm (bars: mean; dots: seeds), and detection."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from innatura.abm.plots import save_figure

    cases = list(dict.fromkeys((r.get("scenario", ""), r["strategy"]) for r in summary))
    fig, axes = plt.subplots(len(cases), 2, figsize=(12, 3.8 * len(cases)), squeeze=False)
    for (a, b), (scenario, strategy) in zip(axes, cases, strict=True):
        summ = [r for r in summary if (r.get("scenario", ""), r["strategy"]) == (scenario, strategy)
                and r["arm"] != "honest"]
        arms = [r["arm"] for r in summ]
        x = np.arange(len(arms))
        a.bar(x, [r["humanity_loss"] for r in summ], yerr=[r["humanity_loss_sd"] for r in summ], color="C0",
              alpha=0.6, capsize=3)
        for k, arm in enumerate(arms):
            pts = [r["humanity_loss"] for r in rows
                   if (r.get("scenario", ""), r["strategy"], r["arm"]) == (scenario, strategy, arm)]
            a.scatter(np.full(len(pts), k), pts, color="k", s=12, zorder=3)
        a.axhline(0.0, color="0.5", lw=0.8)
        a.set_xticks(x, arms, rotation=30, ha="right")
        a.set_ylabel("humanity lost vs honest")
        a.set_title(f"{scenario}, {strategy}: loss (bars: mean ± sd, dots: seeds)", fontsize=9)
        det = [r for r in summ if r["precision"] == r["precision"] or r["recall"] == r["recall"]]
        xd = np.arange(len(det))
        b.bar(xd - 0.2, [np.nan_to_num(r["precision"]) for r in det], 0.4, label="precision")
        b.bar(xd + 0.2, [np.nan_to_num(r["recall"]) for r in det], 0.4, label="recall")
        b.set_xticks(xd, [r["arm"] for r in det], rotation=30, ha="right")
        b.set_ylim(0, 1.05)
        b.set_title("detection of misreporting units", fontsize=9)
        b.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, path)


def run(args: argparse.Namespace) -> int:
    """Train (unless ``--model``), run the study, write the table and the plot."""
    import pandas as pd
    from tqdm import tqdm

    from innatura.abm.adversarial.vocabulary import parse_strategy
    from innatura.abm.learning.study import ARMS, StudySetting, run_study, scenario_spec, summarise
    from innatura.cli.outputs import check_output_dir
    from innatura.planner.atomic import atomic_write_text
    from innatura.planner.errors import InvalidInputError

    arms = ARMS if args.arms is None else tuple(dict.fromkeys(a.strip() for a in args.arms.split(",")))
    unknown = [a for a in arms if a not in ARMS]
    if unknown:
        raise InvalidInputError(f"learned-vs-defences: --arms {args.arms!r}: arm {unknown[0]!r} is unknown; "
                                f"arms: {', '.join(ARMS)}")
    out = check_output_dir(args.out)
    scenarios = list(args.scenario or DEFAULT_SCENARIOS)
    strategies = list(args.strategy or DEFAULT_STRATEGIES)
    for s in strategies:
        parse_strategy(s, kind="unit")
    for scenario in scenarios:
        scenario_spec(scenario)
    quiet = args.quiet or not sys.stderr.isatty()
    start = time.perf_counter()
    models: list[Path | None] = [None] * len(scenarios)
    training: dict[str, Any] = {}
    if any(a in ("learned", "inferred") for a in arms):
        trained, training = _models(args, scenarios, strategies[0], out, quiet)
        models = list(trained)
    rows: list[dict[str, Any]] = []
    bar = tqdm(total=len(scenarios) * len(strategies) * args.seeds * len(arms), desc="learned-vs-defences",
               unit="run", disable=quiet)

    def tick(row: dict[str, Any]) -> None:
        bar.update(1)
        bar.set_postfix_str(f"{row['arm']} s{row['seed']}")

    try:
        for scenario, model in zip(scenarios, models, strict=True):
            for s in strategies:
                setting = StudySetting(scenario, s, args.misreport_share, args.days,
                                       None if model is None else str(model), args.audit_probability,
                                       args.single_region)
                rows += run_study(setting, range(args.seeds), arms, progress=tick)
    finally:
        bar.close()
    summary = summarise(rows)
    atomic_write_text(out / "runs.csv", pd.DataFrame(rows).to_csv(index=False))
    atomic_write_text(out / "summary.csv", pd.DataFrame(summary).to_csv(index=False))
    table = markdown(summary)
    atomic_write_text(out / "summary.md", table)
    meta = {"scenarios": scenarios, "misreport_share": args.misreport_share, "strategies": strategies,
            "seeds": args.seeds, "days": args.days, "single_region": bool(args.single_region),
            "arms": list(arms), "models": [None if m is None else str(m) for m in models], "training": training,
            "seconds": time.perf_counter() - start}
    atomic_write_text(out / "study.json", json.dumps(meta, indent=2, sort_keys=True))
    plot(out / "learned_vs_defences.png", rows, summary,
         f"{', '.join(scenarios)}: {100 * args.misreport_share:.0f}% of units misreporting, {args.seeds} seeds x "
         f"{args.days} days")
    print(table, end="")
    print(f"{len(rows)} runs in {meta['seconds']:.1f} s; wrote runs.csv, summary.csv, summary.md, "
          f"learned_vs_defences.png to {out}/")
    return 0
