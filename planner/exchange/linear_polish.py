"""Exact finish for linear Fisher markets: the Eisenberg-Gale dual, smoothed, then solved exactly.

Proportional response converges only sublinearly on linear markets, because buyers' money
lingers on goods that are almost, but not exactly, their best buys. At equilibrium each buyer
spends on maximum bang-per-buck (MBB) goods ``argmax_j a_ij / p_j`` only, and in a
non-degenerate market all but at most ``m - 1`` buyers have a single MBB good.
:func:`finish_linear_fisher`

1. smooths the Eisenberg-Gale dual in log-prices ``y``,
   ``min_y sum_j s_j e^y_j + sum_i B_i max_j (log a_ij - y_j)``, replacing each max by a
   log-sum-exp at temperature ``tau``, and follows ``tau -> 0`` by damped Newton (``m x m``
   systems); buyers whose best good beats the others by far more than ``tau`` are fixed on it,
   so the problem shrinks as ``tau`` falls;
2. hands the spending it implies to :func:`exact_support_solve`, which solves the linear
   equations of that support (equal bang-per-buck on each buyer's goods, budgets spent,
   markets cleared), repairs the support where that fails, and accepts the answer only if it is
   an equilibrium: an exact one, to rounding.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree

__all__ = ["blas_threads_limited", "exact_support_solve", "finish_linear_fisher"]

logger = logging.getLogger(__name__)


def blas_threads_limited(threads: int | None) -> Any:
    """A context that limits BLAS to ``threads`` threads (``threadpoolctl``), or does nothing."""
    if threads is None:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional
        return contextlib.nullcontext()
    return threadpool_limits(limits=threads, user_api="blas")


def _solve_support(weights: np.ndarray, budgets: np.ndarray, supply: np.ndarray,
                   support: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Prices and spending implied by a support whose multi-good part is a forest.

    Returns ``(prices, spend)``, ``spend`` a dense ``(n, m)`` matrix of money flows, or ``None``
    when the support leaves a buyer or a good without an edge or is inconsistent.
    """
    n, m = weights.shape
    deg = support.sum(axis=1)
    if deg.min() == 0 or support.sum(axis=0).min() == 0:
        logger.debug("support: a buyer or a good without an edge")
        return None
    multi = np.flatnonzero(deg >= 2)
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
    first = np.full(ncomp, m + k)
    np.minimum.at(first, labels, np.arange(m + k))
    mat[e + np.arange(ncomp), first] = 1.0
    sol, *_ = np.linalg.lstsq(mat, rhs, rcond=None)
    if np.max(np.abs(mat @ sol - rhs), initial=0.0) > 1e-9:
        logger.debug("support: inconsistent price ratios (a cycle)")
        return None
    ptil = np.exp(sol[:m] - sol[:m].max())
    good_comp = labels[:m]
    money = np.bincount(good_comp[leaf_good], weights=budgets[leaf], minlength=ncomp).astype(np.float64)
    money += np.bincount(labels[m + np.arange(k)], weights=budgets[multi], minlength=ncomp)
    value = np.bincount(good_comp, weights=supply * ptil, minlength=ncomp)
    prices = ptil * (money / value)[good_comp]
    # flows of multi buyers: budgets spent, residual value of each good covered
    resid = supply * prices - np.bincount(leaf_good, weights=budgets[leaf], minlength=m)
    fmat = np.zeros((k + m, e))
    fmat[mi, np.arange(e)] = 1.0
    fmat[k + mj, np.arange(e)] = 1.0
    frhs = np.concatenate([budgets[multi], resid])
    flows = np.linalg.lstsq(fmat, frhs, rcond=None)[0] if e else np.zeros(0)
    if np.max(np.abs(fmat @ flows - frhs), initial=0.0) > 1e-10 * budgets.sum():
        logger.debug("support: flows cannot clear the markets")
        return None
    spend = np.zeros((n, m))
    spend[leaf, leaf_good] = budgets[leaf]
    spend[multi[mi], mj] = flows
    return prices, spend


def _forest(support: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """Keep, among buyers with several goods, a maximum-``strength`` spanning forest."""
    m = support.shape[1]
    multi = np.flatnonzero(support.sum(axis=1) >= 2)
    if multi.size == 0:
        return support
    mi, mj = np.nonzero(support[multi])
    w = 2.0 - np.clip(strength[multi[mi], mj], 0.0, 1.0)  # positive; smaller is stronger
    g = sp.coo_matrix((w, (mj, m + mi)), shape=(m + multi.size, m + multi.size)).tocsr()
    tree = minimum_spanning_tree(g).tocoo()
    out = support.copy()
    out[multi] = False
    goods = np.where(tree.row < m, tree.row, tree.col)
    buyers = multi[np.where(tree.row < m, tree.col, tree.row) - m]
    out[buyers, goods] = True
    return out


def exact_support_solve(weights: np.ndarray, budgets: np.ndarray, supply: np.ndarray, bids: np.ndarray,
                        threshold: float = 1e-3, mbb_tol: float = 1e-10,
                        max_repairs: int = 8) -> tuple[np.ndarray, np.ndarray] | None:
    """Exact equilibrium of a linear Fisher market from approximate spending, or ``None``.

    The support starts as the edges on which a buyer spends at least ``threshold`` of its
    budget, pruned to a maximum-spending spanning forest among multi-good buyers (in a
    non-degenerate equilibrium at most ``m - 1`` buyers buy several goods and their edges form a
    forest). Buyers with one good spend everything on it; the others fix price ratios
    ``p_j / p_k = a_ij / a_ik`` and split their budgets to clear the markets. Repairs: an edge
    with negative spending is dropped; a buyer with a better good outside its support gets that
    edge. The answer is returned only if all spending is non-negative and every buyer spends on
    maximum bang-per-buck goods (to ``mbb_tol``): a verified equilibrium.

    Shapes:
        weights ``(n, m)``, budgets ``(n,)``, supply ``(m,)``, bids ``(n, m)`` ->
        prices ``(m,)`` (money), allocations ``(n, m)``.
    """
    strength = bids / budgets[:, None]
    support = (strength >= threshold) & (weights > 0)
    scale = budgets.sum()
    for _ in range(max_repairs):
        support = _forest(support, strength)
        solved = _solve_support(weights, budgets, supply, support)
        if solved is None:
            return None
        prices, spend = solved
        neg = spend < -1e-12 * scale
        if neg.any():
            i, j = (int(k) for k in np.unravel_index(np.argmin(spend), spend.shape))
            logger.debug("support: dropping edge (%d, %d) with spending %.2g", i, j, spend[i, j] / scale)
            support[i, j] = False
            continue
        bang = weights / prices[None, :]
        best = bang.max(axis=1)
        worst_in = np.where(support, bang, np.inf).min(axis=1)
        off = np.flatnonzero(worst_in < best * (1 - mbb_tol))
        if off.size:
            i = int(off[np.argmin(worst_in[off] / best[off])])
            j = int(bang[i].argmax())
            logger.debug("support: adding edge (%d, %d) (%d buyers off their best goods)", i, j, off.size)
            support[i, j] = True
            strength[i, j] = 1.0
            continue
        spend = np.maximum(spend, 0.0)
        return prices, spend / prices[None, :]
    return None


def _smoothed(y: np.ndarray, s: np.ndarray, fixed: np.ndarray, la: np.ndarray, budgets: np.ndarray,
              tau: float) -> tuple[float, np.ndarray, np.ndarray]:
    """Value, gradient and softmax spending shares of the smoothed reduced dual at ``y``."""
    ey = s * np.exp(y)
    z = (la - y[None, :]) / tau  # -inf off the candidate sets
    top = z.max(axis=1, keepdims=True)
    w = np.exp(z - top)
    tot = w.sum(axis=1, keepdims=True)
    w /= tot
    lse = tau * (top[:, 0] + np.log(tot[:, 0]))
    val = float(ey.sum() - fixed @ y + budgets @ lse)
    grad = ey - fixed - budgets @ w
    return val, grad, w


def _hessian(y: np.ndarray, s: np.ndarray, budgets: np.ndarray, pi: np.ndarray, tau: float) -> np.ndarray:
    """Hessian of the smoothed reduced dual: ``diag(s e^y) + sum_i B_i (diag(pi_i) - pi_i pi_i^T) / tau``."""
    bp = pi * budgets[:, None]
    return np.diag(s * np.exp(y) + bp.sum(axis=0) / tau) - (bp.T @ pi) / tau


def _line_search(y: np.ndarray, step: np.ndarray, slope: float, val: float, grad: np.ndarray,
                 args: tuple) -> tuple[np.ndarray, float, np.ndarray, np.ndarray] | None:
    """Backtracking along ``step`` from ``y``: the first halving that satisfies Armijo, or (when
    the value no longer resolves the decrease) shrinks the gradient; ``None`` after 40 halvings.

    Returns:
        ``(y, value, gradient, spending shares)`` at the accepted point.
    """
    t = 1.0
    gnorm = float(np.abs(grad).max())
    for _ in range(40):
        trial = y + t * step
        v_t, g_t, p_t = _smoothed(trial, *args)
        if v_t <= val + 1e-4 * t * slope or (np.isfinite(v_t) and v_t <= val + 1e-12 * abs(val)
                                             and float(np.abs(g_t).max()) < 0.5 * gnorm):
            return trial, v_t, g_t, p_t
        t *= 0.5
    return None


def _finish(weights: np.ndarray, budgets: np.ndarray, supply: np.ndarray, prices: np.ndarray, *,
            taus: tuple[float, ...] | None, margin: float, max_newton: int,
            grad_tol: float) -> tuple[np.ndarray, np.ndarray, int] | None:
    """The body of :func:`finish_linear_fisher` (same arguments, no thread limits)."""
    n, m = weights.shape
    if taus is None:
        taus = tuple(10.0 ** -k for k in range(2, 13))
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
        val, grad, pi = _smoothed(y, supply, fixed, la, bu, tau)
        converged = False
        for _ in range(max_newton if undecided.size > 3 * m else 5 * max_newton):
            if np.max(np.abs(grad) / (supply * np.exp(y))) <= grad_tol:
                converged = True
                break
            try:
                step = np.linalg.solve(_hessian(y, supply, bu, pi, tau), -grad)
            except np.linalg.LinAlgError:
                return None
            slope = float(grad @ step)
            if not np.isfinite(slope) or slope >= 0:
                break
            found = _line_search(y, step, slope, val, grad, (supply, fixed, la, bu, tau))
            if found is None:
                logger.debug("tau %.0e: line search failed, relative gradient %.2g", tau,
                             np.max(np.abs(grad) / (supply * np.exp(y))))
                break
            steps += 1
            y, val, grad, pi = found
        logger.debug("tau %.0e: %d undecided buyers, %d Newton steps so far", tau, undecided.size, steps)
        if converged and undecided.size <= 3 * m:
            bids = np.zeros((n, m))
            bids[decided, dgood] = budgets[decided]
            bids[undecided] = pi * bu[:, None]
            for threshold in (1e-3, 1e-6):
                out = exact_support_solve(weights, budgets, supply, bids, threshold=threshold)
                if out is not None:
                    return out[0], out[1], steps
    return None


def finish_linear_fisher(weights: np.ndarray, budgets: np.ndarray, supply: np.ndarray, prices: np.ndarray, *,
                         taus: tuple[float, ...] | None = None, margin: float = 300.0, max_newton: int = 40,
                         grad_tol: float = 1e-10, blas_threads: int | None = 1
                         ) -> tuple[np.ndarray, np.ndarray, int] | None:
    """Exact linear Fisher equilibrium by smoothed dual Newton from money ``prices``, or ``None``.

    At each temperature ``tau`` (largest first) the buyers whose best log bang-per-buck beats
    their other goods by more than ``margin * tau`` are fixed on their best good (their softmax
    weight elsewhere is below ``exp(-margin)``); the others keep the goods within the margin as
    candidates; the smoothed reduced dual is minimised by damped Newton from the previous
    temperature's prices. As soon as the spending at a temperature gives a support that
    :func:`exact_support_solve` turns into a verified equilibrium, that is returned.

    Args:
        weights, budgets, supply: the market (shapes ``(n, m)``, ``(n,)``, ``(m,)``).
        prices: starting money prices, shape ``(m,)`` (e.g. the Cobb-Douglas prices).
        taus: smoothing temperatures, largest first (default ``1e-2`` down to ``1e-12``).
        margin: the decided-buyer margin, in units of ``tau``.
        max_newton: Newton steps per temperature (five times more once few buyers are undecided).
        grad_tol: relative gradient at which a temperature's Newton loop stops.
        blas_threads: BLAS threads while solving (the ``m x m`` systems and ``(n, m)`` products
            are too small to gain from more; oversubscribed threads slow them down many-fold);
            ``None`` leaves the setting alone. Needs ``threadpoolctl``; ignored without it.

    Returns:
        ``(prices, allocations, newton_steps)`` of a verified equilibrium, or ``None``.
    """
    ctx = blas_threads_limited(blas_threads)
    with ctx:
        return _finish(weights, budgets, supply, prices, taus=taus, margin=margin, max_newton=max_newton,
                       grad_tol=grad_tol)
