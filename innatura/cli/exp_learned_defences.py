"""``innatura experiment learned-vs-defences``: the learned planner against the hand-made defences.

Runs :func:`abm.learning.study.run_study` on ``--scenario`` (default archipelago) with
``--misreport-share`` of the units playing each ``--strategy`` (repeatable; default
``overstate_inputs(1.3)``) on seeds ``0 .. --seeds - 1``, ``--days`` days each. The learned arm
plans with ``--model DIR`` (a checkpoint of ``innatura train learned --scenario S``); without it
the command first trains one into ``OUT/model`` (the training defaults of ``train learned``, on
the first strategy; training never uses the study's seeds). Writes into ``--out``:
``runs.csv`` (one row per arm and seed), ``summary.csv`` and ``summary.md`` (per arm: mean and
standard deviation over seeds of humanity, its loss against the honest run, plan error,
detection precision and recall, and the share of the no-defence loss recovered) and
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

__all__ = ["configure", "markdown", "plot", "run"]

logger = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the command's arguments."""
    from innatura.cli.args import real, whole

    parser.add_argument("--scenario", default="archipelago", help="scenario (default archipelago)")
    parser.add_argument("--misreport-share", type=real(0.0, 1.0), default=0.3,
                        help="share of units drawn to misreport (default 0.3)")
    parser.add_argument("--strategy", action="append", metavar="S",
                        help="unit strategy, repeatable (default overstate_inputs(1.3))")
    parser.add_argument("--seeds", type=whole(1, 1000), default=3, help="seeds 0 .. N-1 (default 3)")
    parser.add_argument("--days", type=whole(1, 10_000), default=30, help="days per run (default 30)")
    parser.add_argument("--model", type=Path, metavar="DIR", default=None,
                        help="checkpoint of innatura train learned --scenario S (default: train one into OUT/model)")
    parser.add_argument("--audit-probability", type=real(0.0, 1.0), default=0.3,
                        help="audit probability per unit and night of the audit arm (default 0.3)")
    parser.add_argument("--device", default="auto", help="training device when no --model: auto, cpu, cuda, ...")
    parser.add_argument("--out", required=True, type=Path, help="output directory")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _train(args: argparse.Namespace, strategy: str, quiet: bool) -> tuple[Path, dict[str, Any]]:
    """Train a learned planner into ``OUT/model`` with ``train learned``'s defaults."""
    from tqdm import tqdm

    from innatura.abm.learning.training import train_learned_planner
    from innatura.planner.learned.checkpoint import save_policy
    from innatura.planner.learned.inference import resolve_device

    bar = tqdm(desc="train learned", unit="step", disable=quiet)
    start = time.perf_counter()
    try:
        trained = train_learned_planner(args.scenario, misreport_share=args.misreport_share, unit_strategy=strategy,
                                        device=str(resolve_device(args.device)),
                                        progress=lambda stage, i, row: bar.update(1))
    finally:
        bar.close()
    extra = {**trained.extra, "train_seconds": time.perf_counter() - start}
    out = args.out / "model"
    save_policy(out, trained.policy.policy, trained.policy.config, trained.inference, extra=extra)
    return out, extra


def markdown(summary: Sequence[dict[str, Any]]) -> str:
    """The summary as a Markdown table (mean ± sd over seeds)."""
    def pm(row: dict[str, Any], key: str, digits: int = 4) -> str:
        mean, sd = row[key], row[f"{key}_sd"]
        return "–" if mean != mean else f"{mean:.{digits}f} ± {sd:.{digits}f}"

    lines = ["| strategy | arm | seeds | humanity | loss vs honest | recovered | plan error | precision | recall |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in summary:
        rec = "–" if r["recovered"] != r["recovered"] else f"{100 * r['recovered']:.0f}%"
        lines.append(f"| {r['strategy']} | {r['arm']} | {r['seeds']} | {pm(r, 'humanity')} | "
                     f"{pm(r, 'humanity_loss')} | {rec} | {pm(r, 'plan_error')} | {pm(r, 'precision', 2)} | "
                     f"{pm(r, 'recall', 2)} |")
    return "\n".join(lines) + "\n"


def plot(path: Path, rows: Sequence[dict[str, Any]], summary: Sequence[dict[str, Any]], title: str) -> None:
    """Humanity loss against the honest run per arm (bars: mean; dots: seeds), and detection."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from innatura.abm.plots import save_figure

    strategies = list(dict.fromkeys(r["strategy"] for r in summary))
    fig, axes = plt.subplots(len(strategies), 2, figsize=(12, 3.8 * len(strategies)), squeeze=False)
    for (a, b), strategy in zip(axes, strategies, strict=True):
        summ = [r for r in summary if r["strategy"] == strategy and r["arm"] != "honest"]
        arms = [r["arm"] for r in summ]
        x = np.arange(len(arms))
        a.bar(x, [r["humanity_loss"] for r in summ], yerr=[r["humanity_loss_sd"] for r in summ], color="C0",
              alpha=0.6, capsize=3)
        for k, arm in enumerate(arms):
            pts = [r["humanity_loss"] for r in rows if r["strategy"] == strategy and r["arm"] == arm]
            a.scatter(np.full(len(pts), k), pts, color="k", s=12, zorder=3)
        a.axhline(0.0, color="0.5", lw=0.8)
        a.set_xticks(x, arms, rotation=30, ha="right")
        a.set_ylabel("humanity lost vs honest")
        a.set_title(f"{strategy}: loss (bars: mean ± sd, dots: seeds)", fontsize=9)
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
    from innatura.abm.learning.study import ARMS, run_study, summarise
    from innatura.cli.outputs import check_output_dir
    from innatura.planner.atomic import atomic_write_text

    out = check_output_dir(args.out)
    strategies = args.strategy or ["overstate_inputs(1.3)"]
    for s in strategies:
        parse_strategy(s, kind="unit")
    quiet = args.quiet or not sys.stderr.isatty()
    start = time.perf_counter()
    training: dict[str, Any] = {}
    model = args.model
    if model is None:
        model, training = _train(args, strategies[0], quiet)
        print(f"trained the learned planner in {training['train_seconds']:.1f} s ({training['device']}) "
              f"into {model}")
    rows: list[dict[str, Any]] = []
    bar = tqdm(total=len(strategies) * args.seeds * len(ARMS), desc="learned-vs-defences", unit="run",
               disable=quiet)

    def tick(row: dict[str, Any]) -> None:
        bar.update(1)
        bar.set_postfix_str(f"{row['arm']} s{row['seed']}")

    try:
        for s in strategies:
            rows += run_study(args.scenario, s, args.misreport_share, range(args.seeds), args.days, str(model),
                              audit_probability=args.audit_probability,
                              progress=tick)
    finally:
        bar.close()
    summary = summarise(rows)
    atomic_write_text(out / "runs.csv", pd.DataFrame(rows).to_csv(index=False))
    atomic_write_text(out / "summary.csv", pd.DataFrame(summary).to_csv(index=False))
    table = markdown(summary)
    atomic_write_text(out / "summary.md", table)
    meta = {"scenario": args.scenario, "misreport_share": args.misreport_share, "strategies": strategies,
            "seeds": args.seeds, "days": args.days, "model": str(model), "training": training,
            "seconds": time.perf_counter() - start}
    atomic_write_text(out / "study.json", json.dumps(meta, indent=2, sort_keys=True))
    plot(out / "learned_vs_defences.png", rows, summary,
         f"{args.scenario}: {100 * args.misreport_share:.0f}% of units misreporting, {args.seeds} seeds x "
         f"{args.days} days")
    print(table, end="")
    print(f"{len(rows)} runs in {meta['seconds']:.1f} s; wrote runs.csv, summary.csv, summary.md, "
          f"learned_vs_defences.png to {out}/")
    return 0
