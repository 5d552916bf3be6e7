"""Baseline planners through the same interface as the learned policy.

- :class:`EqualSplit`: a fixed budget rule (consume ``rho_c``, invest ``rho_x`` of the available
  stock, working share ``l0``), split equally per citizen; ignores reports.
- :class:`GreedyOnReports`: the same budget rule, consumption split to maximise this step's
  welfare at the types implied by reported output (``c_i ∝ n_i theta^_i``), trusting reports.
- :class:`FullInformationOracle`: knows theta, Z, capital and stock and optimises the whole
  episode's plan directly (gradient ascent on discounted welfare through the differentiable
  model with the shock held at its current value, a random walk's expectation): the upper bound.

:func:`calibrate_budget_rule` picks the budget rule of the first two by grid search on
simulated economies (type-free: only the distribution of economies is used).
"""

from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass, replace

import torch
from innatura.planner.errors import InvalidInputError
from innatura.planner.learned.config import EconomyConfig, ObservationConfig
from innatura.planner.learned.env import EconomyState, allocate, region_utility, regrowth, transition, welfare
from innatura.planner.learned.observations import implied_log_theta
from innatura.planner.learned.policy import Decision, PlannerInput, decision_from_raw
from innatura.planner.learned.rollout import simulate
from torch import Tensor

__all__ = ["BudgetRule", "EqualSplit", "FullInformationOracle", "GreedyOnReports", "calibrate_budget_rule"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BudgetRule:
    """Shares of the available stock consumed (``rho_c``) and invested (``rho_x``), working share ``l0``."""

    rho_c: float = 0.5
    rho_x: float = 0.1
    l0: float = 0.6

    def __post_init__(self) -> None:
        if self.rho_c < 0 or self.rho_x < 0 or self.rho_c + self.rho_x > 1:
            raise InvalidInputError(f"BudgetRule: rho_c = {self.rho_c}, rho_x = {self.rho_x} must be >= 0, sum <= 1")
        if not 0 < self.l0 <= 1:
            raise InvalidInputError(f"BudgetRule: l0 = {self.l0} must lie in (0, 1]")


def _per_capita(cfg: EconomyConfig, like: Tensor) -> Tensor:
    pop = torch.tensor(cfg.populations, dtype=like.dtype)
    return (pop / pop.sum()).expand_as(like)


class EqualSplit:
    """Equal split per citizen under a fixed :class:`BudgetRule`."""

    def __init__(self, cfg: EconomyConfig, rule: BudgetRule = BudgetRule()):
        self.cfg, self.rule = cfg, rule

    def plan(self, inp: PlannerInput, state: EconomyState | None = None) -> Decision:
        w = _per_capita(self.cfg, inp.capital)
        return Decision(share_c=self.rule.rho_c * w, share_x=self.rule.rho_x * w,
                        labour=torch.full_like(inp.capital, self.rule.l0))


class GreedyOnReports:
    """One-step welfare maximiser at the reported types ``exp(mean_t p / alpha)``."""

    def __init__(self, cfg: EconomyConfig, rule: BudgetRule = BudgetRule()):
        self.cfg, self.rule = cfg, rule

    def plan(self, inp: PlannerInput, state: EconomyState | None = None) -> Decision:
        theta_hat = torch.exp(implied_log_theta(inp.history, self.cfg))
        weight = torch.tensor(self.cfg.populations, dtype=theta_hat.dtype) * theta_hat
        weight = weight / weight.sum(-1, keepdim=True)
        w = _per_capita(self.cfg, inp.capital)
        return Decision(share_c=self.rule.rho_c * weight, share_x=self.rule.rho_x * w,
                        labour=torch.full_like(inp.capital, self.rule.l0))


class FullInformationOracle:
    """Open-loop optimal plan for each episode, computed at its first step from the true state.

    Args:
        cfg: the economy.
        steps: Adam iterations.
        lr: Adam step size on the plan's pre-activations.
        rule: budget rule the optimisation starts from.
        resource_weight: weight of the resource penalty subtracted from the objective (the
            learned planner's ``lambda_Resource``), so both face the same planning problem.
    """

    def __init__(
        self,
        cfg: EconomyConfig,
        steps: int = 300,
        lr: float = 0.1,
        rule: BudgetRule = BudgetRule(),
        resource_weight: float = 0.0,
    ):
        self.cfg, self.steps, self.lr, self.rule = cfg, int(steps), float(lr), rule
        self.resource_weight = float(resource_weight)
        self._start: EconomyState | None = None
        self._t0 = 0
        self._plan: tuple[Tensor, Tensor] | None = None

    def plan(self, inp: PlannerInput, state: EconomyState) -> Decision:
        if self._plan is None or (inp.t == self._t0 and state is not self._start) or inp.t < self._t0:
            self._start, self._t0 = state, inp.t
            self._plan = self.optimise(replace(state, t=inp.t))
        node, keep = self._plan
        k = inp.t - self._t0
        if k >= node.shape[0]:
            raise InvalidInputError(f"FullInformationOracle: step {inp.t} beyond the horizon {self.cfg.horizon}")
        return decision_from_raw(node[k], keep[k])

    def optimise(self, state: EconomyState) -> tuple[Tensor, Tensor]:
        """Maximise ``sum_t discount^t welfare_t - resource_weight sum_t excess_t^2`` over the plan.

        Returns the plan's pre-activations, ``[T, B, N, 3]`` and ``[T, B]``.
        """
        cfg, rule = self.cfg, self.rule
        horizon, b, n = cfg.horizon - state.t, state.batch_size, cfg.n_regions
        w = _per_capita(cfg, state.theta)
        keep = max(1.0 - rule.rho_c - rule.rho_x, 1e-3)
        node0 = torch.stack([torch.log(rule.rho_c * w + 1e-6), torch.log(rule.rho_x * w + 1e-6),
                             torch.full_like(w, math.log(rule.l0 / (1 - rule.l0 + 1e-6)))], -1)
        node = node0.expand(horizon, b, n, 3).clone().requires_grad_(True)
        keep_raw = torch.full((horizon, b), math.log(keep), requires_grad=True)
        opt = torch.optim.Adam([node, keep_raw], lr=self.lr)
        still = replace(cfg, shock_sd=0.0)
        dummy = torch.Generator().manual_seed(0)
        disc = cfg.discount ** torch.arange(horizon, dtype=w.dtype)
        with torch.enable_grad():
            for _ in range(self.steps):
                opt.zero_grad()
                s, total = state, torch.zeros(b)
                for t in range(horizon):
                    d = decision_from_raw(node[t], keep_raw[t])
                    alloc = allocate(s, d.share_c, d.share_x, d.labour, cfg)
                    u = region_utility(alloc.consumption, alloc.labour, s.theta, cfg)
                    total = total + disc[t] * welfare(u, cfg)
                    if self.resource_weight > 0:
                        drawn = alloc.consumption.sum(-1) + alloc.investment.sum(-1)
                        bound = s.stock + cfg.resource_horizon * regrowth(s.stock, cfg)
                        total = total - self.resource_weight * torch.relu(drawn - bound).pow(2)
                    s = transition(s, alloc, still, dummy)
                (-total.sum()).backward()
                opt.step()
        return node.detach(), keep_raw.detach()


def calibrate_budget_rule(
    cfg: EconomyConfig,
    obs_cfg: ObservationConfig,
    generator: torch.Generator,
    batch_size: int = 64,
    resource_weight: float = 0.0,
    grid: tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]] = (
        (0.2, 0.3, 0.4, 0.5, 0.6, 0.7),
        (0.0, 0.05, 0.1, 0.2),
        (0.2, 0.4, 0.6, 0.8, 1.0),
    ),
) -> BudgetRule:
    """Best equal-split budget rule over ``grid`` on common economies.

    The score is mean welfare minus ``resource_weight`` times the mean squared resource excess.
    """
    state = generator.get_state()
    best, best_u = BudgetRule(), -math.inf
    for rho_c, rho_x, l0 in itertools.product(*grid):
        if rho_c + rho_x > 1:
            continue
        rule = BudgetRule(rho_c, rho_x, l0)
        generator.set_state(state)
        m = simulate(EqualSplit(cfg, rule), cfg, obs_cfg, batch_size, generator).metrics
        u = m.utility - resource_weight * m.resource_penalty
        if u > best_u:
            best, best_u = rule, u
    logger.info("calibrated budget rule %s (utility %.4f)", best, best_u)
    return best
