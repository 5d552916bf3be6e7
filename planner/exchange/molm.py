"""MOLM: online learning in a Markov exchange economy by optimistic planning (Liu et al. 2022).

Each episode ``k``: (1) model estimation: confidence sets for the utilities
(:class:`~planner.exchange.learning.UtilityModel`) and the transitions
(:class:`~planner.exchange.learning.TransitionModel`) from episodes ``1..k-1``; (2) the CE
mechanism ``nu^k(s)`` is the competitive equilibrium under the estimated utilities; (3)
optimistic planning: ``Q_h(s, b) = r_hat(s, b) + beta_u * bonus_u + P_hat V_{h+1} + beta_p * span
/ sqrt(n(s, b))`` (``span``: ``H`` times the range of one step's observed welfare), clipped at
an upper bound of the achievable value; the planner acts greedily. The
regret ``sum_k V*_1(s_1) - V^{pi^k, nu^k}_1(s_1)`` is computed exactly with the true model.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from innatura.planner.exchange.learning import TransitionModel, UtilityModel
from innatura.planner.exchange.mee import MarkovExchangeEconomy

__all__ = ["MOLMResult", "molm", "planned_values"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class MOLMResult:
    """Per-episode regret of MOLM.

    Attributes:
        regret: per-episode regret ``V* - V^k``, shape ``(K,)``.
        cumulative: cumulative regret, shape ``(K,)``.
        optimal_value: ``V*_1(s_1)``.
        final_policy: the last episode's planner policy, shape ``(H, S)``.
    """

    regret: np.ndarray
    cumulative: np.ndarray
    optimal_value: float
    final_policy: np.ndarray


def planned_values(env: MarkovExchangeEconomy, reward: np.ndarray, kernel: np.ndarray, bonus: np.ndarray,
                   visits: np.ndarray, sign: float, bound: float) -> np.ndarray:
    """Greedy policy of optimistic (``sign = +1``) or pessimistic (``-1``) backward induction.

    ``Q_h = reward + P_hat V_{h+1} + sign * bonus``, clipped at ``sign * (H - h) * bound`` from
    the side of optimism; unvisited pairs get that clip value. Returns the policy ``(H, S)``.
    """
    v = np.zeros(env.n_states)
    policy = np.zeros((env.horizon, env.n_states), dtype=np.int64)
    for h in range(env.horizon - 1, -1, -1):
        clip = (env.horizon - h) * bound
        q = reward + kernel @ v + sign * bonus
        q = np.minimum(q, clip) if sign > 0 else np.maximum(q, clip)
        q = np.where(visits > 0, q, clip)
        policy[h] = q.argmax(axis=1)
        v = q.max(axis=1)
    return policy


def molm(env: MarkovExchangeEconomy, episodes: int, rng: np.random.Generator, *, beta_u: float = 0.2,
         beta_p: float = 0.2, ridge: float = 1.0, progress: bool = False) -> MOLMResult:
    """Run MOLM for ``episodes`` episodes on ``env``.

    Args:
        env: the economy (the learner uses its transition structure only through samples).
        episodes: ``K``.
        rng: randomness of the environment (noise and transitions).
        beta_u: width multiplier of the utility confidence set.
        beta_p: width multiplier of the transition bonus (times the value span).
        ridge: ridge regularisation of the utility estimates.
        progress: show a progress bar.
    """
    n_c, n_agents, goods = env.theta.shape
    um = UtilityModel(n_c, n_agents, goods, ridge)
    tm = TransitionModel(env.n_states, env.n_actions)
    v_star, _ = env.optimal_value()
    lo, hi = env.reward_bounds()
    seen = [np.inf, -np.inf]  # smallest and largest welfare observed in one step
    ctx = np.arange(env.n_states) // env.scale.size
    regret = np.empty(episodes)
    iterator = range(episodes)
    if progress:
        from tqdm import tqdm

        iterator = tqdm(iterator, desc="MOLM", leave=False)
    policy = np.zeros((env.horizon, env.n_states), dtype=np.int64)
    for k in iterator:
        theta_hat = um.theta_hat()
        alloc = env.allocations(theta_hat)  # nu^k: CE under the estimated utilities, (S, B, N, m)
        logx = np.log(alloc)
        r_hat = np.einsum("snm,sbnm->sb", theta_hat[ctx], logx)
        bonus_u = beta_u * um.bonus(ctx[:, None], logx).sum(axis=2)
        span = env.horizon * (seen[1] - seen[0] if seen[1] > seen[0] else hi - lo)
        bonus_p = beta_p * span / np.sqrt(np.maximum(tm.visits, 1.0))
        policy = planned_values(env, r_hat, tm.kernel(), bonus_u + bonus_p, tm.visits, +1.0, hi)
        regret[k] = v_star - env.evaluate(policy, env.utilities(alloc).sum(axis=2))
        s = env.start
        for h in range(env.horizon):
            b = int(policy[h, s])
            x, y, s_next = env.step(s, b, theta_hat, rng)
            um.update(env.context(s), np.log(x), y)
            seen[0], seen[1] = min(seen[0], float(y.sum())), max(seen[1], float(y.sum()))
            tm.update(s, b, s_next)
            s = s_next
    return MOLMResult(regret=regret, cumulative=np.cumsum(regret), optimal_value=v_star, final_policy=policy)
