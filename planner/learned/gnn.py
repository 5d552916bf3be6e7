"""Graph neural network over the region graph (torch_geometric convolutions).

Node features are each region's type posterior and observed state; ``gnn_layers`` message
passing layers (``GCNConv``, Kipf & Welling 2017, or ``GraphConv``, Morris et al. 2019) mix
them along the region graph, so that a region's plan can depend on its neighbours.
"""

from __future__ import annotations

import logging
from typing import cast

import torch
from innatura.planner.errors import InvalidInputError
from torch import Tensor, nn
from torch_geometric.nn import GCNConv, GraphConv, MessagePassing

__all__ = ["RegionGNN", "batch_edge_index"]

logger = logging.getLogger(__name__)


def batch_edge_index(edges: tuple[tuple[int, int], ...], n_nodes: int, batch_size: int) -> Tensor:
    """Edge index of ``batch_size`` disjoint copies of an undirected graph (both directions).

    Shapes:
        -> ``[2, 2 * len(edges) * batch_size]`` (long).
    """
    if not edges:
        return torch.zeros(2, 0, dtype=torch.long)
    base = torch.tensor(edges, dtype=torch.long).t()
    base = torch.cat([base, base.flip(0)], dim=1)
    offsets = (torch.arange(batch_size, dtype=torch.long) * n_nodes).repeat_interleave(base.shape[1])
    return base.repeat(1, batch_size) + offsets[None, :]


class RegionGNN(nn.Module):
    """Stack of graph convolutions with a linear input projection and tanh activations.

    Args:
        in_channels: node feature size.
        hidden: embedding size.
        layers: number of convolutions.
        conv: ``"gcn"`` (GCNConv) or ``"graph"`` (GraphConv).

    Shapes:
        x: ``[B, N, in_channels]``, edge_index ``[2, E]`` over the ``B * N`` nodes -> ``[B, N, hidden]``.
    """

    def __init__(self, in_channels: int, hidden: int = 32, layers: int = 2, conv: str = "gcn"):
        super().__init__()
        if conv not in ("gcn", "graph"):
            raise InvalidInputError(f"RegionGNN: conv = {conv!r} must be 'gcn' or 'graph'")
        self.in_channels, self.hidden, self.layers, self.conv = int(in_channels), int(hidden), int(layers), conv
        self.lin_in = nn.Linear(in_channels, hidden)
        make = (lambda: GCNConv(hidden, hidden)) if conv == "gcn" else (lambda: GraphConv(hidden, hidden))
        self.convs = nn.ModuleList([make() for _ in range(layers)])
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.lin_in.reset_parameters()
        for c in self.convs:
            cast(MessagePassing, c).reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        b, n, _ = x.shape
        h = torch.tanh(self.lin_in(x)).reshape(b * n, self.hidden)
        for c in self.convs:
            h = h + torch.tanh(c(h, edge_index))
        return h.reshape(b, n, self.hidden)
