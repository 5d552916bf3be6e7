"""The learned planner: type VAE -> region GNN -> stochastic policy and value baseline.

For each region the policy outputs Gaussian pre-activations ``(u^c_i, u^x_i, u^l_i)`` and, for
the economy, ``u^keep``; the plan is ``l_i = sigmoid(u^l_i)`` and the shares of the available
stock ``softmax(u^c_1..N, u^x_1..N, u^keep)`` (see :func:`planner.learned.env.shares_from_logits`),
i.e. consumption ``c_i``, investment ``x_i`` and labour ``l_i`` per region.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import torch
from innatura.planner.learned.config import EconomyConfig, ModelConfig
from innatura.planner.learned.env import shares_from_logits
from innatura.planner.learned.gnn import RegionGNN, batch_edge_index
from innatura.planner.learned.vae import Posterior, TypeVAE
from torch import Tensor, nn

__all__ = ["Decision", "PlannerInput", "PlannerPolicy", "PolicyOutput", "decision_from_raw"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlannerInput:
    """What the planner knows at a step.

    Shapes:
        history: ``[B, N, T, N_FEATURES]`` reports so far; capital ``[B, N]``; stock ``[B]``.
    """

    history: Tensor
    capital: Tensor
    stock: Tensor
    t: int


@dataclass(frozen=True)
class Decision:
    """A plan: consumption/investment shares of the available stock and working shares. ``[B, N]``."""

    share_c: Tensor
    share_x: Tensor
    labour: Tensor


@dataclass(frozen=True)
class PolicyOutput:
    """Policy head outputs. Shapes: node_mean ``[B, N, 3]``, keep_mean ``[B]``, log_std ``[4]``, value ``[B]``."""

    node_mean: Tensor
    keep_mean: Tensor
    log_std: Tensor
    value: Tensor
    posterior: Posterior


def decision_from_raw(node_raw: Tensor, keep_raw: Tensor) -> Decision:
    """Map pre-activations ``[B, N, 3]`` and ``[B]`` to a :class:`Decision`."""
    share_c, share_x = shares_from_logits(node_raw[..., 0], node_raw[..., 1], keep_raw)
    return Decision(share_c=share_c, share_x=share_x, labour=torch.sigmoid(node_raw[..., 2]))


class PlannerPolicy(nn.Module):
    """VAE + GNN + Gaussian policy heads + value baseline.

    Args:
        economy: the economy (populations, graph, scales used to normalise features).
        model: network sizes.

    Shapes:
        forward(PlannerInput with batch B) -> PolicyOutput (see the class).
    """

    log_pop: Tensor

    def __init__(self, economy: EconomyConfig, model: ModelConfig):
        super().__init__()
        self.economy, self.model = economy, model
        self.n_regions = economy.n_regions
        self.vae = TypeVAE(economy.alpha, model.latent_dim, model.hidden)
        in_ch = 2 * model.latent_dim + 5
        self.gnn = RegionGNN(in_ch, model.hidden, model.gnn_layers, model.conv)
        self.node_head = nn.Linear(model.hidden, 3)
        self.keep_head = nn.Linear(model.hidden, 1)
        self.value_head = nn.Sequential(nn.Linear(model.hidden + 2, model.hidden), nn.Tanh(),
                                        nn.Linear(model.hidden, 1))
        self.log_std = nn.Parameter(torch.empty(4))
        pop = torch.tensor(economy.populations)
        self.register_buffer("log_pop", torch.log(pop / pop.mean()), persistent=False)
        self._edge_cache: dict[int, Tensor] = {}
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.vae.reset_parameters()
        self.gnn.reset_parameters()
        for m in (self.node_head, self.keep_head):
            m.reset_parameters()
            with torch.no_grad():
                m.weight.mul_(0.1)
        with torch.no_grad():
            self.node_head.bias.copy_(torch.tensor([0.0, -2.0, 0.0]))
            self.keep_head.bias.zero_()
        for layer in self.value_head:
            if isinstance(layer, nn.Linear):
                layer.reset_parameters()
        with torch.no_grad():
            self.log_std.fill_(self.model.init_log_std)

    def edge_index(self, batch_size: int) -> Tensor:
        if batch_size not in self._edge_cache:
            self._edge_cache[batch_size] = batch_edge_index(self.economy.graph_edges, self.n_regions, batch_size)
        return self._edge_cache[batch_size]

    def forward(self, inp: PlannerInput) -> PolicyOutput:
        post = self.vae(inp.history)
        b, n = inp.capital.shape
        eco = self.economy
        glob = torch.stack(
            [inp.stock / eco.capacity, torch.full_like(inp.stock, inp.t / eco.horizon)], dim=-1
        )
        feats = torch.cat(
            [
                post.mu,
                post.logvar,
                torch.log(inp.capital / eco.initial_capital)[..., None],
                self.log_pop.to(inp.capital.dtype).expand(b, n)[..., None],
                glob[:, None, :].expand(b, n, 2),
                inp.history[:, :, -1, 2:3],
            ],
            dim=-1,
        )
        h = self.gnn(feats, self.edge_index(b))
        pooled = h.mean(1)
        return PolicyOutput(
            node_mean=self.node_head(h),
            keep_mean=self.keep_head(pooled)[:, 0],
            log_std=self.log_std,
            value=self.value_head(torch.cat([pooled, glob], -1))[:, 0],
            posterior=post,
        )

    @staticmethod
    def sample(out: PolicyOutput, generator: torch.Generator | None) -> tuple[Tensor, Tensor, Tensor]:
        """Sample pre-activations; return ``(node_raw, keep_raw, log_prob [B])`` (no gradient through the sample)."""
        std = torch.exp(out.log_std)
        node_eps = torch.randn(out.node_mean.shape, generator=generator, dtype=out.node_mean.dtype)
        keep_eps = torch.randn(out.keep_mean.shape, generator=generator, dtype=out.keep_mean.dtype)
        node_raw = (out.node_mean + std[:3] * node_eps).detach()
        keep_raw = (out.keep_mean + std[3] * keep_eps).detach()
        return node_raw, keep_raw, PlannerPolicy.log_prob(out, node_raw, keep_raw)

    @staticmethod
    def log_prob(out: PolicyOutput, node_raw: Tensor, keep_raw: Tensor) -> Tensor:
        """Gaussian log-density of pre-activations, summed over the economy's action. ``[B]``."""
        half_log_2pi = 0.5 * math.log(2 * math.pi)
        std_node, std_keep = torch.exp(out.log_std[:3]), torch.exp(out.log_std[3])
        lp_node = -0.5 * ((node_raw - out.node_mean) / std_node).pow(2) - out.log_std[:3] - half_log_2pi
        lp_keep = -0.5 * ((keep_raw - out.keep_mean) / std_keep).pow(2) - out.log_std[3] - half_log_2pi
        return lp_node.sum((-1, -2)) + lp_keep

    def plan(self, inp: PlannerInput, state: object = None) -> Decision:
        """The :class:`~planner.learned.rollout.Planner` interface: the deterministic (mean) plan."""
        with torch.no_grad():
            return self.act(inp, deterministic=True)

    def act(self, inp: PlannerInput, deterministic: bool = True, generator: torch.Generator | None = None) -> Decision:
        """The plan for ``inp``: the mean action, or a sample when not ``deterministic``."""
        out = self(inp)
        if deterministic:
            return decision_from_raw(out.node_mean, out.keep_mean)
        node_raw, keep_raw, _ = self.sample(out, generator)
        return decision_from_raw(node_raw, keep_raw)
