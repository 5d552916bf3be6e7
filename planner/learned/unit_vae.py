"""Sequence VAE over a production unit's nights: a posterior over its hidden type.

The type of a unit on night ``t`` is a misreport indicator ``m`` (Bernoulli) and ``z_t``
(``latent_dim`` numbers): ``z_t[0]`` is the log of its true input use over its reported use
(the ``log_scale``), the rest are free. The encoder ``q(m, z_t | x_1..t) = q(m | x) q(z_t | m, x)``
embeds each night's features (:mod:`planner.learned.features`), runs a GRU over the nights
(causal: night ``t`` sees nothing later) and outputs the logit of ``m`` and, for each value of
``m``, a diagonal Gaussian: the posterior of the log-scale is a two-component mixture (an
honest unit's log-scale is its learning error, near 0; a liar's sits near ``-log factor``),
which a single Gaussian could only smear between the two. With a plain estimate of the
log-scale (``offset``), each component's mean is ``a offset + (1 - a) m_k`` with a learned
gate ``a``. The decoder ``p(r_t | z_t)`` is the observation model of what the night's
execution reveals: the log-ratio ``r_t`` of the inputs the unit draws to what its report
said, ``N(z_t[0] + w . z_t[1:], sigma_r^2)``; the prior on ``z`` is ``N(0, prior_sd^2 I)``
(Kingma & Welling 2014; with a labelled discrete latent as in Kingma et al. 2014, M2).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import torch
from innatura.planner.errors import InvalidInputError
from torch import Tensor, nn

__all__ = ["GATE_INIT", "LOGVAR_RANGE", "UnitPosterior", "UnitTypeVAE"]

logger = logging.getLogger(__name__)

#: initial logit of the gate that trusts the plain estimate (``sigmoid(6) = 0.9975``).
GATE_INIT = 6.0
#: bounds of the posterior log-variances.
LOGVAR_RANGE = (-10.0, 4.0)


@dataclass(frozen=True)
class UnitPosterior:
    """``q(m | x)`` and ``q(z | m, x)`` per unit and night; component 0 is honest, 1 misreporting.

    Shapes:
        mu, logvar: ``[N, T, 2, latent_dim]``; logit (of ``m = 1``): ``[N, T]``.
    """

    mu: Tensor
    logvar: Tensor
    logit: Tensor

    @property
    def weights(self) -> Tensor:
        """``q(m | x)`` for ``m = 0, 1``, ``[N, T, 2]``."""
        p = torch.sigmoid(self.logit)
        return torch.stack([1.0 - p, p], dim=-1)

    def rsample(self, generator: torch.Generator | None) -> Tensor:
        """A reparameterised sample of ``z`` from each component, ``[N, T, 2, latent_dim]`` (noise
        drawn on the CPU, so that a seed gives the same sample on every device)."""
        eps = torch.randn(self.mu.shape, generator=generator, dtype=self.mu.dtype).to(self.mu.device)
        return self.mu + torch.exp(0.5 * self.logvar) * eps

    def kl(self, prior_sd: float) -> Tensor:
        """``sum_m q(m) KL(q(z | m) || N(0, prior_sd^2 I))`` per unit and night, ``[N, T]``."""
        var0 = prior_sd ** 2
        per = 0.5 * ((self.mu.pow(2) + self.logvar.exp()) / var0 - 1.0 - self.logvar + math.log(var0)).sum(-1)
        return (self.weights * per).sum(-1)


class UnitTypeVAE(nn.Module):
    """The encoder, heads and decoder of the unit-type VAE (see the module).

    Args:
        in_channels: features per night.
        hidden: width of the embedding and the GRU.
        latent_dim: size of ``z`` (``>= 1``; ``z[0]`` is the log-scale).
        prior_sd: standard deviation of the prior on ``z``.

    Shapes:
        encode: ``x [N, T, in_channels]`` -> ``h [N, T, hidden]``.
        heads: ``h [N, T, hidden]``, ``offset`` and ``evidence [N, T]`` -> :class:`UnitPosterior`.
        decode: ``z [..., latent_dim]`` -> mean of the revealed log-ratio ``[...]``.
    """

    def __init__(self, in_channels: int, hidden: int = 32, latent_dim: int = 2, prior_sd: float = 1.0):
        super().__init__()
        if in_channels < 1 or hidden < 1 or latent_dim < 1 or not prior_sd > 0:
            raise InvalidInputError(f"UnitTypeVAE: in_channels = {in_channels}, hidden = {hidden}, latent_dim = "
                                    f"{latent_dim} must be >= 1 and prior_sd = {prior_sd} > 0")
        self.in_channels, self.hidden, self.latent_dim = int(in_channels), int(hidden), int(latent_dim)
        self.prior_sd = float(prior_sd)
        self.embed = nn.Linear(in_channels, hidden)
        self.gru = nn.GRU(hidden, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 2 * (2 * latent_dim + 1))
        self.flag = nn.Linear(hidden + 1, 1)
        self.rest = nn.Linear(max(latent_dim - 1, 1), 1, bias=False)
        self.log_sigma_r = nn.Parameter(torch.zeros(()))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.embed.reset_parameters()
        self.gru.reset_parameters()
        self.head.reset_parameters()
        self.flag.reset_parameters()
        self.rest.reset_parameters()
        with torch.no_grad():
            self.head.weight.mul_(0.1)
            self.head.bias.zero_()
            self.head.bias.view(2, -1)[:, -1] = GATE_INIT
            self.log_sigma_r.fill_(math.log(0.1))

    def encode(self, x: Tensor) -> Tensor:
        if x.dim() != 3 or x.shape[-1] != self.in_channels:
            raise InvalidInputError(f"UnitTypeVAE: x must be [N, T, {self.in_channels}], got {tuple(x.shape)}")
        h, _ = self.gru(torch.tanh(self.embed(x)))
        return h

    def heads(self, h: Tensor, offset: Tensor | None = None, evidence: Tensor | None = None) -> UnitPosterior:
        """The posterior from the encoder's states. ``offset [N, T]``: a plain estimate of the
        log-scale each component's mean is gated with (see the module); ``evidence [N, T]``: a
        standardised feature the misreport logit also reads directly (default 0)."""
        L = self.latent_dim
        out = self.head(h).unflatten(-1, (2, 2 * L + 1))
        mu, logvar, gate = out[..., :L], out[..., L:2 * L], out[..., 2 * L:]
        if offset is not None:
            a = torch.sigmoid(gate)
            mu = torch.cat([a * offset[..., None, None] + (1 - a) * mu[..., :1], mu[..., 1:]], dim=-1)
        ev = torch.zeros_like(h[..., :1]) if evidence is None else evidence[..., None]
        logit = self.flag(torch.cat([h, ev], dim=-1))[..., 0]
        return UnitPosterior(mu=mu, logvar=logvar.clamp(*LOGVAR_RANGE), logit=logit)

    def decode(self, z: Tensor) -> Tensor:
        rest = z[..., 1:] if self.latent_dim > 1 else torch.zeros_like(z[..., :1])
        return z[..., 0] + self.rest(rest)[..., 0]

    def forward(self, x: Tensor) -> UnitPosterior:
        return self.heads(self.encode(x))

    def reconstruction(self, posterior: UnitPosterior, revealed: Tensor, mask: Tensor,
                       generator: torch.Generator | None = None) -> Tensor:
        """Expected negative log-likelihood of the revealed log-ratios, ``sum_m q(m) NLL(r | z_m)``
        with ``z_m`` a sample of component ``m``, summed over the nights where ``mask`` is true.

        Shapes:
            revealed, mask: ``[N, T]``.
        """
        mean = self.decode(posterior.rsample(generator))
        sigma = torch.exp(self.log_sigma_r)
        nll = 0.5 * ((revealed[..., None] - mean) / sigma).pow(2) + self.log_sigma_r + 0.5 * math.log(2 * math.pi)
        return ((posterior.weights * nll).sum(-1) * mask).sum()
