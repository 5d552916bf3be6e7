"""Figures of a run's shipments on the region graph, for ``innatura run``'s PNGs.

* :func:`shipments_figure`: per day, the units the plans shipped along the edges, what
  execution sent of them, everything the edges carried (the plan's shipments and execution's
  transport of what the plan did not foresee: model.csv's ``shipped``), and what was lost on
  the way (``transport_losses``);
* :func:`shipment_map_of_day`: the last day's planned and executed shipments per directed edge
  as two maps (:func:`abm.region_map.shipment_map_figure`), of all goods or of one good;
* :func:`write_shipment_figures`: both as ``shipments.png`` and ``shipment_map.png`` (and
  ``shipment_map_<good>.png`` for a good asked for) when the economy has edges.

The per-day totals come from the model's edge rows (``edges.parquet``); without them
(``collect_agents=False``) from model.csv's columns alone.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from innatura.abm.plots import FIGSIZE, MARGINS, no_data, save_figure
from innatura.abm.region_map import shipment_map_figure
from innatura.planner.errors import InvalidInputError
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

if TYPE_CHECKING:  # pragma: no cover
    from innatura.abm.model import PlanningEconomy

__all__ = ["check_goods", "daily_edge_totals", "shipment_map_of_day", "shipments_figure", "write_shipment_figures"]

logger = logging.getLogger(__name__)

#: per-day columns of :func:`daily_edge_totals`, with their legend labels and styles
SERIES = (
    ("planned", "planned by the plan", dict(color="C1", linestyle="--", linewidth=1.6)),
    ("followed", "executed of the plan's shipments", dict(color="C0", linewidth=2.0)),
    ("carried", "carried in all (model.csv shipped)", dict(color="0.35", linestyle=":", linewidth=1.6)),
)


def daily_edge_totals(edge_rows: Sequence[dict[str, np.ndarray]]) -> pd.DataFrame:
    """Per day, the sums over the edges of ``planned``, ``followed`` and ``carried`` (the
    model's ``edge_log``, one dict of columns per day); empty without rows."""
    if not edge_rows:
        return pd.DataFrame(columns=["day", "planned", "followed", "carried"])
    frame = pd.DataFrame({k: np.concatenate([r[k] for r in edge_rows]) for k in ("day", "planned", "followed",
                                                                              "carried")})
    return frame.groupby("day", as_index=False).sum()


def shipments_figure(model_df: pd.DataFrame, totals: pd.DataFrame | None = None) -> Figure:
    """Shipments per day: planned, executed and carried units (all goods and edges) above,
    transport losses below.

    Args:
        model_df: model-level rows with ``day``, ``shipped`` and ``transport_losses``.
        totals: :func:`daily_edge_totals` of the run (``planned`` and ``followed`` come only
            from it); default none.
    """
    fig = Figure(figsize=(FIGSIZE[0], FIGSIZE[1] * 1.35))
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2],
                               gridspec_kw={**MARGINS, "top": 0.93, "bottom": 0.1, "hspace": 0.3})
    for ax, title in ((top, "Shipments along the region graph, all goods"), (bottom, "Lost on the way")):
        ax.set_title(title, fontsize=11, loc="left")
        ax.grid(True, alpha=0.3, linewidth=0.6)
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(labelsize=9)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if totals is not None and not totals.empty:
        series = {c: totals[c].to_numpy(dtype=float) for c in ("planned", "followed", "carried")}
        days = totals["day"].to_numpy(dtype=float)
    else:
        series = {"carried": model_df["shipped"].to_numpy(dtype=float)} if "shipped" in model_df.columns else {}
        days = model_df["day"].to_numpy(dtype=float) if "day" in model_df.columns else np.zeros(0)
    if not series or not len(days):
        no_data(top, "shipments")
        no_data(bottom, "losses")
        return fig
    marker = "o" if len(days) < 3 else None
    for column, label, style in SERIES:
        if column in series and (column != "planned" or series[column].any()):
            top.plot(days, series[column], label=label, marker=marker, **style)
    top.set_ylabel("units per day", fontsize=9)
    top.legend(fontsize=8, frameon=False, loc="best")
    if "transport_losses" in model_df.columns:
        bottom.plot(model_df["day"].to_numpy(dtype=float), model_df["transport_losses"].to_numpy(dtype=float),
                    color="C3", linewidth=1.8, marker=marker)
        bottom.set_ylabel("units per day", fontsize=9)
    else:
        no_data(bottom, "losses")
    bottom.set_xlabel("day", fontsize=9)
    return fig


def check_goods(model: PlanningEconomy, goods: Sequence[str], field: str = "goods") -> tuple[str, ...]:
    """``goods`` as a tuple, once each, after checking that each is a good of ``model``.

    Raises:
        InvalidInputError: naming ``field`` and the unknown good, with some of the known ones.
    """
    known = model.layout.goods
    for good in goods:
        if good not in known:
            raise InvalidInputError(f"{field}: {good!r} is not one of the economy's goods "
                                    f"({', '.join(known[:8])}{', ...' if len(known) > 8 else ''})")
    return tuple(dict.fromkeys(goods))


def shipment_map_of_day(model: PlanningEconomy, good: str | None = None) -> Figure | None:
    """The last day's planned and executed shipments per directed edge, regions coloured by
    their fulfilment that day; of all goods, or of ``good`` (a good's name). ``None`` before
    the first day.

    Raises:
        InvalidInputError: ``good`` is not a good of the economy.
    """
    lay = model.layout
    check_goods(model, () if good is None else (good,), "shipment map")
    shipments = model.last_shipments
    if shipments is None:
        return None
    nodes = list(lay.graph.nodes)
    edges = [(nodes[a], nodes[b]) for a, b in zip(lay.edge_src.tolist(), lay.edge_dst.tolist(), strict=True)]
    labels = {node: lay.regions[i] for i, node in enumerate(nodes)}
    planned, executed = shipments.of_good(None if good is None else lay.goods.index(good))
    row = model.metrics
    value = {node: float(row[f"fulfilment_region:{name}"]) for node, name in labels.items()
             if f"fulfilment_region:{name}" in row}
    return shipment_map_figure(lay.graph, edges, planned, executed, value, what=good or "all goods",
                               labels=labels)


def _file_name(good: str) -> str:
    return "shipment_map_" + re.sub(r"[^A-Za-z0-9_.-]+", "_", good).strip("_") + ".png"


def write_shipment_figures(model: PlanningEconomy, out_dir: Path | str, *, goods: Sequence[str] = (),
                           dpi: int = 120) -> list[Path]:
    """Write ``shipments.png`` and ``shipment_map.png`` into ``out_dir`` (nothing for an
    economy without edges), and ``shipment_map_<good>.png`` for each of ``goods``; returns the
    paths written. The maps need the last day in memory (not after a resume without a day)."""
    if model.layout.edge_src.size == 0:
        logger.info("skipping the shipment figures: the economy has no edges")
        return []
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = [save_figure(shipments_figure(model.model_frame(), daily_edge_totals(model.edge_log)),
                           out / "shipments.png", dpi=dpi)]
    for good, name in ((None, "shipment_map.png"), *((g, _file_name(g)) for g in goods)):
        fig = shipment_map_of_day(model, good)
        if fig is not None:
            written.append(save_figure(fig, out / name, dpi=dpi))
    return written
