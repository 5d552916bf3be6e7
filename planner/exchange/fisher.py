"""Fisher markets: closed form, proportional response dynamics and the Eisenberg-Gale program.

A Fisher market has buyers with budgets ``B_i`` and goods with supplies ``s_j``. Its
equilibria are the optima of the Eisenberg-Gale convex program

    ``max sum_i B_i log u_i(x_i)  s.t.  sum_i x_ij <= s_j,  x >= 0``        (EG)

for homogeneous utilities (Eisenberg & Gale 1959; Eisenberg 1961). Methods:

- :func:`cobb_douglas_fisher`: closed form ``p_j = sum_i B_i a_ij / s_j`` (normalised ``a``).
- :func:`proportional_response`: each buyer re-splits its budget in proportion to the utility
  each good contributed, ``b_ij <- B_i a_ij x_ij^rho / sum_k a_ik x_ik^rho`` (Wu & Zhang 2007;
  Zhang 2011), for ``rho`` in ``[0, 1]`` (linear: ``rho = 1``). For linear utilities it is mirror
  descent on Shmyrev's convex program (Birnbaum, Devanur & Xiao 2011) and converges only
  sublinearly; ``polish=True`` tries to finish exactly from its prices.
- :func:`eisenberg_gale`: Newton on the dual of (EG) in price space,
  ``min_p s . p - sum_i B_i log e_i(p)`` (``e_i`` the CES unit expenditure function), whose
  gradient is ``s - X(p)`` (supply minus aggregate demand); convex in ``p`` for every ``rho``.
  Linear markets: the smoothed dual followed to zero temperature, then an exact finish.
"""

from __future__ import annotations

import logging

import numpy as np
from innatura.planner.errors import ConvergenceError
from innatura.planner.exchange.demand import demand, demand_jacobian, normalised_weights
from innatura.planner.exchange.linear_polish import blas_threads_limited, finish_linear_fisher
from innatura.planner.exchange.markets import FisherMarket, UnsupportedMethodError
from innatura.planner.exchange.result import EquilibriumResult, make_result

__all__ = ["cobb_douglas_fisher", "eisenberg_gale", "proportional_response"]

logger = logging.getLogger(__name__)


def cobb_douglas_fisher(market: FisherMarket, *, tol: float = 1e-9) -> EquilibriumResult:
    """Closed-form equilibrium of a Cobb-Douglas Fisher market: ``p_j = sum_i B_i a_ij / s_j``."""
    if market.utility != "cobb-douglas":
        raise UnsupportedMethodError(f"method 'closed-form': needs utility 'cobb-douglas', got {market.utility!r}")
    a = normalised_weights(market.weights)
    prices = (market.budgets @ a) / market.supply
    x = a * (market.budgets[:, None] / prices[None, :])
    return make_result(market, prices, x, method="closed-form", iterations=0, tol=tol)


def proportional_response(market: FisherMarket, *, tol: float = 1e-6, max_iter: int = 10_000,
                          check_every: int = 10, polish: bool = False, polish_start: int = 20,
                          raise_on_failure: bool = False) -> EquilibriumResult:
    """Proportional response dynamics (Wu & Zhang 2007; Zhang 2011) for a Fisher market.

    Args:
        market: linear, Cobb-Douglas or CES market with ``0 < rho < 1``.
        tol: target equilibrium error (relative excess demand and utility gap).
        max_iter: iteration cap.
        check_every: measure the error (and, for linear markets, try the exact polish) every
            this many iterations.
        polish: linear markets only: finish exactly with
            :func:`~planner.exchange.linear_polish.finish_linear_fisher`, tried first at
            iteration ``polish_start`` and then each time the iteration count doubles.
        raise_on_failure: raise :class:`ConvergenceError` instead of returning an unconverged
            result.

    Raises:
        UnsupportedMethodError: CES with ``rho < 0`` (use ``eisenberg-gale``).
    """
    if market.utility == "ces" and market.rho < 0:  # type: ignore[operator]
        raise UnsupportedMethodError(
            f"method 'proportional-response': converges for rho in [0, 1], got rho = {market.rho}; "
            "use method 'eisenberg-gale'"
        )
    rho = 1.0 if market.utility == "linear" else 0.0 if market.utility == "cobb-douglas" else float(market.rho)  # type: ignore[arg-type]
    budgets, supply = market.budgets, market.supply
    weights = market.weights if rho != 0 else normalised_weights(market.weights)
    # bid b_ij: money buyer i spends on good j; start from the Cobb-Douglas split
    bids = normalised_weights(weights) * budgets[:, None]
    lin = rho == 1.0
    aw = weights * supply[None, :] if lin else weights  # a_ij s_j: utility per unit share
    t = np.empty_like(bids)
    inv_b = budgets.copy()
    name = "proportional-response" + ("+polish" if lin and polish else "")
    last_err = np.inf
    next_polish = polish_start
    for it in range(1, max_iter + 1):
        spend = bids.sum(axis=0)
        if lin:
            # a_ij x_ij = a_ij s_j b_ij / c_j
            np.multiply(bids, aw, out=t)
            t *= 1.0 / spend
        else:
            x = bids * (supply / spend)[None, :]
            with np.errstate(divide="ignore"):
                np.power(x, rho, out=t)
            t *= weights
        util = t.sum(axis=1)
        np.divide(budgets, util, out=inv_b)
        np.multiply(t, inv_b[:, None], out=bids)
        if it % check_every and it != max_iter:
            continue
        prices = bids.sum(axis=0) / supply
        if lin:
            if polish and it >= next_polish:
                next_polish = 2 * it
                exact = finish_linear_fisher(market.weights, budgets, supply, prices)
                if exact is not None:  # (prices, allocations, newton steps)
                    res = make_result(market, exact[0], exact[1], method=name, iterations=it, tol=tol)
                    if res.converged:
                        return res
            x = bids / prices[None, :]
        else:
            x = demand(market.weights, prices, budgets, market.utility, market.rho)
        res = make_result(market, prices, x, method=name, iterations=it, tol=tol)
        last_err = res.error
        if res.converged:
            return res
    logger.info("proportional response stopped at %d iterations, error %.3g", max_iter, last_err)
    if raise_on_failure:
        raise ConvergenceError(f"proportional response: error {last_err:.3g} > tol {tol:g} after {max_iter} "
                               "iterations", iterations=max_iter, residual=last_err)
    return res


def _dual_objective(market: FisherMarket, prices: np.ndarray) -> float:
    """``s . p - sum_i B_i log e_i(p)``: the dual of the Eisenberg-Gale program (up to a constant)."""
    if market.utility == "cobb-douglas":
        a = normalised_weights(market.weights)
        return float(market.supply @ prices - market.budgets @ (a @ np.log(prices)))
    sigma = 1.0 / (1.0 - float(market.rho))  # type: ignore[arg-type]
    with np.errstate(divide="ignore"):
        logit = sigma * np.log(market.weights) + (1.0 - sigma) * np.log(prices)[None, :]
    top = logit.max(axis=1)
    lse = top + np.log(np.exp(logit - top[:, None]).sum(axis=1))
    return float(market.supply @ prices - market.budgets @ (lse / (1.0 - sigma)))


def eisenberg_gale(market: FisherMarket, *, tol: float = 1e-10, max_iter: int = 200,
                   raise_on_failure: bool = False) -> EquilibriumResult:
    """The Eisenberg-Gale program solved through its dual in price space.

    Cobb-Douglas and CES: damped Newton on ``f(p) = s . p - sum_i B_i log e_i(p)``;
    ``grad f = s - X(p)`` and the Hessian is minus the Jacobian of aggregate demand, so each step
    solves an ``m x m`` system; backtracking keeps ``p > 0`` and ``f`` decreasing (Armijo).

    Linear: the dual ``sum_j s_j e^y_j + sum_i B_i max_j (log a_ij - y_j)`` is not smooth; it is
    smoothed (log-sum-exp at temperature ``tau``), followed ``tau -> 0`` by Newton, and finished
    exactly on the support found (:func:`~planner.exchange.linear_polish.finish_linear_fisher`).
    If that fails (degenerate markets), proportional response with the same finish takes over.
    """
    if market.utility == "linear":
        start = (market.budgets @ normalised_weights(market.weights)) / market.supply
        exact = finish_linear_fisher(market.weights, market.budgets, market.supply, start)
        if exact is not None:
            res = make_result(market, exact[0], exact[1], method="eisenberg-gale", iterations=exact[2],
                              tol=max(tol, 1e-9))
            if res.converged:
                return res
        logger.info("eisenberg-gale: smoothed dual did not give an exact equilibrium; proportional response")
        return proportional_response(market, tol=max(tol, 1e-9), polish=True, max_iter=20 * max_iter,
                                     raise_on_failure=raise_on_failure)
    with blas_threads_limited(1):
        return _eg_newton(market, tol=tol, max_iter=max_iter, raise_on_failure=raise_on_failure)


def _eg_newton(market: FisherMarket, *, tol: float, max_iter: int, raise_on_failure: bool) -> EquilibriumResult:
    """Newton on the smooth Eisenberg-Gale dual (Cobb-Douglas and CES); see :func:`eisenberg_gale`."""
    budgets, supply = market.budgets, market.supply
    prices = (budgets @ normalised_weights(market.weights)) / supply
    f = _dual_objective(market, prices)
    err = np.inf
    for it in range(1, max_iter + 1):
        x = demand(market.weights, prices, budgets, market.utility, market.rho)
        grad = supply - x.sum(axis=0)
        err = float(np.max(np.abs(grad) / supply))
        if err <= tol:
            return make_result(market, prices, x, method="eisenberg-gale", iterations=it - 1, tol=tol)
        hess = -demand_jacobian(market.weights, prices, budgets, market.utility, market.rho)
        try:
            step = np.linalg.solve(hess, -grad)
        except np.linalg.LinAlgError:
            step = -grad * prices / supply
        slope = float(grad @ step)
        if slope >= 0:  # not a descent direction (numerically singular Hessian): scaled gradient
            step = -grad * prices**2 / np.maximum(x.sum(axis=0), 1e-300)
            slope = float(grad @ step)
        t = 1.0
        neg = step < 0
        if neg.any():
            t = min(1.0, 0.99 * float(np.min(-prices[neg] / step[neg])))
        gnorm = err
        while True:
            trial = prices + t * step
            f_trial = _dual_objective(market, trial)
            if f_trial <= f + 1e-4 * t * slope or t < 1e-12:
                break
            # the value no longer resolves the decrease: accept a step that halves the gradient
            if f_trial <= f + 1e-12 * abs(f):
                x_t = demand(market.weights, trial, budgets, market.utility, market.rho)
                if np.max(np.abs(supply - x_t.sum(axis=0)) / supply) < 0.5 * gnorm:
                    break
            t *= 0.5
        prices, f = trial, f_trial
    x = demand(market.weights, prices, budgets, market.utility, market.rho)
    res = make_result(market, prices, x, method="eisenberg-gale", iterations=max_iter, tol=tol)
    if raise_on_failure and not res.converged:
        raise ConvergenceError(f"eisenberg-gale Newton: error {res.error:.3g} > tol {tol:g}",
                               iterations=max_iter, residual=res.error)
    return res
