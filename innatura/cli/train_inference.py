"""``innatura train inference``: train type inference on unit histories and evaluate it.

Reads a dataset (``--dataset DIR``, from ``innatura train histories``) or simulates one into
``OUT/dataset`` (``--scenario ...``, same flags as ``train histories``). Evaluates on
``--eval-dataset DIR``, else on the runs of the dataset's largest seed (held out from
training). ``--hide-share`` / ``--noise`` degrade the execution records of both sets alike
(:func:`planner.learned.features.degrade`). Writes into ``--out``: ``model.pt`` + ``config.json``
(reload with :func:`planner.learned.checkpoint.load_inference`), ``history.csv``,
``training_curve.png``, ``metrics.json`` and ``reliability.png``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["configure", "plot_reliability", "plot_training", "run"]

logger = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the command's arguments."""
    from innatura.cli.args import real, seed, whole
    from innatura.cli.train_histories import add_simulation_flags

    parser.add_argument("--dataset", type=Path, metavar="DIR",
                        help="dataset folder of innatura train histories (else simulate one with --scenario ...)")
    parser.add_argument("--eval-dataset", type=Path, metavar="DIR",
                        help="held-out dataset (default: the dataset's largest seed)")
    add_simulation_flags(parser)
    parser.add_argument("--gnn-layers", type=whole(0, 16), default=2, help="graph layers; 0: none (default 2)")
    parser.add_argument("--conv", choices=("sage", "gat"), default="sage", help="graph convolution (default sage)")
    parser.add_argument("--hidden", type=whole(1, 4096), default=32, help="network width (default 32)")
    parser.add_argument("--steps", type=whole(1), default=300, help="optimiser steps (default 300)")
    parser.add_argument("--runs-per-step", type=whole(1, 10_000), default=4, help="runs per step (default 4)")
    parser.add_argument("--lr", type=real(0.0, 10.0, lo_open=True), default=1e-2,
                        help="Adam learning rate (default 0.01)")
    parser.add_argument("--seed", type=seed, default=0, help="seed of initialisation, batches and samples")
    parser.add_argument("--device", default="auto", help="auto (CUDA when present, else CPU), cpu, cuda, cuda:1, ...")
    parser.add_argument("--hide-share", type=real(0.0, 1.0), default=0.0,
                        help="share of units whose execution records are hidden (default 0)")
    parser.add_argument("--noise", type=real(0.0, 10.0), default=0.0, help="log-sd of metering noise (default 0)")
    parser.add_argument("--threshold", type=real(0.0, 1.0, lo_open=True, hi_open=True), default=0.5,
                        help="misreport probability above which a unit is flagged (default 0.5)")
    parser.add_argument("--out", required=True, type=Path, help="output directory")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _datasets(args: argparse.Namespace) -> tuple[Any, Any]:
    from innatura.cli.train_histories import simulate
    from innatura.planner.learned.histories import HistoryDataset
    from innatura.planner.learned.infer_study import split_holdout

    if args.dataset is not None:
        ds = HistoryDataset.load(args.dataset)
    else:
        ds = simulate(args, args.out / "dataset", args.quiet)
    if args.eval_dataset is not None:
        return ds, HistoryDataset.load(args.eval_dataset)
    return split_holdout(ds)


def plot_training(path: Path, history: Sequence[Mapping[str, float]], title: str = "") -> None:
    """The loss and its terms per step (moving means)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from innatura.abm.plots import save_figure

    steps = np.array([h["step"] for h in history])
    k = max(1, len(history) // 25)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, names in zip(axes, (("loss", "scale", "recon"), ("flag", "kl")), strict=True):
        for name in names:
            vals = np.array([h[name] for h in history])
            ax.plot(steps, vals, lw=0.6, alpha=0.35)
            if len(vals) >= k:
                ax.plot(steps[k - 1:], np.convolve(vals, np.ones(k) / k, mode="valid"), lw=1.8, label=name)
        ax.set_xlabel("step")
        ax.legend()
    axes[0].set_title("loss, log-scale NLL, reconstruction NLL")
    axes[1].set_title("misreport cross-entropy, KL")
    fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, path)


def plot_reliability(path: Path, metrics: Any, title: str = "") -> None:
    """Reliability diagram of the misreport probability, with the interval coverages."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from innatura.abm.plots import save_figure

    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], color="0.6", lw=1, ls="--", label="calibrated")
    p = [b[0] for b in metrics.reliability]
    f = [b[1] for b in metrics.reliability]
    n = [b[2] for b in metrics.reliability]
    ax.scatter(p, f, s=[20 + 180 * c / max(n) for c in n], color="C0", zorder=3, label="bins (size: count)")
    ax.plot(p, f, color="C0", lw=1)
    ax.set_xlabel("predicted misreport probability")
    ax.set_ylabel("share of misreporting units")
    ax.set_title(f"{title}\nECE {metrics.ece:.3f}, AUC {metrics.auc:.3f}; coverage 50% {metrics.coverage50:.2f}, "
                 f"90% {metrics.coverage90:.2f}", fontsize=9)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)


def _write(out: Path, study: Any, info: dict[str, Any]) -> None:
    from innatura.cli.train_learned import write_history
    from innatura.planner.atomic import atomic_write_text
    from innatura.planner.learned.checkpoint import save_inference

    metrics = {"held_out": study.metrics.as_dict() if study.metrics else None,
               "hidden_units": study.hidden_metrics.as_dict() if study.hidden_metrics else None}
    save_inference(out, study.trained.model, extra={**info, "metrics": metrics})
    write_history(out / "history.csv", study.trained.history)
    atomic_write_text(out / "metrics.json", json.dumps({**info, **metrics}, indent=2, sort_keys=True))
    title = f"type inference, {info['gnn_layers']} graph layers, seed {info['seed']}"
    plot_training(out / "training_curve.png", study.trained.history, title)
    if study.metrics is not None:
        plot_reliability(out / "reliability.png", study.metrics, title)


def _report(study: Any, info: dict[str, Any]) -> None:
    pinned = bool(study.trained.model.pin_revealed > 0.5)
    print(f"trained {info['steps']} steps on {info['train_runs']} runs in {study.seconds:.1f} s ({info['device']})")
    for label, m in (("held-out runs", study.metrics), ("units with hidden records", study.hidden_metrics)):
        if m is None:
            continue
        print(f"{label} ({m.pairs} unit-nights): spearman {m.spearman:.3f} (revealed estimate "
              f"{m.baseline_spearman:.3f}), MAE {m.mae:.4f} ({m.baseline_mae:.4f}); coverage 50% {m.coverage50:.2f}, "
              f"90% {m.coverage90:.2f}; misreport AUC {m.auc:.3f}, ECE {m.ece:.3f}, at {m.threshold:g}: "
              f"FPR {m.fpr:.3f}, TPR {m.tpr:.3f}")
        print(f"  posterior location (what the planner corrects by): spearman {m.location_spearman:.3f}, "
              f"MAE {m.location_mae:.4f}; revealed estimate {'pinned' if pinned else 'not pinned'}")
        for name, f in m.subsets.items():
            print(f"  {name:13s} ({f.pairs} unit-nights): spearman {f.spearman:.3f} ({f.baseline_spearman:.3f}), "
                  f"MAE {f.mae:.4f} ({f.baseline_mae:.4f}), coverage 50% {f.coverage50:.2f}, 90% {f.coverage90:.2f}")
    if study.metrics is None:
        print("no held-out runs (one seed and no --eval-dataset): nothing evaluated")


def run(args: argparse.Namespace) -> int:
    """Train, evaluate, save the checkpoint, the logs and the figures."""
    from tqdm import tqdm

    from innatura.abm.learning.dataset import parse_mixes
    from innatura.cli.outputs import check_output_dir
    from innatura.planner.learned.infer_study import train_and_evaluate
    from innatura.planner.learned.inference import InferenceConfig, resolve_device

    out = check_output_dir(args.out)
    parse_mixes(args.mixes)
    device = resolve_device(args.device)
    cfg = InferenceConfig(hidden=args.hidden, gnn_layers=args.gnn_layers, conv=args.conv, steps=args.steps,
                          runs_per_step=args.runs_per_step, lr=args.lr, seed=args.seed)
    train, test = _datasets(args)
    bar = tqdm(total=args.steps, desc="train inference", unit="step", disable=args.quiet or not sys.stderr.isatty())

    def tick(i: int, row: dict) -> None:
        bar.update(1)
        if i % 10 == 0:
            bar.set_postfix(loss=f"{row['loss']:.3f}")

    try:
        study = train_and_evaluate(list(train.runs), list(test.runs), cfg, device=str(device),
                                   hide_share=args.hide_share, noise_sd=args.noise, threshold=args.threshold,
                                   progress=tick)
    finally:
        bar.close()
    info = {"train_runs": len(train), "eval_runs": len(test), "train_names": list(train.names),
            "eval_names": list(test.names), "train_seconds": study.seconds, "device": str(device),
            "steps": args.steps, "gnn_layers": args.gnn_layers, "seed": args.seed, "hide_share": args.hide_share,
            "noise": args.noise}
    _write(out, study, info)
    _report(study, info)
    print(f"checkpoint: {out / 'model.pt'}, {out / 'config.json'}; figures: {out / 'training_curve.png'}")
    return 0
