"""Exact finish for linear Fisher markets: from approximate prices to an exact equilibrium.

Proportional response converges only sublinearly on linear markets, because buyers' money
lingers on goods that are almost, but not exactly, their best buys. At equilibrium each buyer
spends on maximum bang-per-buck (MBB) goods ``argmax_j a_ij / p_j`` only, and in a
non-degenerate market all but at most ``m - 1`` buyers have a single MBB good. Given prices
``p_hat`` good to a relative ``delta``, :func:`finish_linear_fisher`

1. fixes every buyer whose best good beats the others by more than ``delta`` (its money goes
   to that good),
2. solves the small remaining market exactly in log-prices: the Eisenberg-Gale dual
   ``min_y sum_j s_j e^y_j - F . y + sum_{i undecided} B_i max_{j in T_i} (log a_ij - y_j)``
   (``F_j`` the fixed money on good ``j``, ``T_i`` buyer ``i``'s near-MBB goods), smoothing the
   max by a log-sum-exp at temperature ``tau`` and following ``tau -> 0`` by damped Newton
   (``m x m`` systems),
3. hands the resulting spending to :func:`exact_support_solve`, which solves the linear
   equations of that support and accepts the answer only if it is an equilibrium.
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

__all__ = ["exact_support_solve", "finish_linear_fisher"]

logger = logging.getLogger(__name__)


def exact_support_solve(weights: np.ndarray, budgets: np.ndarray, supply: np.ndarray, bids: np.ndarray,
                         threshold: float = 1e-3, mbb_tol: float = 1e-10) -> tuple[np.ndarray, np.ndarray] | None:
    """Exact equilibrium of a linear Fisher market from an approximate one, or ``None``.

    The support is the set of edges on which a buyer spends at least ``threshold`` of its
    budget. Buyers with one good in the support spend everything on it; buyers with several
    (at most ``m - 1`` in a non-degenerate equilibrium) fix price ratios
    ``p_j / p_k = a_ij / a_ik`` and split their budgets to clear the markets. The candidate is
    returned only if all spending is non-negative and every buyer's goods have maximum
    bang-per-buck ``a_ij / p_j`` (to ``mbb_tol``), i.e. it is an equilibrium.

    Shapes:
        weights ``(n, m)``, budgets ``(n,)``, supply ``(m,)``, bids ``(n, m)`` ->
        prices ``(m,)`` (money), allocations ``(n, m)``.
    """
    n, m = weights.shape
    support = bids >= threshold * budgets[:, None]
    support &= weights > 0
    deg = support.sum(axis=1)
    if deg.min() == 0 or support.sum(axis=0).min() == 0:
        return None
    multi = np.flatnonzero(deg >= 2)
    if multi.size > 2 * m + 10:
        return None
    leaf = np.flatnonzero(deg == 1)
    leaf_good = support[leaf].argmax(axis=1)
    mi, mj = np.nonzero(support[multi])
    k, e = multi.size, mi.size
    # components of goods linked by multi-good buyers (bipartite graph: goods 0..m-1, buyers m..)
    adj = sp.coo_matrix((np.ones(e), (mj, m + mi)), shape=(m + k, m + k))
    ncomp, labels = connected_components(adj, directed=False)
    # log-prices y_j and log price-per-util z_i of multi buyers: y_j - z_i = log a_ij on edges
    mat = np.zeros((e + ncomp, m + k))
    rhs = np.zeros(e + ncomp)
    mat[np.arange(e), mj] = 1.0
    mat[np.arange(e), m + mi] = -1.0
    rhs[:e] = np.log(weights[multi[mi], mj])
    anchors = np.array([np.flatnonzero(labels == c)[0] for c in range(ncomp)])
    mat[e + np.arange(ncomp), anchors] = 1.0
    sol, *_ = np.linalg.lstsq(mat, rhs, rcond=None)
    if np.max(np.abs(mat @ sol - rhs), initial=0.0) > 1e-9:
        return None  # the support has a cycle that is not consistent: not an equilibrium support
    ptil = np.exp(sol[:m] - sol[:m].max())
    good_comp = labels[:m]
    money = np.bincount(good_comp[leaf_good], weights=budgets[leaf], minlength=ncomp)
    money += np.bincount(labels[m + np.arange(k)], weights=budgets[multi], minlength=ncomp)
    value = np.bincount(good_comp, weights=supply * ptil, minlength=ncomp)
    prices = ptil * (money / value)[good_comp]
    # flows of multi buyers: budgets spent, residual value of each good covered
    resid = supply * prices - np.bincount(leaf_good, weights=budgets[leaf], minlength=m)
    fmat = np.zeros((k + m, e))
    fmat[mi, np.arange(e)] = 1.0
    fmat[k + mj, np.arange(e)] = 1.0
    frhs = np.concatenate([budgets[multi], resid])
    flows, *_ = np.linalg.lstsq(fmat, frhs, rcond=None) if e else (np.zeros(0),)
    scale = budgets.sum()
    if np.max(np.abs(fmat @ flows - frhs), initial=0.0) > 1e-10 * scale:
        return None
    if flows.size and flows.min() < -1e-12 * scale:
        return None
    flows = np.maximum(flows, 0.0)
    bang = weights / prices[None, :]
    best = bang.max(axis=1)
    if np.any(bang[leaf, leaf_good] < best[leaf] * (1 - mbb_tol)):
        return None
    if e and np.any(bang[multi[mi], mj] < best[multi[mi]] * (1 - mbb_tol)):
        return None
    x = np.zeros((n, m))
    x[leaf, leaf_good] = budgets[leaf] / prices[leaf_good]
    x[multi[mi], mj] = flows / prices[mj]
    return prices, x


def _smoothed(y, s, fixed, la, budgets, tau):
    """Value, gradient and Hessian of the smoothed reduced dual at log-prices ``y``."""
    ey = s * np.exp(y)
    z = (la - y[None, :]) / tau  # -inf off the candidate sets
    top = z.max(axis=1, keepdims=True)
    w = np.exp(z - top)
    tot = w.sum(axis=1, keepdims=True)
    pi = w / tot
    lse = tau * (top[:, 0] + np.log(tot[:, 0]))
    val = float(ey.sum() - fixed @ y + budgets @ lse)
    bp = pi * budgets[:, None]
    grad = ey - fixed - bp.sum(axis=0)
    hess = np.diag(ey + bp.sum(axis=0) / tau) - (bp.T @ pi) / tau
    return val, grad, hess, pi


def finish_linear_fisher(weights: np.ndarray, budgets: np.ndarray, supply: np.ndarray,
                         prices: np.ndarray, *, taus: tuple[float, ...] | None = None,
                         margin: float = 40.0, max_newton: int = 40) -> tuple[np.ndarray, np.ndarray, int] | None:
    """Exact linear Fisher equilibrium by smoothed dual Newton from money ``prices``, or ``None``.

    At each temperature ``tau`` (largest first) the buyers whose best log bang-per-buck beats
    their other goods by more than ``margin * tau`` are fixed on their best good (their softmax
    weight elsewhere is below ``exp(-margin)``); the others keep the goods within the margin as
    candidates; the smoothed reduced dual is minimised by damped Newton from the previous
    temperature's prices. The spending at the last temperature gives the support that
    :func:`exact_support_solve` turns into an exact, verified equilibrium.

    Args:
        weights, budgets, supply: the market (shapes ``(n, m)``, ``(n,)``, ``(m,)``).
        prices: starting money prices, shape ``(m,)`` (e.g. after a few proportional-response
            iterations, or the Cobb-Douglas prices).
        taus: smoothing temperatures, largest first (default ``1e-1`` down to ``1e-12``).
        margin: the decided-buyer margin, in units of ``tau``.
        max_newton: Newton steps per temperature.

    Returns:
        ``(prices, allocations, newton_steps)`` of a verified equilibrium, or ``None``.
    """
    n, m = weights.shape
    if taus is None:
        taus = tuple(10.0 ** -k for k in range(1, 13))
    with np.errstate(divide="ignore"):
        logw = np.log(weights)
    y = np.log(prices)
    steps = 0
    pi = np.zeros((0, m))
    for tau in taus:
        score = logw - y[None, :]
        best = score.max(axis=1)
        cand = score >= best[:, None] - margin * tau
        ncand = cand.sum(axis=1)
        undecided = np.flatnonzero(ncand >= 2)
        decided = np.flatnonzero(ncand == 1)
        dgood = score[decided].argmax(axis=1)
        fixed = np.bincount(dgood, weights=budgets[decided], minlength=m)
        bu = budgets[undecided]
        la = np.where(cand[undecided], logw[undecided], -np.inf)
        val, grad, hess, pi = _smoothed(y, supply, fixed, la, bu, tau)
        for _ in range(max_newton):
            if np.max(np.abs(grad) / (supply * np.exp(y))) <= 1e-13:
                break
            try:
                step = np.linalg.solve(hess, -grad)
            except np.linalg.LinAlgError:
                return None
            slope = float(grad @ step)
            if not np.isfinite(slope) or slope >= 0:
                break
            t = 1.0
            for _ls in range(40):
                trial = y + t * step
                v_t, g_t, h_t, p_t = _smoothed(trial, supply, fixed, la, bu, tau)
                if v_t <= val + 1e-4 * t * slope:
                    break
                t *= 0.5
            else:
                break
            steps += 1
            y, val, grad, hess, pi = trial, v_t, g_t, h_t, p_t
        logger.debug("tau %.0e: %d undecided buyers, %d Newton steps so far", tau, undecided.size, steps)
    bids = np.zeros((n, m))
    bids[decided, dgood] = budgets[decided]
    bids[undecided] = pi * bu[:, None]
    out = exact_support_solve(weights, budgets, supply, bids, threshold=1e-6)
    return None if out is None else (out[0], out[1], steps)
