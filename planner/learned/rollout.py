"""Episodes of the five-regions economy under any planner, and the ablation metrics.

A planner is anything with ``plan(inp: PlannerInput, state: EconomyState) -> Decision``:
learned policies read only ``inp`` (reports and known quantities); the full-information oracle
also reads ``state``. The economy's randomness comes from ``generator`` alone, so every planner
evaluated with the same seed faces the same economies, reports and shocks.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

import torch
from innatura.planner.learned.config import EconomyConfig, ObservationConfig
from innatura.planner.learned.env import (
    Allocation,
    EconomyState,
    allocate,
    initial_state,
    region_utility,
    regrowth,
    transition,
    welfare,
)
from innatura.planner.learned.losses import ostrom_penalty
from innatura.planner.learned.observations import draw_noise, observe, pooled_types
from innatura.planner.learned.policy import Decision, PlannerInput
from torch import Tensor

__all__ = ["Episode", "EpisodeMetrics", "Planner", "burn_in", "simulate"]

logger = logging.getLogger(__name__)


class Planner(Protocol):
    """The planner interface shared by the learned policy and the baselines."""

    def plan(self, inp: PlannerInput, state: EconomyState) -> Decision: ...


@dataclass(frozen=True)
class EpisodeMetrics:
    """Ablation metrics of a batch of episodes (means over economies).

    Attributes:
        utility: mean over steps of welfare (population-weighted per-capita utility).
        ic_penalty: IC penalty (docs/model.md, "The five-regions economy"), mean over steps and regions.
        allocation_variance: Ostrom criterion on per-capita consumption.
        ir_violation: mean shortfall of utility below U_bar.
        resource_penalty: mean squared excess of allocations over R + h g(R).
        final_stock: mean stock at the end.
    """

    utility: float
    ic_penalty: float
    allocation_variance: float
    ir_violation: float
    resource_penalty: float
    final_stock: float


@dataclass(frozen=True)
class Episode:
    """Trajectories of B economies. Shapes: ``[B, T, N]`` for per-region series, ``[B, T]`` else."""

    utility: Tensor
    welfare: Tensor
    consumption: Tensor
    investment: Tensor
    labour: Tensor
    output: Tensor
    stock: Tensor
    ic_gain: Tensor
    resource_excess: Tensor
    theta: Tensor
    metrics: EpisodeMetrics


def burn_in(
    state: EconomyState, cfg: EconomyConfig, obs_cfg: ObservationConfig, generator: torch.Generator
) -> tuple[list[Tensor], list[Tensor]]:
    """Reports of the ``obs_cfg.history`` periods before planning starts (truthful and pooled)."""
    hist, hist_cf = [], []
    labour = torch.full_like(state.theta, obs_cfg.burn_in_labour)
    pooled = pooled_types(state.theta)
    for _ in range(obs_cfg.history):
        noise = draw_noise(state.batch_size, cfg.n_regions, generator)
        hist.append(observe(state, labour, noise, cfg, obs_cfg))
        hist_cf.append(observe(state, labour, noise, cfg, obs_cfg, reported_theta=pooled))
    return hist, hist_cf


def _alloc(state: EconomyState, d: Decision, cfg: EconomyConfig) -> Allocation:
    return allocate(state, d.share_c, d.share_x, d.labour, cfg)


@torch.no_grad()
def simulate(
    planner: Planner,
    cfg: EconomyConfig,
    obs_cfg: ObservationConfig,
    batch_size: int,
    generator: torch.Generator,
    theta: Tensor | None = None,
) -> Episode:
    """Run one episode of ``cfg.horizon`` steps for ``batch_size`` economies under ``planner``."""
    state = initial_state(cfg, obs_cfg, batch_size, generator, theta=theta)
    theta0 = state.theta
    hist, hist_cf = burn_in(state, cfg, obs_cfg, generator)
    pooled = pooled_types(state.theta)
    rec: dict[str, list[Tensor]] = {k: [] for k in ("u", "w", "c", "x", "l", "y", "R", "ic", "res")}
    for t in range(cfg.horizon):
        inp = PlannerInput(torch.stack(hist, 2), state.capital, state.stock, t)
        inp_cf = PlannerInput(torch.stack(hist_cf, 2), state.capital, state.stock, t)
        alloc = _alloc(state, planner.plan(inp, state), cfg)
        alloc_cf = _alloc(state, planner.plan(inp_cf, state), cfg)
        u = region_utility(alloc.consumption, alloc.labour, state.theta, cfg)
        u_cf = region_utility(alloc_cf.consumption, alloc_cf.labour, state.theta, cfg)
        total = alloc.consumption.sum(-1) + alloc.investment.sum(-1)
        bound = state.stock + cfg.resource_horizon * regrowth(state.stock, cfg)
        rec["u"].append(u)
        rec["w"].append(welfare(u, cfg))
        rec["c"].append(alloc.consumption)
        rec["x"].append(alloc.investment)
        rec["l"].append(alloc.labour)
        rec["y"].append(alloc.output)
        rec["R"].append(state.stock)
        rec["ic"].append(torch.relu(u_cf - u))
        rec["res"].append(torch.relu(total - bound))
        noise = draw_noise(batch_size, cfg.n_regions, generator)
        hist.append(observe(state, alloc.labour, noise, cfg, obs_cfg))
        hist_cf.append(observe(state, alloc.labour, noise, cfg, obs_cfg, reported_theta=pooled))
        state = transition(state, alloc, cfg, generator)
    s = {k: torch.stack(v, 1) for k, v in rec.items()}
    pop = torch.tensor(cfg.populations, dtype=s["c"].dtype)
    metrics = EpisodeMetrics(
        utility=float(s["w"].mean()),
        ic_penalty=float(s["ic"].mean()),
        allocation_variance=float(ostrom_penalty(s["c"] / pop)),
        ir_violation=float(torch.relu(cfg.u_bar - s["u"]).mean()),
        resource_penalty=float(s["res"].pow(2).mean()),
        final_stock=float(state.stock.mean()),
    )
    return Episode(
        utility=s["u"], welfare=s["w"], consumption=s["c"], investment=s["x"], labour=s["l"], output=s["y"],
        stock=s["R"], ic_gain=s["ic"], resource_excess=s["res"], theta=theta0, metrics=metrics,
    )
