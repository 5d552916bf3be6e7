"""Type inference: a posterior over each production unit's hidden type from what it did.

:class:`TypeInference` is the unit-type VAE's encoder (:class:`~planner.learned.unit_vae.UnitTypeVAE`,
a GRU over each unit's nights) followed, unless ``gnn_layers = 0``, by a relational graph
network over the units' graph (:class:`~planner.learned.unit_gnn.UnitGraphConv`, one graph per
night), so that what one unit reveals informs its suppliers, customers, region and peers; then
the VAE's heads: the probability that the unit misreports and, in either case, a Gaussian over
its log-scale whose mean is gated with the latest revealed estimate
(:func:`planner.learned.features.revealed_estimate`; 0 before anything was revealed). For every
unit and night it gives the posterior of the unit's log-scale (the log of its true input use
over tonight's reported use at its reference output) and of whether it misreports.
:meth:`TypeInference.posterior` returns them as a :class:`~planner.learned.type_posterior.TypePosterior`
of numpy arrays.

    >>> from innatura.planner.learned.synthetic_histories import synthetic_histories
    >>> model = TypeInference(InferenceConfig(hidden=8))
    >>> post = model.posterior(synthetic_histories(units=6, nights=4))
    >>> post.median.shape, post.p_misreport.shape
    ((4, 6), (4, 6))
"""

from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
from innatura.planner.errors import InvalidInputError
from innatura.planner.learned.features import CLIP, FEATURES, featurize, revelations
from innatura.planner.learned.histories import EDGE_KINDS, UnitHistories
from innatura.planner.learned.type_posterior import TypePosterior
from innatura.planner.learned.unit_gnn import UnitGraphConv
from innatura.planner.learned.unit_vae import UnitPosterior, UnitTypeVAE
from torch import Tensor, nn

__all__ = ["BASE_FEATURE", "FLAG_THRESHOLD", "FRESH_FEATURE", "SINCE_FEATURE", "InferenceConfig", "RunTensors",
           "TypeInference", "gaussian_nll", "prepare", "resolve_device"]

logger = logging.getLogger(__name__)

#: the feature the posterior mean of the log-scale corrects: the latest revealed estimate
#: (:func:`planner.learned.features.revealed_estimate`).
BASE_FEATURE = FEATURES.index("last_explained")
#: the feature that says last night revealed the unit's use (its revealed estimate is then fresh).
FRESH_FEATURE = FEATURES.index("has_explained")
#: the feature that says how long ago the unit last revealed its use (1: never).
SINCE_FEATURE = FEATURES.index("since_explained")
#: the misreport probability above which a unit is flagged (docs/planners.md states the
#: false-positive rate measured at it).
FLAG_THRESHOLD = 0.5


@dataclass(frozen=True)
class InferenceConfig:
    """Networks, loss weights and training of type inference (JSON round trip: ``to_dict``).

    Attributes:
        hidden, latent_dim, prior_sd: the VAE (:class:`~planner.learned.unit_vae.UnitTypeVAE`).
        gnn_layers: relational graph layers (0: none, each unit alone).
        conv: ``"sage"`` or ``"gat"``.
        scale_weight: weight of the negative log-likelihood of the true log-scale under the
            posterior (training on simulated truth: amortised posterior estimation).
        flag_weight: weight of the misreport indicator's cross-entropy.
        recon_weight, kl_weight: weights of the VAE's reconstruction of what execution reveals
            and of its KL term (the ELBO; needs no truth).
        steps: optimiser steps; runs_per_step: runs in each step's batch.
        lr, grad_clip: Adam step size and gradient-norm bound.
        seed: initialisation, batches and samples.
    """

    hidden: int = 32
    latent_dim: int = 2
    prior_sd: float = 1.0
    gnn_layers: int = 2
    conv: str = "sage"
    scale_weight: float = 1.0
    flag_weight: float = 1.0
    recon_weight: float = 0.5
    kl_weight: float = 0.05
    steps: int = 300
    runs_per_step: int = 4
    lr: float = 1e-2
    grad_clip: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("hidden", "latent_dim", "steps", "runs_per_step"):
            if int(getattr(self, name)) < 1:
                raise InvalidInputError(f"InferenceConfig.{name} = {getattr(self, name)!r}: must be >= 1")
        if self.gnn_layers < 0:
            raise InvalidInputError(f"InferenceConfig.gnn_layers = {self.gnn_layers!r}: must be >= 0")
        if self.conv not in ("sage", "gat"):
            raise InvalidInputError(f"InferenceConfig.conv = {self.conv!r}: must be 'sage' or 'gat'")
        for name in ("prior_sd", "lr", "grad_clip"):
            if not float(getattr(self, name)) > 0:
                raise InvalidInputError(f"InferenceConfig.{name} = {getattr(self, name)!r}: must be > 0")
        for name in ("scale_weight", "flag_weight", "recon_weight", "kl_weight"):
            if not float(getattr(self, name)) >= 0:
                raise InvalidInputError(f"InferenceConfig.{name} = {getattr(self, name)!r}: must be >= 0")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InferenceConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise InvalidInputError(f"InferenceConfig: unknown fields {sorted(unknown)}")
        return cls(**data)


def resolve_device(name: str = "auto") -> torch.device:
    """``"auto"``: CUDA when present, else the CPU; or a torch device name.

    Raises:
        InvalidInputError: an unknown device, or CUDA asked for where there is none.
    """
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(name)
    except RuntimeError as exc:
        raise InvalidInputError(f"device {name!r}: {exc}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InvalidInputError(f"device {name!r}: this machine has no CUDA device")
    return dev


@dataclass(frozen=True, eq=False)
class RunTensors:
    """One run's histories as tensors. ``U`` units, ``T`` nights, ``E`` edges per night.

    Attributes:
        x: features ``[U, T, len(FEATURES)]``.
        edge_index, edge_kind: the units' graph repeated on every night, over the ``T * U``
            nodes ``t * U + u``: ``[2, T E]``, ``[T E]``.
        y, y_mask: the true log-scale (clipped to ``[-CLIP, CLIP]``) and where it is defined, ``[U, T]``.
        m: the misreport indicator, ``[U]``.
        r, r_mask: what each night's execution revealed (``log(drawn / reported use)`` at the
            output) and where it did, ``[U, T]``.
    """

    x: Tensor
    edge_index: Tensor
    edge_kind: Tensor
    y: Tensor
    y_mask: Tensor
    m: Tensor
    r: Tensor
    r_mask: Tensor


def prepare(h: UnitHistories, device: torch.device | str = "cpu") -> RunTensors:
    """The tensors of one run (see :class:`RunTensors`)."""
    if h.nights < 1 or h.units < 1:
        raise InvalidInputError(f"type inference: a run needs nights and units, got {h.nights} x {h.units} "
                                f"({dict(h.meta)})")
    T, U = h.nights, h.units
    x = featurize(h).transpose(1, 0, 2)
    y = np.clip(np.nan_to_num(h.log_scale, nan=0.0), -CLIP, CLIP).T
    seen = revelations(h)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(seen, np.log(h.column("drawn") / h.column("reported_use_output")), 0.0)
    offsets = np.repeat(np.arange(T) * U, h.edges.shape[1])
    edges = np.tile(h.edges, (1, T)) + offsets[None, :]

    def f32(a: np.ndarray) -> Tensor:
        return torch.as_tensor(np.ascontiguousarray(a), dtype=torch.float32, device=device)

    def i64(a: np.ndarray) -> Tensor:
        return torch.as_tensor(np.ascontiguousarray(a), dtype=torch.long, device=device)

    return RunTensors(x=f32(x), edge_index=i64(edges), edge_kind=i64(np.tile(h.edge_kind, T)), y=f32(y),
                      y_mask=f32(h.labelled.T), m=f32(h.misreport), r=f32(np.clip(r, -CLIP, CLIP).T),
                      r_mask=f32(seen.T))


class TypeInference(nn.Module):
    """Unit-type VAE encoder -> relational GNN (optional) -> VAE heads (see the module).

    Args:
        config: sizes (the training fields are kept for the record).

    Features are standardised with buffers set by :meth:`fit_normalizer` (the training data's).
    The buffer ``pin_revealed`` (set by training, :func:`planner.learned.infer_train.choose_pin`)
    says whether the revealed estimate is the posterior's location wherever it is exact (last
    night revealed the unit's use) and always in the honest case: where execution meters the
    inputs exactly, the networks can only add noise to it; where metering is noisy, they
    denoise it, and the pin is off.

    Shapes:
        forward(:class:`RunTensors` of ``U`` units, ``T`` nights) -> :class:`UnitPosterior`
        with ``mu, logvar [U, T, 2, latent_dim]``, ``logit [U, T]``.
    """

    x_mean: Tensor
    x_scale: Tensor
    pin_revealed: Tensor

    def __init__(self, config: InferenceConfig = InferenceConfig()):
        super().__init__()
        self.config = config
        self.vae = UnitTypeVAE(len(FEATURES), config.hidden, config.latent_dim, config.prior_sd)
        self.gnn = (UnitGraphConv(config.hidden, len(EDGE_KINDS), config.gnn_layers, config.conv)
                    if config.gnn_layers > 0 else None)
        # tonight's features reach the graph directly (the encoder's state need not carry them)
        self.skip = nn.Linear(len(FEATURES), config.hidden) if config.gnn_layers > 0 else None
        self.register_buffer("x_mean", torch.zeros(len(FEATURES)))
        self.register_buffer("x_scale", torch.ones(len(FEATURES)))
        self.register_buffer("pin_revealed", torch.zeros(()))
        self.reset_parameters()

    def fit_normalizer(self, runs: list[RunTensors]) -> None:
        """Standardise the features by their mean and standard deviation over ``runs`` (kept in
        the state_dict; a feature that does not vary is left unscaled)."""
        x = torch.cat([r.x.reshape(-1, r.x.shape[-1]) for r in runs]).double()
        sd = x.std(0)
        with torch.no_grad():
            self.x_mean.copy_(x.mean(0).to(self.x_mean))
            self.x_scale.copy_(torch.where(sd > 1e-6, sd, torch.ones_like(sd)).to(self.x_scale))

    def _load_from_state_dict(self, state_dict: dict[str, Any], prefix: str, *args: Any, **kwargs: Any) -> None:
        # checkpoints from before the pin read as unpinned
        state_dict.setdefault(prefix + "pin_revealed", torch.zeros(()))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def reset_parameters(self) -> None:
        self.vae.reset_parameters()
        if self.gnn is not None and self.skip is not None:
            self.gnn.reset_parameters()
            self.skip.reset_parameters()

    def forward(self, run: RunTensors) -> UnitPosterior:
        x = (run.x - self.x_mean) / self.x_scale
        h = self.vae.encode(x)
        if self.gnn is not None and self.skip is not None:
            U, T, H = h.shape
            nodes = (h + torch.tanh(self.skip(x))).transpose(0, 1).reshape(T * U, H)
            h = self.gnn(nodes, run.edge_index, run.edge_kind).reshape(T, U, H).transpose(0, 1)
        post = self.vae.heads(h, offset=run.x[..., BASE_FEATURE], evidence=x[..., BASE_FEATURE])
        if float(self.pin_revealed) < 0.5:
            return post
        # pinned: where last night revealed the unit's use at tonight's curve, its revealed
        # estimate is the location of both cases, and it is always the honest case's (an honest
        # unit's scale moves only when it refits on what it reveals)
        base = run.x[..., BASE_FEATURE, None].expand_as(post.mu[..., 0])
        honest = (torch.arange(2, device=base.device) == 0).expand_as(base)
        fresh = (run.x[..., FRESH_FEATURE] > 0.5)[..., None] | honest
        scale = torch.where(fresh, base, post.mu[..., 0])
        return replace(post, mu=torch.cat([scale[..., None], post.mu[..., 1:]], dim=-1))

    def posterior(self, h: UnitHistories) -> TypePosterior:
        """The posterior of every unit and night of ``h`` (no gradient; the model's device)."""
        device = next(self.parameters()).device
        was = self.training
        self.eval()
        try:
            with torch.no_grad():
                post = self(prepare(h, device))
        finally:
            self.train(was)
        means = post.mu[..., 0].transpose(0, 1).double().cpu().numpy()
        sds = torch.exp(0.5 * post.logvar[..., 0]).transpose(0, 1).double().cpu().numpy()
        p = torch.sigmoid(post.logit).T.double().cpu().numpy()
        return TypePosterior(p_misreport=p, means=means, sds=sds, unit_ids=np.asarray(h.unit_ids).copy())


def gaussian_nll(y: Tensor, mu: Tensor, logvar: Tensor) -> Tensor:
    """``-log N(y; mu, exp(logvar))`` elementwise."""
    return 0.5 * ((y - mu).pow(2) * torch.exp(-logvar) + logvar + math.log(2 * math.pi))
