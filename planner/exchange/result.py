"""The frozen result of a competitive-equilibrium solve, and the checks that fill it.

Every solver returns prices and allocations; :func:`make_result` measures, independently of
the solver, how far they are from a competitive equilibrium:

- ``max_excess_demand``: ``max_j |sum_i x_ij - S_j| / S_j`` (market clearing, relative to the
  supply ``S_j``);
- ``max_utility_gap``: the largest share of its best affordable utility an agent misses at the
  returned prices (zero for Cobb-Douglas and CES, whose allocations are their demand at the
  prices; the optimality check for linear agents);
- ``walras_residual``: ``|p . (sum_i x_i - S)| / p . S`` (Walras' law);
- ``max_budget_violation``: ``max_i |p . x_i - w_i| / w_i`` (budget balance).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from innatura.planner.exchange.demand import linear_utility_gap, utilities
from innatura.planner.exchange.markets import ExchangeMarket, Market

__all__ = ["EquilibriumResult", "make_result"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class EquilibriumResult:
    """A competitive equilibrium (or the best approximation a method reached).

    Attributes:
        kind: ``"exchange"`` or ``"fisher"``.
        method: the method that produced it.
        prices: prices normalised to sum to 1, shape ``(m,)``.
        allocations: bundle of each agent, shape ``(n, m)``.
        incomes: each agent's income at ``prices`` (value of its endowment; for a Fisher market
            its budget divided by ``price_scale``), shape ``(n,)``.
        utilities: each agent's utility of its bundle, shape ``(n,)``.
        price_scale: money prices are ``price_scale * prices`` (Fisher markets; 1 for exchange).
        max_excess_demand: relative market-clearing error (see module docstring).
        max_utility_gap: agents' relative optimality error at ``prices``.
        walras_residual: relative value of the aggregate excess demand.
        max_budget_violation: relative budget imbalance of the worst agent.
        iterations: iterations the method ran (0 for closed forms).
        converged: whether the equilibrium error reached the tolerance.
        tol: the tolerance asked for.
    """

    kind: str
    method: str
    prices: np.ndarray
    allocations: np.ndarray
    incomes: np.ndarray
    utilities: np.ndarray
    price_scale: float
    max_excess_demand: float
    max_utility_gap: float
    walras_residual: float
    max_budget_violation: float
    iterations: int
    converged: bool
    tol: float

    @property
    def error(self) -> float:
        """``max(max_excess_demand, max_utility_gap)``: zero at an exact equilibrium."""
        return max(self.max_excess_demand, self.max_utility_gap)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (lists and floats)."""
        return {
            "kind": self.kind,
            "method": self.method,
            "prices": self.prices.tolist(),
            "allocations": self.allocations.tolist(),
            "incomes": self.incomes.tolist(),
            "utilities": self.utilities.tolist(),
            "price_scale": self.price_scale,
            "max_excess_demand": self.max_excess_demand,
            "max_utility_gap": self.max_utility_gap,
            "walras_residual": self.walras_residual,
            "max_budget_violation": self.max_budget_violation,
            "iterations": self.iterations,
            "converged": self.converged,
            "tol": self.tol,
        }


def make_result(market: Market, prices: np.ndarray, allocations: np.ndarray, *, method: str,
                iterations: int, tol: float) -> EquilibriumResult:
    """Normalise ``prices``, measure the equilibrium error of ``(prices, allocations)`` and freeze.

    Args:
        market: the market solved.
        prices: positive prices, any scale (money prices for a Fisher market).
        allocations: the agents' bundles, shape ``(n, m)``.
        method: name of the method, stored in the result.
        iterations: iterations the method ran.
        tol: the tolerance ``converged`` is judged against.
    """
    prices = np.asarray(prices, dtype=np.float64)
    x = np.array(allocations, dtype=np.float64)
    scale = float(prices.sum())
    p = prices / scale
    if isinstance(market, ExchangeMarket):
        supply = market.supply
        incomes = market.endowments @ p
        price_scale = 1.0
    else:
        supply = market.supply
        incomes = market.budgets / scale
        price_scale = scale
    total = x.sum(axis=0)
    excess = float(np.max(np.abs(total - supply) / supply))
    walras = float(abs(p @ (total - supply)) / (p @ supply))
    spent = x @ p
    budget = float(np.max(np.abs(spent - incomes) / incomes))
    if market.utility == "linear":
        gap = float(linear_utility_gap(market.weights, p, incomes, x).max())
    else:
        gap = 0.0
    u = utilities(market.weights, x, market.utility, market.rho)
    finite = np.isfinite(p).all() and np.isfinite(x).all() and (p > 0).all()
    err = max(excess, gap, budget)
    for arr in (p, x, incomes, u):
        arr.setflags(write=False)
    return EquilibriumResult(
        kind=market.kind, method=method, prices=p, allocations=x, incomes=incomes, utilities=u,
        price_scale=price_scale, max_excess_demand=excess, max_utility_gap=gap,
        walras_residual=walras, max_budget_violation=budget, iterations=int(iterations),
        converged=bool(finite and err <= tol), tol=float(tol),
    )
