"""The region map: the region graph drawn with networkx and matplotlib.

Colour = a share in [0, 1] per region (fulfilment or humanity), node area = population, edge
width = goods shipped along the edge. Used by the browser view; pure matplotlib, no pyplot.
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

__all__ = ["region_network_figure", "region_positions"]

logger = logging.getLogger(__name__)


def region_positions(graph: nx.Graph) -> dict[Hashable, np.ndarray]:
    """Deterministic node positions for :func:`region_network_figure` (Kamada-Kawai)."""
    if graph.number_of_nodes() <= 2:
        return nx.circular_layout(graph)
    return nx.kamada_kawai_layout(graph)


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
    top = flow.max() if flow.size and flow.max() > 0 else 1.0
    widths = 0.8 + 7.0 * flow / top
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
