"""``innatura experiment investment-profiles``: OLIN-EP Fig. 3 through the agents.

Runs Selviaria with investment shares 0.51, 0.52, 0.55 and 0.60 (same seed for each), as the
workshop paper does: one village (the regions merged, the paper has no geography), daily
re-planning, units reporting actively learned curves; with ``--noise`` each day, with
probability 0.1, 20% of the Lucloelium and Vorpal Pick +1 stocks vanish. Writes
``DIR/humanity.csv`` (long form: ``tick``, ``investment``, ``humanity``), ``DIR/humanity.png``
and ``DIR/summary.json``, and prints the first tick each share reaches humanity 0.999 next to
the published figure data.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np

__all__ = ["PUBLISHED", "SHARES", "configure", "run", "run_profiles"]

logger = logging.getLogger(__name__)

SHARES = (0.51, 0.52, 0.55, 0.60)
#: first tick at which the published Fig. 3 data reach humanity 0.999 (None: never in 1000 ticks).
PUBLISHED = {
    False: {0.51: 381, 0.52: 192, 0.55: 79, 0.60: 42},
    True: {0.51: None, 0.52: 579, 0.55: 96, 0.60: 54},
}


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``innatura experiment investment-profiles``."""
    from innatura.cli.args import real, seed, whole
    from innatura.scenarios.limits import MAX_DAYS

    parser.add_argument("--noise", action="store_true", help="random stock losses (p=0.1 a day, 20%%)")
    parser.add_argument("--days", type=whole(1, MAX_DAYS), default=1000,
                        help="ticks per share (default 1000, as the paper)")
    parser.add_argument("--seed", type=seed, default=0, help="random seed (default 0)")
    parser.add_argument("--shares", type=real(0.0, 1.0, hi_open=True), nargs="+", default=list(SHARES),
                        help="investment shares")
    parser.add_argument("--scenario", default="selviaria", help="scenario (default selviaria)")
    parser.add_argument("--out", type=Path, default=Path("results") / "investment-profiles", help="output folder")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run_profiles(scenario: str, shares, days: int, seed: int, noise: bool, progress: bool = False):  # noqa: ANN001, ANN201
    """Humanity per tick for each investment share: a long DataFrame (tick, investment, humanity)."""
    import pandas as pd
    from tqdm import tqdm

    from innatura.abm.model import PlanningEconomy

    frames = []
    bar = tqdm(total=days * len(shares), unit="tick", disable=not progress)
    for share in shares:
        model = PlanningEconomy(scenario, rng=seed, investment_share=float(share), single_region=True,
                                noise=0.1 if noise else 0.0, collect_agents=False)
        values = np.empty(days)
        for k in range(days):
            model.step()
            values[k] = model.metrics["humanity"]
            bar.update(1)
        frames.append(pd.DataFrame({"tick": np.arange(1, days + 1), "investment": float(share), "humanity": values}))
    bar.close()
    return pd.concat(frames, ignore_index=True)


def _figure(df, noise: bool):  # noqa: ANN001, ANN202
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.2))
    ax = fig.add_subplot(1, 1, 1)
    for share, grp in df.groupby("investment"):
        ax.plot(grp["tick"], np.maximum(grp["humanity"], 1e-12), label=f"investment {share:.2f}", lw=1.4)
    ax.set_yscale("log")
    ax.set_xlabel("tick (day)")
    ax.set_ylabel("humanity (Eq. 5, received)")
    ax.set_title("Humanity vs investment share" + (" with random stock losses" if noise else ""))
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def run(args: argparse.Namespace) -> int:
    """Run the experiment; returns the exit status."""
    import io

    from innatura.abm.outputs import first_day_at_least, write_json
    from innatura.cli.outputs import check_output_dir
    from innatura.planner.atomic import atomic_write_bytes

    out = check_output_dir(args.out)
    out.mkdir(parents=True, exist_ok=True)
    df = run_profiles(args.scenario, args.shares, args.days, args.seed, args.noise,
                      progress=not args.quiet and sys.stderr.isatty())
    atomic_write_bytes(out / "humanity.csv", df.to_csv(index=False).encode())
    buf = io.BytesIO()
    _figure(df, args.noise).savefig(buf, format="png", dpi=120)
    atomic_write_bytes(out / "humanity.png", buf.getvalue())
    first = {}
    print(f"{'investment':>10}{'first tick >= 0.999':>22}{'published':>12}{'final':>10}{'min after':>11}")
    for share, grp in df.groupby("investment"):
        tick = first_day_at_least(grp["tick"].to_numpy(), grp["humanity"].to_numpy(), 0.999)
        pub = PUBLISHED[bool(args.noise)].get(round(float(share), 2), "-")
        after = grp["humanity"].to_numpy()[(tick or len(grp)) - 1:]
        first[f"{share:.2f}"] = tick
        print(f"{share:>10.2f}{tick if tick is not None else 'never':>22}{pub if pub is not None else 'never':>12}"
              f"{grp['humanity'].iloc[-1]:>10.4f}{after.min():>11.4f}")
    write_json(out / "summary.json", {"scenario": args.scenario, "noise": bool(args.noise), "days": args.days,
                                      "seed": args.seed, "first_tick_0999": first,
                                      "published_first_tick_0999": {f"{k:.2f}": v for k, v in
                                                                    PUBLISHED[bool(args.noise)].items()}})
    print(f"wrote {out / 'humanity.csv'} and {out / 'humanity.png'}")
    return 0
