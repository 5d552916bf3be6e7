"""The Markov exchange economy (MEE; Liu, Lu, Wang, Jordan & Yang, ICML 2022).

An episode has ``H`` steps. The state ``s_h = (c_h, l_h)`` is a context ``c`` (which sets the
agents' Cobb-Douglas preferences ``theta(c)``) and a productivity level ``l`` (which sets the
endowments ``e(l) = scale[l] * base``). At each step the social planner picks an action ``b``
from a finite set of redistribution rates ``tau_b``: a share ``tau_b`` of every endowment is
pooled and split equally. The agents then trade to the competitive equilibrium ``nu(s, b)`` of
the redistributed economy, and each agent ``i`` gets utility
``u_i = sum_j theta_ij(c) log x_ij`` (observed with Gaussian noise). The next context follows a
Markov chain; the next level moves up or down with probabilities that depend on the action
(redistribution blunts the incentive to produce: higher ``tau`` makes growth less likely).
The planner maximises social welfare, the sum of all agents' utilities over the episode.

A joint policy is a planner policy ``pi_h(s)`` and a CE mechanism ``nu``: here the CE of the
redistributed economy under the preferences the planner believes (``theta_hat``); the
jointly optimal pair uses the true ``theta`` (the true CE) and the optimal planner policy
(Liu et al., "Joint Optimality"). Everything is finite, so values are exact:
:meth:`MarkovExchangeEconomy.optimal_value` and :meth:`MarkovExchangeEconomy.evaluate` are
backward induction with the true model.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from innatura.planner.errors import InvalidInputError
from innatura.planner.exchange.exchange import perron_prices

__all__ = ["MarkovExchangeEconomy", "ce_allocation", "make_mee"]

logger = logging.getLogger(__name__)


def ce_allocation(theta: np.ndarray, endowments: np.ndarray) -> np.ndarray:
    """CE allocation of a Cobb-Douglas exchange economy (closed form, Perron prices).

    Shapes:
        theta ``(n, m)`` (rows sum to 1), endowments ``(n, m)`` -> ``(n, m)``.
    """
    p = perron_prices(theta, endowments)
    return theta * ((endowments @ p)[:, None] / p[None, :])


@dataclass(frozen=True, eq=False)
class MarkovExchangeEconomy:
    """A finite Markov exchange economy (see the module docstring).

    Attributes:
        theta: true preferences per context, shape ``(C, N, m)``, rows on the simplex.
        base: endowments at level scale 1, shape ``(N, m)``.
        scale: endowment scale of each productivity level, shape ``(L,)``.
        taus: redistribution rate of each action, shape ``(B,)``.
        context_transition: ``P(c' | c)``, shape ``(C, C)``.
        level_transition: ``P(l' | l, b)``, shape ``(L, B, L)``.
        horizon: steps per episode ``H``.
        noise: standard deviation of the observed utilities.
        start: the initial state index.
    """

    theta: np.ndarray
    base: np.ndarray
    scale: np.ndarray
    taus: np.ndarray
    context_transition: np.ndarray
    level_transition: np.ndarray
    horizon: int
    noise: float = 0.1
    start: int = 0

    def __post_init__(self) -> None:
        c, n, m = self.theta.shape
        if self.base.shape != (n, m) or (self.base <= 0).any():
            raise InvalidInputError(f"base: expected positive ({n}, {m}) endowments, got shape {self.base.shape}")
        if not np.allclose(self.theta.sum(axis=2), 1.0) or (self.theta <= 0).any():
            raise InvalidInputError("theta: each agent's preferences must be positive and sum to 1")
        nl, nb = self.scale.size, self.taus.size
        if self.level_transition.shape != (nl, nb, nl) or not np.allclose(self.level_transition.sum(axis=2), 1):
            raise InvalidInputError(f"level_transition: expected ({nl}, {nb}, {nl}) rows summing to 1")
        if self.context_transition.shape != (c, c) or not np.allclose(self.context_transition.sum(axis=1), 1):
            raise InvalidInputError(f"context_transition: expected ({c}, {c}) rows summing to 1")
        if np.any((self.taus < 0) | (self.taus > 1)):
            raise InvalidInputError(f"taus = {self.taus.tolist()}: redistribution rates must be in [0, 1]")
        if self.horizon < 1:
            raise InvalidInputError(f"horizon = {self.horizon}: must be >= 1")

    @property
    def n_states(self) -> int:
        return self.theta.shape[0] * self.scale.size

    @property
    def n_actions(self) -> int:
        return self.taus.size

    @property
    def n_contexts(self) -> int:
        return self.theta.shape[0]

    def context(self, s: int) -> int:
        return s // self.scale.size

    def transition(self) -> np.ndarray:
        """``P(s' | s, b)``, shape ``(S, B, S)`` (state ``s = c * L + l``)."""
        pc, pl = self.context_transition, self.level_transition
        c, nl, nb = pc.shape[0], pl.shape[0], pl.shape[1]
        p = np.einsum("cd,lbk->clbdk", pc, pl)
        return p.reshape(c * nl, nb, c * nl)

    def redistributed(self, s: int, b: int) -> np.ndarray:
        """Endowments after the planner's action ``b`` in state ``s``, shape ``(N, m)``."""
        e = self.scale[s % self.scale.size] * self.base
        tau = self.taus[b]
        return (1.0 - tau) * e + tau * e.mean(axis=0, keepdims=True)

    def allocations(self, theta_belief: np.ndarray) -> np.ndarray:
        """CE allocations of every (state, action) under believed preferences, shape ``(S, B, N, m)``."""
        out = np.empty((self.n_states, self.n_actions, *self.base.shape))
        for s in range(self.n_states):
            for b in range(self.n_actions):
                out[s, b] = ce_allocation(theta_belief[self.context(s)], self.redistributed(s, b))
        return out

    def utilities(self, alloc: np.ndarray) -> np.ndarray:
        """True utilities ``sum_j theta_ij log x_ij`` of allocations ``(S, B, N, m)`` -> ``(S, B, N)``."""
        ctx = np.arange(self.n_states) // self.scale.size
        return np.einsum("snm,sbnm->sbn", self.theta[ctx], np.log(alloc))

    def rewards(self, theta_belief: np.ndarray | None = None) -> np.ndarray:
        """True social welfare of each (state, action) when the CE uses ``theta_belief``, ``(S, B)``."""
        belief = self.theta if theta_belief is None else theta_belief
        return self.utilities(self.allocations(belief)).sum(axis=2)

    def optimal_value(self) -> tuple[float, np.ndarray]:
        """``V*_1(s_1)`` and the optimal policy ``(H, S)`` of the jointly optimal (pi*, nu*)."""
        r, p = self.rewards(), self.transition()
        v = np.zeros(self.n_states)
        policy = np.zeros((self.horizon, self.n_states), dtype=np.int64)
        for h in range(self.horizon - 1, -1, -1):
            q = r + p @ v
            policy[h] = q.argmax(axis=1)
            v = q.max(axis=1)
        return float(v[self.start]), policy

    def evaluate(self, policy: np.ndarray, rewards: np.ndarray) -> float:
        """Exact value ``V_1(s_1)`` of a planner ``policy`` ``(H, S)`` with true rewards ``(S, B)``."""
        p = self.transition()
        v = np.zeros(self.n_states)
        idx = np.arange(self.n_states)
        for h in range(self.horizon - 1, -1, -1):
            b = policy[h]
            v = rewards[idx, b] + p[idx, b] @ v
        return float(v[self.start])

    def step(self, s: int, b: int, theta_belief: np.ndarray, rng: np.random.Generator
             ) -> tuple[np.ndarray, np.ndarray, int]:
        """One step: CE under ``theta_belief`` after action ``b``; returns (allocation, noisy utilities, next state)."""
        x = ce_allocation(theta_belief[self.context(s)], self.redistributed(s, b))
        u = (self.theta[self.context(s)] * np.log(x)).sum(axis=1)
        y = u + self.noise * rng.standard_normal(u.size)
        s_next = int(rng.choice(self.n_states, p=self.transition_row(s, b)))
        return x, y, s_next

    def transition_row(self, s: int, b: int) -> np.ndarray:
        nl = self.scale.size
        c, level = divmod(s, nl)
        return np.outer(self.context_transition[c], self.level_transition[level, b]).ravel()

    def reward_bounds(self) -> tuple[float, float]:
        """Bounds on one step's welfare the planner may use: ``N log`` of the smallest and largest supply."""
        n = self.base.shape[0]
        tot = self.base.sum(axis=0)
        hi = n * float(np.log(self.scale.max() * tot.max()))
        lo = n * float(np.log(self.scale.min() * tot.min() * 1e-3))
        return lo, hi


def make_mee(rng: np.random.Generator, *, agents: int = 4, goods: int = 3, contexts: int = 2,
             levels: int = 4, taus: tuple[float, ...] = (0.0, 0.3, 0.6, 0.9), horizon: int = 5,
             noise: float = 0.1) -> MarkovExchangeEconomy:
    """A random MEE: unequal endowments, Dirichlet preferences per context, and growth that
    redistribution slows down (level up with probability ``0.6 (1 - 0.6 tau)``, down with
    ``0.15 + 0.3 tau``)."""
    theta = rng.dirichlet(np.full(goods, 2.0), size=(contexts, agents))
    base = rng.lognormal(0.0, 1.0, size=(agents, goods)) + 0.05
    scale = np.geomspace(0.5, 2.0, levels)
    tau = np.asarray(taus, dtype=np.float64)
    pl = np.zeros((levels, tau.size, levels))
    for lev in range(levels):
        for b, t in enumerate(tau):
            up = 0.6 * (1.0 - 0.6 * t) if lev + 1 < levels else 0.0
            down = (0.15 + 0.3 * t) if lev > 0 else 0.0
            pl[lev, b, min(lev + 1, levels - 1)] += up
            pl[lev, b, max(lev - 1, 0)] += down
            pl[lev, b, lev] += 1.0 - up - down
    pc = rng.dirichlet(np.full(contexts, 3.0), size=contexts) if contexts > 1 else np.ones((1, 1))
    return MarkovExchangeEconomy(theta=theta, base=base, scale=scale, taus=tau, context_transition=pc,
                                 level_transition=pl, horizon=horizon, noise=noise, start=levels // 2)
