"""``innatura train learned``: train the learned (VAE/GNN/policy) planner and save a checkpoint.

On ``--scenario five-regions`` (the default) it trains the five-regions planner of the
learned-planner paper; on any other scenario, the learned planner of any economy
(:mod:`innatura.cli.train_learned_io`: type inference, then a policy trained on the agent
model's own days). Five-regions writes into ``--out``: ``model.pt`` (state_dict),
``config.json`` (the full configuration), ``history.csv`` (per-episode loss terms and mean
welfare) and ``training_curve.png``.
Reload with :func:`planner.learned.load_checkpoint`.
"""

from __future__ import annotations

import argparse
import csv
import io
import logging
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from innatura.planner.learned.config import LearnedPlannerConfig

__all__ = ["configure", "learned_config_for", "plot_history", "run", "write_history"]

logger = logging.getLogger(__name__)

#: scenarios the learned planner can be trained on.
LEARNED_SCENARIOS = ("five-regions",)


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the command's arguments."""
    from innatura.cli.args import real, seed, whole
    from innatura.cli.train_learned_io import add_io_flags

    parser.add_argument("--scenario", default="five-regions",
                        help="economy (default: five-regions, the paper's planner); any other scenario (a name of "
                             "innatura scenarios or a TOML path) trains the learned planner of any economy")
    parser.add_argument("--episodes", type=whole(1), default=400,
                        help="five-regions: training episodes (one batched rollout + one step each)")
    parser.add_argument("--batch-size", type=whole(1, 100_000), default=32,
                        help="five-regions: economies per episode (default 32)")
    parser.add_argument("--seed", type=seed, default=0, help="seed of initialisation, economies and sampling")
    parser.add_argument("--lr", type=real(0.0, 10.0, lo_open=True), default=None,
                        help="Adam learning rate (default 0.003 on five-regions, 0.01 elsewhere)")
    parser.add_argument("--misreport-share", type=real(0.0, 1.0), default=0.3,
                        help="probability a region (five-regions) or a unit (elsewhere) misreports (default 0.3)")
    for name in ("vae", "ic", "ir", "ostrom", "resource", "policy"):
        parser.add_argument(f"--lambda-{name}", type=real(0.0, 1e6), default=None,
                            help=f"weight of L_{name} (default: base model)")
    parser.add_argument("--constrained", action="store_true",
                        help="five-regions: use the '+ IC, IR, Ostrom' weights as defaults (elsewhere they are)")
    add_io_flags(parser)
    parser.add_argument("--out", required=True, type=Path, help="output directory")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def learned_config_for(scenario: str, **train_kwargs: Any) -> LearnedPlannerConfig:
    """The :class:`~planner.learned.LearnedPlannerConfig` of a scenario, with training settings."""
    from innatura.planner.errors import InvalidInputError
    from innatura.planner.learned.config import EconomyConfig, LearnedPlannerConfig, TrainConfig

    if scenario not in LEARNED_SCENARIOS:
        raise InvalidInputError(f"--scenario {scenario!r}: the learned planner supports {list(LEARNED_SCENARIOS)}")
    from innatura.scenarios.builders.five_regions import learned_economy

    return LearnedPlannerConfig(economy=EconomyConfig(**learned_economy()), train=TrainConfig(**train_kwargs))


def write_history(path: Path, history: Sequence[Mapping[str, Any]]) -> None:
    """Per-episode log as CSV (atomic write)."""
    from innatura.planner.atomic import atomic_write_bytes

    buf = io.StringIO()
    if history:
        w = csv.DictWriter(buf, fieldnames=list(history[0]))
        w.writeheader()
        w.writerows(history)
    atomic_write_bytes(path, buf.getvalue().encode())


def plot_history(path: Path, history: Sequence[Mapping[str, Any]], title: str = "") -> None:
    """Training curve: mean welfare per episode and the loss terms (log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from innatura.abm.plots import save_figure

    ep = np.array([h["episode"] for h in history])
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    util = np.array([h["utility"] for h in history])
    a.plot(ep, util, color="0.7", lw=0.8, label="per episode")
    k = max(1, len(util) // 20)
    if len(util) >= k:
        smooth = np.convolve(util, np.ones(k) / k, mode="valid")
        a.plot(ep[k - 1:], smooth, color="C0", lw=2, label=f"moving mean ({k})")
    a.set_xlabel("episode")
    a.set_ylabel("mean welfare per step")
    a.set_title("utility of sampled plans")
    a.legend()
    for name in ("loss", "vae", "ic", "ir", "ostrom", "resource"):
        vals = np.array([h[name] for h in history])
        if np.any(vals > 0):
            b.plot(ep, np.where(vals > 0, vals, np.nan), lw=1, label=name)
    b.set_yscale("log")
    b.set_xlabel("episode")
    b.set_title("loss terms (unweighted; policy term omitted)")
    b.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, path)


def run(args: argparse.Namespace) -> int:
    """Train, save the checkpoint, the history and the training curve."""
    from tqdm import tqdm

    if args.scenario != "five-regions":
        from innatura.cli.train_learned_io import run_io

        return run_io(args)

    from innatura.cli.outputs import check_output_dir
    from innatura.planner.learned.checkpoint import save_checkpoint
    from innatura.planner.learned.config import BASE_WEIGHTS, CONSTRAINED_WEIGHTS
    from innatura.planner.learned.train import train

    check_output_dir(args.out)
    cfg = learned_config_for(args.scenario, episodes=args.episodes, batch_size=args.batch_size, seed=args.seed,
                             lr=3e-3 if args.lr is None else args.lr)
    weights = CONSTRAINED_WEIGHTS if args.constrained else BASE_WEIGHTS
    overrides = {n: getattr(args, f"lambda_{n}") for n in ("vae", "ic", "ir", "ostrom", "resource", "policy")}
    weights = replace(weights, **{k: v for k, v in overrides.items() if v is not None})
    cfg = replace(cfg, weights=weights, observation=replace(cfg.observation, misreport_share=args.misreport_share))
    bar = tqdm(total=args.episodes, desc="train learned", unit="ep", disable=args.quiet or not sys.stderr.isatty())
    last = {}

    def tick(i: int, row: dict) -> None:
        last.update(row)
        bar.update(1)
        if i % 10 == 0:
            bar.set_postfix(utility=f"{row['utility']:.3f}", loss=f"{row['loss']:.3f}")

    start = time.perf_counter()
    try:
        result = train(cfg, progress=tick)
    finally:
        bar.close()
    seconds = time.perf_counter() - start
    out: Path = args.out
    save_checkpoint(out, result.policy, cfg, extra={"train_seconds": seconds, "scenario": args.scenario})
    write_history(out / "history.csv", result.history)
    plot_history(out / "training_curve.png", result.history, title=f"{args.scenario}, seed {args.seed}")
    tail = result.history[-max(1, len(result.history) // 10):]
    mean_u = sum(h["utility"] for h in tail) / len(tail)
    print(f"trained {args.episodes} episodes in {seconds:.1f} s; mean welfare over the last {len(tail)}: {mean_u:.4f}")
    print(f"checkpoint: {out / 'model.pt'}, {out / 'config.json'}; curve: {out / 'training_curve.png'}")
    return 0
