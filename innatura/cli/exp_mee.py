"""``innatura experiment mee``: MOLM regret and MPLM suboptimality on a Markov exchange economy.

For each seed a random economy is drawn (:func:`planner.exchange.mee.make_mee`); MOLM runs
``--episodes`` episodes online and MPLM learns from logged datasets of ``--sizes`` episodes
(uniform behaviour planner). Writes ``molm_regret.csv``, ``mplm_suboptimality.csv``,
``mee.png`` (log-log plots) and ``summary.json`` to ``--out``, and prints the log-log slopes
(MOLM cumulative regret against ``K``: about 1/2 for sqrt(K) regret; MPLM suboptimality
against dataset size: about -1/2).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import sys
from pathlib import Path

import numpy as np

from innatura.planner.atomic import atomic_path, atomic_write_text

__all__ = ["configure", "loglog_slope", "run"]

logger = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    from innatura.cli.args import seed, whole, whole_list

    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--episodes", type=whole(10), default=1000, help="MOLM episodes K (default 1000)")
    parser.add_argument("--seeds", type=whole(1, 10_000), default=3, help="independent economies / runs (default 3)")
    parser.add_argument("--sizes", type=whole_list(1), default=[4, 16, 64, 256, 1024],
                        help="MPLM dataset sizes in episodes (comma list)")
    parser.add_argument("--agents", type=whole(1, 1000), default=4, help="agents (default 4)")
    parser.add_argument("--goods", type=whole(1, 1000), default=3, help="goods (default 3)")
    parser.add_argument("--horizon", type=whole(1, 1000), default=5, help="periods (default 5)")
    parser.add_argument("--seed", type=seed, default=0, help="master seed")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def loglog_slope(x: np.ndarray, y: np.ndarray) -> float:
    """Least-squares slope of ``log y`` against ``log x`` (positive entries only)."""
    ok = (x > 0) & (y > 0)
    if ok.sum() < 2:
        return float("nan")
    return float(np.polyfit(np.log(x[ok]), np.log(y[ok]), 1)[0])


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    atomic_write_text(path, buf.getvalue())


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from innatura.cli.outputs import check_output_dir
    from innatura.planner.exchange.mee import make_mee
    from innatura.planner.exchange.molm import molm
    from innatura.planner.exchange.mplm import collect_dataset, mplm

    sizes = sorted(set(args.sizes))
    out = check_output_dir(args.out)
    out.mkdir(parents=True, exist_ok=True)
    master = np.random.default_rng(args.seed)
    seeds = master.integers(0, 2**32, size=(args.seeds, 3))
    quiet = args.quiet or not sys.stderr.isatty()
    regret = np.empty((args.seeds, args.episodes))
    subopt = np.empty((args.seeds, len(sizes)))
    for r in tqdm(range(args.seeds), desc="seeds", disable=quiet):
        env = make_mee(np.random.default_rng(seeds[r, 0]), agents=args.agents, goods=args.goods,
                       horizon=args.horizon)
        res = molm(env, args.episodes, np.random.default_rng(seeds[r, 1]), progress=not quiet)
        regret[r] = res.cumulative
        data_rng = np.random.default_rng(seeds[r, 2])
        for k, size in enumerate(sizes):
            subopt[r, k] = mplm(env, collect_dataset(env, size, data_rng)).suboptimality
    episodes = np.arange(1, args.episodes + 1)
    mean_regret = regret.mean(axis=0)
    tail = episodes >= max(2, args.episodes // 10)
    molm_slope = loglog_slope(episodes[tail], mean_regret[tail])
    mean_sub = subopt.mean(axis=0)
    mplm_slope = loglog_slope(np.asarray(sizes, dtype=float), np.maximum(mean_sub, 0.0))
    _write_csv(out / "molm_regret.csv", ["seed", "episode", "cumulative_regret"],
               [[r, k + 1, regret[r, k]] for r in range(args.seeds) for k in range(args.episodes)])
    _write_csv(out / "mplm_suboptimality.csv", ["seed", "dataset_episodes", "suboptimality"],
               [[r, sizes[k], subopt[r, k]] for r in range(args.seeds) for k in range(len(sizes))])
    _plot(out / "mee.png", episodes, regret, sizes, subopt, molm_slope, mplm_slope)
    summary = {"molm_regret_slope": molm_slope, "mplm_suboptimality_slope": mplm_slope,
               "episodes": args.episodes, "seeds": args.seeds, "sizes": sizes,
               "final_cumulative_regret": float(mean_regret[-1]),
               "mplm_mean_suboptimality": mean_sub.tolist()}
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2))
    print(f"MOLM: cumulative regret after {args.episodes} episodes {mean_regret[-1]:.3f} "
          f"(mean of {args.seeds} seeds); log-log slope {molm_slope:.3f} (episodes >= {args.episodes // 10})")
    by_size = ", ".join(f"{s}: {v:.3f}" for s, v in zip(sizes, mean_sub, strict=True))
    print(f"MPLM: suboptimality by dataset size: {by_size}; log-log slope {mplm_slope:.3f}")
    print(f"wrote {out / 'molm_regret.csv'}, {out / 'mplm_suboptimality.csv'}, {out / 'mee.png'}, "
          f"{out / 'summary.json'}")
    return 0


def _plot(path: Path, episodes: np.ndarray, regret: np.ndarray, sizes: list[int], subopt: np.ndarray,
          molm_slope: float, mplm_slope: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    for row in regret:
        ax1.loglog(episodes, np.maximum(row, 1e-9), color="0.75", lw=0.8)
    ax1.loglog(episodes, np.maximum(regret.mean(axis=0), 1e-9), color="C0", lw=2,
               label=f"mean (slope {molm_slope:.2f})")
    ax1.set_xlabel("episodes K")
    ax1.set_ylabel("cumulative regret")
    ax1.set_title("MOLM (online, optimistic)")
    ax1.legend()
    for row in subopt:
        ax2.loglog(sizes, np.maximum(row, 1e-9), "o-", color="0.75", lw=0.8)
    ax2.loglog(sizes, np.maximum(subopt.mean(axis=0), 1e-9), "o-", color="C1", lw=2,
               label=f"mean (slope {mplm_slope:.2f})")
    ax2.set_xlabel("dataset size (episodes)")
    ax2.set_ylabel("suboptimality")
    ax2.set_title("MPLM (offline, pessimistic)")
    ax2.legend()
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
