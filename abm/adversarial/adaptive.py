"""Adaptive adversaries: citizens and units that learn their misreport factor from their payoff.

An adaptive strategy reports one factor of a grid (``low``, ``low + step``, ..., ``high``)
each night and learns which pays, with a multi-armed bandit (:class:`FactorBandit`):

* ``learner="greedy"`` (the default): a best response over the grid: each agent plays the arm
  with the best mean payoff, except that with probability ``explore`` it tries an arm drawn
  uniformly (epsilon-greedy); means are discounted by ``discount`` a night, so that old
  payoffs fade as the economy and the other liars change.
* ``learner="ucb"``: discounted UCB1 (Auer, Cesa-Bianchi and Fischer 2002; Garivier and
  Moulines 2011): the arm with the largest ``mean payoff + explore * sqrt(2 ln t / n)``, where
  ``n`` counts the nights an arm was played and ``t`` all nights, both discounted.
* ``learner="exp3"``: exponential weights (EXP3, Auer et al. 2002): arms drawn from
  ``softmax(weights)`` mixed with ``explore`` of uniform exploration; a night's payoffs,
  importance-weighted by the probability of the arm played, are added to the weights (one
  agent: times ``explore / K``, as in EXP3).

Every learner first tries each arm once. With ``shared=True`` (the default) the agents on one
strategy pool what they learn (a strategy group, as a ministry's managers share what the
ratchet taught them): one set of statistics, whose untried arms are spread over the group's
agents (a grid of ten factors is explored on the first night), and whose observation of an arm
on a night is the mean payoff of the agents that played it; the greedy and EXP3 learners then
keep every arm sampled by some agents each night, so that arms are compared under the same
conditions. ``shared=False`` gives each agent its own statistics.

Payoffs (docs/misreporting.md, "Adaptive adversaries"), from what execution revealed
yesterday (:class:`abm.reporting.Evidence`), after whatever the defences did to the report:

* citizens (:class:`AdaptiveInflate`): the share of need received minus 1 (goods beyond need
  count as gain, a shortfall as loss): an audit's fine, an IC discount or a robust replacement
  lower it;
* units (:class:`AdaptiveInputs`): the slack, the plan's input use for the unit's output over
  its TRUE use, minus 1: inputs received beyond need, which make the target easy (the ratchet
  effect of planned economies); a defence that replaces or discounts the report takes it away;

both minus ``lie_cost * |ln factor|``, a small cost of lying (effort, risk) that makes the
honest factor the best response when a defence leaves lying nothing to gain.

The learner's memory is plain arrays (:meth:`FactorBandit.state_dict`), held by the model
per strategy (:meth:`abm.model.PlanningEconomy.strategy_memory`) and saved in checkpoints.
In text: ``"adaptive_inflate(high=2.0, step=0.1)"``,
``"adaptive_inflate(learner='ucb', explore=0.3)"``,
``"adaptive_inputs(high=1.5, learner='exp3')"``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from innatura.abm.adversarial.base import Strategy, check_positive
from innatura.abm.reporting import Evidence, StrategyContext
from innatura.planner.errors import InvalidInputError

__all__ = ["LEARNERS", "MAX_ARMS", "Adaptive", "AdaptiveInflate", "AdaptiveInputs", "FactorBandit"]

logger = logging.getLogger(__name__)

#: the bandit algorithms an adaptive strategy may use.
LEARNERS = ("greedy", "ucb", "exp3")
#: most factors on a grid.
MAX_ARMS = 200
#: payoffs are clipped to [-PAYOFF_BOUND, PAYOFF_BOUND].
PAYOFF_BOUND = 2.0


class FactorBandit:
    """Bandits over ``K`` arms for ``N`` agents, vectorised: ``G`` rows of statistics (1 when
    shared, else one per agent) and each agent's last arm and the night it chose it.

    Attributes:
        counts, sums: plays and summed payoffs of each arm, ``(G, K)`` (UCB1).
        log_weights: EXP3's log-weights, ``(G, K)``.
        arm: each agent's last arm (``-1``: none yet), ``(N,)``.
        night: the night each agent chose its last arm (0: never), ``(N,)``.
    """

    memory = ("counts", "sums", "log_weights", "arm", "night")

    def __init__(self, size: int, arms: int, *, learner: str = "greedy", explore: float = 0.1,
                 shared: bool = True, discount: float = 1.0) -> None:
        if learner not in LEARNERS:
            raise InvalidInputError(f"learner must be one of {', '.join(LEARNERS)}, got {learner!r}")
        self.learner, self.explore, self.shared = learner, float(explore), bool(shared)
        self.discount = float(discount)
        rows = 1 if shared else int(size)
        self.counts = np.zeros((rows, arms))
        self.sums = np.zeros((rows, arms))
        self.log_weights = np.zeros((rows, arms))
        self.arm = np.full(int(size), -1, dtype=np.int64)
        self.night = np.zeros(int(size), dtype=np.int64)

    def rows(self, agents: np.ndarray) -> np.ndarray:
        """The statistics row of each agent."""
        return np.zeros(agents.size, dtype=np.int64) if self.shared else agents

    def means(self) -> np.ndarray:
        """Mean payoff of each arm per row (``nan`` where never played), ``(G, K)``."""
        return np.divide(self.sums, self.counts, out=np.full(self.sums.shape, np.nan), where=self.counts > 0)

    def best(self) -> np.ndarray:
        """The arm each row believes best now (UCB1: best mean; EXP3: largest weight), ``(G,)``."""
        if self.learner == "exp3":
            return np.argmax(self.log_weights, axis=1)
        return np.argmax(np.nan_to_num(self.means(), nan=-np.inf), axis=1)

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        """EXP3's arm probabilities of ``rows``, ``(k, K)``."""
        w = self.log_weights[rows]
        p = np.exp(w - w.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        K = w.shape[1]
        return (1.0 - self.explore) * p + self.explore / K

    def choose(self, agents: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Each agent's arm tonight, ``(k,)``: untried arms of its row first (spread over the
        row's agents), then as the learner says."""
        rows = self.rows(agents)
        K = self.counts.shape[1]
        n = self.counts[rows]
        if self.learner == "exp3":
            cum = np.cumsum(self.probabilities(rows), axis=1)
            u = rng.random(agents.size)[:, None] * cum[:, -1:]
            arm = np.minimum((cum < u).sum(axis=1), K - 1)
        else:
            mean = np.where(n > 0, self.sums[rows] / np.maximum(n, 1e-300), -np.inf)
            if self.learner == "ucb":
                t = np.maximum(n.sum(axis=1, keepdims=True), 1.0)
                mean = mean + self.explore * np.sqrt(2.0 * np.log(t) / np.maximum(n, 1e-300))
            arm = np.argmax(mean, axis=1)
            if self.learner == "greedy":
                trial = rng.random(agents.size) < self.explore
                arm = np.where(trial, rng.integers(0, K, agents.size), arm)
        fresh = n == 0
        unplayed = fresh.sum(axis=1)
        some = np.flatnonzero(unplayed > 0)
        if some.size:  # spread the untried arms over the agents of a row (shared: many a night)
            rank = np.arange(agents.size)[some] % unplayed[some]
            order = np.cumsum(fresh[some], axis=1)
            arm[some] = np.argmax((order == (rank + 1)[:, None]) & fresh[some], axis=1)
        return arm

    def update(self, agents: np.ndarray, arms: np.ndarray, payoffs: np.ndarray) -> None:
        """Credit one night's ``payoffs`` (one per agent, clipped to ``[-2, 2]``) to the arms
        played: each (row, arm) played gets one observation, the mean payoff of its agents;
        the rows' earlier statistics fade by ``discount`` first."""
        if agents.size == 0:
            return
        rows = self.rows(agents)
        G, K = self.counts.shape
        r = np.clip(np.asarray(payoffs, dtype=float), -PAYOFF_BOUND, PAYOFF_BOUND)
        if self.learner == "exp3":  # one agent: EXP3's step; a group: its night's mean estimate
            p = self.probabilities(rows)[np.arange(agents.size), arms]
            players = np.bincount(rows, minlength=G).astype(float)
            rate = 1.0 if self.shared else self.explore / K
            np.add.at(self.log_weights, (rows, arms), rate * r / p / np.maximum(players[rows], 1.0))
            self.log_weights -= self.log_weights.max(axis=1, keepdims=True)
        cell = rows * K + arms
        plays = np.bincount(cell, minlength=G * K).reshape(G, K)
        total = np.bincount(cell, r, minlength=G * K).reshape(G, K)
        touched = np.unique(rows)
        self.counts[touched] *= self.discount
        self.sums[touched] *= self.discount
        seen = plays > 0
        self.counts[seen] += 1.0
        self.sums[seen] += total[seen] / plays[seen]

    def state_dict(self) -> dict[str, Any]:
        """The memory as plain data (arrays), for checkpoints."""
        return {k: getattr(self, k).copy() for k in self.memory}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the memory saved by :meth:`state_dict`.

        Raises:
            InvalidInputError: an array is missing or has another shape.
        """
        for k in self.memory:
            mine = getattr(self, k)
            if k not in state:
                raise InvalidInputError(f"adaptive strategy memory: {k!r} missing")
            value = np.array(state[k], dtype=mine.dtype)
            if value.shape != mine.shape:
                raise InvalidInputError(f"adaptive strategy memory: {k!r} has shape {value.shape}, "
                                        f"expected {mine.shape}")
            setattr(self, k, value)


@dataclass(frozen=True)
class Adaptive(Strategy):
    """Base of the adaptive strategies: a grid of factors and a bandit (module docstring).

    Args:
        low: the grid's first factor (``1``, the default: honesty is one of the arms).
        high: its last factor.
        step: the distance between its factors: ``low, low + step, ..., high``.
        learner: ``"greedy"``, ``"ucb"`` or ``"exp3"``.
        explore: the greedy learner's and EXP3's share of uniform exploration in ``(0, 1]``,
            or UCB1's exploration weight.
        lie_cost: payoff lost per unit of ``|ln factor|``.
        shared: one bandit for all the agents on the strategy (True) or one each.
        discount: weight of a night's statistics a night later, in ``(0, 1]`` (UCB1; 1: none).
    """

    low: float = 1.0
    high: float = 2.0
    step: float = 0.1
    learner: str = "greedy"
    explore: float = 0.1
    lie_cost: float = 0.1
    shared: bool = True
    discount: float = 0.9

    def __post_init__(self) -> None:
        owner = type(self).__name__
        check_positive(owner, "low", self.low)
        check_positive(owner, "high", self.high, low=self.low, closed_low=True)
        check_positive(owner, "step", self.step)
        if self.learner not in LEARNERS:
            raise InvalidInputError(f"{owner}: learner must be one of {', '.join(map(repr, LEARNERS))}, "
                                    f"got {self.learner!r}")
        check_positive(owner, "explore", self.explore, high=100.0 if self.learner == "ucb" else 1.0)
        check_positive(owner, "lie_cost", self.lie_cost, closed_low=True, high=10.0)
        check_positive(owner, "discount", self.discount, high=1.0)
        if not isinstance(self.shared, bool):
            raise InvalidInputError(f"{owner}: shared must be True or False, got {self.shared!r}")
        if (self.high - self.low) / self.step + 1 > MAX_ARMS:
            raise InvalidInputError(f"{owner}: the grid low={self.low}, high={self.high}, step={self.step} has more "
                                    f"than {MAX_ARMS} factors")

    def grid(self) -> np.ndarray:
        """The factors, ``low`` to ``high`` by ``step`` (``high`` included)."""
        k = int(np.floor((self.high - self.low) / self.step + 1e-9)) + 1
        g = np.round(self.low + self.step * np.arange(k), 12)
        return g if np.isclose(g[-1], self.high) else np.r_[g, self.high]

    def new_memory(self, size: int) -> FactorBandit:
        """A fresh bandit for the ``size`` agents of this strategy's kind."""
        return FactorBandit(size, self.grid().size, learner=self.learner, explore=self.explore, shared=self.shared,
                            discount=self.discount)

    def payoff(self, evidence: Evidence, agents: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(payoff, known)`` of last night's report for ``agents`` (before the lie cost), from
        what happened to them (``evidence``, after the defences)."""
        raise NotImplementedError

    def factors(self, ctx: StrategyContext) -> np.ndarray:
        """Learn from yesterday, then choose tonight's factor of each agent, ``(k,)``."""
        grid = self.grid()
        mem = ctx.memory
        if mem is None:
            raise InvalidInputError(f"{self}: an adaptive strategy needs the model's memory (ctx.memory)")
        idx = np.asarray(ctx.index, dtype=np.int64)
        played = (mem.night[idx] == ctx.day - 1) & (mem.arm[idx] >= 0)
        if ctx.evidence is not None and played.any():
            who = idx[played]
            gain, known = self.payoff(ctx.evidence, who)
            arms = mem.arm[who]
            cost = self.lie_cost * np.abs(np.log(grid[arms]))
            mem.update(who[known], arms[known], (gain - cost)[known])
        todo = mem.night[idx] != ctx.day
        if todo.any():
            who = idx[todo]
            mem.arm[who] = mem.choose(who, ctx.rng)
            mem.night[who] = ctx.day
        return grid[mem.arm[idx]]


@dataclass(frozen=True)
class AdaptiveInflate(Adaptive):
    """A citizen that learns how much to claim: its demand factor from the grid, its payoff the
    share of need it received minus 1 (module docstring)."""

    name = "adaptive_inflate"
    kind = "citizen"

    def payoff(self, evidence: Evidence, agents: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        got = np.asarray(evidence.citizen_received, dtype=float)[agents]
        return got - 1.0, np.isfinite(got)

    def report(self, ctx: StrategyContext) -> np.ndarray:
        return self.factors(ctx)


@dataclass(frozen=True)
class AdaptiveInputs(Adaptive):
    """A unit that learns how far to overstate its inputs (the ratchet): its input factor from
    the grid, its payoff its slack, the plan's (defended) input use at its output over its TRUE
    use, minus 1 (module docstring). Capacity is reported honestly; a unit whose use is not
    learned (no curve) has no payoff and stays on the first factor."""

    high: float = 1.5
    step: float = 0.05
    name = "adaptive_inputs"
    kind = "unit"

    def payoff(self, evidence: Evidence, agents: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rep = np.asarray(evidence.unit_reported_use, dtype=float)[agents]
        real = np.asarray(evidence.unit_true_use, dtype=float)[agents]
        known = (real > 0) & (rep > 0)
        return np.divide(rep, real, out=np.ones(agents.size), where=known) - 1.0, known

    def report(self, ctx: StrategyContext) -> tuple[np.ndarray, np.ndarray]:
        return self.factors(ctx), np.ones(ctx.index.size)
