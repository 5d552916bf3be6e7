"""Confidence sets for the Markov exchange economy: utilities (ridge) and transitions (counts).

Utilities are linear in known features: ``u_i(x) = theta_i(c) . log x_i``. For each context
``c`` and agent ``i``, ridge regression shrunk towards uniform preferences gives ``theta_hat``
and the Gram matrix ``Lambda``; the confidence set is the ellipsoid
``||theta - theta_hat||_Lambda <= beta`` and the welfare bonus of a bundle is
``beta * ||log x||_{Lambda^-1}`` (Abbasi-Yadkori et al. 2011). Transitions are tabular: the
empirical kernel with a Hoeffding bonus ``beta_p / sqrt(n(s, b))``, the one-hot-feature case of
value-targeted regression (Ayoub et al. 2020).
"""

from __future__ import annotations

import logging

import numpy as np

__all__ = ["TransitionModel", "UtilityModel"]

logger = logging.getLogger(__name__)


class UtilityModel:
    """Ridge estimates of Cobb-Douglas preferences per (context, agent).

    Args:
        contexts: number of contexts ``C``.
        agents: number of agents ``N``.
        goods: number of goods ``m``.
        ridge: regularisation ``lambda``.

    Shapes:
        ``theta_hat()``: ``(C, N, m)`` on the simplex; ``bonus(c, logx)``: ``logx`` ``(..., N, m)``
        -> ``(..., N)``.
    """

    def __init__(self, contexts: int, agents: int, goods: int, ridge: float = 1.0):
        self.contexts, self.agents, self.goods, self.ridge = contexts, agents, goods, ridge
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.gram = np.broadcast_to(self.ridge * np.eye(self.goods), (self.contexts, self.agents, self.goods,
                                                                      self.goods)).copy()
        self.target = np.zeros((self.contexts, self.agents, self.goods))
        self.prior = np.full(self.goods, 1.0 / self.goods)
        self._inv = np.linalg.inv(self.gram)

    def update(self, c: int, logx: np.ndarray, y: np.ndarray) -> None:
        """Add one observation per agent: features ``logx`` ``(N, m)``, utilities ``y`` ``(N,)``."""
        self.gram[c] += np.einsum("nj,nk->njk", logx, logx)
        self.target[c] += logx * (y - logx @ self.prior)[:, None]
        self._inv[c] = np.linalg.inv(self.gram[c])

    def theta_raw(self) -> np.ndarray:
        """Ridge estimate (not projected), ``(C, N, m)``."""
        return self.prior + np.einsum("cnjk,cnk->cnj", self._inv, self.target)

    def theta_hat(self, floor: float = 1e-3) -> np.ndarray:
        """Estimate projected onto the simplex (clipped at ``floor`` and renormalised)."""
        t = np.maximum(self.theta_raw(), floor)
        return t / t.sum(axis=2, keepdims=True)

    def bonus(self, c: np.ndarray | int, logx: np.ndarray) -> np.ndarray:
        """``||log x_i||_{Lambda_ci^-1}`` for each agent."""
        inv = self._inv[c]
        return np.sqrt(np.maximum(np.einsum("...nj,...njk,...nk->...n", logx, inv, logx), 0.0))


class TransitionModel:
    """Visit counts and the empirical transition kernel of a finite MDP.

    Shapes:
        ``kernel()``: ``(S, B, S)``; ``visits``: ``(S, B)``.
    """

    def __init__(self, states: int, actions: int):
        self.states, self.actions = states, actions
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.counts = np.zeros((self.states, self.actions, self.states))

    def update(self, s: int, b: int, s_next: int) -> None:
        self.counts[s, b, s_next] += 1.0

    @property
    def visits(self) -> np.ndarray:
        return self.counts.sum(axis=2)

    def kernel(self) -> np.ndarray:
        n = self.visits
        return self.counts / np.maximum(n, 1.0)[:, :, None]
