"""The five-regions economy as a pure, batched, differentiable torch environment.

Paper ("Economic Model Formulation") and docs/model.md "The five-regions economy", with production feeding the
common stock. Per step ``t`` and region ``i`` (B economies in parallel, N regions each):

1. The planner fixes the working share ``l_i`` in (0, 1] and shares of the available stock.
2. Production (paper Eq. 1): ``y_i = exp(Z) theta_i^alpha k_i^beta (l_i n_i)^(1-beta)``.
3. The stock available today is ``A = R + g(R) + sum_i y_i`` with ``g(R) = r R (1 - R/K)``:
   output joins the common stock before it is allocated (the law chosen here).
4. Allocation: ``c_i = A s^c_i`` (consumption), ``x_i = A s^x_i`` (investment), the shares
   summing to at most 1, so the stock never goes negative.
5. Transition: ``R' = A - sum_i (c_i + x_i)``; this is the paper's
   ``R' = R + g(R) - sum_i (c_i + x_i)`` plus production. Capital ``k_i' = (1 - delta) k_i + x_i``;
   the shock ``Z' = Z + shock_sd eps`` is a random walk.

Utility of a citizen of region ``i`` (paper Eq. 2 per capita, plus a labour cost):
``u_i = sqrt(c_i / n_i theta_i) - a c_i / n_i - psi l_i^2 / 2``. Welfare is the
population-weighted mean of ``u_i``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import torch
from innatura.planner.errors import InvalidInputError
from innatura.planner.learned.config import EconomyConfig, ObservationConfig
from torch import Tensor

__all__ = [
    "Allocation",
    "EconomyState",
    "allocate",
    "initial_state",
    "populations",
    "production",
    "region_utility",
    "regrowth",
    "shares_from_logits",
    "transition",
    "utility",
    "welfare",
]

logger = logging.getLogger(__name__)

_EPS = 1e-8


@dataclass(frozen=True)
class EconomyState:
    """State of B economies.

    Shapes:
        theta, capital, report_bias: ``[B, N]``; stock, shock: ``[B]``.

    Attributes:
        theta: hidden productivity types.
        capital: capital stock k per region.
        stock: common resource stock R.
        shock: aggregate productivity shock Z.
        report_bias: log factor each region inflates its output reports by (0: honest).
        t: steps taken in the episode.
    """

    theta: Tensor
    capital: Tensor
    stock: Tensor
    shock: Tensor
    report_bias: Tensor
    t: int = 0

    @property
    def batch_size(self) -> int:
        return int(self.theta.shape[0])


@dataclass(frozen=True)
class Allocation:
    """One step's executed plan. Shapes: ``[B, N]`` except ``available`` ``[B]``."""

    consumption: Tensor
    investment: Tensor
    labour: Tensor
    output: Tensor
    available: Tensor


def populations(cfg: EconomyConfig, like: Tensor | None = None) -> Tensor:
    """Populations n as a ``[N]`` tensor (dtype/device of ``like``)."""
    dtype = like.dtype if like is not None else torch.get_default_dtype()
    return torch.tensor(cfg.populations, dtype=dtype)


def initial_state(
    cfg: EconomyConfig,
    obs_cfg: ObservationConfig,
    batch_size: int,
    generator: torch.Generator,
    theta: Tensor | None = None,
) -> EconomyState:
    """Draw B economies: ``theta_i ~ |N(0, 1)| + theta_floor``, misreporters with ``misreport_share``.

    Args:
        theta: optional fixed types ``[B, N]`` (or ``[N]``, broadcast).
    """
    if batch_size < 1:
        raise InvalidInputError(f"initial_state: batch_size = {batch_size} must be >= 1")
    n = cfg.n_regions
    if theta is None:
        theta = torch.randn(batch_size, n, generator=generator).abs() + cfg.theta_floor
    else:
        theta = torch.as_tensor(theta, dtype=torch.get_default_dtype()).expand(batch_size, n).clone()
        if not bool((theta > 0).all()):
            raise InvalidInputError("initial_state: theta must be > 0")
    lies = torch.rand(batch_size, n, generator=generator) < obs_cfg.misreport_share
    bias = lies.to(theta.dtype) * float(torch.log(torch.tensor(obs_cfg.misreport_factor)))
    return EconomyState(
        theta=theta,
        capital=torch.full((batch_size, n), cfg.initial_capital),
        stock=torch.full((batch_size,), cfg.initial_stock),
        shock=torch.zeros(batch_size),
        report_bias=bias,
        t=0,
    )


def production(theta: Tensor, capital: Tensor, labour: Tensor, shock: Tensor, cfg: EconomyConfig) -> Tensor:
    """Paper Eq. 1: ``y = exp(Z) theta^alpha k^beta (l n)^(1 - beta)``.

    Shapes:
        theta, capital, labour: ``[B, N]`` (labour is the working share); shock ``[B]`` -> ``[B, N]``.
    """
    workers = labour * populations(cfg, theta)
    return (
        torch.exp(shock)[:, None]
        * theta.pow(cfg.alpha)
        * capital.clamp_min(_EPS).pow(cfg.beta)
        * workers.clamp_min(_EPS).pow(1.0 - cfg.beta)
    )


def regrowth(stock: Tensor, cfg: EconomyConfig) -> Tensor:
    """Logistic regrowth ``g(R) = r R (1 - R / K)`` (paper, resource law)."""
    return cfg.regrowth * stock * (1.0 - stock / cfg.capacity)


def utility(consumption_per_capita: Tensor, theta: Tensor, a: float) -> Tensor:
    """Paper Eq. 2: ``U(c, theta) = sqrt(c theta) - a c``."""
    return torch.sqrt(consumption_per_capita.clamp_min(0.0) * theta + _EPS) - a * consumption_per_capita


def region_utility(consumption: Tensor, labour: Tensor, theta: Tensor, cfg: EconomyConfig) -> Tensor:
    """Per-capita utility of each region: ``U(c_i / n_i, theta_i) - psi l_i^2 / 2``. ``[B, N]``."""
    pop = populations(cfg, consumption)
    return utility(consumption / pop, theta, cfg.a) - 0.5 * cfg.labour_disutility * labour.pow(2)


def welfare(region_u: Tensor, cfg: EconomyConfig) -> Tensor:
    """Population-weighted mean of per-capita utilities: ``[B, N] -> [B]``."""
    pop = populations(cfg, region_u)
    return (region_u * pop).sum(-1) / pop.sum()


def shares_from_logits(logit_c: Tensor, logit_x: Tensor, logit_keep: Tensor) -> tuple[Tensor, Tensor]:
    """Softmax over (consume in i, invest in i, keep in stock): shares summing to 1 with the kept part.

    Shapes:
        logit_c, logit_x: ``[B, N]``; logit_keep: ``[B]`` -> two ``[B, N]`` share tensors.
    """
    n = logit_c.shape[-1]
    p = torch.softmax(torch.cat([logit_c, logit_x, logit_keep[:, None]], dim=-1), dim=-1)
    return p[:, :n], p[:, n : 2 * n]


def allocate(
    state: EconomyState, share_c: Tensor, share_x: Tensor, labour: Tensor, cfg: EconomyConfig
) -> Allocation:
    """Steps 2-4: produce with ``labour``, pool output into the stock, hand out shares of it.

    Raises:
        InvalidInputError: if the shares are negative or sum to more than 1 in some economy.
    """
    total = share_c.sum(-1) + share_x.sum(-1)
    if bool((share_c < 0).any() | (share_x < 0).any()) or bool((total > 1 + 1e-6).any()):
        raise InvalidInputError(f"allocate: shares must be >= 0 and sum to <= 1 (max sum {float(total.max()):.6g})")
    labour = labour.clamp(_EPS, 1.0)
    y = production(state.theta, state.capital, labour, state.shock, cfg)
    available = (state.stock + regrowth(state.stock, cfg) + y.sum(-1)).clamp_min(0.0)
    return Allocation(
        consumption=available[:, None] * share_c,
        investment=available[:, None] * share_x,
        labour=labour,
        output=y,
        available=available,
    )


def transition(state: EconomyState, alloc: Allocation, cfg: EconomyConfig, generator: torch.Generator) -> EconomyState:
    """Step 5: ``R' = A - sum(c + x)``, ``k' = (1 - delta) k + x``, ``Z' = Z + shock_sd eps``."""
    used = alloc.consumption.sum(-1) + alloc.investment.sum(-1)
    eps = torch.randn(state.batch_size, generator=generator)
    return replace(
        state,
        stock=(alloc.available - used).clamp_min(0.0),
        capital=(1.0 - cfg.delta) * state.capital + alloc.investment,
        shock=state.shock + cfg.shock_sd * eps,
        t=state.t + 1,
    )
