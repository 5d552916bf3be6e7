"""The misreporting sweep's summary table and heatmaps, from its ``runs.parquet`` table.

* :func:`summary_table`: one row per (planner, strategy, share, defence): runs, mean welfare
  loss of the truthful citizens (and its spread over seeds), humanity loss, precision, recall.
* :func:`summary_markdown`: that table as GitHub markdown (``DIR/summary.md``).
* :func:`write_heatmaps`: per planner, one PNG of the mean welfare loss by share (columns) x
  defence (rows), one panel per strategy (share 0, the honest cell, is shared by all).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd
from innatura.planner.atomic import atomic_path

__all__ = ["summary_markdown", "summary_table", "write_heatmaps"]

logger = logging.getLogger(__name__)

_KEYS = ["planner", "strategy", "share", "defence"]


def summary_table(table: pd.DataFrame) -> pd.DataFrame:
    """Aggregate the runs over seeds (``nan`` metrics, e.g. undefined precision, are skipped)."""
    if table.empty:
        return pd.DataFrame(columns=[*_KEYS, "runs"])
    ok = table[table.get("error", pd.Series("", index=table.index)).fillna("") == ""]
    failed = table.groupby(_KEYS).size().sub(ok.groupby(_KEYS).size(), fill_value=0).rename("failed")
    g = ok.groupby(_KEYS)
    out = pd.DataFrame({
        "runs": g.size(),
        "welfare": g["welfare"].mean(),
        "welfare_loss": g["welfare_loss"].mean(),
        "welfare_loss_sd": g["welfare_loss"].std(ddof=1),
        "humanity_loss": g["humanity_loss"].mean(),
        "precision": g["all_precision"].mean(),
        "recall": g["all_recall"].mean(),
    })
    out = out.join(failed, how="outer").fillna({"runs": 0, "failed": 0})
    out[["runs", "failed"]] = out[["runs", "failed"]].astype(int)
    return out.reset_index().sort_values(_KEYS, ignore_index=True)


def summary_markdown(summary: pd.DataFrame) -> str:
    """The summary as a markdown table (numbers to 4 significant digits, ``-`` for ``nan``)."""
    cols = list(summary.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in summary.itertuples(index=False):
        cells = []
        for v in row:
            if isinstance(v, float | np.floating):
                cells.append("-" if np.isnan(v) else f"{v:.4g}")
            else:
                cells.append(str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_heatmaps(summary: pd.DataFrame, out_dir: str | os.PathLike[str],
                   defences: list[str] | None = None) -> list[Path]:
    """One PNG per planner, ``welfare_loss_<planner>.png``: welfare loss by share x defence.

    Args:
        summary: :func:`summary_table`.
        out_dir: where the PNGs go.
        defences: row order (default: ``none`` first, then as found).

    Returns:
        The files written (each written to a temporary name and moved into place).
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    files: list[Path] = []
    if summary.empty:
        return files
    losses = np.abs(summary["welfare_loss"].to_numpy(dtype=float))
    vmax = float(np.nanmax(losses)) if np.isfinite(losses).any() else 1.0
    vmax = vmax if vmax > 0 else 1.0
    for planner, sub in summary.groupby("planner"):
        honest = sub[sub["strategy"] == "honest"]
        strategies = [s for s in sub["strategy"].unique() if s != "honest"] or ["honest"]
        found = list(dict.fromkeys(sub["defence"]))
        order = [d for d in (defences or sorted(found, key=lambda d: d != "none")) if d in found]
        fig, axes = plt.subplots(1, len(strategies), figsize=(2.2 + 2.8 * len(strategies), 1.6 + 0.45 * len(order)),
                                 squeeze=False, sharey=True, layout="constrained")
        for ax, strat in zip(axes[0], strategies, strict=True):
            cell = pd.concat([honest, sub[sub["strategy"] == strat]]) if strat != "honest" else honest
            grid = cell.pivot_table(index="defence", columns="share", values="welfare_loss", aggfunc="mean")
            grid = grid.reindex([d for d in order if d in grid.index])
            im = ax.imshow(grid.to_numpy(dtype=float), cmap="RdBu_r", vmin=-vmax, vmax=vmax, aspect="auto")
            ax.set_xticks(range(grid.shape[1]), [f"{s:g}" for s in grid.columns])
            ax.set_yticks(range(grid.shape[0]), list(grid.index))
            ax.set_xlabel("misreporting share")
            ax.set_title(strat)
            for (i, j), v in np.ndenumerate(grid.to_numpy(dtype=float)):
                if np.isfinite(v):
                    ax.text(j, i, f"{v:.2g}", ha="center", va="center", fontsize=7,
                            color="white" if abs(v) > 0.6 * vmax else "black")
        axes[0][0].set_ylabel("defence")
        fig.colorbar(im, ax=axes[0].tolist(), label="welfare loss of truthful citizens")
        fig.suptitle(f"planner: {planner}")
        path = out / f"welfare_loss_{planner}.png"
        with atomic_path(path, suffix=".png") as tmp:
            fig.savefig(tmp, dpi=110)
        plt.close(fig)
        files.append(path)
    return files
