"""Variational autoencoder that infers region types theta from observation histories.

The encoder ``q(z | x_1..T)`` embeds each period's features with an MLP, averages over the
periods observed so far (so it accepts any history length) and outputs a diagonal Gaussian.
The decoder is the observation model of :mod:`planner.learned.observations` made generative:
with ``z = (z_theta, z_bias, z_rest...)``,

- implied productivity ``p ~ N(alpha z_theta + z_bias + w_p . z_rest, sigma_p^2)``,
- audit signal ``s ~ N(z_theta + w_s . z_rest, sigma_s^2)``,

so ``z_theta`` is the log type and ``z_bias`` the over-reporting; ``sigma_p, sigma_s`` are learned.
The loss is the negative ELBO (Kingma & Welling 2014) with a standard normal prior.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import torch
from innatura.planner.errors import InvalidInputError
from innatura.planner.learned.observations import N_FEATURES
from torch import Tensor, nn

__all__ = ["Posterior", "TypeVAE"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Posterior:
    """Diagonal Gaussian ``q(z | x)``. Shapes: ``[..., latent_dim]``."""

    mu: Tensor
    logvar: Tensor

    @property
    def log_theta(self) -> Tensor:
        """Posterior mean of ``log theta`` (the first latent)."""
        return self.mu[..., 0]

    def rsample(self, generator: torch.Generator | None) -> Tensor:
        eps = torch.randn(self.mu.shape, generator=generator, dtype=self.mu.dtype)
        return self.mu + torch.exp(0.5 * self.logvar) * eps


class TypeVAE(nn.Module):
    """Type-inference VAE.

    Args:
        alpha: output elasticity of theta (fixes the decoder's structure).
        latent_dim: at least 2 (log type, report bias); extra dimensions are free.
        hidden: width of the encoder.

    Shapes:
        history: ``[B, N, T, N_FEATURES]`` -> Posterior with ``[B, N, latent_dim]``.
    """

    def __init__(self, alpha: float, latent_dim: int = 2, hidden: int = 32):
        super().__init__()
        if latent_dim < 2:
            raise InvalidInputError(f"TypeVAE: latent_dim = {latent_dim} must be >= 2")
        self.alpha = float(alpha)
        self.latent_dim = int(latent_dim)
        self.hidden = int(hidden)
        self.embed = nn.Sequential(nn.Linear(N_FEATURES, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh())
        self.head = nn.Linear(hidden + 1, 2 * latent_dim)
        self.rest = nn.Linear(max(latent_dim - 2, 1), 2, bias=False)
        self.log_sigma = nn.Parameter(torch.zeros(2))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for m in self.embed:
            if isinstance(m, nn.Linear):
                m.reset_parameters()
        self.head.reset_parameters()
        self.rest.reset_parameters()
        with torch.no_grad():
            self.log_sigma.fill_(math.log(0.5))

    def forward(self, history: Tensor) -> Posterior:
        if history.dim() != 4 or history.shape[-1] != N_FEATURES:
            raise InvalidInputError(f"TypeVAE: history must be [B, N, T, {N_FEATURES}], got {tuple(history.shape)}")
        t = history.shape[2]
        pooled = self.embed(history).mean(2)
        length = torch.full((*pooled.shape[:-1], 1), 1.0 / math.sqrt(t), dtype=pooled.dtype)
        out = self.head(torch.cat([pooled, length], -1))
        mu, logvar = out.split(self.latent_dim, dim=-1)
        return Posterior(mu=mu, logvar=logvar.clamp(-8.0, 4.0))

    def decode(self, z: Tensor) -> Tensor:
        """Means of (p, s) given z. ``[..., latent_dim] -> [..., 2]``."""
        rest = z[..., 2:] if self.latent_dim > 2 else torch.zeros_like(z[..., :1])
        extra = self.rest(rest)
        p = self.alpha * z[..., 0] + z[..., 1] + extra[..., 0]
        s = z[..., 0] + extra[..., 1]
        return torch.stack([p, s], -1)

    def loss(self, history: Tensor, posterior: Posterior, generator: torch.Generator | None = None) -> Tensor:
        """Negative ELBO per region and observed period (mean over batch and regions).

        Shapes:
            history: ``[B, N, T, N_FEATURES]``; posterior for the same ``[B, N]``.
        """
        z = posterior.rsample(generator)
        mean = self.decode(z)[:, :, None, :]
        target = history[..., :2]
        sigma = torch.exp(self.log_sigma)
        nll = 0.5 * ((target - mean) / sigma).pow(2) + self.log_sigma + 0.5 * math.log(2 * math.pi)
        recon = nll.sum(-1).sum(-1)
        kl = 0.5 * (posterior.mu.pow(2) + posterior.logvar.exp() - 1.0 - posterior.logvar).sum(-1)
        return ((recon + kl) / history.shape[2]).mean()
