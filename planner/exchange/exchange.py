"""Pure exchange (Arrow-Debreu) economies: closed form, Newton and proportional response.

Agent ``i`` sells its endowment ``e_i`` at prices ``p`` (income ``w_i = p . e_i``) and buys
its demand; a competitive equilibrium (CE) has ``sum_i x_i(p) = sum_i e_i``.

- :func:`cobb_douglas_exchange`: with expenditure shares ``a`` (rows sum to 1) and ownership
  shares ``theta_ik = e_ik / S_k``, the value of each good ``v_j = p_j S_j`` solves
  ``v = M v`` with ``M = a^T theta`` (column-stochastic): ``v`` is the Perron vector of the
  expenditure-share matrix and ``p_j = v_j / S_j`` (Eaves 1985).
- :func:`newton_exchange`: damped Gauss-Newton on the relative excess demand with the
  normalisation ``sum_j p_j = 1`` appended (Cobb-Douglas and CES, any ``rho``).
- :func:`proportional_response_exchange`: proportional response for linear (and Cobb-Douglas)
  exchange economies (Wu & Zhang 2007): bids ``b_ij``, goods' values ``v_j = sum_i b_ij``,
  incomes ``w_i = sum_j theta_ij v_j`` and ``b_ij <- w_i a_ij x_ij / u_i(x_i)``.
- :func:`fisher_fixed_point_exchange`: linear economies: freeze incomes at the current prices,
  solve that Fisher market exactly (:func:`~planner.exchange.linear_polish.finish_linear_fisher`)
  and repeat with its prices until they stop moving; at the fixed point incomes and prices
  agree, so the Fisher equilibrium is an exchange equilibrium (to rounding). Falls back to
  proportional response if a Fisher solve fails.
"""

from __future__ import annotations

import logging

import numpy as np
from innatura.planner.errors import ConvergenceError
from innatura.planner.exchange.demand import demand, demand_jacobian, normalised_weights
from innatura.planner.exchange.linear_polish import finish_linear_fisher
from innatura.planner.exchange.markets import ExchangeMarket, UnsupportedMethodError
from innatura.planner.exchange.result import EquilibriumResult, make_result

__all__ = [
    "cobb_douglas_exchange",
    "fisher_fixed_point_exchange",
    "newton_exchange",
    "perron_prices",
    "proportional_response_exchange",
]

logger = logging.getLogger(__name__)


def perron_prices(shares: np.ndarray, endowments: np.ndarray) -> np.ndarray:
    """Cobb-Douglas CE prices (sum 1) from expenditure ``shares`` and ``endowments`` (both ``(n, m)``).

    Solves ``(M - I) v = 0``, ``sum v = 1`` for the Perron vector of ``M = shares^T theta``.
    """
    supply = endowments.sum(axis=0)
    theta = endowments / supply[None, :]
    mmat = shares.T @ theta
    m = mmat.shape[0]
    system = np.vstack([mmat - np.eye(m), np.ones((1, m))])
    rhs = np.zeros(m + 1)
    rhs[-1] = 1.0
    v, *_ = np.linalg.lstsq(system, rhs, rcond=None)
    v = np.maximum(v, 0.0)
    p = v / supply
    return p / p.sum()


def cobb_douglas_exchange(market: ExchangeMarket, *, tol: float = 1e-9) -> EquilibriumResult:
    """Closed-form CE of a Cobb-Douglas exchange economy (Perron vector of ``a^T theta``)."""
    if market.utility != "cobb-douglas":
        raise UnsupportedMethodError(f"method 'closed-form': needs utility 'cobb-douglas', got {market.utility!r}")
    shares = normalised_weights(market.weights)
    p = perron_prices(shares, market.endowments)
    x = shares * ((market.endowments @ p)[:, None] / p[None, :])
    return make_result(market, p, x, method="closed-form", iterations=0, tol=tol)


def _start(market: ExchangeMarket) -> np.ndarray:
    return perron_prices(normalised_weights(market.weights), market.endowments)


def newton_exchange(market: ExchangeMarket, *, prices: np.ndarray | None = None, tol: float = 1e-10,
                    max_iter: int = 100, raise_on_failure: bool = False) -> EquilibriumResult:
    """Damped Gauss-Newton on ``z(p) / S = 0``, ``sum p = 1`` (Cobb-Douglas and CES economies).

    Args:
        market: the economy.
        prices: starting prices (default: the Cobb-Douglas prices of the same weights).
        tol: target relative excess demand.
        max_iter: Newton iterations.
        raise_on_failure: raise :class:`ConvergenceError` instead of returning unconverged.
    """
    if market.utility == "linear":
        raise UnsupportedMethodError(
            "method 'newton': linear demand is not differentiable; use 'proportional-response'"
        )
    w, e, supply = market.weights, market.endowments, market.supply
    p = _start(market) if prices is None else np.asarray(prices, dtype=np.float64) / np.sum(prices)
    p = np.maximum(p, 1e-12)

    def resid(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = demand(w, q, e @ q, market.utility, market.rho)
        return (x.sum(axis=0) - supply) / supply, x

    z, x = resid(p)
    norm = float(np.abs(z).max())
    it = 0
    for it in range(1, max_iter + 1):
        if norm <= tol:
            it -= 1
            break
        jac = demand_jacobian(w, p, e @ p, market.utility, market.rho, endowments=e) / supply[:, None]
        system = np.vstack([jac, np.ones((1, p.size))])
        rhs = -np.concatenate([z, [p.sum() - 1.0]])
        step, *_ = np.linalg.lstsq(system, rhs, rcond=None)
        t = 1.0
        neg = step < 0
        if neg.any():
            t = min(1.0, 0.9 * float(np.min(-p[neg] / step[neg])))
        while t > 1e-12:
            trial = p + t * step
            trial /= trial.sum()
            z_t, x_t = resid(trial)
            n_t = float(np.abs(z_t).max())
            if n_t < (1 - 1e-4 * t) * norm or n_t <= tol:
                break
            t *= 0.5
        else:
            break
        p, z, x, norm = trial, z_t, x_t, n_t
    res = make_result(market, p, x, method="newton", iterations=it, tol=tol)
    if raise_on_failure and not res.converged:
        raise ConvergenceError(f"newton: relative excess demand {res.error:.3g} > tol {tol:g}",
                               iterations=it, residual=res.error)
    return res


def proportional_response_exchange(market: ExchangeMarket, *, tol: float = 1e-6, max_iter: int = 100_000,
                                   check_every: int = 20, raise_on_failure: bool = False) -> EquilibriumResult:
    """Proportional response dynamics for linear or Cobb-Douglas exchange economies (Wu & Zhang 2007).

    The returned allocation is the bids' allocation ``x_ij = S_j b_ij / v_j`` (markets clear);
    ``max_utility_gap`` measures how far agents are from spending only on maximum
    bang-per-buck goods.
    """
    if market.utility == "ces":
        raise UnsupportedMethodError(
            "method 'proportional-response': exchange economies with 'ces' utilities use 'newton' or 'tatonnement'"
        )
    lin = market.utility == "linear"
    a = market.weights if lin else normalised_weights(market.weights)
    supply = market.supply
    theta = market.endowments / supply[None, :]
    p = np.full(supply.size, 1.0 / supply.size)
    v = p * supply
    bids = normalised_weights(a) * (theta @ v)[:, None]
    aw = a * supply[None, :]
    res = None
    for it in range(1, max_iter + 1):
        v = bids.sum(axis=0)
        income = theta @ v
        if lin:
            t = bids * aw / v[None, :]
            bids = t * (income / t.sum(axis=1))[:, None]
        else:
            bids = a * income[:, None]
        if it % check_every and it != max_iter:
            continue
        v = bids.sum(axis=0)
        p = v / supply
        x = bids / p[None, :] if lin else demand(a, p, market.endowments @ p, "cobb-douglas")
        res = make_result(market, p, x, method="proportional-response", iterations=it, tol=tol)
        if res.converged:
            return res
    assert res is not None  # max_iter >= 1
    if raise_on_failure:
        raise ConvergenceError(f"proportional response: error {res.error:.3g} > tol {tol:g} after {max_iter} "
                               "iterations", iterations=max_iter, residual=res.error)
    return res


def fisher_fixed_point_exchange(market: ExchangeMarket, *, tol: float = 1e-9, max_iter: int = 200,
                                raise_on_failure: bool = False) -> EquilibriumResult:
    """Linear exchange economy as a fixed point of exact Fisher equilibria.

    ``p <- normalise(FisherCE(weights, budgets = e p, supply = S))``, from uniform prices, until
    the prices move by less than ``tol`` (relative to the smallest price) and the steps stop
    shrinking. Each Fisher market is solved exactly, so the result is exact to rounding when the
    iteration settles.

    Args:
        market: a linear exchange economy.
        tol: target relative price change and equilibrium error.
        max_iter: Fisher solves at most.
        raise_on_failure: raise :class:`ConvergenceError` instead of returning unconverged.
    """
    if market.utility != "linear":
        raise UnsupportedMethodError(
            f"method 'fisher-fixed-point': for 'linear' exchange economies, got {market.utility!r}"
        )
    w, e, supply = market.weights, market.endowments, market.supply
    p = np.full(supply.size, 1.0 / supply.size)
    res = None
    prev = np.inf
    prices, spending = p, np.zeros(w.shape)
    for it in range(1, max_iter + 1):
        out = finish_linear_fisher(w, e @ p, supply, p * (e @ p).sum() / (p @ supply))
        if out is None:
            logger.info("fisher fixed point: Fisher solve failed at iteration %d; proportional response", it)
            return proportional_response_exchange(market, tol=max(tol, 1e-6), raise_on_failure=raise_on_failure)
        prices, spending = out[0], out[1]
        new = prices / prices.sum()
        step = float(np.max(np.abs(new - p)) / new.min())
        p = new
        if step <= tol:
            # within tolerance: go on while the steps still shrink (each solve is exact)
            res = make_result(market, prices, spending, method="fisher-fixed-point", iterations=it, tol=tol)
            if res.converged and (step <= 1e-13 or step > 0.5 * prev):
                return res
        prev = step
    if res is None:
        res = make_result(market, prices, spending, method="fisher-fixed-point", iterations=max_iter, tol=tol)
    if raise_on_failure and not res.converged:
        raise ConvergenceError(f"fisher fixed point: error {res.error:.3g} > tol {tol:g}", iterations=max_iter,
                               residual=res.error)
    return res
