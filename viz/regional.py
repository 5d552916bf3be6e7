"""What the browser view shows of the regional plan: shipments per edge and what holds each region back.

Pure functions of an :class:`~viz.view_model.EconomyView` (no solara), drawn by the panels of
:mod:`viz.components`:

* :func:`shipment_choices` and :func:`shipment_figure`: the last day's planned and executed
  shipments per directed edge (:attr:`abm.model.PlanningEconomy.last_shipments`), of all goods
  or of one good, as two maps (:func:`abm.region_map.shipment_map_figure`);
* :func:`diagnostics_table` and :func:`region_holdbacks`: the night's binding constraints and
  their shadow prices per region and good, and the decomposed method's bottleneck
  (:func:`abm.regional.plan_diagnostics`, the rows of ``diagnostics.parquet``), all of them
  and the one that holds each region back most.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable

import numpy as np
import pandas as pd
from innatura.abm import region_map
from innatura.viz.view_model import EconomyView
from matplotlib.figure import Figure

__all__ = ["ALL_GOODS", "MAX_GOOD_CHOICES", "diagnostics_table", "region_holdbacks", "shipment_choices",
           "shipment_figure"]

logger = logging.getLogger(__name__)

#: The choice of the goods selector that draws all goods together.
ALL_GOODS = "all goods"
#: The goods selector lists at most this many goods (those shipped most on the last day).
MAX_GOOD_CHOICES = 40


def shipment_choices(view: EconomyView) -> list[str]:
    """The goods selector's choices: :data:`ALL_GOODS`, then the goods the last day's plan
    shipped or execution sent of its shipments, the largest volume first (at most
    :data:`MAX_GOOD_CHOICES`); only :data:`ALL_GOODS` before the first day or without a
    regional plan."""
    economy = view.economy
    if economy is None or economy.last_shipments is None:
        return [ALL_GOODS]
    shipments = economy.last_shipments
    goods = economy.layout.goods
    return [ALL_GOODS, *(goods[g] for g in shipments.goods_by_volume()[:MAX_GOOD_CHOICES])]


def shipment_figure(view: EconomyView, good: str = ALL_GOODS) -> Figure | None:
    """Planned and executed shipments of the last day per directed edge, of ``good`` (a good's
    name or :data:`ALL_GOODS`); regions coloured by their fulfilment. ``None`` without an
    economy; before the first day the maps show the graph with nothing shipped."""
    economy = view.economy
    if economy is None:
        return None
    lay = economy.layout
    nodes: list[Hashable] = list(lay.graph.nodes)
    edges = [(nodes[a], nodes[b]) for a, b in zip(lay.edge_src.tolist(), lay.edge_dst.tolist(), strict=True)]
    labels = {node: lay.regions[i] for i, node in enumerate(nodes)}
    shipments = economy.last_shipments
    index = lay.goods.index(good) if good in lay.goods else None
    if shipments is None:
        planned, executed = None, np.zeros(len(edges))
    else:
        planned, executed = shipments.of_good(index)
    value: dict[Hashable, float] = {}
    df = view.frame()
    if not df.empty:
        last = df.iloc[-1]
        value = {node: float(last[f"fulfilment_region:{name}"]) for node, name in labels.items()
                 if f"fulfilment_region:{name}" in last.index}
    return region_map.shipment_map_figure(lay.graph, edges, planned, executed, value,
                                          what=ALL_GOODS if index is None else lay.goods[index],
                                          labels=labels, pos=view.region_positions())


def _night(view: EconomyView) -> pd.DataFrame | None:
    """The last night's diagnostics as a frame; ``None`` when the plan gives none."""
    economy = view.economy
    outcome = None if economy is None else economy.last_outcome
    rows = None if outcome is None else outcome.decision.diagnostics
    return None if rows is None else pd.DataFrame(rows)


def diagnostics_table(view: EconomyView) -> pd.DataFrame | None:
    """The last night's binding constraints (columns of :data:`abm.regional.DIAGNOSTIC_COLUMNS`):
    the bottleneck first, then by shadow price, highest first (rows without a price last),
    numbers to 4 significant digits. ``None`` when the night's plan reports no diagnostics
    (before the first day, or a national plan)."""
    night = _night(view)
    if night is None:
        return None
    if night.empty:
        return night
    price = night["shadow_price"].to_numpy(dtype=float)
    order = np.lexsort((-np.nan_to_num(price, nan=-np.inf), night["constraint"].to_numpy() != "bottleneck"))
    out = night.iloc[order].reset_index(drop=True)
    for column in ("used", "limit", "slack", "shadow_price"):
        out[column] = [f"{v:.4g}" if np.isfinite(v) else "-" for v in out[column].to_numpy(dtype=float)]
    return out


def region_holdbacks(view: EconomyView) -> pd.DataFrame | None:
    """What holds each region back most: per region with a binding constraint, the one with
    the highest shadow price (the bottleneck where the decomposed method names one), how many
    bind there, and the price. ``None`` as :func:`diagnostics_table`."""
    night = _night(view)
    if night is None:
        return None
    night = night[night["region"].astype(str) != ""]
    if night.empty:
        return pd.DataFrame(columns=["region", "holds back", "shadow price", "binding"])
    price = night["shadow_price"].to_numpy(dtype=float)
    rank = np.where(night["constraint"].to_numpy() == "bottleneck", np.inf, np.nan_to_num(price, nan=-np.inf))
    night = night.assign(rank=rank).sort_values("rank", ascending=False, kind="stable")
    top = night.groupby("region", sort=True).head(1).set_index("region")
    count = night[night["constraint"] != "bottleneck"].groupby("region").size()
    return pd.DataFrame({
        "region": top.index,
        "holds back": [f"{c}: {i}" if c != "bottleneck" else f"bottleneck, {i}"
                       for c, i in zip(top["constraint"], top["item"], strict=True)],
        "shadow price": [f"{v:.4g}" if np.isfinite(v) else "-" for v in top["shadow_price"].to_numpy(dtype=float)],
        "binding": [int(count.get(r, 0)) for r in top.index],
    }).reset_index(drop=True)
