"""Relational graph network over production units (torch_geometric convolutions).

Nodes are units on one night; edges carry one of several relations (supplier -> customer,
customer -> supplier, same region, same good: :data:`planner.learned.histories.EDGE_KINDS`).
Each layer applies one convolution per relation (``SAGEConv``, Hamilton et al. 2017, or
``GATConv``, Velickovic et al. 2018) and sums them, as a relational GCN does (Schlichtkrull
et al. 2018), with a residual tanh update: what one unit reveals reaches its suppliers,
customers, region and peers.
"""

from __future__ import annotations

import logging
from typing import cast

import torch
from innatura.planner.errors import InvalidInputError
from torch import Tensor, nn
from torch_geometric.nn import GATConv, MessagePassing, SAGEConv

__all__ = ["UnitGraphConv"]

logger = logging.getLogger(__name__)


class UnitGraphConv(nn.Module):
    """A stack of relational convolutions with residual tanh updates.

    Args:
        channels: node feature size (in and out).
        relations: number of edge relations.
        layers: number of layers.
        conv: ``"sage"`` (SAGEConv, mean aggregation) or ``"gat"`` (GATConv, one head).

    Shapes:
        x: ``[N, channels]``, edge_index ``[2, E]``, edge_kind ``[E]`` (values in
        ``[0, relations)``) -> ``[N, channels]``.
    """

    def __init__(self, channels: int, relations: int = 4, layers: int = 2, conv: str = "sage"):
        super().__init__()
        if conv not in ("sage", "gat"):
            raise InvalidInputError(f"UnitGraphConv: conv = {conv!r} must be 'sage' or 'gat'")
        if channels < 1 or relations < 1 or layers < 1:
            raise InvalidInputError(f"UnitGraphConv: channels = {channels}, relations = {relations}, layers = "
                                    f"{layers} must be >= 1")
        self.channels, self.relations, self.layers, self.conv = int(channels), int(relations), int(layers), conv

        def make() -> MessagePassing:
            if conv == "sage":
                return SAGEConv(channels, channels)
            return GATConv(channels, channels, add_self_loops=False)

        self.convs = nn.ModuleList([nn.ModuleList([make() for _ in range(relations)]) for _ in range(layers)])
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for layer in self.convs:
            for c in cast(nn.ModuleList, layer):
                cast(MessagePassing, c).reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, edge_kind: Tensor) -> Tensor:
        if x.dim() != 2 or x.shape[1] != self.channels:
            raise InvalidInputError(f"UnitGraphConv: x must be [N, {self.channels}], got {tuple(x.shape)}")
        by_kind = [edge_index[:, edge_kind == k] for k in range(self.relations)]
        h = x
        for layer in self.convs:
            msg = torch.zeros_like(h)
            for c, ei in zip(cast(nn.ModuleList, layer), by_kind, strict=True):
                msg = msg + c(h, ei)
            h = h + torch.tanh(msg)
        return h
