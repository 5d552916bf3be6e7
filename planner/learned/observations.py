"""What the planner sees of the hidden types: reported output, known inputs, audit signals.

Each step every region files a report. With ``eps_y, eps_s ~ N(0, 1)`` drawn once and shared
by truthful and counterfactual reports (so that the IC comparison differs only in the report):

- reported output ``y~_i = exp(Z) theta^r_i^alpha k_i^beta (l_i n_i)^(1-beta) exp(b_i + sigma_y eps_y)``,
  where ``theta^r`` is the type the report is consistent with (the true theta when truthful)
  and ``b_i`` the region's misreport bias (``log misreport_factor`` for misreporters, else 0);
- an audit signal ``s_i = log theta_i + sigma_s eps_s`` that the region cannot manipulate.

The planner knows the inputs it allocated (k_i, l_i n_i), so the features per region are

- ``p_i = log y~_i - beta log k_i - (1 - beta) log(l_i n_i) = Z + alpha log theta^r_i + b_i + sigma_y eps_y``
  (the productivity implied by the report),
- ``s_i`` (the audit), and
- ``d = log sum_j y~_j - log sum_j y_j``: the aggregate over-reporting, known exactly because
  output feeds the common stock and the planner sees the stock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch
from innatura.planner.learned.config import EconomyConfig, ObservationConfig
from innatura.planner.learned.env import EconomyState, production
from torch import Tensor

__all__ = ["N_FEATURES", "ReportNoise", "draw_noise", "implied_log_theta", "observe", "pooled_types"]

logger = logging.getLogger(__name__)

#: Features per region and step: implied productivity, audit signal, aggregate over-reporting.
N_FEATURES = 3


@dataclass(frozen=True)
class ReportNoise:
    """Standard-normal draws of one report period. Shapes: ``[B, N]``."""

    output: Tensor
    audit: Tensor


def draw_noise(batch_size: int, n_regions: int, generator: torch.Generator) -> ReportNoise:
    """Draw one period's report noise from ``generator``."""
    return ReportNoise(
        output=torch.randn(batch_size, n_regions, generator=generator),
        audit=torch.randn(batch_size, n_regions, generator=generator),
    )


def pooled_types(theta: Tensor) -> Tensor:
    """The IC deviation (docs/model.md, "The five-regions economy"): every region reports the mean type.

    Shapes: ``[B, N] -> [B, N]``.
    """
    return theta.mean(-1, keepdim=True).expand_as(theta)


def observe(
    state: EconomyState,
    labour: Tensor,
    noise: ReportNoise,
    cfg: EconomyConfig,
    obs_cfg: ObservationConfig,
    reported_theta: Tensor | None = None,
) -> Tensor:
    """One period's observation features.

    Args:
        state: the economy when the reports are filed (capital, shock, true theta, bias).
        labour: working shares used in the period, ``[B, N]``.
        noise: the period's draws.
        reported_theta: the type the output report is consistent with; None means truthful.

    Returns:
        ``[B, N, N_FEATURES]``: implied productivity p, audit s, aggregate over-reporting d.
    """
    true_y = production(state.theta, state.capital, labour, state.shock, cfg)
    rep_theta = state.theta if reported_theta is None else reported_theta
    rep_y = production(rep_theta, state.capital, labour, state.shock, cfg) * torch.exp(
        state.report_bias + obs_cfg.output_noise * noise.output
    )
    workers = (labour * torch.tensor(cfg.populations, dtype=labour.dtype)).clamp_min(1e-8)
    implied = torch.log(rep_y) - cfg.beta * torch.log(state.capital) - (1 - cfg.beta) * torch.log(workers)
    audit = torch.log(state.theta) + obs_cfg.audit_noise * noise.audit
    gap = torch.log(rep_y.sum(-1)) - torch.log(true_y.sum(-1))
    return torch.stack([implied, audit, gap[:, None].expand_as(implied)], dim=-1)


def implied_log_theta(history: Tensor, cfg: EconomyConfig) -> Tensor:
    """Type estimate from reports alone, assuming honesty and Z = 0: ``mean_t p / alpha``.

    Shapes:
        history: ``[B, N, T, N_FEATURES]`` -> ``[B, N]``.
    """
    return history[..., 0].mean(-1) / cfg.alpha

