"""A study's report: ``report.md`` with its tables and PNGs, from the outcome table.

* :func:`cell_summary`: the mean of each outcome per cell (scenario, planner, mix, defence,
  share), with the spread of the welfare loss over seeds (standard deviation and the half-width
  of its 95% confidence interval, Student's t);
* :func:`defence_summary`: per scenario, mix and defence, over the shares above 0: the
  welfare loss of the truthful and of everyone, with their spread over runs;
* figures: ``welfare_loss.png`` (welfare loss against the share of liars, one line per
  defence with its 95% band over seeds, one panel per scenario and mix),
  ``welfare_loss_heatmap.png`` (defence x share), and, when adaptive strategies are in the
  study, ``settled_factor.png`` (the factor each defence lets them settle at, and what it
  costs the truthful).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from innatura.abm.study.spec import StudySpec
from innatura.planner.atomic import atomic_write_text

__all__ = ["cell_summary", "defence_summary", "markdown_table", "write_report"]

logger = logging.getLogger(__name__)

CELL = ["scenario", "planner", "mix", "defence", "share"]
#: outcomes averaged in the cell summary (those present).
SUMMARY_OUTCOMES = ("welfare_loss", "welfare_loss_all", "humanity_loss", "liars_gain", "unit_slack",
                    "daily_precision", "daily_recall", "settled_citizen_factor", "settled_unit_factor")


def _ci(values: pd.Series) -> float:
    """Half-width of the 95% confidence interval of the mean (``nan`` below two values)."""
    from scipy import stats

    v = values.dropna().to_numpy(dtype=float)
    if v.size < 2:
        return float("nan")
    return float(stats.t.ppf(0.975, v.size - 1) * v.std(ddof=1) / np.sqrt(v.size))


def _ok(table: pd.DataFrame) -> pd.DataFrame:
    if "error" not in table.columns:
        return table
    return table[table["error"].fillna("") == ""]


def cell_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per cell: runs, failed runs, the mean of each outcome of :data:`SUMMARY_OUTCOMES`, and
    the welfare loss's standard deviation and 95% half-width over seeds."""
    if table.empty or "welfare_loss" not in table.columns:
        return pd.DataFrame(columns=[*CELL, "runs"])
    keys = [k for k in CELL if k in table.columns]
    ok = _ok(table)
    g = ok.groupby(keys, sort=False, dropna=False)
    out = pd.DataFrame({"runs": g.size()})
    out["failed"] = table.groupby(keys, sort=False, dropna=False).size().sub(out["runs"], fill_value=0).astype(int)
    for k in SUMMARY_OUTCOMES:
        if k in ok.columns and ok[k].notna().any():
            out[k] = g[k].mean()
            if k == "welfare_loss":
                out["welfare_loss_sd"] = g[k].std(ddof=1)
                out["welfare_loss_ci95"] = g[k].agg(_ci)
    return out.reset_index()


def defence_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per scenario, mix and defence, over every run with liars (share above 0): the welfare
    loss of the truthful and of everyone (mean, standard deviation, 95% half-width)."""
    if table.empty or "welfare_loss" not in table.columns:
        return pd.DataFrame()
    ok = _ok(table)
    ok = ok[ok["share"] > 0]
    keys = ["scenario", "mix", "defence"]
    g = ok.groupby(keys, sort=False)
    out = pd.DataFrame({"runs": g.size(), "welfare_loss": g["welfare_loss"].mean(),
                        "welfare_loss_sd": g["welfare_loss"].std(ddof=1),
                        "welfare_loss_ci95": g["welfare_loss"].agg(_ci),
                        "welfare_loss_all": g["welfare_loss_all"].mean(),
                        "welfare_loss_all_sd": g["welfare_loss_all"].std(ddof=1)})
    for k in ("liars_gain", "unit_slack", "daily_precision", "daily_recall", "settled_citizen_factor",
              "settled_unit_factor"):
        if k in ok.columns and ok[k].notna().any():
            out[k] = g[k].mean()
    return out.reset_index()


def markdown_table(frame: pd.DataFrame) -> str:
    """``frame`` as a Markdown table (numbers to 4 significant digits, ``-`` for ``nan``)."""
    if frame.empty:
        return "(no runs)\n"
    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in frame.itertuples(index=False):
        cells = ["-" if isinstance(v, float | np.floating) and np.isnan(v)
                 else f"{v:.4g}" if isinstance(v, float | np.floating) else str(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


EXPLANATION = """\
**welfare**: the mean share of need (capped at 1) received by the citizens who never
misreported; **welfare_loss**: the same citizens in the honest run with the same seed (nobody
lies, no defence), minus welfare (positive: worse). **welfare_loss_all**: the same over every
citizen, liars included. A defence that fines liars in kind (an audit cuts a caught citizen's
claim) hands their goods to the truthful: their welfare can then beat the honest run
(negative welfare_loss) while everyone's does not (welfare_loss_all counts the fined liars).
**liars_gain**: the mean share of need the liars received beyond the truthful's;
**unit_slack**: inputs allotted beyond true use, over true use; **daily_precision /
daily_recall**: of each night's flags against that night's misreporters;
**settled_*_factor**: the factor the liars reported (before the defences) over the last
quarter of the days. Bands and `ci95`: 95% confidence intervals of the mean over seeds.
"""


def write_report(spec: StudySpec, table: pd.DataFrame, out_dir: str | os.PathLike[str],
                 sweep: dict[str, Any] | None = None, plots: bool = True) -> list[Path]:
    """Write ``report.md`` (and its figures unless ``plots`` is false); returns the files."""
    out = Path(out_dir)
    s = spec.study
    sweep = sweep or {}
    figures = _figures(table, out) if plots else []
    ran = (f"{sweep.get('runs', 0)} runs for {sweep.get('cases', 0)} cases ({sweep.get('ran', 0)} run now, "
           f"{sweep.get('found', 0)} found finished, {sweep.get('seconds', 0.0):.1f} s)")
    seeds = s.seed_list()
    parts = [f"# Study: {s.name}\n", f"{s.description}\n",
             f"Scenarios {', '.join(s.scenarios)}; seeds {seeds[0]}..{seeds[-1]} ({len(seeds)}); {s.days} days; "
             f"design {spec.design.method}. {ran}.\n", EXPLANATION,
             "## Welfare loss per defence (runs with liars)\n", markdown_table(defence_summary(table)),
             "## Every cell\n", markdown_table(cell_summary(table))]
    parts += [f"![{f.stem}]({f.name})\n" for f in figures]
    failed = int((table["error"].fillna("") != "").sum()) if "error" in table.columns else 0
    if failed:
        parts.append(f"{failed} runs failed: see the `error` column of outcomes.parquet.\n")
    path = out / "report.md"
    atomic_write_text(path, "\n".join(parts))
    return [path, *figures]


def _figures(table: pd.DataFrame, out: Path) -> list[Path]:
    ok = _ok(table)
    if ok.empty or "welfare_loss" not in ok.columns:
        return []
    import matplotlib

    matplotlib.use("Agg", force=False)
    files = [_save(_loss_figure(ok), out / "welfare_loss.png"), _save(_heatmap_figure(ok), out /
                                                                       "welfare_loss_heatmap.png")]
    adaptive = ok["citizen_strategy"].str.startswith("adaptive") | ok["unit_strategy"].str.startswith("adaptive")
    if adaptive.any():
        files.append(_save(_settled_figure(ok[adaptive | (ok["share"] == 0)]), out / "settled_factor.png"))
    return files


def _save(fig: Any, path: Path) -> Path:
    from innatura.abm.plots import save_figure

    return save_figure(fig, path)


def _panels(table: pd.DataFrame) -> tuple[list[str], list[str]]:
    scenarios = list(dict.fromkeys(table["scenario"]))
    mixes = list(dict.fromkeys(table.loc[table["share"] > 0, "mix"])) or list(dict.fromkeys(table["mix"]))
    return scenarios, mixes


def _in_mix(table: pd.DataFrame, mix: str) -> pd.DataFrame:
    """The runs of ``mix``, with the honest runs (share 0, shared by every mix)."""
    honest = table[table["share"] == 0].drop_duplicates(["scenario", "defence", "seed", "planner"])
    return pd.concat([honest.assign(mix=mix), table[(table["mix"] == mix) & (table["share"] > 0)]])


def _loss_figure(table: pd.DataFrame) -> Any:
    """Welfare loss against the share of liars: one line per defence with its 95% band."""
    import matplotlib.pyplot as plt

    scenarios, mixes = _panels(table)
    fig, axes = plt.subplots(len(scenarios), len(mixes), figsize=(1.5 + 4.2 * len(mixes), 0.6 + 3.2 * len(scenarios)),
                             squeeze=False, layout="constrained")
    defences = list(dict.fromkeys(table["defence"]))
    for i, scenario in enumerate(scenarios):
        for j, mix in enumerate(mixes):
            ax = axes[i][j]
            cell = _in_mix(table[table["scenario"] == scenario], mix)
            for k, defence in enumerate(defences):
                g = cell[cell["defence"] == defence].groupby("share")["welfare_loss"]
                mean, half = g.mean(), g.agg(_ci)
                x = mean.index.to_numpy(dtype=float)
                ax.plot(x, mean.to_numpy(), marker="o", markersize=3, color=f"C{k}", label=defence)
                ax.fill_between(x, (mean - half).to_numpy(), (mean + half).to_numpy(), color=f"C{k}", alpha=0.15,
                                linewidth=0)
            ax.axhline(0.0, color="0.3", linewidth=0.8)
            ax.set_title(f"{scenario}: {mix}", fontsize=10)
            ax.set_xlabel("share of liars")
            ax.set_ylabel("welfare loss of the truthful")
            ax.grid(True, alpha=0.3)
    axes[0][-1].legend(fontsize=8, frameon=False, title="defence", title_fontsize=8)
    fig.suptitle("Welfare loss against the honest run (mean and 95% band over seeds)")
    return fig


def _heatmap_figure(table: pd.DataFrame) -> Any:
    """Mean welfare loss by defence (rows) and share (columns), one panel per scenario and mix."""
    import matplotlib.pyplot as plt

    scenarios, mixes = _panels(table)
    defences = list(dict.fromkeys(table["defence"]))
    vmax = float(np.nanmax(np.abs(table["welfare_loss"].to_numpy(dtype=float)))) or 1.0
    fig, axes = plt.subplots(len(scenarios), len(mixes), figsize=(2.5 + 4.0 * len(mixes),
                                                                  0.8 + (0.9 + 0.4 * len(defences)) * len(scenarios)),
                             squeeze=False, layout="constrained")
    im = None
    for i, scenario in enumerate(scenarios):
        for j, mix in enumerate(mixes):
            ax = axes[i][j]
            cell = _in_mix(table[table["scenario"] == scenario], mix)
            grid = cell.pivot_table(index="defence", columns="share", values="welfare_loss", aggfunc="mean")
            grid = grid.reindex([d for d in defences if d in grid.index])
            values = grid.to_numpy(dtype=float)
            im = ax.imshow(values, cmap="RdBu_r", vmin=-vmax, vmax=vmax, aspect="auto")
            ax.set_xticks(range(grid.shape[1]), [f"{v:g}" for v in grid.columns])
            ax.set_yticks(range(grid.shape[0]), list(grid.index), fontsize=8)
            ax.set_xlabel("share of liars")
            ax.set_title(f"{scenario}: {mix}", fontsize=10)
            for (a, b), v in np.ndenumerate(values):
                if np.isfinite(v):
                    ax.text(b, a, f"{v:.2g}", ha="center", va="center", fontsize=7,
                            color="white" if abs(v) > 0.6 * vmax else "black")
    if im is not None:
        fig.colorbar(im, ax=axes.ravel().tolist(), label="welfare loss of the truthful")
    return fig


def _settled_figure(table: pd.DataFrame) -> Any:
    """Per scenario: the factor adaptive liars settled at under each defence (top), and the
    welfare loss of the truthful (bottom), means with 95% intervals over seeds."""
    import matplotlib.pyplot as plt

    liars = table[table["share"] > 0]
    scenarios = list(dict.fromkeys(liars["scenario"]))
    defences = list(dict.fromkeys(liars["defence"]))
    fig, axes = plt.subplots(2, len(scenarios), figsize=(1.5 + 0.9 * len(defences) * len(scenarios), 6.4),
                             squeeze=False, layout="constrained")
    x = np.arange(len(defences))
    for j, scenario in enumerate(scenarios):
        cell = liars[liars["scenario"] == scenario]
        top, bottom = axes[0][j], axes[1][j]
        for k, (column, label) in enumerate((("settled_citizen_factor", "citizens' demand factor"),
                                             ("settled_unit_factor", "units' input factor"))):
            g = cell.groupby("defence")[column]
            mean, half = g.mean().reindex(defences), g.agg(_ci).reindex(defences)
            top.bar(x + (k - 0.5) * 0.38, mean.to_numpy(dtype=float), 0.38, yerr=half.fillna(0).to_numpy(),
                    color=f"C{k}", label=label, capsize=2)
        top.axhline(1.0, color="0.3", linewidth=0.8)
        top.set_xticks(x, defences, rotation=30, ha="right", fontsize=8)
        top.set_ylabel("settled factor (1 = honest)")
        top.set_title(scenario, fontsize=10)
        g = cell.groupby("defence")["welfare_loss"]
        bottom.bar(x, g.mean().reindex(defences).to_numpy(dtype=float), 0.6,
                   yerr=g.agg(_ci).reindex(defences).fillna(0).to_numpy(), color="C3", capsize=2)
        bottom.axhline(0.0, color="0.3", linewidth=0.8)
        bottom.set_xticks(x, defences, rotation=30, ha="right", fontsize=8)
        bottom.set_ylabel("welfare loss of the truthful")
    axes[0][0].legend(fontsize=8, frameon=False)
    fig.suptitle("Where adaptive liars settle under each defence, and what it costs the truthful")
    return fig
