"""A small planning environment whose optimum is known (for :func:`planner.learned.pg.train_policy`).

``R`` regions with needs ``n_r`` (drawn on every reset) share a day's output ``Y_t``. The action
sets the investment share ``sigma_t`` and priorities ``w``: region ``r`` receives
``c_r = (1 - sigma_t) Y_t w_r``; investment raises tomorrow's output,
``Y_{t+1} = Y0 (1 + kappa sqrt(sigma_t))``. A day's humanity is ``min_r c_r / n_r`` (OLIN-EP's
humanity for one good: the share of need met of the worst-served region), each region's utility
its ``c_r / n_r``. Episodes last ``horizon`` days.

The optimum is known: priorities proportional to needs (every region gets the same share of
its need, the largest possible minimum) and the investment shares that maximise
``sum_t (1 - sigma_t) Y_t / sum(n)``, which :meth:`PriorityEconomy.optimum` finds numerically
(no investment on the last day). Regions may report inflated needs (``inflation``); the
observation shows reported needs, so a policy that follows them serves liars first, and the
IC penalty (pooled reports: every region the mean) applies.

Observation: reported need shares, centred (``R share - 1``, ``(R,)``), the day ``t / horizon``, ``Y_t / Y0 - 1``.
"""

from __future__ import annotations

import logging

import numpy as np
from innatura.planner.errors import InvalidInputError
from innatura.planner.learned.pg import PlanAction, Transition
from scipy.optimize import minimize

__all__ = ["PriorityEconomy"]

logger = logging.getLogger(__name__)


class PriorityEconomy:
    """The environment of the module (a :class:`~planner.learned.pg.PlanningEnvironment` and a
    :class:`~planner.learned.pg.CounterfactualEnvironment`).

    Args:
        n_regions: ``R``.
        horizon: days per episode.
        output: ``Y0``.
        kappa: return on investment.
        inflation: factor by which each region reports its need, ``(R,)`` (default: truthful).
    """

    def __init__(self, n_regions: int = 3, horizon: int = 4, output: float = 1.0, kappa: float = 0.5,
                 inflation: np.ndarray | None = None) -> None:
        if n_regions < 1 or horizon < 1 or not output > 0 or kappa < 0:
            raise InvalidInputError(f"PriorityEconomy: n_regions = {n_regions} and horizon = {horizon} >= 1, "
                                    f"output = {output} > 0, kappa = {kappa} >= 0")
        self.n_regions, self.horizon = int(n_regions), int(horizon)
        self.output, self.kappa = float(output), float(kappa)
        self.inflation = np.ones(n_regions) if inflation is None else np.asarray(inflation, dtype=float)
        if self.inflation.shape != (n_regions,) or (self.inflation <= 0).any():
            raise InvalidInputError(f"PriorityEconomy: inflation must be ({n_regions},) positive factors")
        self.observation_size = n_regions + 2
        self.needs = np.ones(n_regions)
        self.t, self.y = 0, self.output

    def _observe(self, reported: np.ndarray) -> np.ndarray:
        share = self.n_regions * reported / reported.sum() - 1.0
        return np.concatenate([share, [self.t / self.horizon, self.y / self.output - 1.0]])

    def reset(self, seed: int) -> np.ndarray:
        self.needs = np.random.default_rng(seed).uniform(0.5, 1.5, self.n_regions)
        self.t, self.y = 0, self.output
        return self._observe(self.needs * self.inflation)

    def pooled_observation(self) -> np.ndarray:
        return self._observe(np.ones(self.n_regions))

    def utilities(self, action: PlanAction) -> np.ndarray:
        return (1.0 - action.investment_share) * self.y * np.asarray(action.priorities) / self.needs

    def step(self, action: PlanAction) -> Transition:
        u = self.utilities(action)
        self.y = self.output * (1.0 + self.kappa * np.sqrt(max(action.investment_share, 0.0)))
        self.t += 1
        return Transition(observation=self._observe(self.needs * self.inflation), humanity=float(u.min()),
                          utility=u, allocation=u, done=self.t >= self.horizon)

    def optimum(self) -> tuple[float, np.ndarray]:
        """The best total humanity of an episode, in units of ``Y0 / sum(needs)`` (priorities
        proportional to needs), and the investment shares that reach it, ``(horizon,)``."""
        H = self.horizon

        def minus_total(s: np.ndarray) -> float:
            sig = np.concatenate([s, [0.0]])
            y = np.concatenate([[1.0], 1.0 + self.kappa * np.sqrt(np.maximum(sig[:-1], 0.0))])
            return -float(((1.0 - sig) * y).sum())

        if H == 1:
            return 1.0, np.zeros(1)
        best = minimize(minus_total, np.full(H - 1, 0.1), bounds=[(0.0, 1.0)] * (H - 1), method="L-BFGS-B")
        return -float(best.fun), np.concatenate([best.x, [0.0]])
