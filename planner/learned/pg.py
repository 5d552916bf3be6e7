"""Policy gradient over any planning environment: the investment share and per-region priorities.

The plan itself is an input-output plan; what a learned policy decides on top of it is what
the plan takes as given: the investment share ``sigma`` and the weights with which regions are
served (:class:`PlanAction`). An environment (:class:`PlanningEnvironment`) turns an action
into a day: the humanity achieved, each region's utility and per-capita allocation. The agent
model is one such environment; :class:`~planner.learned.priority_env.PriorityEconomy` is a small
one whose optimum is known.

:func:`train_policy` trains :class:`PriorityPolicy` by REINFORCE with a learned baseline
(:func:`planner.learned.losses.reinforce_loss`) on the reward of the source paper's combined
objective: each day's humanity minus ``lambda_IR`` times the IR shortfall
(:func:`~planner.learned.losses.ir_penalty`) and ``lambda_IC`` times the IC gain
(:func:`~planner.learned.losses.ic_penalty`: what regions would get if every region reported
the pooled type, over what they get when truthful; only for environments that can answer
counterfactuals, :class:`CounterfactualEnvironment`), and, on an episode's last day,
``lambda_Ostrom`` times the variance of the allocations over the episode
(:func:`~planner.learned.losses.ostrom_penalty`). The weights are a
:class:`~planner.learned.config.LossWeights`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch
from innatura.planner.errors import InvalidInputError
from innatura.planner.learned.config import CONSTRAINED_WEIGHTS, LossWeights
from innatura.planner.learned.losses import discounted_returns, ic_penalty, ir_penalty, ostrom_penalty, reinforce_loss
from torch import Tensor, nn

__all__ = [
    "DEFAULT_GUARD_SEEDS",
    "DEFAULT_INVESTMENT_RANGE",
    "CounterfactualEnvironment",
    "PlanAction",
    "PlanningEnvironment",
    "PolicyTrainConfig",
    "PolicyTrainResult",
    "PriorityPolicy",
    "Transition",
    "investment_bounds",
    "train_policy",
]

logger = logging.getLogger(__name__)


#: the relative half-width of the investment shares a policy may set around the run's share,
#: unless told otherwise (:class:`PriorityPolicy`).
DEFAULT_INVESTMENT_RANGE = 0.25
#: held-out episodes per arm of the policy guard unless told otherwise (:class:`PolicyTrainConfig`).
DEFAULT_GUARD_SEEDS = 4


def investment_bounds(base_investment: float, investment_range: float) -> tuple[float, float]:
    """The investment shares a policy may set: ``base (1 -/+ range)`` cut to ``[0.001, 0.999]``."""
    lo = max(base_investment * (1.0 - investment_range), 1e-3)
    hi = min(base_investment * (1.0 + investment_range), 1.0 - 1e-3)
    return min(lo, base_investment), max(hi, base_investment)


@dataclass(frozen=True)
class PlanAction:
    """What the policy decides for a night.

    Attributes:
        investment_share: ``sigma`` in ``(0, 1)``.
        priorities: per-region weights, ``(R,)``, positive, summing to 1.
    """

    investment_share: float
    priorities: np.ndarray


@dataclass(frozen=True)
class Transition:
    """What a day under an action gave.

    Attributes:
        observation: the next observation, ``(observation_size,)``.
        humanity: the day's humanity (the reward before penalties).
        utility: each region's utility, ``(R,)`` (IR compares it with ``u_bar``).
        allocation: each region's per-capita allocation, ``(R,)`` (Ostrom's variance over time).
        done: the episode ended.
    """

    observation: np.ndarray
    humanity: float
    utility: np.ndarray
    allocation: np.ndarray
    done: bool


@runtime_checkable
class PlanningEnvironment(Protocol):
    """An environment the policy plans in: ``reset(seed) -> observation``, ``step(action) -> Transition``."""

    n_regions: int
    observation_size: int

    def reset(self, seed: int) -> np.ndarray: ...

    def step(self, action: PlanAction) -> Transition: ...


@runtime_checkable
class CounterfactualEnvironment(Protocol):
    """An environment that also answers, from its current state and without stepping, what the
    planner would observe if every region reported the pooled type, and each region's utility
    under an action (for the IC penalty)."""

    def pooled_observation(self) -> np.ndarray: ...

    def utilities(self, action: PlanAction) -> np.ndarray: ...


class PriorityPolicy(nn.Module):
    """Gaussian policy over the pre-activations of ``(sigma, priorities)`` and a value baseline.

    ``sigma = lo + (hi - lo) sigmoid(a_0 + logit((base_investment - lo) / (hi - lo)))``,
    ``priorities = softmax(a_1..R)``: a fresh policy (means near 0) invests ``base_investment``
    and serves every region alike, and no policy invests outside ``[lo, hi]``, the range
    ``base_investment * (1 -/+ investment_range)`` cut to ``[0.001, 0.999]``.

    Args:
        observation_size: size of an observation.
        n_regions: ``R``.
        hidden: width of the two-layer tanh network.
        init_log_std: initial log standard deviation of every pre-activation.
        base_investment: the investment share of a zero pre-activation, in ``(0, 1)``.
        investment_range: the relative half-width of the investment shares the policy may set
            around ``base_investment`` (> 0; 0.25: within 25% of it).

    Shapes:
        observation ``[B, observation_size]`` -> mean ``[B, R + 1]``, log_std ``[R + 1]``, value ``[B]``.
    """

    def __init__(self, observation_size: int, n_regions: int, hidden: int = 32, init_log_std: float = -0.5,
                 base_investment: float = 0.5, investment_range: float = DEFAULT_INVESTMENT_RANGE):
        super().__init__()
        if observation_size < 1 or n_regions < 1 or hidden < 1:
            raise InvalidInputError(f"PriorityPolicy: observation_size = {observation_size}, n_regions = {n_regions}, "
                                    f"hidden = {hidden} must be >= 1")
        if not 0.0 < base_investment < 1.0:
            raise InvalidInputError(f"PriorityPolicy: base_investment = {base_investment!r} must lie in (0, 1)")
        if not 0.0 < investment_range < math.inf:
            raise InvalidInputError(f"PriorityPolicy: investment_range = {investment_range!r} must be > 0")
        self.investment_range = float(investment_range)
        self.observation_size, self.n_regions, self.hidden = int(observation_size), int(n_regions), int(hidden)
        self.init_log_std, self.base_investment = float(init_log_std), float(base_investment)
        self.body = nn.Sequential(nn.Linear(observation_size, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh())
        self.mean_head = nn.Linear(hidden, n_regions + 1)
        self.value_head = nn.Linear(hidden, 1)
        self.log_std = nn.Parameter(torch.empty(n_regions + 1))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for layer in self.body:
            if isinstance(layer, nn.Linear):
                layer.reset_parameters()
        self.mean_head.reset_parameters()
        self.value_head.reset_parameters()
        with torch.no_grad():
            self.mean_head.weight.mul_(0.1)
            self.mean_head.bias.zero_()
            self.log_std.fill_(self.init_log_std)

    def forward(self, observation: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        if observation.dim() != 2 or observation.shape[1] != self.observation_size:
            raise InvalidInputError(f"PriorityPolicy: observation must be [B, {self.observation_size}], "
                                    f"got {tuple(observation.shape)}")
        h = self.body(observation)
        return self.mean_head(h), self.log_std, self.value_head(h)[:, 0]

    def hyperparameters(self) -> dict[str, float | int]:
        """The constructor's arguments (JSON-able: a checkpoint rebuilds the policy from them)."""
        return {"observation_size": self.observation_size, "n_regions": self.n_regions, "hidden": self.hidden,
                "init_log_std": self.init_log_std, "base_investment": self.base_investment,
                "investment_range": self.investment_range}

    def investment_bounds(self) -> tuple[float, float]:
        """``(lo, hi)``: the investment shares the policy may set (see the class)."""
        return investment_bounds(self.base_investment, self.investment_range)

    def to_action(self, raw: Tensor) -> PlanAction:
        """The action of pre-activations ``[R + 1]``."""
        r = raw.detach().double()
        lo, hi = self.investment_bounds()
        mid = min(max((self.base_investment - lo) / (hi - lo), 1e-6), 1.0 - 1e-6)  # base at a bound
        offset = math.log(mid / (1.0 - mid))
        return PlanAction(lo + (hi - lo) * float(torch.sigmoid(r[0] + offset)), torch.softmax(r[1:], 0).numpy())

    def act(self, observation: np.ndarray) -> PlanAction:
        """The deterministic (mean) action for one observation."""
        with torch.no_grad():
            mean, _, _ = self(torch.as_tensor(observation, dtype=torch.float32)[None])
        return self.to_action(mean[0])


@dataclass(frozen=True)
class PolicyTrainConfig:
    """Settings of :func:`train_policy`.

    Attributes:
        updates: gradient steps; episodes_per_update: episodes rolled out for each.
        lr, grad_clip, value_coef: Adam step size, gradient-norm bound, baseline weight.
        discount: of the rewards within an episode.
        hidden, init_log_std, base_investment, investment_range: the policy network
            (:class:`PriorityPolicy`).
        u_bar: reservation utility of IR.
        max_days: bound on an episode's length.
        seed: initialisation, sampling and the environments' reset seeds.
        guard_seeds, guard_tolerance: the policy guard that trainers run after training
            (:func:`planner.learned.guard.guard_policy`): held-out episodes per arm (0: none) and
            how much worse than the baseline, in humanity per day, a kept policy may be.
        weights: the penalties' weights (``ic``, ``ir``, ``ostrom`` are used).
    """

    updates: int = 100
    episodes_per_update: int = 8
    lr: float = 1e-2
    grad_clip: float = 1.0
    value_coef: float = 0.5
    discount: float = 1.0
    hidden: int = 32
    init_log_std: float = -0.5
    base_investment: float = 0.5
    investment_range: float = DEFAULT_INVESTMENT_RANGE
    u_bar: float = 0.0
    max_days: int = 1000
    seed: int = 0
    guard_seeds: int = DEFAULT_GUARD_SEEDS
    guard_tolerance: float = 0.0
    weights: LossWeights = field(default_factory=lambda: CONSTRAINED_WEIGHTS)

    def __post_init__(self) -> None:
        for name in ("updates", "episodes_per_update", "hidden", "max_days"):
            if int(getattr(self, name)) < 1:
                raise InvalidInputError(f"PolicyTrainConfig.{name} = {getattr(self, name)!r}: must be >= 1")
        if self.episodes_per_update < 2:
            raise InvalidInputError("PolicyTrainConfig.episodes_per_update: at least 2 (the baseline's advantages)")
        if not (self.lr > 0 and self.grad_clip > 0 and 0 < self.discount <= 1):
            raise InvalidInputError(f"PolicyTrainConfig: lr = {self.lr}, grad_clip = {self.grad_clip} must be > 0, "
                                    f"discount = {self.discount} in (0, 1]")
        if not 0.0 < self.base_investment < 1.0:
            raise InvalidInputError(f"PolicyTrainConfig.base_investment = {self.base_investment!r}: must lie in (0, 1)")
        if int(self.guard_seeds) < 0 or not 0.0 <= self.guard_tolerance < math.inf:
            raise InvalidInputError(f"PolicyTrainConfig: guard_seeds = {self.guard_seeds!r} must be >= 0, "
                                    f"guard_tolerance = {self.guard_tolerance!r} finite and >= 0")
        if not 0.0 < self.investment_range < math.inf:
            raise InvalidInputError(f"PolicyTrainConfig.investment_range = {self.investment_range!r}: must be > 0")

    def to_dict(self) -> dict[str, Any]:
        """The settings as JSON-able data (:meth:`from_dict` reads them back)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PolicyTrainConfig:
        """Settings from :meth:`to_dict`'s data.

        Raises:
            InvalidInputError: an unknown key, or a value out of range.
        """
        data = dict(data)
        unknown = sorted(set(data) - {f.name for f in fields(cls)})
        if unknown:
            raise InvalidInputError(f"PolicyTrainConfig: unknown key {unknown[0]!r}")
        weights = data.pop("weights", None)
        try:
            w = CONSTRAINED_WEIGHTS if weights is None else LossWeights(**weights)
            return cls(**data, weights=w)
        except TypeError as exc:
            raise InvalidInputError(f"PolicyTrainConfig: {exc}") from exc


@dataclass(frozen=True)
class PolicyTrainResult:
    """The trained policy and one log row per update (``update``, ``loss`` = minus the mean
    penalised return, ``return``, ``humanity`` per day, ``ic``, ``ir``, ``ostrom``, ``surrogate``)."""

    policy: PriorityPolicy
    config: PolicyTrainConfig
    history: tuple[dict[str, float], ...]


def _gaussian_logp(raw: Tensor, mean: Tensor, log_std: Tensor) -> Tensor:
    return (-0.5 * ((raw - mean) / torch.exp(log_std)).pow(2) - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)


def _ic_gain(env: PlanningEnvironment, policy: PriorityPolicy, mean: Tensor) -> float:
    """IC gain tonight: utilities under the pooled reports' plan over the truthful plan's."""
    if not isinstance(env, CounterfactualEnvironment):
        return 0.0
    pooled = torch.as_tensor(env.pooled_observation(), dtype=torch.float32)[None]
    with torch.no_grad():
        mean_cf, _, _ = policy(pooled)
    u_truth = torch.as_tensor(env.utilities(policy.to_action(mean[0])))
    u_dev = torch.as_tensor(env.utilities(policy.to_action(mean_cf[0])))
    return float(ic_penalty(u_truth, u_dev))


def _episode(env: PlanningEnvironment, policy: PriorityPolicy, cfg: PolicyTrainConfig, seed: int,
             gen: torch.Generator) -> tuple[Tensor, Tensor, Tensor, dict[str, float]]:
    """One episode: ``(log-probs [T], values [T], penalised rewards [T], totals)``."""
    w = cfg.weights
    obs = env.reset(seed)
    logps, values, rewards, allocs = [], [], [], []
    tot = {"humanity": 0.0, "ic": 0.0, "ir": 0.0}
    for _ in range(cfg.max_days):
        mean, log_std, value = policy(torch.as_tensor(obs, dtype=torch.float32)[None])
        eps = torch.randn(mean.shape, generator=gen)
        raw = (mean + torch.exp(log_std) * eps).detach()
        ic = _ic_gain(env, policy, mean) if w.ic > 0 else 0.0
        tr = env.step(policy.to_action(raw[0]))
        ir = float(ir_penalty(torch.as_tensor(tr.utility), cfg.u_bar))
        rewards.append(tr.humanity - w.ir * ir - w.ic * ic)
        logps.append(_gaussian_logp(raw, mean, log_std)[0])
        values.append(value[0])
        allocs.append(np.asarray(tr.allocation, dtype=float))
        tot["humanity"] += tr.humanity
        tot["ic"] += ic
        tot["ir"] += ir
        obs = tr.observation
        if tr.done:
            break
    days = len(rewards)
    ostrom = float(ostrom_penalty(torch.as_tensor(np.stack(allocs))[None]))
    rewards[-1] -= w.ostrom * ostrom
    totals = {k: v / days for k, v in tot.items()}
    totals["ostrom"] = ostrom
    return torch.stack(logps), torch.stack(values), torch.tensor(rewards, dtype=torch.float32), totals


def train_policy(env: PlanningEnvironment, config: PolicyTrainConfig | None = None,
                 progress: Callable[[int, dict[str, float]], None] | None = None) -> PolicyTrainResult:
    """Train a :class:`PriorityPolicy` in ``env`` (see the module). Same config and environment:
    same weights.

    Args:
        env: the environment; its episodes are reset with seeds drawn from ``config.seed``.
        config: the settings (default: :class:`PolicyTrainConfig`'s defaults).
        progress: called after each update with its index and log row.
    """
    config = PolicyTrainConfig() if config is None else config
    if not isinstance(env, PlanningEnvironment):
        raise InvalidInputError(f"train_policy: {type(env).__name__} is not a PlanningEnvironment "
                                "(n_regions, observation_size, reset(seed), step(action))")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            policy = PriorityPolicy(env.observation_size, env.n_regions, config.hidden, config.init_log_std,
                                    config.base_investment, config.investment_range)
        gen = torch.Generator().manual_seed(config.seed)
        opt = torch.optim.Adam(policy.parameters(), lr=config.lr)
        history = []
        for update in range(config.updates):
            eps = [_episode(env, policy, config, config.seed * 1_000_003 + update * config.episodes_per_update + e,
                            gen) for e in range(config.episodes_per_update)]
            returns = [discounted_returns(r[None], config.discount)[0] for _, _, r, _ in eps]
            surrogate = reinforce_loss(torch.cat([lp for lp, _, _, _ in eps])[None], torch.cat(returns)[None],
                                       torch.cat([v for _, v, _, _ in eps])[None], config.value_coef)
            opt.zero_grad()
            surrogate.backward()
            torch.nn.utils.clip_grad_norm_(policy.parameters(), config.grad_clip)
            opt.step()
            mean_return = float(np.mean([float(r.sum()) for _, _, r, _ in eps]))
            row = {"update": float(update), "loss": -mean_return, "return": mean_return,
                   "surrogate": float(surrogate.detach())}
            for k in ("humanity", "ic", "ir", "ostrom"):
                row[k] = float(np.mean([t[k] for _, _, _, t in eps]))
            history.append(row)
            if progress is not None:
                progress(update, row)
        policy.eval()
        return PolicyTrainResult(policy=policy, config=config, history=tuple(history))
    finally:
        torch.set_num_threads(threads)
