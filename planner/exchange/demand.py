"""Consumer demand, its price Jacobian and utilities for Cobb-Douglas, CES and linear agents.

All functions are vectorised over agents: ``weights`` is ``(n, m)``, ``prices`` is ``(m,)``
and ``incomes`` is ``(n,)``. Cobb-Douglas weights are normalised per agent here; callers pass
the raw weights.

CES demand (``sigma = 1 / (1 - rho)``) is the Marshallian demand

    ``x_ij = w_i a_ij^sigma p_j^-sigma / sum_k a_ik^sigma p_k^(1 - sigma)``,

which is Cobb-Douglas (``x_ij = a_ij w_i / p_j``) at ``rho = 0``. Linear agents have a demand
correspondence (any split of the budget over maximum bang-per-buck goods), so there is no
``demand`` for them here; see :func:`linear_utility_gap`.
"""

from __future__ import annotations

import logging

import numpy as np

__all__ = [
    "ces_shares",
    "demand",
    "demand_jacobian",
    "linear_utility_gap",
    "normalised_weights",
    "utilities",
]

logger = logging.getLogger(__name__)


def normalised_weights(weights: np.ndarray) -> np.ndarray:
    """Cobb-Douglas expenditure shares ``a_ij / sum_k a_ik``, shape ``(n, m)``."""
    return weights / weights.sum(axis=1, keepdims=True)


def ces_shares(weights: np.ndarray, prices: np.ndarray, rho: float) -> np.ndarray:
    """Expenditure shares ``q_ij = a_ij^s p_j^(1-s) / sum_k a_ik^s p_k^(1-s)`` (``s = 1/(1-rho)``).

    Computed in log space (a row-wise log-sum-exp), so extreme weights and prices do not
    overflow. ``rho = 0`` gives the Cobb-Douglas shares.

    Shapes:
        weights ``(n, m)``, prices ``(m,)`` -> ``(n, m)``.
    """
    if rho == 0:
        return normalised_weights(weights)
    sigma = 1.0 / (1.0 - rho)
    with np.errstate(divide="ignore"):
        logit = sigma * np.log(weights) + (1.0 - sigma) * np.log(prices)[None, :]
    top = logit.max(axis=1, keepdims=True)
    q = np.exp(logit - top)
    q /= q.sum(axis=1, keepdims=True)
    return q


def demand(weights: np.ndarray, prices: np.ndarray, incomes: np.ndarray, utility: str,
           rho: float | None = None) -> np.ndarray:
    """Marshallian demand ``x_ij = w_i q_ij / p_j`` of Cobb-Douglas or CES agents.

    Returns:
        Demand, shape ``(n, m)``.
    """
    q = ces_shares(weights, prices, 0.0 if utility == "cobb-douglas" else float(rho))  # type: ignore[arg-type]
    return q * (incomes[:, None] / prices[None, :])


def demand_jacobian(weights: np.ndarray, prices: np.ndarray, incomes: np.ndarray, utility: str,
                    rho: float | None = None, endowments: np.ndarray | None = None) -> np.ndarray:
    """Jacobian ``dX_j / dp_k`` of aggregate demand ``X = sum_i x_i``, shape ``(m, m)``.

    With fixed incomes (Fisher market), ``dx_ij/dp_k = -s x_ij/p_j [j = k] - (1-s) x_ij q_ik/p_k``
    (``s = 1/(1-rho)``); with ``endowments`` (exchange), incomes are ``w_i = p . e_i`` and the
    income effect ``(q_ij / p_j) e_ik`` is added.
    """
    r = 0.0 if utility == "cobb-douglas" else float(rho)  # type: ignore[arg-type]
    sigma = 1.0 / (1.0 - r)
    q = ces_shares(weights, prices, r)
    x = q * (incomes[:, None] / prices[None, :])
    jac = np.diag(-sigma * x.sum(axis=0) / prices)
    if sigma != 1.0:
        jac -= (1.0 - sigma) * (x.T @ (q / prices[None, :]))
    if endowments is not None:
        jac += (q / prices[None, :]).T @ endowments
    return jac


def utilities(weights: np.ndarray, allocations: np.ndarray, utility: str,
              rho: float | None = None) -> np.ndarray:
    """Utility of each agent's bundle, shape ``(n,)`` (see :mod:`planner.exchange.markets`)."""
    if utility == "linear":
        return (weights * allocations).sum(axis=1)
    if utility == "cobb-douglas":
        a = normalised_weights(weights)
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.where(a > 0, a * np.log(allocations), 0.0)
        return np.exp(logs.sum(axis=1))
    r = float(rho)  # type: ignore[arg-type]
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(weights > 0, weights * allocations**r, 0.0)
        return terms.sum(axis=1) ** (1.0 / r)


def linear_utility_gap(weights: np.ndarray, prices: np.ndarray, incomes: np.ndarray,
                       allocations: np.ndarray) -> np.ndarray:
    """Share of the best affordable utility each linear agent misses at ``prices``.

    ``1 - u_i(x_i) / (w_i max_j a_ij / p_j)``: zero exactly when agent ``i`` spends its whole
    income on maximum bang-per-buck goods (the linear agent's optimality condition).
    """
    best = incomes * (weights / prices[None, :]).max(axis=1)
    got = (weights * allocations).sum(axis=1)
    return np.abs(1.0 - got / best)
