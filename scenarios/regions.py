"""The region graph of a scenario: explicit nodes and edges, or a seeded networkx generator.

Regions are the nodes of an undirected, connected :class:`networkx.Graph` whose nodes are the
region indices ``0 .. R-1`` (the order of every per-region array) with attributes ``name``
and ``population_share``; each edge carries ``capacity`` (units of goods, all goods together,
the edge moves per day in each direction) and ``loss`` (share of what is shipped that is lost).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import networkx as nx
from innatura.scenarios.errors import ScenarioFieldError
from innatura.scenarios.limits import MAX_REGION_EDGES, MAX_REGIONS, generated_size

__all__ = ["GENERATORS", "build_graph", "check_shares", "equal_shares", "generate_graph"]

logger = logging.getLogger(__name__)

#: networkx generators a scenario may name: name -> (function, whether it takes ``seed``).
GENERATORS: dict[str, tuple[Callable[..., nx.Graph], bool]] = {
    "path_graph": (nx.path_graph, False),
    "cycle_graph": (nx.cycle_graph, False),
    "complete_graph": (nx.complete_graph, False),
    "star_graph": (nx.star_graph, False),
    "wheel_graph": (nx.wheel_graph, False),
    "grid_2d_graph": (nx.grid_2d_graph, False),
    "balanced_tree": (nx.balanced_tree, False),
    "barabasi_albert_graph": (nx.barabasi_albert_graph, True),
    "connected_watts_strogatz_graph": (nx.connected_watts_strogatz_graph, True),
    "watts_strogatz_graph": (nx.watts_strogatz_graph, True),
    "gnp_random_graph": (nx.gnp_random_graph, True),
    "gnm_random_graph": (nx.gnm_random_graph, True),
    "random_regular_graph": (nx.random_regular_graph, True),
    "powerlaw_cluster_graph": (nx.powerlaw_cluster_graph, True),
    "random_geometric_graph": (nx.random_geometric_graph, True),
}


def generate_graph(generator: str, params: Mapping[str, Any], seed: int) -> nx.Graph:
    """Call a whitelisted networkx generator; nodes relabelled ``0 .. R-1`` in sorted order.

    Args:
        generator: a key of :data:`GENERATORS`.
        params: keyword arguments of the generator (``n``, ``k``, ``p``, ...).
        seed: passed as ``seed=`` to the generators that are random.

    Raises:
        ScenarioFieldError: unknown generator, a graph larger than :data:`~scenarios.limits.MAX_REGIONS`
            nodes or :data:`~scenarios.limits.MAX_REGION_EDGES` edges (checked from the
            parameters, before anything is generated), or the generator rejects its parameters.
    """
    if generator not in GENERATORS:
        raise ScenarioFieldError(
            ("regions", "generator"), generator, f"unknown generator; known: {', '.join(sorted(GENERATORS))}"
        )
    nodes, edges = generated_size(generator, params)
    if nodes > MAX_REGIONS or edges > MAX_REGION_EDGES:
        raise ScenarioFieldError(
            ("regions", "params"), dict(params),
            f"{generator} would make {nodes:.4g} regions and up to {edges:.4g} edges; a region graph has at most "
            f"{MAX_REGIONS} regions and {MAX_REGION_EDGES} edges",
        )
    func, seeded = GENERATORS[generator]
    kwargs = dict(params)
    if seeded:
        kwargs["seed"] = seed
    try:
        graph = func(**kwargs)
    except (TypeError, ValueError, nx.NetworkXException) as exc:
        raise ScenarioFieldError(("regions", "params"), dict(params),
                                 f"{generator} rejected its parameters: {exc}") from None
    return nx.convert_node_labels_to_integers(nx.Graph(graph), ordering="sorted")


def build_graph(
    names: Sequence[str],
    shares: Sequence[float],
    edges: Sequence[tuple[int, int, float, float]],
    path_of_edge: Callable[[int], tuple[str | int, ...]] = lambda k: ("regions", "edges", k),
) -> nx.Graph:
    """Assemble the region graph and check it is simple and connected.

    Args:
        names: region names, in index order.
        shares: population share of each region (summing to 1).
        edges: ``(u, v, capacity, loss)`` with region indices.
        path_of_edge: field path of edge ``k`` for error messages.

    Raises:
        ScenarioFieldError: a self-loop, a repeated edge, or a disconnected graph.
    """
    graph = nx.Graph()
    for i, (name, share) in enumerate(zip(names, shares, strict=True)):
        graph.add_node(i, name=name, population_share=float(share))
    for k, (u, v, capacity, loss) in enumerate(edges):
        if u == v:
            raise ScenarioFieldError(path_of_edge(k), names[u], "an edge must join two different regions")
        if graph.has_edge(u, v):
            raise ScenarioFieldError(path_of_edge(k), (names[u], names[v]), "edge listed twice")
        graph.add_edge(u, v, capacity=float(capacity), loss=float(loss))
    if graph.number_of_nodes() > 1 and not nx.is_connected(graph):
        parts = sorted((sorted(names[i] for i in c) for c in nx.connected_components(graph)), key=len)
        raise ScenarioFieldError(
            ("regions",), f"{graph.number_of_edges()} edges",
            f"the region graph is not connected: {len(parts)} components, the smallest is {parts[0][:8]}",
        )
    return graph


def equal_shares(count: int) -> list[float]:
    """``count`` equal population shares."""
    return [1.0 / count] * count


def check_shares(shares: Sequence[float], path: tuple[str | int, ...]) -> None:
    """Population shares must sum to 1 (within 1e-6)."""
    total = math.fsum(shares)
    if abs(total - 1.0) > 1e-6:
        raise ScenarioFieldError(path, list(shares), f"population shares sum to {total:.9g}, not 1")
