"""``innatura experiment investment-profiles``: OLIN-EP Fig. 3, two ways.

Selviaria with investment shares 0.51, 0.52, 0.55 and 0.60 (the same seeds for each share).
``--dynamics`` picks the model:

- ``conserving`` (default): through the agents, as the workshop paper's experiment is set up:
  one village (the regions merged, the paper has no geography), daily re-planning, units
  reporting actively learned curves; every day keeps the model's invariants (goods
  conserved, no negative stock). With ``--noise`` each day, with probability 0.1, 20% of
  the Lucloelium and Vorpal Pick +1 stocks vanish.
- ``paper``: the authors' own computation (:mod:`innatura.planner.olin_paper`): their 8 x 8
  matrix, plan ``x = (I - A(x))^-1 d / mu``, and their booking rule, under which **goods are
  not conserved**; it reproduces the published figure and is exempt from the invariants.
  Ticks count from 0 (tick 0 plans on the opening stocks), as the published data; the
  conserving model counts days from 1.

``--seeds N`` runs seeds ``seed .. seed + N - 1`` (the spread matters with ``--noise``).
Writes ``DIR/humanity.csv`` (long form: ``tick``, ``investment``, ``humanity``, ``seed``,
``dynamics``), ``DIR/humanity.png`` (with several seeds: the median and a 5-95% band) and
``DIR/summary.json``, and prints, per share, the first tick at which humanity reaches 0.999:
published | paper dynamics | conserving, and with several seeds the share of seeds that reach
it within ``--days`` ticks and the 5-95% range of the ticks.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np

__all__ = [
    "DYNAMICS",
    "LABELS",
    "PUBLISHED",
    "SHARES",
    "configure",
    "run",
    "run_conserving",
    "run_paper",
    "run_profiles",
    "tick_stats",
]

logger = logging.getLogger(__name__)

SHARES = (0.51, 0.52, 0.55, 0.60)
#: first tick at which the published Fig. 3 data reach humanity 0.999 (None: never in 1000 ticks).
PUBLISHED: dict[bool, dict[float, int | None]] = {
    False: {0.51: 381, 0.52: 192, 0.55: 79, 0.60: 42},
    True: {0.51: None, 0.52: 579, 0.55: 96, 0.60: 54},
}
DYNAMICS = ("conserving", "paper")
#: the ``dynamics`` column of ``humanity.csv``: the paper's booking is labelled as not conserving.
LABELS = {"conserving": "conserving", "paper": "paper-nonconserving"}
#: the level whose first tick the experiment reports.
LEVEL = 0.999
#: most seeds (``--seeds``); each is a full run per share.
MAX_SEEDS = 10_000
PAPER_NOTE = ("paper dynamics: the authors' booking rule (Vorpal Pick stock + its whole output, Lucloelium "
              "+ (2 sigma - 1) x its output); goods are NOT conserved, exempt from the model's invariants")


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``innatura experiment investment-profiles``."""
    from innatura.cli.args import real, seed, whole
    from innatura.scenarios.limits import MAX_DAYS

    parser.add_argument("--dynamics", choices=DYNAMICS, default="conserving",
                        help="conserving: the agent model (default); paper: the authors' booking rule, "
                             "which does not conserve goods")
    parser.add_argument("--noise", action="store_true", help="random stock losses (p=0.1 a day, 20%%)")
    parser.add_argument("--days", type=whole(1, MAX_DAYS), default=1000,
                        help="ticks per share (default 1000, as the paper)")
    parser.add_argument("--seed", type=seed, default=0, help="first random seed (default 0)")
    parser.add_argument("--seeds", type=whole(1, MAX_SEEDS), default=1,
                        help="number of seeds: seed, seed+1, ... (default 1)")
    parser.add_argument("--shares", type=real(0.0, 1.0, hi_open=True), nargs="+", default=list(SHARES),
                        help="investment shares, each in [0, 1)")
    parser.add_argument("--scenario", default="selviaria", help="scenario of the conserving model (default selviaria)")
    parser.add_argument("--out", type=Path, default=Path("results") / "investment-profiles", help="output folder")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _conserving_share(scenario: str, share: float, days: int, seed: int, noise: bool,
                      bar=None, stop_at: float | None = None) -> tuple[np.ndarray, int]:  # noqa: ANN001
    """Humanity per day of one conserving run, and the invariant violations it logged."""
    from innatura.abm.model import PlanningEconomy

    model = PlanningEconomy(scenario, rng=seed, investment_share=float(share), single_region=True,
                            noise=0.1 if noise else 0.0, collect_agents=False)
    values, violations = [], 0
    for _ in range(days):
        model.step()
        values.append(model.metrics["humanity"])
        violations += int(model.metrics["invariant_violations"])
        if bar is not None:
            bar.update(1)
        if stop_at is not None and values[-1] >= stop_at:
            break
    if bar is not None:
        bar.update(days - len(values))
    return np.asarray(values, dtype=float), violations


def run_profiles(scenario: str, shares, days: int, seed: int, noise: bool, progress: bool = False):  # noqa: ANN001, ANN201
    """Humanity per tick for each investment share, conserving model, one seed: a long
    DataFrame (tick, investment, humanity)."""
    return run_conserving(scenario, shares, days, [seed], noise, progress)[0][["tick", "investment", "humanity"]]


def run_conserving(scenario: str, shares, days: int, seeds, noise: bool,  # noqa: ANN001, ANN201
                   progress: bool = False, stop_at: float | None = None):
    """The conserving agent model per share and seed.

    Returns:
        ``(df, violations)``: the long frame (tick from 1, investment, humanity, seed,
        dynamics) and the invariant violations logged over all runs. ``stop_at`` ends a run
        on its first day at or above that humanity.
    """
    import pandas as pd
    from tqdm import tqdm

    frames, violations = [], 0
    with tqdm(total=days * len(shares) * len(seeds), unit="day", disable=not progress, desc="conserving") as bar:
        for seed in seeds:
            for share in shares:
                values, bad = _conserving_share(scenario, share, days, seed, noise, bar, stop_at)
                violations += bad
                frames.append(pd.DataFrame({"tick": np.arange(1, len(values) + 1), "investment": float(share),
                                            "humanity": values, "seed": int(seed),
                                            "dynamics": LABELS["conserving"]}))
    return pd.concat(frames, ignore_index=True), violations


def run_paper(shares, days: int, seeds, noise: bool, progress: bool = False):  # noqa: ANN001, ANN201
    """The paper's dynamics (goods not conserved) per share, all seeds at once.

    Every share gets fresh generators ``default_rng(seed)``, so the shares see the same loss
    draws. Without noise the dynamics are deterministic and every seed gives the same run.

    Returns:
        ``(df, first)``: the long frame (tick from 0, investment, humanity, seed, dynamics;
        rows until each run stops) and ``{share: first ticks per seed, -1 for never}``.
    """
    import pandas as pd
    from tqdm import tqdm

    from innatura.planner.olin_paper import paper_dynamics

    frames, first = [], {}
    with tqdm(total=days * len(shares), unit="tick", disable=not progress, desc="paper dynamics") as bar:
        for share in shares:
            rngs = [np.random.default_rng(s) for s in seeds] if noise else None
            res = paper_dynamics(float(share), rngs, max_ticks=days, on_tick=lambda _t: bar.update(1))
            bar.update(days - int(np.isfinite(res.humanity).any(axis=0).sum()))
            hum = np.broadcast_to(res.humanity, (len(seeds), days))
            seed_idx, tick = np.nonzero(np.isfinite(hum))
            frames.append(pd.DataFrame({"tick": tick, "investment": float(share), "humanity": hum[seed_idx, tick],
                                        "seed": np.asarray(seeds)[seed_idx], "dynamics": LABELS["paper"]}))
            first[round(float(share), 10)] = np.broadcast_to(res.first_tick, (len(seeds),)).copy()
    df = pd.concat(frames, ignore_index=True).sort_values(["investment", "seed", "tick"], kind="stable")
    return df.reset_index(drop=True), first


def tick_stats(first) -> dict:  # noqa: ANN001
    """Runs, runs that reached the level, and the median, 5% and 95% of their first ticks.

    Quantiles are empirical (inverted CDF) over all runs, a run that never reached counted as
    beyond the horizon; a quantile that falls there is ``None`` ("never").
    """
    ticks = np.asarray(first, dtype=float)
    ticks = np.where(ticks < 0, np.inf, ticks)
    q = np.quantile(ticks, [0.5, 0.05, 0.95], method="inverted_cdf")
    out = [int(v) if np.isfinite(v) else None for v in q]
    return {"runs": int(ticks.size), "reached": int(np.isfinite(ticks).sum()), "median": out[0], "q05": out[1],
            "q95": out[2]}


def _conserving_first(df) -> dict:  # noqa: ANN001
    """First day at or above the level per share and seed (-1: never): ``{share: (seeds,)}``."""
    from innatura.abm.outputs import first_day_at_least

    first: dict = {}
    for (share, _seed), grp in df.groupby(["investment", "seed"], sort=True):
        tick = first_day_at_least(grp["tick"].to_numpy(), grp["humanity"].to_numpy(), LEVEL)
        first.setdefault(round(float(share), 10), []).append(-1 if tick is None else tick)
    return {k: np.asarray(v) for k, v in first.items()}


def _after(df) -> dict:  # noqa: ANN001
    """Conserving runs: ``{share: "final  min-after"}``, the last day's humanity and its minimum
    from the first day at the level on (medians over seeds of the first, minimum of the second)."""
    out = {}
    for share, grp in df.groupby("investment"):
        finals, mins = [], []
        for _seed, run in grp.groupby("seed"):
            h = run["humanity"].to_numpy()
            hit = np.flatnonzero(h >= LEVEL)
            finals.append(h[-1])
            mins.append(h[hit[0] if hit.size else len(h) - 1:].min())
        out[round(float(share), 10)] = f"{np.median(finals):>10.4f}{min(mins):>11.4f}"
    return out


def _fmt(v) -> str:  # noqa: ANN001
    return "never" if v is None else str(v)


def _print_table(shares, published, columns, tail=None) -> None:  # noqa: ANN001
    """``columns``: ``[(name, {share: stats} or None)]``; several runs add reached and 5-95%.
    ``tail``: ``(header, {share: text})`` appended to each row."""
    head = [f"{'share':>6}", f"{'paper ticks':>12}"]
    for name, stats in columns:
        head.append(f"{name + ' ticks':>{max(len(name) + 7, 12)}}")
        if stats and next(iter(stats.values()))["runs"] > 1:
            head += [f"{name + ' reached':>{len(name) + 9}}", f"{name + ' 5-95%':>{len(name) + 11}}"]
    print("".join(head) + (tail[0] if tail else ""))
    for share in shares:
        key = round(float(share), 10)
        row = [f"{share:>6.2f}", f"{_fmt(published.get(round(float(share), 2), '-')):>12}"]
        for name, stats in columns:
            st = (stats or {}).get(key)
            row.append(f"{_fmt(st['median']) if st else '-':>{max(len(name) + 7, 12)}}")
            if stats and next(iter(stats.values()))["runs"] > 1:
                reached = f"{st['reached']}/{st['runs']:<4}" if st else "-"
                spread = f"[{_fmt(st['q05'])}, {_fmt(st['q95'])}]" if st else "-"
                row += [reached.rjust(len(name) + 9), spread.rjust(len(name) + 11)]
        print("".join(row) + (tail[1].get(key, "") if tail else ""))


def _band(df) -> tuple:  # noqa: ANN001
    """Median and 5-95% of humanity per tick over seeds; a stopped run held at its last value."""
    wide = df.pivot(index="tick", columns="seed", values="humanity").sort_index().ffill()
    values = wide.to_numpy()
    return wide.index.to_numpy(), *np.nanquantile(values, [0.5, 0.05, 0.95], axis=1)


def _figure(df, dynamics: str, noise: bool, published: dict):  # noqa: ANN001, ANN202
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.5, 4.4))
    ax = fig.add_subplot(1, 1, 1)
    several = df["seed"].nunique() > 1
    for k, (share, grp) in enumerate(df.groupby("investment")):
        colour = f"C{k}"
        if several:
            tick, med, q05, q95 = _band(grp)
            ax.fill_between(tick, np.maximum(q05, 1e-12), np.maximum(q95, 1e-12), color=colour, alpha=0.2, lw=0)
            ax.plot(tick, np.maximum(med, 1e-12), color=colour, lw=1.4, label=f"investment {share:.2f} (median)")
        else:
            ax.plot(grp["tick"], np.maximum(grp["humanity"], 1e-12), color=colour, lw=1.4,
                    label=f"investment {share:.2f}")
        pub = published.get(round(float(share), 2))
        if pub is not None and pub <= df["tick"].max():
            ax.plot([pub], [LEVEL], marker="x", color=colour, ms=8, ls="none")
    ax.plot([], [], marker="x", color="0.3", ls="none", label="published first tick >= 0.999")
    ax.set_yscale("log")
    ax.set_xlabel("tick" + (" (from 0, as the published data)" if dynamics == "paper" else " (day)"))
    ax.set_ylabel("humanity (Eq. 5" + (", 1/mu of the plan)" if dynamics == "paper" else ", received)"))
    title = ("Paper's dynamics: its booking does not conserve goods (exempt from the invariants)"
             if dynamics == "paper" else "Conserving agent model (goods conserved, invariants checked)")
    title += "\nhumanity vs investment share" + (", random stock losses" if noise else "")
    if several:
        title += f"; median and 5-95% band over {df['seed'].nunique()} seeds"
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _check_args(args: argparse.Namespace) -> None:
    """What the flags' types cannot check alone (each flag is typed and bounded by itself)."""
    from innatura.planner.errors import InvalidInputError
    from innatura.scenarios.limits import MAX_SEED

    if args.seed + args.seeds - 1 > MAX_SEED:
        raise InvalidInputError(f"--seed {args.seed} --seeds {args.seeds}: the last seed passes {MAX_SEED}")
    if args.dynamics == "paper" and args.scenario != "selviaria":
        raise InvalidInputError(f"--scenario: the paper dynamics are the authors' Selviaria computation only, "
                                f"got {args.scenario!r}")


def _simulate(args: argparse.Namespace, progress: bool) -> tuple:
    """The chosen dynamics over all seeds, and the other one for the table's comparison column."""
    seeds = list(range(args.seed, args.seed + args.seeds))
    paper_first, conserving_first, violations = None, None, None
    if args.dynamics == "paper":
        df, paper_first = run_paper(args.shares, args.days, seeds, args.noise, progress)
        # the conserving column: one seed, each run stopped at its first day at 0.999
        short, _ = run_conserving(args.scenario, args.shares, args.days, [args.seed], args.noise, progress, LEVEL)
        conserving_first = _conserving_first(short)
    else:
        df, violations = run_conserving(args.scenario, args.shares, args.days, seeds, args.noise, progress)
        conserving_first = _conserving_first(df)
        if args.scenario == "selviaria":
            paper_first = run_paper(args.shares, args.days, seeds, args.noise, progress)[1]
    return df, paper_first, conserving_first, violations


def run(args: argparse.Namespace) -> int:
    """Run the experiment; returns the exit status."""
    import io

    from innatura.abm.outputs import write_json
    from innatura.cli.outputs import check_output_dir
    from innatura.planner.atomic import atomic_write_bytes

    _check_args(args)
    out = check_output_dir(args.out)
    out.mkdir(parents=True, exist_ok=True)
    df, paper_first, conserving_first, violations = _simulate(args, not args.quiet and sys.stderr.isatty())
    published = PUBLISHED[bool(args.noise)]
    atomic_write_bytes(out / "humanity.csv", df.to_csv(index=False).encode())
    buf = io.BytesIO()
    _figure(df, args.dynamics, args.noise, published).savefig(buf, format="png", dpi=120)
    atomic_write_bytes(out / "humanity.png", buf.getvalue())
    stats = {name: {k: tick_stats(v) for k, v in first.items()} if first is not None else None
             for name, first in ((LABELS["paper"], paper_first), (LABELS["conserving"], conserving_first))}
    if args.dynamics == "paper":
        print(PAPER_NOTE)
    print(f"first tick at which humanity reaches {LEVEL} (paper and paper dynamics count ticks from 0, conserving "
          f"days from 1){'; with several seeds the median' if args.seeds > 1 else ''}")
    one = args.dynamics == "paper" and args.seeds > 1
    conserving_name = f"conserving(seed {args.seed})" if one else "conserving"
    tail = None if args.dynamics == "paper" else (f"{'final':>10}{'min after':>11}", _after(df))
    _print_table(args.shares, published, [("paper-dynamics", stats[LABELS["paper"]]),
                                          (conserving_name, stats[LABELS["conserving"]])], tail)
    own = stats[LABELS[args.dynamics]] or {}
    summary = {"scenario": args.scenario, "noise": bool(args.noise), "days": args.days, "seed": args.seed,
               "seeds": args.seeds, "dynamics": args.dynamics, "conserves_goods": args.dynamics == "conserving",
               "first_tick_0999": {f"{k:.2f}": v["median"] for k, v in own.items()},
               "published_first_tick_0999": {f"{k:.2f}": v for k, v in published.items()},
               "ticks_0999": {name: {f"{k:.2f}": v for k, v in st.items()} if st else None
                              for name, st in stats.items()},
               "tick_origin": {LABELS["paper"]: 0, LABELS["conserving"]: 1}}
    if args.dynamics == "paper":
        summary["note"] = PAPER_NOTE
    else:
        summary["invariant_violations"] = violations
        print(f"invariant violations (conserving runs): {violations}")
    write_json(out / "summary.json", summary)
    print(f"wrote {out / 'humanity.csv'} and {out / 'humanity.png'}")
    return 0
