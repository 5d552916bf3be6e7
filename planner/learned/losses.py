"""Loss terms of the learned planner (paper, "Constraints" and "Combined Loss").

``L_total = l_VAE L_VAE + l_IC L_IC + l_IR L_IR + l_Ostrom L_Ostrom + l_Resource L_Resource
+ l_Policy L_Policy``. The penalty terms follow docs/model.md "The five-regions economy" (the public notebook):

- IC: utility a region gets when every region reports the mean type, minus its utility when
  all report truthfully, floored at 0, averaged over regions and steps;
- IR: shortfall of utility below ``U_bar``, floored at 0, averaged;
- Ostrom: variance over time of the consumption allocations (per capita), averaged over regions;
- Resource: squared excess of the total allocation ``sum_i (c_i + x_i)`` over ``R + h g(R)``
  (``h = 10`` there), averaged over steps;
- Policy: REINFORCE ``-E[log pi(a|s) (G - b(s))]`` with a learned baseline ``b`` fitted by
  squared error (weight ``value_coef``); advantages are normalised per batch.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch
from innatura.planner.learned.config import LossWeights
from torch import Tensor

__all__ = [
    "LossTerms",
    "discounted_returns",
    "ic_penalty",
    "ir_penalty",
    "ostrom_penalty",
    "reinforce_loss",
    "resource_penalty",
    "total_loss",
]

logger = logging.getLogger(__name__)


def ic_penalty(u_truthful: Tensor, u_deviation: Tensor) -> Tensor:
    """IC penalty: ``mean(max(0, U(deviation) - U(truthful)))`` over all entries."""
    return torch.relu(u_deviation - u_truthful).mean()


def ir_penalty(u: Tensor, u_bar: float) -> Tensor:
    """IR penalty: ``mean(max(0, U_bar - U))`` over all entries."""
    return torch.relu(u_bar - u).mean()


def ostrom_penalty(allocations: Tensor) -> Tensor:
    """Ostrom criterion: variance over time of each region's allocation, averaged.

    Shapes:
        allocations: ``[B, T, N]`` (population variance over T; 0 when T = 1).
    """
    if allocations.shape[1] < 2:
        return allocations.new_zeros(())
    return allocations.var(dim=1, unbiased=False).mean()


def resource_penalty(total_allocation: Tensor, stock: Tensor, regrowth: Tensor, horizon: float = 10.0) -> Tensor:
    """Resource penalty: ``mean(max(0, sum(c + x) - (R + horizon g(R)))^2)``. All shapes equal."""
    return torch.relu(total_allocation - (stock + horizon * regrowth)).pow(2).mean()


def discounted_returns(rewards: Tensor, discount: float) -> Tensor:
    """``G_t = sum_{k >= t} discount^(k - t) r_k``. Shapes: ``[B, T] -> [B, T]``."""
    out = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[:, 0])
    for t in range(rewards.shape[1] - 1, -1, -1):
        running = rewards[:, t] + discount * running
        out[:, t] = running
    return out


def reinforce_loss(log_probs: Tensor, returns: Tensor, values: Tensor, value_coef: float = 0.5) -> Tensor:
    """REINFORCE with a learned baseline (Williams 1992; paper's ``L_Policy``).

    Shapes:
        log_probs, returns, values: ``[B, T]``.
    """
    returns = returns.detach()
    adv = returns - values.detach()
    adv = (adv - adv.mean()) / (adv.std() + 1e-8) if adv.numel() > 1 else adv
    policy = -(log_probs * adv).mean()
    return policy + value_coef * (values - returns).pow(2).mean()


@dataclass(frozen=True)
class LossTerms:
    """The six terms of the combined loss (scalar tensors)."""

    vae: Tensor
    ic: Tensor
    ir: Tensor
    ostrom: Tensor
    resource: Tensor
    policy: Tensor

    def as_floats(self) -> dict[str, float]:
        return {k: float(getattr(self, k).detach()) for k in ("vae", "ic", "ir", "ostrom", "resource", "policy")}


def total_loss(terms: LossTerms, weights: LossWeights) -> Tensor:
    """Paper's combined loss: the weighted sum of the six terms."""
    return (
        weights.vae * terms.vae
        + weights.ic * terms.ic
        + weights.ir * terms.ir
        + weights.ostrom * terms.ostrom
        + weights.resource * terms.resource
        + weights.policy * terms.policy
    )
