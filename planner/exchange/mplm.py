"""MPLM: offline learning in a Markov exchange economy by pessimism (Liu et al. 2022).

From a logged dataset (episodes of a behaviour planner, markets cleared at the true CE): (1)
confidence sets for utilities and transitions; (2) the CE mechanism ``nu_hat`` under the
estimated utilities; (3) pessimistic policy optimisation (PEVI-style, Jin et al. 2021):
``Q_h = r_hat - beta_u * bonus_u + P_hat V_{h+1} - beta_p * span / sqrt(n(s, b))``, unvisited
pairs at the lower bound, greedy policy. Its suboptimality ``V*_1(s_1) - V^{pi_hat, nu_hat}_1(s_1)``
is exact under the true model.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from innatura.planner.exchange.learning import TransitionModel, UtilityModel
from innatura.planner.exchange.mee import MarkovExchangeEconomy
from innatura.planner.exchange.molm import planned_values

__all__ = ["MPLMResult", "OfflineDataset", "collect_dataset", "mplm"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class OfflineDataset:
    """Logged transitions: context, state, action, allocation, observed utilities, next state.

    Shapes:
        states, actions, next_states: ``(T,)``; allocations: ``(T, N, m)``; utilities: ``(T, N)``.
    """

    states: np.ndarray
    actions: np.ndarray
    allocations: np.ndarray
    utilities: np.ndarray
    next_states: np.ndarray


def collect_dataset(env: MarkovExchangeEconomy, episodes: int, rng: np.random.Generator,
                    behaviour: np.ndarray | None = None) -> OfflineDataset:
    """Log ``episodes`` episodes of a behaviour planner (default: uniform over actions).

    Args:
        behaviour: action probabilities per state, shape ``(S, B)``.
    """
    probs = np.full((env.n_states, env.n_actions), 1.0 / env.n_actions) if behaviour is None else behaviour
    rows: list[tuple[int, int, np.ndarray, np.ndarray, int]] = []
    for _ in range(episodes):
        s = env.start
        for _h in range(env.horizon):
            b = int(rng.choice(env.n_actions, p=probs[s]))
            x, y, s_next = env.step(s, b, env.theta, rng)
            rows.append((s, b, x, y, s_next))
            s = s_next
    return OfflineDataset(
        states=np.array([r[0] for r in rows]), actions=np.array([r[1] for r in rows]),
        allocations=np.array([r[2] for r in rows]), utilities=np.array([r[3] for r in rows]),
        next_states=np.array([r[4] for r in rows]),
    )


@dataclass(frozen=True, eq=False)
class MPLMResult:
    """The learnt joint policy and its exact suboptimality.

    Attributes:
        policy: planner policy, shape ``(H, S)``.
        theta_hat: estimated preferences used by the CE mechanism, shape ``(C, N, m)``.
        value: ``V^{pi_hat, nu_hat}_1(s_1)``.
        suboptimality: ``V*_1(s_1) - value``.
    """

    policy: np.ndarray
    theta_hat: np.ndarray
    value: float
    suboptimality: float


def mplm(env: MarkovExchangeEconomy, data: OfflineDataset, *, beta_u: float = 0.2, beta_p: float = 0.2,
         ridge: float = 1.0) -> MPLMResult:
    """Pessimistic policy optimisation from ``data`` (see the module docstring)."""
    n_c, n_agents, goods = env.theta.shape
    um = UtilityModel(n_c, n_agents, goods, ridge)
    tm = TransitionModel(env.n_states, env.n_actions)
    steps = zip(data.states, data.actions, data.allocations, data.utilities, data.next_states, strict=True)
    for s, b, x, y, s2 in steps:
        um.update(env.context(int(s)), np.log(x), y)
        tm.update(int(s), int(b), int(s2))
    lo, hi = env.reward_bounds()
    welfare = data.utilities.sum(axis=1)
    span = env.horizon * float(np.ptp(welfare)) if welfare.size > 1 else env.horizon * (hi - lo)
    lo = float(welfare.min()) if welfare.size else lo
    ctx = np.arange(env.n_states) // env.scale.size
    theta_hat = um.theta_hat()
    alloc = env.allocations(theta_hat)
    logx = np.log(alloc)
    r_hat = np.einsum("snm,sbnm->sb", theta_hat[ctx], logx)
    bonus = beta_u * um.bonus(ctx[:, None], logx).sum(axis=2) + beta_p * span / np.sqrt(np.maximum(tm.visits, 1.0))
    policy = planned_values(env, r_hat, tm.kernel(), bonus, tm.visits, -1.0, lo)
    value = env.evaluate(policy, env.utilities(alloc).sum(axis=2))
    v_star, _ = env.optimal_value()
    return MPLMResult(policy=policy, theta_hat=theta_hat, value=value, suboptimality=v_star - value)
