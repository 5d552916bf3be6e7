"""Training of the learned planner with the combined loss.

Each episode rolls out ``batch_size`` economies for ``horizon`` steps. Executed actions are
reparameterised samples of the Gaussian policy: the reward (welfare) reaches the policy only
through REINFORCE with the learned baseline (``L_Policy``), while the penalties (IR, Ostrom,
Resource) are differentiated through the model's dynamics. The IC term compares the mean plans
under truthful and pooled reports on the same state. One Adam step per episode.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import torch
from innatura.planner.learned.config import LearnedPlannerConfig
from innatura.planner.learned.env import allocate, initial_state, region_utility, regrowth, transition, welfare
from innatura.planner.learned.losses import (
    LossTerms,
    discounted_returns,
    ic_penalty,
    ir_penalty,
    ostrom_penalty,
    reinforce_loss,
    resource_penalty,
    total_loss,
)
from innatura.planner.learned.observations import draw_noise, observe, pooled_types
from innatura.planner.learned.policy import PlannerInput, PlannerPolicy, PolicyOutput, decision_from_raw
from innatura.planner.learned.rollout import burn_in
from innatura.planner.learned.vae import Posterior
from torch import Tensor

__all__ = ["TrainResult", "build_policy", "generators", "train"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainResult:
    """A trained policy and its per-episode log (dicts with ``episode``, ``loss``, the six terms, ``utility``)."""

    policy: PlannerPolicy
    config: LearnedPlannerConfig
    history: tuple[dict[str, float], ...]


def build_policy(config: LearnedPlannerConfig, seed: int) -> PlannerPolicy:
    """A freshly initialised policy; initialisation depends on ``seed`` only (global RNG state is restored)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return PlannerPolicy(config.economy, config.model)


def generators(seed: int) -> tuple[torch.Generator, torch.Generator]:
    """Independent generators for the economy and for policy sampling, both from ``seed``."""
    return torch.Generator().manual_seed(2 * seed + 1), torch.Generator().manual_seed(2 * seed + 2)


def _split(out: PolicyOutput, b: int) -> tuple[PolicyOutput, PolicyOutput]:
    """Split a forward pass over ``2 b`` economies into its two halves."""
    halves = []
    for sl in (slice(0, b), slice(b, 2 * b)):
        post = Posterior(mu=out.posterior.mu[sl], logvar=out.posterior.logvar[sl])
        halves.append(PolicyOutput(node_mean=out.node_mean[sl], keep_mean=out.keep_mean[sl], log_std=out.log_std,
                                   value=out.value[sl], posterior=post))
    return halves[0], halves[1]


def episode_loss(
    policy: PlannerPolicy, config: LearnedPlannerConfig, env_gen: torch.Generator, pol_gen: torch.Generator
) -> tuple[Tensor, LossTerms, float]:
    """Roll out one batched episode and return ``(total loss, terms, mean welfare)``."""
    eco, obs, w = config.economy, config.observation, config.weights
    b = config.train.batch_size
    state = initial_state(eco, obs, b, env_gen)
    hist, hist_cf = burn_in(state, eco, obs, env_gen)
    pooled = pooled_types(state.theta)
    logps, values, rewards, utils, cons, ics, vaes, excess = [], [], [], [], [], [], [], []
    pop = torch.tensor(eco.populations)
    for t in range(eco.horizon):
        inp = PlannerInput(torch.stack(hist, 2), state.capital, state.stock, t)
        if w.ic > 0:
            # truthful and pooled reports in one batched forward pass
            both = PlannerInput(torch.cat([inp.history, torch.stack(hist_cf, 2)]),
                                torch.cat([state.capital, state.capital]), torch.cat([state.stock, state.stock]), t)
            out, out_cf = _split(policy(both), b)
        else:
            out, out_cf = policy(inp), None
        node_raw, keep_raw, logp = policy.sample(out, pol_gen)
        std = torch.exp(out.log_std)
        # reparameterised copy of the same sample: penalties get pathwise gradients
        node_r = out.node_mean + (std[:3] * ((node_raw - out.node_mean) / std[:3]).detach())
        keep_r = out.keep_mean + std[3] * ((keep_raw - out.keep_mean) / std[3]).detach()
        d = decision_from_raw(node_r, keep_r)
        alloc = allocate(state, d.share_c, d.share_x, d.labour, eco)
        u = region_utility(alloc.consumption, alloc.labour, state.theta, eco)
        if out_cf is not None:
            d_mean = decision_from_raw(out.node_mean, out.keep_mean)
            d_cf = decision_from_raw(out_cf.node_mean, out_cf.keep_mean)
            a_mean = allocate(state, d_mean.share_c, d_mean.share_x, d_mean.labour, eco)
            a_cf = allocate(state, d_cf.share_c, d_cf.share_x, d_cf.labour, eco)
            u_mean = region_utility(a_mean.consumption, a_mean.labour, state.theta, eco)
            u_cf = region_utility(a_cf.consumption, a_cf.labour, state.theta, eco)
            ics.append(ic_penalty(u_mean, u_cf))
        vaes.append(policy.vae.loss(inp.history, out.posterior, pol_gen))
        total = alloc.consumption.sum(-1) + alloc.investment.sum(-1)
        excess.append(resource_penalty(total, state.stock, regrowth(state.stock, eco), eco.resource_horizon))
        logps.append(logp)
        values.append(out.value)
        rewards.append(welfare(u, eco).detach())
        utils.append(u)
        cons.append(alloc.consumption / pop)
        noise = draw_noise(b, eco.n_regions, env_gen)
        lab = alloc.labour.detach()
        hist.append(observe(state, lab, noise, eco, obs).detach())
        hist_cf.append(observe(state, lab, noise, eco, obs, reported_theta=pooled).detach())
        state = transition(state, alloc, eco, env_gen)
    rew = torch.stack(rewards, 1)
    returns = discounted_returns(rew, eco.discount)
    zero = torch.zeros(())
    terms = LossTerms(
        vae=torch.stack(vaes).mean(),
        ic=torch.stack(ics).mean() if ics else zero,
        ir=ir_penalty(torch.stack(utils, 1), eco.u_bar),
        ostrom=ostrom_penalty(torch.stack(cons, 1)),
        resource=torch.stack(excess).mean(),
        policy=reinforce_loss(torch.stack(logps, 1), returns, torch.stack(values, 1), config.train.value_coef),
    )
    return total_loss(terms, w), terms, float(rew.mean())


def train(
    config: LearnedPlannerConfig,
    progress: Callable[[int, dict[str, float]], None] | None = None,
) -> TrainResult:
    """Train a planner under ``config`` (seed ``config.train.seed``); same config, same result.

    Args:
        progress: called after each episode with its index and log row (e.g. to advance a bar).
    """
    tc = config.train
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        policy = build_policy(config, tc.seed)
        env_gen, pol_gen = generators(tc.seed)
        opt = torch.optim.Adam(policy.parameters(), lr=tc.lr)
        history = []
        for ep in range(tc.episodes):
            opt.zero_grad()
            loss, terms, util = episode_loss(policy, config, env_gen, pol_gen)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(policy.parameters(), tc.grad_clip)
            opt.step()
            row = {"episode": float(ep), "loss": float(loss.detach()), "utility": util, **terms.as_floats()}
            history.append(row)
            if progress is not None:
                progress(ep, row)
        policy.eval()
        return TrainResult(policy=policy, config=config, history=tuple(history))
    finally:
        torch.set_num_threads(threads)
