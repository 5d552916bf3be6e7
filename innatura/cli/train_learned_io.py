"""``innatura train learned --scenario S`` on any economy: type inference, then the policy.

Trains with :func:`abm.learning.training.train_learned_planner` and writes into ``--out``:
``model.pt`` + ``config.json`` (the policy; reload with
:func:`planner.learned.checkpoint.load_policy`), ``inference/`` (its type inference, when the
scenario has units that report curves), ``history.csv`` (one row per policy update) and
``training_curve.png``. After training, the policy guard
(:func:`planner.learned.guard.guard_policy`) runs the policy and the baseline it replaces (the
run's investment share, equal priorities) on ``--guard-seeds`` held-out episodes and keeps the
policy only if it is at least as good; its decision is printed and saved in ``config.json``
(``guard``), and a rejected policy's planner plans with the baseline. Plan with it:
``innatura run S --planner learned --model DIR``.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["add_io_flags", "plot_policy_history", "run_io"]

logger = logging.getLogger(__name__)


def add_io_flags(parser: argparse.ArgumentParser) -> None:
    """The flags of the learned planner of any economy (ignored on five-regions)."""
    from innatura.abm.learning.training import DEFAULT_EPISODES_PER_UPDATE, DEFAULT_UPDATES
    from innatura.cli.args import real, whole

    group = parser.add_argument_group("any economy (--scenario other than five-regions)")
    group.add_argument("--days", type=whole(1, 10_000), default=15, help="days per training episode (default 15)")
    group.add_argument("--updates", type=whole(1), default=DEFAULT_UPDATES,
                       help=f"policy-gradient updates (default {DEFAULT_UPDATES})")
    group.add_argument("--episodes-per-update", type=whole(2, 10_000), default=DEFAULT_EPISODES_PER_UPDATE,
                       help=f"episodes rolled out per update (default {DEFAULT_EPISODES_PER_UPDATE})")
    group.add_argument("--strategy", default="overstate_inputs(2.0)",
                       help="strategy of the misreporting units (default overstate_inputs(2.0))")
    group.add_argument("--inference", type=Path, metavar="DIR", default=None,
                       help="type inference to plan with (innatura train inference); default: train one")
    group.add_argument("--inference-steps", type=whole(1), default=150,
                       help="steps of type inference's training (default 150)")
    group.add_argument("--u-bar", type=real(0.0, 1.0), default=0.0,
                       help="reservation utility of the IR penalty (default 0)")
    group.add_argument("--investment-range", type=real(0.0, 1e6, lo_open=True), default=0.25,
                       help="the policy's investment share stays within this relative distance of the run's "
                            "(default 0.25: within 25%%)")
    group.add_argument("--guard-seeds", type=whole(0, 1000), default=4,
                       help="held-out episodes on which the trained policy must do at least as well as the "
                            "baseline (run's investment share, equal priorities), else the baseline plans; 0: no "
                            "guard (default 4)")
    group.add_argument("--plan", default="olin", help="the planning method that makes the plan (default olin)")
    group.add_argument("--device", default="auto", help="auto (CUDA when present, else CPU), cpu, cuda, ...")


def plot_policy_history(path: Path, history: Sequence[Mapping[str, float]], title: str = "") -> None:
    """Training curve: humanity and penalised return per update, and the penalties."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from innatura.abm.plots import save_figure

    up = np.array([h["update"] for h in history])
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    a.plot(up, [h["humanity"] for h in history], marker="o", lw=1.5, label="humanity per day")
    days = max(1.0, float(np.max([h.get("days", 1.0) for h in history])))
    a.plot(up, [h["return"] / days for h in history], marker=".", lw=1, label="penalised return per day")
    a.set_xlabel("update")
    a.set_title("sampled plans in the agent model")
    a.legend()
    for name in ("ic", "ir", "ostrom"):
        b.plot(up, [h[name] for h in history], lw=1.2, label=name)
    b.set_xlabel("update")
    b.set_title("penalties (unweighted)")
    b.legend()
    fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, path)


def _weights(args: argparse.Namespace) -> Any:
    from dataclasses import replace

    from innatura.planner.learned.config import CONSTRAINED_WEIGHTS

    overrides = {n: getattr(args, f"lambda_{n}", None) for n in ("ic", "ir", "ostrom")}
    return replace(CONSTRAINED_WEIGHTS, **{k: v for k, v in overrides.items() if v is not None})


def run_io(args: argparse.Namespace) -> int:
    """Train on ``args.scenario``, save the checkpoint, the history and the training curve."""
    from tqdm import tqdm

    from innatura.abm.adversarial.vocabulary import parse_strategy
    from innatura.abm.learning.training import default_policy_config, train_learned_planner
    from innatura.cli.outputs import check_output_dir
    from innatura.cli.train_learned import write_history
    from innatura.planner.learned.checkpoint import load_inference, save_policy
    from innatura.planner.learned.inference import resolve_device

    out = check_output_dir(args.out)
    parse_strategy(args.strategy, kind="unit")
    device = str(resolve_device(args.device))
    inference: Any = "train" if args.inference is None else load_inference(args.inference)
    cfg = default_policy_config(updates=args.updates, episodes_per_update=args.episodes_per_update,
                                lr=1e-2 if args.lr is None else args.lr, seed=args.seed, u_bar=args.u_bar,
                                weights=_weights(args))
    quiet = args.quiet or not sys.stderr.isatty()
    bars = {"histories": tqdm(desc="unit histories", unit="run", disable=quiet),
            "policy": tqdm(total=args.updates, desc="train learned", unit="update", disable=quiet),
            "guard": tqdm(total=2 * args.guard_seeds, desc="policy guard", unit="episode", disable=quiet)}

    def tick(stage: str, step: int, row: dict[str, float]) -> None:
        bars[stage].update(1)
        if row:
            bars[stage].set_postfix(humanity=f"{row['humanity']:.3f}")

    start, cpu_start = time.perf_counter(), time.process_time()
    try:
        trained = train_learned_planner(args.scenario, days=args.days, misreport_share=args.misreport_share,
                                        unit_strategy=args.strategy, config=cfg, inference=inference,
                                        inference_steps=args.inference_steps, device=device, plan=args.plan,
                                        progress=tick)
    finally:
        for bar in bars.values():
            bar.close()
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    extra = {**trained.extra, "train_seconds": seconds, "train_cpu_seconds": cpu_seconds}
    result = trained.policy
    save_policy(out, result.policy, result.config, trained.inference, extra=extra, guard=trained.guard)
    history = [{**row, "days": float(args.days)} for row in result.history]
    write_history(out / "history.csv", history)
    plot_policy_history(out / "training_curve.png", history,
                        title=f"learned planner, {args.scenario}, seed {args.seed}")
    first, last = result.history[0], result.history[-1]
    print(f"trained on {device} in {seconds:.1f} s of wall time ({cpu_seconds:.1f} s of processor time):"
          f" type inference {extra['inference_seconds']:.1f} s"
          f"{' (given)' if args.inference is not None else ''}, policy {extra['policy_seconds']:.1f} s "
          f"({args.updates} updates x {args.episodes_per_update} episodes x {args.days} days)")
    print(f"humanity per day: {first['humanity']:.4f} (first update) -> {last['humanity']:.4f} (last); "
          f"loss {first['loss']:.4f} -> {last['loss']:.4f}")
    if trained.guard is not None:
        print(trained.guard.verdict)
    print(f"checkpoint: {out / 'model.pt'}, {out / 'config.json'}; curve: {out / 'training_curve.png'}")
    print(f"plan with it: innatura run {args.scenario} --planner learned --model {out}")
    return 0
