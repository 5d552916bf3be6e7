"""Training of type inference on simulated histories with known truth.

The loss of a run, per labelled unit-night (the sums are divided by their number):

``L = w_scale NLL(log_scale | q(. | m)) + w_flag BCE(m | q(m))``
``  + w_recon E_q NLL(r | z) + w_kl E_q(m) KL(q(z | m) || prior)``

where ``m`` is the unit's true misreport indicator. The first two terms are
``-log q(m, log_scale | x)``: they fit the posterior to the simulator's truth (amortised
posterior estimation: minimising the expected negative log-likelihood of the truth makes ``q``
the posterior of the simulated distribution, so its intervals can be calibrated); the last two
are the VAE's negative ELBO on what execution reveals, which needs no truth. One Adam step per
batch of ``runs_per_step`` runs drawn with replacement. Same config, same data, same device: same
weights.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from innatura.planner.errors import InvalidInputError
from innatura.planner.learned.histories import UnitHistories
from innatura.planner.learned.inference import (
    InferenceConfig,
    RunTensors,
    TypeInference,
    gaussian_nll,
    prepare,
    resolve_device,
)
from torch import Tensor

__all__ = ["InferenceResult", "build_inference", "inference_loss", "train_inference"]

logger = logging.getLogger(__name__)

TERMS = ("loss", "scale", "flag", "recon", "kl")


@dataclass(frozen=True)
class InferenceResult:
    """A trained model, its config and the per-step log (dicts with ``step`` and :data:`TERMS`)."""

    model: TypeInference
    config: InferenceConfig
    history: tuple[dict[str, float], ...]


def build_inference(config: InferenceConfig) -> TypeInference:
    """A freshly initialised model; initialisation depends on ``config.seed`` only (the global
    RNG state is restored)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        return TypeInference(config)


def inference_loss(model: TypeInference, run: RunTensors, generator: torch.Generator | None = None
                   ) -> tuple[Tensor, dict[str, Tensor]]:
    """The weighted loss of one run and its unweighted terms (see the module)."""
    cfg = model.config
    post = model(run)
    n = run.y_mask.sum().clamp(min=1.0)
    truth = run.m.long()[:, None, None, None].expand(-1, post.mu.shape[1], 1, 1)
    mu = post.mu[..., 0:1].gather(2, truth)[..., 0, 0]
    logvar = post.logvar[..., 0:1].gather(2, truth)[..., 0, 0]
    scale = (gaussian_nll(run.y, mu, logvar) * run.y_mask).sum() / n
    m = run.m[:, None].expand_as(post.logit)
    flag = (torch.nn.functional.binary_cross_entropy_with_logits(post.logit, m, reduction="none")
            * run.y_mask).sum() / n
    recon = model.vae.reconstruction(post, run.r, run.r_mask, generator) / n
    kl = (post.kl(cfg.prior_sd) * run.y_mask).sum() / n
    loss = cfg.scale_weight * scale + cfg.flag_weight * flag + cfg.recon_weight * recon + cfg.kl_weight * kl
    return loss, {"loss": loss, "scale": scale, "flag": flag, "recon": recon, "kl": kl}


def choose_pin(model: TypeInference, runs: Sequence[UnitHistories]) -> bool:
    """Set ``model.pin_revealed`` to whichever of unpinned and pinned ranks the true scales of
    ``runs`` (the training runs) better by the posterior location (the baseline as a prior where
    it is exact, chosen on the training data); returns whether it pinned."""
    from innatura.planner.learned.infer_eval import evaluate

    if not any(h.labelled[1:].any() for h in runs):
        return bool(model.pin_revealed > 0.5)
    figures = []
    for pin in (0.0, 1.0):
        model.pin_revealed.fill_(pin)
        figures.append(evaluate(model, runs).location_spearman)
    pinned = figures[1] > figures[0]
    model.pin_revealed.fill_(1.0 if pinned else 0.0)
    logger.info("type inference: location rank correlation on the training runs %.3f unpinned, %.3f pinned: %s",
                figures[0], figures[1], "pinned" if pinned else "unpinned")
    return pinned


def train_inference(runs: Sequence[UnitHistories], config: InferenceConfig | None = None,
                    device: str = "auto", progress: Callable[[int, dict[str, float]], None] | None = None
                    ) -> InferenceResult:
    """Train type inference on ``runs`` (histories with truth).

    Args:
        runs: the training runs.
        config: networks, weights and training (default: :class:`InferenceConfig`'s defaults).
        device: ``"auto"`` (CUDA when present, else CPU), ``"cpu"``, ``"cuda"``, ...
        progress: called after each step with its index and log row (e.g. to advance a bar).

    Raises:
        InvalidInputError: no runs, or no labelled night in them.
    """
    config = InferenceConfig() if config is None else config
    if not runs:
        raise InvalidInputError("train_inference: no training runs")
    if not any(h.labelled.any() for h in runs):
        raise InvalidInputError("train_inference: no run has a labelled night (truth)")
    dev = resolve_device(device)
    threads = torch.get_num_threads()
    if dev.type == "cpu":
        torch.set_num_threads(1)
    try:
        model = build_inference(config).to(dev)
        data = [prepare(h, dev) for h in runs]
        model.fit_normalizer(data)
        gen = torch.Generator().manual_seed(config.seed)
        opt = torch.optim.Adam(model.parameters(), lr=config.lr)
        history = []
        for step in range(config.steps):
            pick = torch.randint(len(data), (config.runs_per_step,), generator=gen).tolist()
            opt.zero_grad()
            parts = [inference_loss(model, data[i], gen) for i in pick]
            loss = torch.stack([p[0] for p in parts]).mean()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            opt.step()
            row = {"step": float(step)}
            row.update({k: float(torch.stack([p[1][k] for p in parts]).mean().detach()) for k in TERMS})
            history.append(row)
            if progress is not None:
                progress(step, row)
        model.eval()
        choose_pin(model, runs)
        return InferenceResult(model=model, config=config, history=tuple(history))
    finally:
        torch.set_num_threads(threads)
