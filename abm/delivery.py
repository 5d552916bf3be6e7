"""Vectorised delivery of the night's allocation to citizens (docs/model.md "Execution").

Region ``r`` hands out its part of each profile's allocation from its stock after transport,
rationing every profile by the same share where the stock falls short. Conventions as in
:mod:`abm.execution`: ``R`` regions, ``n`` goods, ``m`` profiles; stocks indexed
``[region, good]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from innatura.abm.execution import RATION_MARGIN

__all__ = ["DeliveryResult", "deliver", "regional_allocation"]


@dataclass(frozen=True, eq=False)
class DeliveryResult:
    """What citizens received today.

    Attributes:
        delivered: units handed out per region and good, shape ``(R, n)``.
        ratio: share of each region's allocation of each good that could be delivered, ``(R, n)``.
        share: share of each profile's TRUE need of each good that it received, ``(m, n)``
            (``nan`` where the profile does not need the good).
        region_share: received over true need per region and profile, min over the profile's
            goods, shape ``(R, m)``.
    """

    delivered: np.ndarray
    ratio: np.ndarray
    share: np.ndarray
    region_share: np.ndarray


def regional_allocation(weight_share: np.ndarray, allocation: np.ndarray) -> np.ndarray:
    """What each region owes of each good: ``weight_share @ allocation.T``, ``(R, n)``.

    ``weight_share[r, p]`` is region ``r``'s share of profile ``p``'s reported demand and
    ``allocation[i, p]`` the plan's units of good ``i`` for profile ``p``. The allocation is as
    sparse as the bundles, so the product runs over its non-zero entries (a sparse-dense
    product) instead of a dense ``(R, m) @ (m, n)`` GEMM.
    """
    import scipy.sparse as sp

    gi, pi = np.nonzero(allocation)
    R, n = weight_share.shape[0], allocation.shape[0]
    if gi.size == 0:
        return np.zeros((R, n))
    A = sp.csr_matrix((allocation[gi, pi], (gi, pi)), shape=allocation.shape)  # (n, m)
    return np.asarray(A @ weight_share.T).T


def deliver(
    stocks: np.ndarray,
    allocation: np.ndarray,
    weight_reported: np.ndarray,
    bundles_true: np.ndarray,
    population_true: np.ndarray,
    regional_fulfilment: np.ndarray | None = None,
) -> DeliveryResult:
    """Hand out the night's allocation from regional stocks, rationing what is short.

    The plan allocates ``allocation[i, p]`` units of good ``i`` to profile ``p``; region ``r``
    hands out the part ``w_rp / sum_r w_rp`` of it, where ``w_rp`` is the reported demand
    weight of the profile's citizens in the region (their count times their mean report
    factor), and each citizen gets a part proportional to its own report. A regional plan says
    what each region gives each profile instead (``regional_fulfilment`` ``c_rp``, a share of
    the bundle): region ``r`` hands out ``c_rp b_ip w_rp``. Where a region's stock of a good
    falls short of what it owes, every profile gets the same share.

    Args:
        stocks: stocks after transport, shape ``(R, n)``.
        allocation: goods per profile, shape ``(n, m)``.
        weight_reported: ``(R, m)``.
        bundles_true: per-citizen needs, ``(n, m)``; population_true: citizens per region and
            profile, ``(R, m)``.
        regional_fulfilment: the regional plan's share per region and profile, ``(R, m)``, or
            ``None`` (the national split of ``allocation``).

    Returns:
        :class:`DeliveryResult`.
    """
    W = weight_reported.sum(axis=0)
    pi, gi = np.nonzero(bundles_true.T)  # only (profile, good) pairs in some bundle matter, sorted by profile
    b_nz = bundles_true[gi, pi]
    if regional_fulfilment is None:
        F = np.divide(weight_reported, W[None, :], out=np.zeros_like(weight_reported), where=W[None, :] > 0)
        G = allocation
        G_nz = allocation[gi, pi]
        denom = b_nz * W[pi]
        per_w = np.divide(G_nz, denom, out=np.zeros_like(G_nz), where=denom > 0)
        weight = weight_reported
    else:
        F = weight_reported * np.asarray(regional_fulfilment, dtype=float)
        G = bundles_true
        G_nz = b_nz
        per_w = np.ones_like(b_nz)
        weight = F
    alloc = regional_allocation(F, G)  # (R, n)
    ratio = np.ones_like(alloc)
    np.divide(RATION_MARGIN * stocks, alloc, out=ratio, where=alloc > 0)
    np.minimum(ratio, 1.0, out=ratio)
    delivered = alloc * ratio
    pop = population_true.sum(axis=0)
    recv = G_nz * np.einsum("rk,rk->k", F[:, pi], ratio[:, gi])  # received by each pair, all regions
    need = b_nz * pop[pi]
    share = np.full(bundles_true.shape, np.nan)
    ok = need > 0
    share[gi[ok], pi[ok]] = recv[ok] / need[ok]
    # region r, profile p, good i: ratio_ri * F_rp * G_ip / (b_ip * n_rp)
    per_cap = np.divide(weight, population_true, out=np.zeros_like(weight), where=population_true > 0)
    region_share = np.full(population_true.shape, np.nan)
    if pi.size:
        vals = ratio[:, gi] * per_w[None, :]  # (R, nnz)
        starts = np.flatnonzero(np.r_[True, pi[1:] != pi[:-1]])
        mins = np.full(population_true.shape, np.nan)
        mins[:, pi[starts]] = np.minimum.reduceat(vals, starts, axis=1)
        region_share = np.where(population_true > 0, per_cap * mins, np.nan)
    return DeliveryResult(delivered=delivered, ratio=ratio, share=share, region_share=region_share)
