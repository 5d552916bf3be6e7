"""Solara components of the browser view: each is a function ``EconomyView -> element``.

Mesa's ``SolaraViz`` wraps such functions so they re-render after every step. The figures
come from :mod:`abm.plots` (the same functions ``innatura run`` uses for its PNGs); this
module only picks the data out of the model and lays the figures out.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import pandas as pd
import solara
from innatura.abm import plots, region_map
from innatura.viz import regional
from innatura.viz.params import split_call
from innatura.viz.view_model import EconomyView
from matplotlib.figure import Figure

__all__ = [
    "COMPONENTS",
    "DiagnosticsPanel",
    "FigurePanel",
    "NetworkPanel",
    "RegionSnapshot",
    "ShipmentPanel",
    "figure_panel",
    "region_snapshot",
    "summary_text",
    "unit_table",
]

logger = logging.getLogger(__name__)

#: Resolution of the figures sent to the browser.
DPI = 90
#: Figure size (inches) that fills one cell of Mesa's page grid (half the width, 390 px high).
PANEL_SIZE = (6.4, 4.1)
#: The region map shares its cell with the summary line and the colour choice.
NETWORK_SIZE = (6.4, 3.0)


@dataclass(frozen=True)
class RegionSnapshot:
    """What the region map draws for the current day."""

    graph: nx.Graph
    population: Mapping[Hashable, float]
    fulfilment: Mapping[Hashable, float]
    humanity: Mapping[Hashable, float]
    shipped: Mapping[tuple[Hashable, Hashable], float] = field(default_factory=dict)
    labels: Mapping[Hashable, str] = field(default_factory=dict)
    positions: Mapping[Hashable, np.ndarray] | None = None


def region_snapshot(view: EconomyView) -> RegionSnapshot | None:
    """Read the region graph, populations, today's fulfilment and shipments from the economy.

    Fulfilment per region is the ``fulfilment_region:<region>`` column of the last day;
    humanity per region is Eq. 5 restricted to the region's citizens (the smallest share of a
    profile's bundle delivered there); shipped is the day's units sent along each edge, both
    directions and all goods together. Before the first day only the graph is known.
    """
    economy = view.economy
    if economy is None:
        return None
    layout = economy.layout
    graph = layout.graph
    nodes = list(graph.nodes)
    labels = {node: layout.regions[i] for i, node in enumerate(nodes)}
    population = dict(zip(nodes, layout.population.sum(axis=1).tolist(), strict=True))
    fulfilment: dict[Hashable, float] = {}
    humanity: dict[Hashable, float] = {}
    shipped: dict[tuple[Hashable, Hashable], float] = {}
    outcome = getattr(economy, "last_outcome", None)
    if outcome is not None:
        df = view.frame()
        last = df.iloc[-1] if not df.empty else pd.Series(dtype=float)
        for node, name in labels.items():
            column = f"fulfilment_region:{name}"
            if column in last.index:
                fulfilment[node] = float(last[column])
        share = np.asarray(outcome.delivery.region_share, dtype=float)
        lives = layout.population > 0
        per_region = np.where(lives, np.minimum(np.nan_to_num(share, nan=np.inf), 1.0), np.inf).min(axis=1)
        humanity = {node: float(v) for node, v in zip(nodes, per_region, strict=False) if np.isfinite(v)}
        sent = getattr(outcome, "edge_load", None)
        if sent is not None:
            totals = np.asarray(sent, dtype=float).reshape(len(layout.edge_src), -1).sum(axis=1)
            by_pair: dict[frozenset, float] = {}
            for d, (src, dst) in enumerate(zip(layout.edge_src.tolist(), layout.edge_dst.tolist(), strict=True)):
                pair = frozenset((nodes[src], nodes[dst]))
                by_pair[pair] = by_pair.get(pair, 0.0) + float(totals[d])
            shipped = {(u, v): by_pair.get(frozenset((u, v)), 0.0) for u, v in graph.edges}
    return RegionSnapshot(graph, population, fulfilment, humanity, shipped, labels, view.region_positions())


def _fmt(value: float) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    if value == 0 or 1e-3 <= abs(value) < 1e5:
        return f"{value:,.4g}"
    return f"{value:.3g}"


def summary_text(view: EconomyView) -> str:
    """One line on the current day: humanity (executed and planned), externalities, unmet demand,
    flags, losses, and who lies and the defences when there are any."""
    df = view.frame()
    name = f"{view.params.scenario} · {view.params.planner}"
    if df.empty:
        return f"Day 0 · {name} · nothing simulated yet: press Step or ▶"
    row = df.iloc[-1]
    parts = [f"Day {view.day}", name]
    for column, label in (
        ("humanity", "humanity"),
        ("planned_humanity", "planned"),
        ("externalities", "externalities"),
        ("unmet_demand", "unmet demand"),
        ("misreport_flags", "flagged reports"),
        ("losses", "losses"),
    ):
        if column in row.index:
            parts.append(f"{label} {_fmt(float(row[column]))}")
    return " · ".join(parts + _adversaries(view))


def _adversaries(view: EconomyView) -> list[str]:
    """Who lies and how, and the defences, when there are any (names, as the selectors show them)."""
    p = view.params
    out = []
    if p.misreport_share > 0:
        out.append(f"liars {p.misreport_share:.0%}: {split_call(p.citizen_strategy)[0]} / "
                   f"{split_call(p.unit_strategy)[0]}")
    if p.defence != "none":
        out.append(f"defence {split_call(p.defence)[0]}")
    return out


def _sized(fig: Figure, size: tuple[float, float]) -> Figure:
    fig.set_size_inches(*size)
    return fig


@solara.component
def FigurePanel(view: EconomyView, step: int, make: Callable[[pd.DataFrame], Figure]) -> None:
    """``make(view.frame())`` as a PNG; drawn again only when the model or its day changes."""
    key = [id(view), step]
    fig = solara.use_memo(lambda: _sized(make(view.frame()), PANEL_SIZE), dependencies=key)
    solara.FigureMatplotlib(fig, dependencies=key, format="png", dpi=DPI)


def _short(values: np.ndarray) -> list[str]:
    """Numbers to 4 significant digits, ``-`` for ``nan`` (a narrow table)."""
    return ["-" if not np.isfinite(v) else f"{v:.4g}" for v in np.asarray(values, dtype=float)]


def unit_table(view: EconomyView) -> pd.DataFrame:
    """The production units on the last day: good, strategy, target, output, the use of their
    learned inputs at that output as they reported it, as the plan took it after the defences
    (planned use), and TRUE (with reported over true), and whether a defence (or the
    validation) flagged their report that night; flagged units first, then by how far their
    report was from the truth. Empty before the first day."""
    economy = view.economy
    outcome = getattr(economy, "last_outcome", None)
    if economy is None or outcome is None:
        return pd.DataFrame()
    lay, st = economy.layout, economy.state
    _, flagged = outcome.reports.flagged()
    true_use, planned = np.asarray(st.unit_true_use, dtype=float), np.asarray(st.unit_reported_use, dtype=float)
    defended = np.asarray(outcome.reports.unit_input_factor, dtype=float)
    claimed = np.asarray(outcome.reports.before_defences.unit_input_factor, dtype=float)
    rep_use = planned * np.divide(claimed, defended, out=np.ones_like(claimed), where=defended > 0)
    ratio = np.divide(rep_use, true_use, out=np.full(true_use.shape, np.nan), where=true_use > 1e-12)
    strategies = np.asarray([str(x) for x in st.unit_strategies], dtype=object)[st.unit_code]
    table = pd.DataFrame({
        "unit": list(lay.unit_names), "good": [lay.goods[g] for g in lay.unit_good], "strategy": strategies,
        "target": _short(outcome.targets), "output": _short(outcome.production.output),
        "reported use": _short(rep_use), "planned use": _short(planned), "true use": _short(true_use),
        "reported / true": _short(ratio), "flagged": np.where(flagged, "yes", ""),
    })
    order = np.lexsort((-np.nan_to_num(np.abs(np.log(ratio)), nan=-1.0), ~flagged))
    return table.iloc[order].reset_index(drop=True)


@solara.component
def UnitTablePanel(view: EconomyView, step: int) -> None:
    """The table of units (:func:`unit_table`), ten rows a page."""
    table = solara.use_memo(lambda: unit_table(view), dependencies=[id(view), step])
    with solara.Column(gap="4px", style={"padding": "2px 8px"}):
        solara.Text(f"Units on day {view.day}: reported vs true input use", classes=["innatura-units"],
                    style={"font-weight": "600", "font-size": "14px"})
        if table.empty:
            solara.Info("no day simulated yet: press Step", dense=True)
        else:
            solara.DataFrame(table, items_per_page=10, scrollable=True)


def unit_table_component(view: EconomyView) -> solara.Element:
    """Entry for ``SolaraViz(components=...)``: the table of units."""
    return UnitTablePanel(view, view.steps)


@solara.component
def NetworkPanel(view: EconomyView, step: int) -> None:
    """The summary line, any problems, and the region map with a colour choice."""
    colour, set_colour = solara.use_state("fulfilment")

    def draw() -> Figure | None:
        snapshot = region_snapshot(view)
        if snapshot is None:
            return None
        fig = region_map.region_network_figure(
            snapshot.graph,
            snapshot.fulfilment if colour == "fulfilment" else snapshot.humanity,
            snapshot.population,
            snapshot.shipped,
            value_label=colour,
            labels=snapshot.labels,
            pos=snapshot.positions,
            title=f"Regions: colour = {colour}, size = population, width = goods shipped",
        )
        return _sized(fig, NETWORK_SIZE)

    key = [id(view), step, colour]
    fig = solara.use_memo(draw, dependencies=key)
    with solara.Column(gap="4px", style={"padding": "2px 8px"}):
        solara.Text(summary_text(view), classes=["innatura-summary"],
                    style={"font-weight": "600", "font-size": "14px", "line-height": "1.3"})
        for message in view.errors:
            solara.Error(message, dense=True)
        solara.ToggleButtonsSingle(value=colour, values=["fulfilment", "humanity"], on_value=set_colour,
                                   dense=True)
        if fig is None:
            solara.Warning("No economy to show: fix the parameters above and press Reset.", dense=True)
        else:
            solara.FigureMatplotlib(fig, dependencies=key, format="png", dpi=DPI)


def network_component(view: EconomyView) -> solara.Element:
    """Entry for ``SolaraViz(components=...)``: re-rendered after every step."""
    return NetworkPanel(view, view.steps)


@solara.component
def ShipmentPanel(view: EconomyView, step: int) -> None:
    """The last day's planned and executed shipments per edge, of all goods or of the good
    chosen in the selector (:func:`viz.regional.shipment_figure`)."""
    good, set_good = solara.use_state(regional.ALL_GOODS)
    choices = solara.use_memo(lambda: regional.shipment_choices(view), dependencies=[id(view), step])
    shown = good if good in choices else regional.ALL_GOODS
    key = [id(view), step, shown]
    fig = solara.use_memo(lambda: _sized_or_none(regional.shipment_figure(view, shown), PANEL_SIZE), dependencies=key)
    with solara.Column(gap="4px", style={"padding": "2px 8px"}):
        solara.Select(label="Shipments of", value=shown, values=choices, on_value=set_good,
                      classes=["innatura-good"])
        if fig is not None:
            solara.FigureMatplotlib(fig, dependencies=key, format="png", dpi=DPI)


def _sized_or_none(fig: Figure | None, size: tuple[float, float]) -> Figure | None:
    return None if fig is None else _sized(fig, size)


def shipment_component(view: EconomyView) -> solara.Element:
    """Entry for ``SolaraViz(components=...)``: the shipments map with its goods selector."""
    return ShipmentPanel(view, view.steps)


@solara.component
def DiagnosticsPanel(view: EconomyView, step: int) -> None:
    """What holds each region back (:func:`viz.regional.region_holdbacks`) and every binding
    constraint of the night with its shadow price (:func:`viz.regional.diagnostics_table`)."""
    holdbacks = solara.use_memo(lambda: regional.region_holdbacks(view), dependencies=[id(view), step])
    table = solara.use_memo(lambda: regional.diagnostics_table(view), dependencies=[id(view), step])
    with solara.Column(gap="4px", style={"padding": "2px 8px"}):
        solara.Text(f"What holds each region back, night {view.day}: binding constraints and shadow prices",
                    classes=["innatura-diagnostics"], style={"font-weight": "600", "font-size": "14px"})
        if table is None or holdbacks is None:
            solara.Info("no diagnostics: they come with the regional plan (Plan on: regional), after a day",
                        dense=True)
            return
        if table.empty:
            solara.Success("nothing binds tonight", dense=True)
            return
        solara.DataFrame(holdbacks, items_per_page=5, scrollable=True)
        solara.DataFrame(table, items_per_page=8, scrollable=True)


def diagnostics_component(view: EconomyView) -> solara.Element:
    """Entry for ``SolaraViz(components=...)``: the night's diagnostics."""
    return DiagnosticsPanel(view, view.steps)


def figure_panel(make: Callable[[pd.DataFrame], Figure]) -> Callable[[EconomyView], solara.Element]:
    """An entry for ``SolaraViz(components=...)`` drawing ``make(view.frame())`` (one of :mod:`abm.plots`)."""

    def component(view: EconomyView) -> solara.Element:
        return FigurePanel(view, view.steps, make)

    component.__name__ = f"{make.__name__}_panel"
    return component


#: (component, page) pairs for ``SolaraViz``: all on the first page, two per row.
COMPONENTS = [
    (network_component, 0),
    (shipment_component, 0),
    (diagnostics_component, 0),
    (figure_panel(plots.humanity_figure), 0),
    (figure_panel(plots.production_figure), 0),
    (figure_panel(plots.inventory_figure), 0),
    (figure_panel(plots.report_gap_figure), 0),
    (figure_panel(plots.fulfilment_figure), 0),
    (figure_panel(plots.detection_figure), 0),
    (unit_table_component, 0),
]
