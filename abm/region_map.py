"""The region map: the region graph drawn with networkx and matplotlib.

Colour = a share in [0, 1] per region (fulfilment or humanity), node area = population, edge
width = goods shipped along the edge. :func:`region_network_figure` draws one map (the edges
undirected, both directions together); :func:`shipment_map_figure` draws two maps side by side,
the plan's shipments and the executed ones, each directed edge as its own arc, with one width
scale (one good, or all goods together). Used by the browser view and ``innatura run``'s
``shipments.png``; pure matplotlib, no pyplot.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Mapping, Sequence

import networkx as nx
import numpy as np
from innatura.abm.plots import FIGSIZE, new_figure, no_data
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

__all__ = ["edge_widths", "region_network_figure", "region_positions", "shipment_map_figure"]

logger = logging.getLogger(__name__)


def region_positions(graph: nx.Graph) -> dict[Hashable, np.ndarray]:
    """Deterministic node positions for :func:`region_network_figure` (Kamada-Kawai)."""
    if graph.number_of_nodes() <= 2:
        return nx.circular_layout(graph)
    return nx.kamada_kawai_layout(graph)


def edge_widths(flow: np.ndarray, top: float | None = None) -> np.ndarray:
    """Line widths (points) of edges carrying ``flow``: 0.8 for nothing, 7.8 for ``top``
    (default the largest flow), linear in between."""
    flow = np.maximum(np.nan_to_num(np.asarray(flow, dtype=float)), 0.0)
    if top is None:
        top = float(flow.max()) if flow.size else 0.0
    return 0.8 + 7.0 * flow / (top if top > 0 else 1.0)


def _bare(ax: Axes) -> None:
    """No grid, frame or ticks: a map, not a plot."""
    ax.grid(False)
    ax.spines[:].set_visible(False)
    ax.set_xticks([])
    ax.set_yticks([])


#: node positions: region -> (x, y).
Positions = Mapping[Hashable, Sequence[float] | np.ndarray]


def _label_nodes(ax: Axes, nodes: list, pos: Positions, sizes: np.ndarray, value: Mapping, population: Mapping,
                 labels: Mapping | None) -> tuple[np.ndarray, np.ndarray, float]:
    """Write each region's name, value and population under its node; returns the node
    coordinates and the layout's span."""
    xs = np.array([pos[n][0] for n in nodes])
    ys = np.array([pos[n][1] for n in nodes])
    span = max(np.ptp(ys), np.ptp(xs), 1e-9)
    for n, x, y, size in zip(nodes, xs, ys, sizes, strict=False):
        name = labels[n] if labels and n in labels else str(n)
        v = value.get(n)
        text = f"{name}\n{v:.0%} · {population.get(n, 0):,.0f}" if v is not None and np.isfinite(v) else name
        ax.annotate(text, (x, y), xytext=(0, -np.sqrt(size) / 2 - 4), textcoords="offset points",
                    ha="center", va="top", fontsize=8,
                    bbox=dict(boxstyle="round,pad=0.2", facecolor="white", edgecolor="none", alpha=0.85))
    return xs, ys, span


def region_network_figure(
    graph: nx.Graph,
    value: Mapping[Hashable, float],
    population: Mapping[Hashable, float],
    shipped: Mapping[tuple[Hashable, Hashable], float] | None = None,
    *,
    value_label: str = "fulfilment",
    labels: Mapping[Hashable, str] | None = None,
    pos: Positions | None = None,
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
    fig, ax = new_figure(title or f"Regions: colour = {value_label}, size = population, width = shipped",
                          figsize=(FIGSIZE[0], FIGSIZE[1] * 1.25))
    fig.subplots_adjust(left=0.02, right=0.9, top=0.9, bottom=0.02)
    _bare(ax)
    nodes = list(graph.nodes)
    if not nodes:
        no_data(ax, "regions")
        return fig
    if pos is None:
        pos = region_positions(graph)
    cmap = colormaps["RdYlGn"]
    norm = Normalize(0.0, 1.0)
    colours = [cmap(norm(value[n])) if n in value and np.isfinite(value[n]) else (0.75, 0.75, 0.75, 1.0)
               for n in nodes]
    pops = np.array([float(population.get(n, 0.0)) for n in nodes])
    sizes = 300 + 1700 * np.sqrt(pops / pops.max()) if pops.max() > 0 else np.full(len(nodes), 600.0)
    shipped = shipped or {}
    edges = list(graph.edges)
    flow = np.array([float(shipped.get((u, v), shipped.get((v, u), 0.0))) for u, v in edges])
    widths = edge_widths(flow)
    nx.draw_networkx_edges(graph, pos, ax=ax, edgelist=edges, width=widths, edge_color="0.55",
                           style=["solid" if f > 0 else "dashed" for f in flow] or "solid")
    nx.draw_networkx_nodes(graph, pos, ax=ax, nodelist=nodes, node_size=sizes, node_color=colours,
                           edgecolors="0.2", linewidths=1.0)
    if 0 < len(edges) <= 16:
        nx.draw_networkx_edge_labels(graph, pos, ax=ax, font_size=7, font_color="0.3",
                                     edge_labels={e: f"{f:,.0f}" for e, f in zip(edges, flow, strict=False) if f > 0},
                                     bbox=dict(facecolor="white", edgecolor="none", alpha=0.7, pad=0.5))
    xs, ys, span = _label_nodes(ax, nodes, pos, sizes, value, population, labels)
    ax.set_xlim(xs.min() - 0.2 * span, xs.max() + 0.2 * span)
    ax.set_ylim(ys.min() - 0.3 * span, ys.max() + 0.15 * span)
    bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.8, pad=0.01, fraction=0.04)
    bar.set_label(value_label, fontsize=9)
    bar.ax.tick_params(labelsize=8)
    return fig


#: bend of the arcs of :func:`shipment_map_figure`, so that ``a -> b`` and ``b -> a`` both show.
ARC = 0.15


def _arc_labels(ax: Axes, edges: Sequence[tuple[Hashable, Hashable]], pos: Positions, flow: np.ndarray) -> None:
    """Write each arc's units at its middle (the peak of matplotlib's ``arc3`` curve)."""
    for (u, v), f in zip(edges, flow, strict=True):
        if f <= 0:
            continue
        (x0, y0), (x1, y1) = pos[u], pos[v]
        dx, dy = x1 - x0, y1 - y0
        # arc3's control point lies at the chord's middle + ARC * (dy, -dx); the curve halfway there
        x, y = (x0 + x1) / 2 + ARC * dy / 2, (y0 + y1) / 2 - ARC * dx / 2
        ax.text(x, y, f"{f:,.4g}", fontsize=6.5, color="0.25", ha="center", va="center",
                bbox=dict(facecolor="white", edgecolor="none", alpha=0.7, pad=0.3))


def _flow_panel(ax: Axes, graph: nx.Graph, edges: Sequence[tuple[Hashable, Hashable]], flow: np.ndarray | None,
                top: float, colours: list, pos: Positions, names: Mapping[Hashable, str], heading: str,
                missing: str = "") -> None:
    """One map of :func:`shipment_map_figure`: arcs as wide as ``flow`` (``None``: ``missing``
    written under the map), regions by colour."""
    _bare(ax)
    ax.set_title(heading, fontsize=9, loc="left")
    nodes = list(graph.nodes)
    digraph = nx.DiGraph()
    digraph.add_nodes_from(nodes)
    digraph.add_edges_from(edges)
    if flow is None:
        ax.text(0.5, 0.04, missing, ha="center", transform=ax.transAxes,
                fontsize=8, color="0.45")
        flow = np.zeros(len(edges))
    flow = np.where(flow > 1e-6 * top, flow, 0.0)  # rounding of the plan, not a shipment
    if edges:
        nx.draw_networkx_edges(digraph, pos, ax=ax, edgelist=list(edges), width=edge_widths(flow, top).tolist(),
                               edge_color=["tab:blue" if f > 0 else "0.7" for f in flow], arrows=True,
                               arrowstyle="-|>", arrowsize=8, connectionstyle=f"arc3,rad={ARC}", node_size=260,
                               style=["solid" if f > 0 else "dotted" for f in flow])
    nx.draw_networkx_nodes(digraph, pos, ax=ax, nodelist=nodes, node_size=260, node_color=colours,
                           edgecolors="0.2", linewidths=0.8)
    xs = np.array([pos[n][0] for n in nodes])
    ys = np.array([pos[n][1] for n in nodes])
    span = max(np.ptp(xs), np.ptp(ys), 1e-9)
    if len(nodes) <= 24:  # names under the nodes
        under = {n: (pos[n][0], pos[n][1] - 0.05 * span) for n in nodes}
        nx.draw_networkx_labels(digraph, under, ax=ax, labels={n: names[n] for n in nodes}, font_size=6.5,
                                verticalalignment="top", bbox=dict(facecolor="white", edgecolor="none", alpha=0.6,
                                                                   pad=0.2))
    if 0 < len(edges) <= 32:
        _arc_labels(ax, edges, pos, flow)
    ax.set_xlim(xs.min() - 0.15 * span, xs.max() + 0.15 * span)
    ax.set_ylim(ys.min() - 0.15 * span, ys.max() + 0.15 * span)


def shipment_map_figure(
    graph: nx.Graph,
    edges: Sequence[tuple[Hashable, Hashable]],
    planned: np.ndarray | None,
    executed: np.ndarray | None,
    value: Mapping[Hashable, float],
    *,
    what: str = "all goods",
    value_label: str = "fulfilment",
    labels: Mapping[Hashable, str] | None = None,
    pos: Positions | None = None,
) -> Figure:
    """Planned and executed shipments per directed edge, as two maps side by side.

    Both maps draw every directed edge ``edges[e] = (u, v)`` as an arc from ``u`` to ``v``,
    as wide as its units (:func:`edge_widths`, one scale for both maps, labelled with the
    units when there are few edges); the regions are coloured by ``value`` as in
    :func:`region_network_figure`.

    Args:
        graph: regions as nodes.
        edges: the directed edges, ``(source, target)`` per edge, ``D`` of them.
        planned: units the plan shipped along each edge, ``(D,)``; ``None``: the plan has no
            shipments (the national plan), the left map says so.
        executed: units execution carried along each edge, ``(D,)``; ``None``: not known
            (one good under the national plan).
        value: per region, the share shown by colour, in [0, 1].
        what: the goods drawn (``"all goods"`` or a good's name), for the title.
        value_label: name of ``value``.
        labels: display names; default ``str(node)``.
        pos: node positions; default :func:`region_positions`.
    """
    fig = Figure(figsize=(FIGSIZE[0] * 1.6, FIGSIZE[1] * 1.2))
    fig.subplots_adjust(left=0.01, right=0.99, top=0.86, bottom=0.01, wspace=0.04)
    fig.suptitle(f"Shipments per edge, {what}: width = units, colour = {value_label}", fontsize=11, x=0.01,
                 ha="left")
    left, right = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    nodes = list(graph.nodes)
    if not nodes:
        for ax in (left, right):
            no_data(ax, "regions")
        return fig
    pos = region_positions(graph) if pos is None else pos
    names = {n: labels[n] if labels and n in labels else str(n) for n in nodes}
    cmap = colormaps["RdYlGn"]
    colours = [cmap(float(value[n])) if n in value and np.isfinite(value[n]) else (0.75, 0.75, 0.75, 1.0)
               for n in nodes]
    arrays = [np.asarray(a, dtype=float) for a in (planned, executed) if a is not None]
    top = max((float(a.max()) for a in arrays if a.size), default=0.0)
    _flow_panel(left, graph, edges, None if planned is None else np.asarray(planned, dtype=float), top, colours,
                pos, names, f"planned: {_total(planned)} units", "no planned shipments (national plan)")
    _flow_panel(right, graph, edges, None if executed is None else np.asarray(executed, dtype=float), top, colours,
                pos, names, f"executed: {_total(executed)} units", "not kept per good without a regional plan")
    return fig


def _total(flow: np.ndarray | None) -> str:
    return "n/a" if flow is None else f"{float(np.sum(flow)):,.4g}"
