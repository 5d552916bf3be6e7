"""Figures of a run: model-level data (``docs/model.md``, "Collected data") -> matplotlib.

One implementation, two uses: the browser view (``viz/components.py``) shows these figures
live, and ``innatura run`` writes them as PNGs with :func:`write_run_figures`. Every function
takes a DataFrame with the documented model-level columns (``day``, ``humanity``,
``inventory:<good>``, ...) and returns a :class:`matplotlib.figure.Figure`; nothing goes
through ``pyplot``, so the functions are safe in a server's threads and never open windows.
Missing columns or an empty frame give a figure that says so instead of an error. The region
map lives in :mod:`abm.region_map`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from innatura.planner.atomic import atomic_path
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import LogLocator, MaxNLocator, NullLocator

__all__ = [
    "columns_with_prefix",
    "detection_figure",
    "fulfilment_figure",
    "humanity_figure",
    "inventory_figure",
    "misreport_figure",
    "new_figure",
    "no_data",
    "production_figure",
    "report_gap_figure",
    "save_figure",
    "write_run_figures",
]

logger = logging.getLogger(__name__)

#: Default size of one figure, inches (readable at 100 dpi in a half-width panel).
FIGSIZE = (6.4, 3.6)
#: Fixed margins (fractions of the figure): much cheaper to draw than a layout engine, which
#: measures every tick label twice per draw.
MARGINS = dict(left=0.12, right=0.97, top=0.9, bottom=0.14)
#: Positive values spanning more than this ratio get a logarithmic axis.
LOG_RATIO = 1e3


def new_figure(title: str, figsize: tuple[float, float] = FIGSIZE) -> tuple[Figure, Axes]:
    """A figure with one axes in the house style (fixed margins, light grid, titled)."""
    fig = Figure(figsize=figsize)
    fig.subplots_adjust(**MARGINS)
    ax = fig.add_subplot()
    _style(ax, title)
    return fig, ax


def _style(ax: Axes, title: str) -> None:
    ax.set_title(title, fontsize=11, loc="left")
    ax.grid(True, alpha=0.3, linewidth=0.6)
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=9)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.ticklabel_format(axis="y", useOffset=False)


def no_data(ax: Axes, what: str) -> None:
    """Mark ``ax`` as empty: "no WHAT yet", no ticks."""
    ax.text(0.5, 0.5, f"no {what} yet", ha="center", va="center", transform=ax.transAxes, color="0.45")
    ax.set_xticks([])
    ax.set_yticks([])


def _days(df: pd.DataFrame) -> np.ndarray:
    """The ``day`` column, or 1, 2, ... when a frame lacks it."""
    if "day" in df.columns:
        return df["day"].to_numpy(dtype=float)
    return np.arange(1, len(df) + 1, dtype=float)


def _day_axis(ax: Axes, days: np.ndarray) -> None:
    """Whole-day ticks; a short run still gets an axis a few days wide."""
    if days.size and np.ptp(days) < 4:
        ax.set_xlim(days.min() - 0.5, days.min() + 4.5)


def _auto_log(ax: Axes, values: np.ndarray) -> None:
    """Log y-axis when the positive values span more than :data:`LOG_RATIO`."""
    positive = values[np.isfinite(values) & (values > 0)]
    if positive.size and positive.max() / positive.min() > LOG_RATIO:
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(numticks=6))
        ax.yaxis.set_minor_locator(NullLocator())


def columns_with_prefix(df: pd.DataFrame, prefix: str) -> dict[str, str]:
    """``{name: column}`` for the columns ``<prefix><name>`` in column order."""
    return {c[len(prefix) :]: c for c in df.columns if isinstance(c, str) and c.startswith(prefix)}


def _key(columns: Mapping[str, str], df: pd.DataFrame, goods: Sequence[str] | None, max_goods: int) -> list[str]:
    """The goods to draw: ``goods`` if given, else the ``max_goods`` with the largest peak."""
    if goods is not None:
        return [g for g in goods if g in columns]
    names = list(columns)
    if len(names) <= max_goods:
        return names
    peaks = {g: np.nanmax(np.abs(df[columns[g]].to_numpy(dtype=float))) for g in names}
    return sorted(names, key=lambda g: -np.nan_to_num(peaks[g], nan=-np.inf))[:max_goods]


def humanity_figure(df: pd.DataFrame) -> Figure:
    """Humanity (OLIN-EP Eq. 5), executed and planned, over days; cumulative externalities (Eq. 6).

    Args:
        df: model-level rows with ``day``, ``humanity``, ``planned_humanity``,
            ``min_fulfilment``, ``externalities`` (any may be missing).

    Returns:
        A figure with two panels: humanity (log scale when it spans decades) and externalities.
    """
    fig = Figure(figsize=(FIGSIZE[0], FIGSIZE[1] * 1.35))
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2],
                               gridspec_kw={**MARGINS, "top": 0.93, "bottom": 0.1, "hspace": 0.3})
    _style(top, "Humanity (Eq. 5)")
    _style(bottom, "Externalities, cumulative (Eq. 6)")
    if df.empty:
        no_data(top, "days")
        no_data(bottom, "days")
        return fig
    days = _days(df)
    drawn = []
    for column, label, style in (
        ("humanity", "executed", dict(color="C0", linewidth=2)),
        ("planned_humanity", "planned", dict(color="C1", linestyle="--", linewidth=1.4)),
        ("min_fulfilment", "min. fulfilment", dict(color="C2", linestyle=":", linewidth=1.4)),
    ):
        if column in df.columns:
            values = df[column].to_numpy(dtype=float)
            top.plot(days, values, label=label, marker="o" if len(df) < 3 else None, **style)
            drawn.append(values)
    if drawn:
        _auto_log(top, np.concatenate(drawn))
        top.legend(fontsize=8, loc="best", frameon=False)
        top.set_ylabel("humanity", fontsize=9)
    else:
        no_data(top, "humanity")
    if "externalities" in df.columns:
        bottom.plot(days, df["externalities"].to_numpy(dtype=float), color="C3", linewidth=2,
                    marker="o" if len(df) < 3 else None)
        bottom.set_ylabel("externalities", fontsize=9)
    else:
        no_data(bottom, "externalities")
    bottom.set_xlabel("day", fontsize=9)
    _day_axis(bottom, days)
    return fig


def fulfilment_figure(df: pd.DataFrame) -> Figure:
    """Share of each profile's bundle delivered (``fulfilment:<profile>``) over days."""
    fig, ax = new_figure("Fulfilment per profile")
    columns = columns_with_prefix(df, "fulfilment:")
    if df.empty or not columns:
        no_data(ax, "fulfilment")
        return fig
    days = _days(df)
    for i, (profile, column) in enumerate(columns.items()):
        ax.plot(days, df[column].to_numpy(dtype=float), label=profile, color=f"C{i % 10}", linewidth=1.6,
                marker="o" if len(df) < 3 else None)
    ax.set_ylim(-0.02, 1.05)
    ax.set_xlabel("day", fontsize=9)
    _day_axis(ax, days)
    ax.set_ylabel("share delivered", fontsize=9)
    ax.legend(fontsize=8, frameon=False, ncols=min(3, len(columns)))
    return fig


def inventory_figure(df: pd.DataFrame, goods: Sequence[str] | None = None, max_goods: int = 6) -> Figure:
    """Closing stock of key goods (``inventory:<good>``), all regions, over days.

    Args:
        df: model-level rows.
        goods: goods to draw; default the ``max_goods`` with the largest peak stock.
        max_goods: how many goods at most when ``goods`` is not given.
    """
    fig, ax = new_figure("Inventory (closing stock)")
    columns = columns_with_prefix(df, "inventory:")
    chosen = _key(columns, df, goods, max_goods) if not df.empty else []
    if not chosen:
        no_data(ax, "inventory")
        return fig
    days = _days(df)
    values = []
    for i, good in enumerate(chosen):
        y = df[columns[good]].to_numpy(dtype=float)
        ax.plot(days, y, label=good, color=f"C{i % 10}", linewidth=1.6, marker="o" if len(df) < 3 else None)
        values.append(y)
    _auto_log(ax, np.concatenate(values))
    ax.set_xlabel("day", fontsize=9)
    _day_axis(ax, days)
    ax.set_ylabel("units", fontsize=9)
    ax.legend(fontsize=8, frameon=False, ncols=min(3, len(chosen)))
    return fig


def production_figure(df: pd.DataFrame, goods: Sequence[str] | None = None, max_goods: int = 6) -> Figure:
    """Planned (dashed) against executed (solid) production of key goods over days.

    The gap between the two lines is the plan error of ``docs/model.md``: units short of an
    input, or reports that overstated what a unit can do.
    """
    fig, ax = new_figure("Production: planned (dashed) vs executed (solid)")
    planned = columns_with_prefix(df, "planned:")
    executed = columns_with_prefix(df, "executed:")
    both = {g: planned[g] for g in planned if g in executed}
    chosen = _key(both, df, goods, max_goods) if not df.empty else []
    if not chosen:
        no_data(ax, "production")
        return fig
    days = _days(df)
    values = []
    for i, good in enumerate(chosen):
        colour = f"C{i % 10}"
        p = df[planned[good]].to_numpy(dtype=float)
        e = df[executed[good]].to_numpy(dtype=float)
        marker = "o" if len(df) < 3 else None
        ax.plot(days, e, color=colour, linewidth=1.8, label=good, marker=marker)
        ax.plot(days, p, color=colour, linewidth=1.2, linestyle="--", marker=marker)
        values.extend([p, e])
    _auto_log(ax, np.concatenate(values))
    ax.set_xlabel("day", fontsize=9)
    _day_axis(ax, days)
    ax.set_ylabel("units per day", fontsize=9)
    ax.legend(fontsize=8, frameon=False, ncols=min(3, len(chosen)))
    return fig


def _flags(df: pd.DataFrame) -> np.ndarray:
    return df["misreport_flags"].to_numpy(dtype=float) if "misreport_flags" in df.columns else np.zeros(len(df))


def detection_figure(df: pd.DataFrame) -> Figure:
    """Detection over time: reports flagged each night (bars) and the precision and recall of
    the flags against who misreported that night (lines, right axis; docs/model.md)."""
    fig, ax = new_figure("Detection: flags, precision and recall")
    if df.empty or "misreport_flags" not in df.columns:
        no_data(ax, "misreport flags")
        return fig
    days = _days(df)
    flags = _flags(df)
    ax.bar(days, flags, width=0.8, color="C4", alpha=0.75, label="flagged reports")
    if "misreporters" in df.columns:
        ax.plot(days, df["misreporters"].to_numpy(dtype=float), color="C4", linestyle=":", linewidth=1.2,
                label="misreporters")
    ax.set_xlabel("day", fontsize=9)
    _day_axis(ax, days)
    ax.set_ylabel("agents", fontsize=9, color="C4")
    top = max(flags.max(initial=0.0), df.get("misreporters", pd.Series([0.0])).max())
    ax.set_ylim(0, max(1.0, 1.15 * float(np.nan_to_num(top))))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    handles, labels = ax.get_legend_handles_labels()
    rates = [c for c in ("detection_precision", "detection_recall") if c in df.columns]
    if rates:
        fig.subplots_adjust(right=0.88)
        twin = ax.twinx()
        for column, colour in zip(rates, ("C0", "C3"), strict=False):
            twin.plot(days, df[column].to_numpy(dtype=float), color=colour, linewidth=1.4, marker="o" if len(df) < 3
                      else None, label=column.removeprefix("detection_"))
        twin.set_ylim(0, 1.05)
        twin.set_ylabel("precision / recall", fontsize=9)
        twin.spines[["top"]].set_visible(False)
        twin.tick_params(labelsize=9)
        h2, l2 = twin.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
    ax.legend(handles, labels, fontsize=8, frameon=False, loc="upper left", ncol=2)
    return fig


#: the report statistics drawn by :func:`report_gap_figure`: column -> label.
GAP_COLUMNS = {"report_demand_factor": "citizens' demand (reported / true)",
               "report_input_factor": "units' inputs (reported / true)",
               "report_capacity_ratio": "units' capacity (reported / true)"}


def report_gap_figure(df: pd.DataFrame) -> Figure:
    """Reported against true, each night: the mean demand factor of the citizens, input factor
    and capacity ratio of the units (1: truthful), and the liars' gain when it is known."""
    fig, ax = new_figure("Misreporting: reported vs true")
    present = {c: lab for c, lab in GAP_COLUMNS.items() if c in df.columns}
    if df.empty or not present:
        no_data(ax, "reports")
        return fig
    days = _days(df)
    for k, (column, label) in enumerate(present.items()):
        ax.plot(days, df[column].to_numpy(dtype=float), color=f"C{k}", linewidth=1.5,
                marker="o" if len(df) < 3 else None, label=label)
    if "liars_gain" in df.columns and np.isfinite(df["liars_gain"].to_numpy(dtype=float)).any():
        ax.plot(days, 1.0 + df["liars_gain"].to_numpy(dtype=float), color="C3", linestyle="--", linewidth=1.2,
                label="1 + liars' gain (share of need over the truthful)")
    ax.axhline(1.0, color="0.3", linewidth=0.8)
    ax.set_xlabel("day", fontsize=9)
    _day_axis(ax, days)
    ax.set_ylabel("ratio (1 = truthful)", fontsize=9)
    ax.legend(fontsize=8, frameon=False, loc="best")
    return fig


def misreport_figure(df: pd.DataFrame) -> Figure:
    """What misreporting did: :func:`detection_figure` when a defence or the validation flagged
    some report, else :func:`report_gap_figure` (how far the reports were from the truth)."""
    if not df.empty and "misreport_flags" in df.columns and np.nansum(_flags(df)) > 0:
        return detection_figure(df)
    return report_gap_figure(df)


#: file name -> figure function, for :func:`write_run_figures`.
RUN_FIGURES = {
    "humanity.png": humanity_figure,
    "fulfilment.png": fulfilment_figure,
    "inventory.png": inventory_figure,
    "production.png": production_figure,
    "misreports.png": misreport_figure,
}


def save_figure(fig: Figure, path: Path | str, *, dpi: int = 110) -> Path:
    """Write ``fig`` to ``path`` as a PNG atomically (an interrupted write leaves the old file)
    and close it; returns the path."""
    import matplotlib.pyplot as plt

    with atomic_path(Path(path), suffix=".png") as tmp:
        fig.savefig(tmp, dpi=dpi, format="png")
    plt.close(fig)
    return Path(path)


def write_run_figures(model_df: pd.DataFrame, out_dir: Path | str, *, dpi: int = 120) -> list[Path]:
    """Write the run's figures as PNGs into ``out_dir``; returns the paths written.

    Writes ``humanity.png``, ``fulfilment.png``, ``inventory.png``, ``production.png`` and
    ``misreports.png``, each only when ``model_df`` has the columns it draws.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    needs = {
        "humanity.png": lambda df: "humanity" in df.columns,
        "fulfilment.png": lambda df: bool(columns_with_prefix(df, "fulfilment:")),
        "inventory.png": lambda df: bool(columns_with_prefix(df, "inventory:")),
        "production.png": lambda df: bool(columns_with_prefix(df, "executed:")),
        "misreports.png": lambda df: "misreport_flags" in df.columns,
    }
    written = []
    for name, make in RUN_FIGURES.items():
        if not needs[name](model_df):
            logger.info("skipping %s: no columns for it", name)
            continue
        path = out / name
        save_figure(make(model_df), path, dpi=dpi)
        written.append(path)
    return written
