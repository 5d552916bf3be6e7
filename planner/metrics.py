"""OLIN-EP metrics: humanity (Eq. 5), externalities (Eq. 6), fulfilment and unmet demand.

Shapes: ``n`` goods, ``m`` profiles, ``T`` days. ``delivered`` is always an ``(n, m)`` array
of units of good ``i`` given to (or planned for) profile ``j``; ``bundles`` the per-citizen
need ``b_ij`` ``(n, m)``; ``population`` the citizens per profile ``(m,)``. Need of good
``i`` by profile ``j`` is ``b_ij n_j``.

Reading of Eq. 5 (OLIN-EP Section 3.4)::

    HU = min_{i in C, j in P} dhat_i(a_ij = 0) / (a_ij d_j)

``a_ij`` is the profile column's coefficient, the per-citizen need ``b_ij``; ``d_j`` is the
profile's demand, its population ``n_j``; ``dhat_i(a_ij = 0)`` is the net output of good
``i`` (what is left of it after every use in the plan) when profile ``j``'s own use of ``i``
is removed from the requirement, i.e. the amount of ``i`` available to ``j``. In the IO form
(:func:`humanity_io`) that is ``[(I - A) x]_i + a_ij x_j`` (the public code of the paper
computes exactly this row product). In delivery form (:func:`humanity`) it is what ``j``
received of ``i`` plus the unallocated surplus of ``i``. The minimum runs over the pairs with
``a_ij d_j > 0``. A plan delivering the share ``c_j`` of every profile's bundle, with no
surplus, has ``HU = min_j c_j``. Values above 1 mean more than the need is available.
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp
from innatura.planner.errors import InvalidInputError
from numpy.typing import ArrayLike

__all__ = [
    "externalities",
    "externality_terms",
    "fulfilment",
    "humanity",
    "humanity_io",
    "profile_fulfilment",
    "unmet_demand",
]

logger = logging.getLogger(__name__)


def _need(delivered: ArrayLike, bundles: ArrayLike, population: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    B = np.asarray(bundles, dtype=float)
    pop = np.asarray(population, dtype=float)
    D = np.asarray(delivered, dtype=float)
    if B.ndim != 2 or pop.shape != (B.shape[1],):
        raise InvalidInputError(f"bundles/population: shapes {B.shape} and {pop.shape} do not match (n, m) and (m,)")
    if D.shape != B.shape:
        raise InvalidInputError(f"delivered: shape {D.shape}, expected {B.shape} (goods x profiles)")
    for name, arr in (("delivered", D), ("bundles", B), ("population", pop)):
        if not np.all(np.isfinite(arr)):
            raise InvalidInputError(f"{name}: entries must be finite")
    return D, B * pop


def humanity(
    delivered: ArrayLike, bundles: ArrayLike, population: ArrayLike, surplus: ArrayLike | None = None
) -> float:
    """Humanity ``HU`` of a delivery or plan (OLIN-EP Eq. 5, delivery form; see module doc).

    ``HU = min over (i, j) with b_ij n_j > 0 of (delivered_ij + surplus_i) / (b_ij n_j)``.

    Args:
        delivered: units of each good for each profile, ``(n, m)``.
        bundles: per-citizen need ``(n, m)``.
        population: citizens per profile ``(m,)``.
        surplus: units of each good available but given to no profile, ``(n,)``; default 0.

    Returns:
        ``HU``; ``1.0`` when nothing is needed at all.
    """
    D, need = _need(delivered, bundles, population)
    if surplus is not None:
        s = np.asarray(surplus, dtype=float)
        if s.shape != (need.shape[0],) or not np.all(np.isfinite(s)):
            raise InvalidInputError(f"surplus: expected {need.shape[0]} finite values")
        D = D + s[:, None]
    mask = need > 0
    if not mask.any():
        return 1.0
    return float(np.min(D[mask] / need[mask]))


def humanity_io(
    coefficients: sp.spmatrix | ArrayLike,
    x: ArrayLike,
    demand: ArrayLike,
    final_rows: ArrayLike,
    profile_cols: ArrayLike,
) -> float:
    """Humanity ``HU`` on the full IO system, literally per Eq. 5.

    ``dhat_i(a_ij = 0) = [(I - A) x]_i + a_ij x_j`` (the net output of final good ``i`` with
    profile ``j``'s use removed), divided by ``a_ij d_j``; minimum over final rows ``i`` and
    profile columns ``j`` with ``a_ij d_j > 0``.

    Args:
        coefficients: full matrix ``A`` ``(N, N)`` with profile columns (dense or sparse).
        x: activity levels ``(N,)`` (profile entries: citizens served).
        demand: ``d`` ``(N,)`` (population on profile rows).
        final_rows: indices (or boolean mask) of the final goods ``C``.
        profile_cols: indices (or boolean mask) of the profile columns ``P``.
    """
    A = sp.csr_matrix(coefficients, dtype=float)
    x = np.asarray(x, dtype=float)
    d = np.asarray(demand, dtype=float)
    N = A.shape[0]
    if A.shape != (N, N) or x.shape != (N,) or d.shape != (N,):
        raise InvalidInputError(f"humanity_io: shapes {A.shape}, {x.shape}, {d.shape} do not agree")
    rows, cols = _indices(final_rows, N), _indices(profile_cols, N)
    net = x - A @ x
    block = A[rows][:, cols].toarray()  # a_ij, (|C|, |P|)
    denom = block * d[cols]
    mask = denom > 0
    if not mask.any():
        return 1.0
    dhat = net[rows][:, None] + block * x[cols]
    return float(np.min(dhat[mask] / denom[mask]))


def _indices(which: ArrayLike, N: int) -> np.ndarray:
    """Indices from a boolean mask over ``N`` entries, or from indices."""
    w = np.asarray(which)
    return np.arange(N)[w] if w.dtype == bool else w.astype(int)


def externality_terms(x_history: ArrayLike, weights: ArrayLike) -> np.ndarray:
    """Per-day term of Eq. 6, ``rho(e(x_t) x_t) = sum_j w_j x_j(t)``.

    Args:
        x_history: production per day, ``(T, n)`` (or ``(n,)`` for one day).
        weights: externality per unit of output of each good, weighted by importance, ``(n,)``.

    Returns:
        ``(T,)`` (a 0-d array for a single day).
    """
    X = np.asarray(x_history, dtype=float)
    w = np.asarray(weights, dtype=float)
    if X.shape[-1:] != w.shape or w.ndim != 1:
        raise InvalidInputError(f"externalities: x_history shape {X.shape} does not end in weights' {w.shape}")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(w))):
        raise InvalidInputError("externalities: x_history and weights must be finite")
    return X @ w


def externalities(x_history: ArrayLike, weights: ArrayLike) -> np.ndarray:
    """Cumulative externalities ``E_t = sum_{tau <= t} sum_j w_j x_j(tau)`` (OLIN-EP Eq. 6).

    Returns ``(T,)``: ``E_t`` after each day (the last entry is the plan's total).
    """
    return np.cumsum(np.atleast_1d(externality_terms(x_history, weights)))


def fulfilment(delivered: ArrayLike, bundles: ArrayLike, population: ArrayLike) -> np.ndarray:
    """Share of each profile's need of each good delivered, ``(n, m)``.

    ``delivered_ij / (b_ij n_j)``; ``1.0`` where nothing is needed; not capped (over-delivery
    shows as > 1).
    """
    D, need = _need(delivered, bundles, population)
    out = np.ones_like(need)
    np.divide(D, need, out=out, where=need > 0)
    return out


def profile_fulfilment(delivered: ArrayLike, bundles: ArrayLike, population: ArrayLike) -> np.ndarray:
    """Share of each profile's bundle delivered, ``(m,)``: complete bundles over citizens.

    ``min_i delivered_ij / (b_ij n_j)`` over the goods the profile needs, capped at 1;
    ``1.0`` for a profile that needs nothing. For a plan it is the fulfilment ``c_j``.
    """
    return np.minimum(fulfilment(delivered, bundles, population).min(axis=0, initial=np.inf), 1.0)


def unmet_demand(delivered: ArrayLike, bundles: ArrayLike, population: ArrayLike) -> np.ndarray:
    """Units of each good needed but not delivered, ``sum_j max(b_ij n_j - delivered_ij, 0)``, ``(n,)``."""
    D, need = _need(delivered, bundles, population)
    return np.maximum(need - D, 0.0).sum(axis=1)
