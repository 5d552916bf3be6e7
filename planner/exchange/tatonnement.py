"""Tatonnement: prices rise with excess demand and fall with excess supply.

Discrete multiplicative tatonnement ``p_j <- p_j (1 + eta * clip(z_j / S_j, -1/2, 1))``
(Walras 1874; Cole & Fleischer 2008) converges to the equilibrium when demand satisfies gross
substitutes: Cobb-Douglas and CES with ``0 < rho < 1``. It is refused for linear utilities (weak
gross substitutes only: demand is a correspondence and tatonnement cycles) and for CES
complements (``rho < 0``), where it can diverge.
"""

from __future__ import annotations

import logging

import numpy as np
from innatura.planner.errors import ConvergenceError
from innatura.planner.exchange.demand import demand, normalised_weights
from innatura.planner.exchange.markets import ExchangeMarket, Market, UnsupportedMethodError
from innatura.planner.exchange.result import EquilibriumResult, make_result

__all__ = ["has_gross_substitutes", "tatonnement"]

logger = logging.getLogger(__name__)


def _income(market: Market, prices: np.ndarray) -> np.ndarray:
    """Each agent's income at ``prices``: the value of its endowment, or its budget."""
    return market.endowments @ prices if isinstance(market, ExchangeMarket) else market.budgets


def has_gross_substitutes(market: Market) -> bool:
    """Whether the market's demand satisfies (strict) gross substitutes: Cobb-Douglas or CES ``0 < rho < 1``."""
    return market.utility == "cobb-douglas" or (market.utility == "ces" and 0 < market.rho < 1)  # type: ignore[operator]


def tatonnement(market: Market, *, eta: float = 0.5, tol: float = 1e-8, max_iter: int = 100_000,
                raise_on_failure: bool = False) -> EquilibriumResult:
    """Multiplicative tatonnement for exchange economies and Fisher markets with gross substitutes.

    Args:
        market: the market.
        eta: step size (``0 < eta <= 1``).
        tol: target relative excess demand.
        max_iter: iteration cap.
        raise_on_failure: raise :class:`ConvergenceError` instead of returning unconverged.

    Raises:
        UnsupportedMethodError: gross substitutes do not hold.
    """
    if not has_gross_substitutes(market):
        what = "linear utilities (weak gross substitutes only)" if market.utility == "linear" else \
            f"CES complements (rho = {market.rho})"
        raise UnsupportedMethodError(
            f"method 'tatonnement': needs gross substitutes (cobb-douglas, or ces with 0 < rho < 1); got {what}"
        )
    exchange = isinstance(market, ExchangeMarket)
    supply = market.supply
    if isinstance(market, ExchangeMarket):
        p = np.full(supply.size, 1.0 / supply.size)
    else:
        p = (market.budgets @ normalised_weights(market.weights)) / supply
    x = None
    it = 0
    for _ in range(max_iter):
        it += 1
        income = _income(market, p)
        x = demand(market.weights, p, income, market.utility, market.rho)
        z = (x.sum(axis=0) - supply) / supply
        if np.abs(z).max() <= tol:
            break
        p = p * (1.0 + eta * np.clip(z, -0.5, 1.0))
        if exchange:
            p /= p.sum()
    x = demand(market.weights, p, _income(market, p), market.utility, market.rho)
    res = make_result(market, p, x, method="tatonnement", iterations=it, tol=tol)
    if raise_on_failure and not res.converged:
        raise ConvergenceError(f"tatonnement: relative excess demand {res.error:.3g} > tol {tol:g}",
                               iterations=it, residual=res.error)
    return res
