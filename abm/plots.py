"""Figures of a run: model-level data (``docs/model.md``, "Collected data") -> matplotlib.

One implementation, two uses: the browser view (``viz/components.py``) shows these figures
live, and ``innatura run`` writes them as PNGs with :func:`write_run_figures`. Every function
takes a DataFrame with the documented model-level columns (``day``, ``humanity``,
``inventory:<good>``, ...) and returns a :class:`matplotlib.figure.Figure`; nothing goes
through ``pyplot``, so the functions are safe in a server's threads and never open windows.
Missing columns or an empty frame give a figure that says so instead of an error.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

__all__ = [
    "columns_with_prefix",
    "humanity_figure",
    "fulfilment_figure",
    "inventory_figure",
    "production_figure",
    "misreport_figure",
    "region_network_figure",
    "write_run_figures",
]

logger = logging.getLogger(__name__)

#: Default size of one figure, inches (readable at 100 dpi in a half-width panel).
FIGSIZE = (6.4, 3.6)
#: Positive values spanning more than this ratio get a logarithmic axis.
LOG_RATIO = 1e3


def _new_figure(title: str, figsize: tuple[float, float] = FIGSIZE) -> tuple[Figure, Axes]:
    fig = Figure(figsize=figsize, layout="constrained")
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


def _no_data(ax: Axes, what: str) -> None:
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
    fig = Figure(figsize=(FIGSIZE[0], FIGSIZE[1] * 1.35), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    _style(top, "Humanity (Eq. 5)")
    _style(bottom, "Externalities, cumulative (Eq. 6)")
    if df.empty:
        _no_data(top, "days")
        _no_data(bottom, "days")
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
        _no_data(top, "humanity")
    if "externalities" in df.columns:
        bottom.plot(days, df["externalities"].to_numpy(dtype=float), color="C3", linewidth=2,
                    marker="o" if len(df) < 3 else None)
        bottom.set_ylabel("externalities", fontsize=9)
    else:
        _no_data(bottom, "externalities")
    bottom.set_xlabel("day", fontsize=9)
    _day_axis(bottom, days)
    return fig


def fulfilment_figure(df: pd.DataFrame) -> Figure:
    """Share of each profile's bundle delivered (``fulfilment:<profile>``) over days."""
    fig, ax = _new_figure("Fulfilment per profile")
    columns = columns_with_prefix(df, "fulfilment:")
    if df.empty or not columns:
        _no_data(ax, "fulfilment")
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
    fig, ax = _new_figure("Inventory (closing stock)")
    columns = columns_with_prefix(df, "inventory:")
    chosen = _key(columns, df, goods, max_goods) if not df.empty else []
    if not chosen:
        _no_data(ax, "inventory")
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
    fig, ax = _new_figure("Production: planned (dashed) vs executed (solid)")
    planned = columns_with_prefix(df, "planned:")
    executed = columns_with_prefix(df, "executed:")
    both = {g: planned[g] for g in planned if g in executed}
    chosen = _key(both, df, goods, max_goods) if not df.empty else []
    if not chosen:
        _no_data(ax, "production")
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


def misreport_figure(df: pd.DataFrame) -> Figure:
    """Reports flagged as invalid or suspicious each night (bars) and the plan error (line)."""
    fig, ax = _new_figure("Misreport flags and plan error")
    if df.empty or "misreport_flags" not in df.columns:
        _no_data(ax, "misreport flags")
        return fig
    days = _days(df)
    flags = df["misreport_flags"].to_numpy(dtype=float)
    ax.bar(days, flags, width=0.8, color="C4", alpha=0.75, label="flagged reports")
    ax.set_xlabel("day", fontsize=9)
    _day_axis(ax, days)
    ax.set_ylabel("flagged reports", fontsize=9, color="C4")
    ax.set_ylim(0, max(1.0, 1.15 * float(np.nanmax(flags, initial=0.0))))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    handles, labels = ax.get_legend_handles_labels()
    if "plan_error" in df.columns:
        twin = ax.twinx()
        twin.plot(days, df["plan_error"].to_numpy(dtype=float), color="0.2", linewidth=1.4,
                  marker="o" if len(df) < 3 else None, label="plan error")
        twin.set_ylabel("plan error (rel. L1)", fontsize=9)
        error = df["plan_error"].to_numpy(dtype=float)
        twin.set_ylim(0, max(0.01, 1.15 * float(np.nanmax(error, initial=0.0))))
        twin.spines[["top"]].set_visible(False)
        twin.tick_params(labelsize=9)
        h2, l2 = twin.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
    ax.legend(handles, labels, fontsize=8, frameon=False, loc="upper left")
    return fig


def region_network_figure(
    graph: nx.Graph,
    value: Mapping[Hashable, float],
    population: Mapping[Hashable, float],
    shipped: Mapping[tuple[Hashable, Hashable], float] | None = None,
    *,
    value_label: str = "fulfilment",
    labels: Mapping[Hashable, str] | None = None,
    pos: Mapping[Hashable, Sequence[float]] | None = None,
    title: str | None = None,
) -> Figure:
    """The region graph: colour = ``value`` in [0, 1], size = population, width = goods shipped.

    Args:
        graph: regions as nodes, transport links as edges.
        value: per region, the share shown by colour (fulfilment or humanity), in [0, 1];
            a region without a value is grey.
        population: citizens per region (node area grows with it).
        shipped: units moved along each edge today, keyed ``(u, v)`` in either order.
        value_label: name of ``value`` for the colour bar.
        labels: display names; default ``str(node)``.
        pos: node positions; default a deterministic Kamada-Kawai layout.
        title: figure title.
    """
    fig, ax = _new_figure(title or f"Regions: colour = {value_label}, size = population, width = shipped",
                          figsize=(FIGSIZE[0], FIGSIZE[1] * 1.25))
    ax.grid(False)
    ax.spines[:].set_visible(False)
    ax.set_xticks([])
    ax.set_yticks([])
    nodes = list(graph.nodes)
    if not nodes:
        _no_data(ax, "regions")
        return fig
    if pos is None:
        pos = nx.kamada_kawai_layout(graph) if len(nodes) > 2 else nx.circular_layout(graph)
    cmap = colormaps["RdYlGn"]
    norm = Normalize(0.0, 1.0)
    colours = [cmap(norm(value[n])) if n in value and np.isfinite(value[n]) else (0.75, 0.75, 0.75, 1.0)
               for n in nodes]
    pops = np.array([float(population.get(n, 0.0)) for n in nodes])
    sizes = 300 + 1700 * np.sqrt(pops / pops.max()) if pops.max() > 0 else np.full(len(nodes), 600.0)
    shipped = shipped or {}
    edges = list(graph.edges)
    flow = np.array([float(shipped.get((u, v), shipped.get((v, u), 0.0))) for u, v in edges])
    top = flow.max() if flow.size and flow.max() > 0 else 1.0
    widths = 0.8 + 7.0 * flow / top
    nx.draw_networkx_edges(graph, pos, ax=ax, edgelist=edges, width=widths, edge_color="0.55",
                           style=["solid" if f > 0 else "dashed" for f in flow] or "solid")
    nx.draw_networkx_nodes(graph, pos, ax=ax, nodelist=nodes, node_size=sizes, node_color=colours,
                           edgecolors="0.2", linewidths=1.0)
    if 0 < len(edges) <= 16:
        nx.draw_networkx_edge_labels(graph, pos, ax=ax, font_size=7, font_color="0.3",
                                     edge_labels={e: f"{f:,.0f}" for e, f in zip(edges, flow) if f > 0},
                                     bbox=dict(facecolor="white", edgecolor="none", alpha=0.7, pad=0.5))
    xs = np.array([pos[n][0] for n in nodes])
    ys = np.array([pos[n][1] for n in nodes])
    span = max(np.ptp(ys), np.ptp(xs), 1e-9)
    for n, x, y, size in zip(nodes, xs, ys, sizes):
        name = labels[n] if labels and n in labels else str(n)
        v = value.get(n)
        text = f"{name}\n{v:.0%} · {population.get(n, 0):,.0f}" if v is not None and np.isfinite(v) else name
        ax.annotate(text, (x, y), xytext=(0, -np.sqrt(size) / 2 - 4), textcoords="offset points",
                    ha="center", va="top", fontsize=8,
                    bbox=dict(boxstyle="round,pad=0.2", facecolor="white", edgecolor="none", alpha=0.85))
    ax.set_xlim(xs.min() - 0.2 * span, xs.max() + 0.2 * span)
    ax.set_ylim(ys.min() - 0.3 * span, ys.max() + 0.15 * span)
    bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.8, pad=0.01)
    bar.set_label(value_label, fontsize=9)
    bar.ax.tick_params(labelsize=8)
    return fig


#: file name -> figure function, for :func:`write_run_figures`.
RUN_FIGURES = {
    "humanity.png": humanity_figure,
    "fulfilment.png": fulfilment_figure,
    "inventory.png": inventory_figure,
    "production.png": production_figure,
    "misreports.png": misreport_figure,
}


def _save(fig: Figure, path: Path, dpi: int) -> None:
    """Write ``fig`` to ``path`` atomically (temporary file + ``os.replace``)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".png", dir=path.parent)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=dpi, format="png")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


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
        _save(make(model_df), path, dpi)
        written.append(path)
    return written
