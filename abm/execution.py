"""Vectorised execution of a day's plan with the TRUE technology (docs/model.md "Execution").

Every function here works on whole arrays: regions x goods stocks, one entry per production
unit, one entry per (unit, input good) pair, one entry per directed edge. No function loops
over agents in Python; a day with thousands of units and 100K citizens is a handful of
``bincount`` and matrix products.

Conventions: ``R`` regions, ``n`` goods, ``U`` units, ``E`` (unit, input) entries, ``D``
directed edges, ``m`` profiles. Stocks are indexed ``[region, good]``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from planner.errors import InvalidInputError

__all__ = [
    "UnitInputs",
    "ProductionResult",
    "produce",
    "TransportResult",
    "route_incidence",
    "transport",
    "DeliveryResult",
    "deliver",
]

logger = logging.getLogger(__name__)

#: Safety margin on rationing ratios, so that rounding never drives a stock below zero.
_MARGIN = 1.0 - 1e-12


@dataclass(frozen=True, eq=False)
class UnitInputs:
    """Input functions of production units, one entry per (unit, input good): ``scale * q**exponent``.

    Used both for the TRUE (private) technology and for a unit's reported technology.

    Attributes:
        unit: unit index of each entry, shape ``(E,)``.
        good: input good of each entry, shape ``(E,)``.
        scale: input of the good for ``q = 1``, shape ``(E,)``, ``>= 0``.
        exponent: power of ``q``, shape ``(E,)``, ``> 0``.
    """

    unit: np.ndarray
    good: np.ndarray
    scale: np.ndarray
    exponent: np.ndarray

    def __post_init__(self) -> None:
        for name in ("unit", "good"):
            object.__setattr__(self, name, np.asarray(getattr(self, name), dtype=np.int64))
        for name in ("scale", "exponent"):
            object.__setattr__(self, name, np.asarray(getattr(self, name), dtype=float))
        e = self.unit.shape
        if not (self.good.shape == self.scale.shape == self.exponent.shape == e):
            raise InvalidInputError("unit inputs: unit, good, scale and exponent must have one shape")
        if not np.all(np.isfinite(self.scale)) or (self.scale < 0).any():
            raise InvalidInputError("unit inputs: scale must be finite and non-negative")
        if not np.all(np.isfinite(self.exponent)) or (self.exponent <= 0).any():
            raise InvalidInputError("unit inputs: exponent must be finite and positive")

    def use(self, q: np.ndarray) -> np.ndarray:
        """Input amount of each entry when every unit produces ``q[unit]``; shape ``(E,)``."""
        return self.scale * np.power(np.maximum(q[self.unit], 0.0), self.exponent)


@dataclass(frozen=True, eq=False)
class ProductionResult:
    """What the units did today.

    Attributes:
        output: gross output of each unit, shape ``(U,)`` (``<= target``), cumulative over the day.
        output_lost: the part of this pass's output lost at the unit (stochastic output losses).
        used: inputs used up in this pass (final goods and labour) per region and good, ``(R, n)``.
        capital_required: capital held for production (industrial goods) per region and good.
        entry_use: true input use of each (unit, input) entry at ``output``, shape ``(E,)``.
        requested: what this pass asked for, per region and good, ``(R, n)``.
        iterations: passes of the shortfall propagation.
    """

    output: np.ndarray
    output_lost: np.ndarray
    used: np.ndarray
    capital_required: np.ndarray
    entry_use: np.ndarray
    requested: np.ndarray
    iterations: int


def produce(
    targets: np.ndarray,
    unit_region: np.ndarray,
    unit_good: np.ndarray,
    inputs: UnitInputs,
    stocks: np.ndarray,
    labour: np.ndarray,
    industrial: np.ndarray,
    labour_mask: np.ndarray,
    output_loss: np.ndarray | None = None,
    done: np.ndarray | None = None,
    max_iter: int = 100,
) -> ProductionResult:
    """Produce towards ``targets`` with the true technology, rationing scarce inputs.

    Units that have already made ``done`` today (earlier shifts) go on from there: reaching a
    cumulative output ``q`` takes ``g(q) - g(done)`` more of each circulating input (final goods,
    labour), so the day's total use is ``g(total output)`` however it is split into shifts;
    capital (industrial goods) is a capacity requirement ``g(q)`` on the region's stock, not used
    up. Where a region holds less of a good than its units ask for (stock plus what units of
    the region make in this pass, for a final good), every request is cut by the same ratio
    ``r`` and a unit reaches the largest ``q`` its scarcest input allows: for ``s q**e``,
    ``q = (done**e + r (target**e - done**e))**(1/e)``. A unit cut short makes less of its good,
    which cuts the units downstream in turn; passes repeat until nothing changes (outputs
    decrease monotonically, so this converges). Where the passes stop short of the fixed point
    (``max_iter``, rounding), the (region, good) cells still over-used are rationed against the
    stock on hand alone, which is always feasible.

    Args:
        targets: target output of each unit today, shape ``(U,)``.
        unit_region, unit_good: region and good of each unit, shape ``(U,)``.
        inputs: the TRUE input functions.
        stocks: stocks on hand, shape ``(R, n)`` (labour columns ignored).
        labour: labour left today, shape ``(R, n)`` (non-labour columns ignored).
        industrial, labour_mask: boolean masks over goods, shape ``(n,)``.
        output_loss: fraction of each unit's output lost, shape ``(U,)``; default none.
        done: output each unit made earlier today, ``(U,)``; default zeros.
        max_iter: bound on the propagation passes.

    Returns:
        The :class:`ProductionResult` of THIS pass: ``output`` is the cumulative output,
        ``output_lost`` and ``used`` the increments; stocks are not modified.
    """
    R, n = stocks.shape
    t = np.maximum(np.asarray(targets, dtype=float), 0.0)
    d0 = np.zeros_like(t) if done is None else np.minimum(np.asarray(done, dtype=float), t)
    keep = np.ones_like(t) if output_loss is None else 1.0 - np.asarray(output_loss, dtype=float)
    cell = unit_region[inputs.unit] * n + inputs.good
    is_lab = labour_mask[inputs.good]
    is_cap = industrial[inputs.good]
    is_final = ~(is_lab | is_cap)
    base = inputs.use(d0)
    full = inputs.use(t)
    req = np.where(is_cap, full, full - base)
    demand = np.bincount(cell, req, minlength=R * n)
    d_e = demand[cell]
    static = np.where(is_lab, labour.ravel()[cell], stocks.ravel()[cell])
    out_cell = unit_region * n + unit_good
    inv_exp = 1.0 / inputs.exponent
    te = np.power(t[inputs.unit], inputs.exponent)
    de = np.power(d0[inputs.unit], inputs.exponent)
    active = d_e > 0

    def cut(avail_e: np.ndarray) -> np.ndarray:
        ratio = np.ones_like(d_e)
        ratio[active] = np.minimum(1.0, _MARGIN * avail_e[active] / d_e[active])
        allowed = np.where(is_cap, te * ratio, de + ratio * (te - de))
        allowed = np.maximum(np.power(np.maximum(allowed, 0.0), inv_exp), d0[inputs.unit])
        q = t.copy()
        np.minimum.at(q, inputs.unit, allowed)
        return q

    q = t.copy()
    it = 0
    for it in range(1, max_iter + 1):
        made = np.bincount(out_cell, (q - d0) * keep, minlength=R * n)
        avail = np.where(is_final, static + made[cell], static)
        q_new = np.minimum(q, cut(avail))
        if np.all(np.abs(q_new - q) <= 1e-13 * q_new):
            q = q_new
            break
        q = q_new
    # Make the result feasible for certain: where a final good's use exceeds what is on hand
    # plus what was made, ration that (region, good) on the stock on hand alone, and repeat.
    on_hand = np.zeros(R * n, dtype=bool)
    for _ in range(R * n + 1):
        made = np.bincount(out_cell, (q - d0) * keep, minlength=R * n)
        inc = np.maximum(inputs.use(q) - base, 0.0)
        used_final = np.bincount(cell[is_final], inc[is_final], minlength=R * n)
        over = (used_final > stocks.ravel() + made) & ~on_hand
        if not over.any():
            break
        logger.debug("production: %d (region, good) cells rationed on the stock on hand", int(over.sum()))
        on_hand |= over
        avail = np.where(is_final & ~on_hand[cell], static + made[cell], static)
        q = np.minimum(q, cut(avail))
    use = inputs.use(q)
    consumed = ~is_cap
    used = np.bincount(cell[consumed], inc[consumed], minlength=R * n).reshape(R, n)
    cap_req = np.bincount(cell[is_cap], use[is_cap], minlength=R * n).reshape(R, n)
    return ProductionResult(
        output=q, output_lost=(q - d0) * (1.0 - keep), used=used, capital_required=cap_req,
        entry_use=use, requested=demand.reshape(R, n), iterations=it,
    )


@dataclass(frozen=True, eq=False)
class TransportResult:
    """Shipments of one call: ``stocks`` after transport, per directed edge the goods it carried
    ``shipped`` ``(D, n)``, per good what was ``lost`` on the way ``(n,)``, and the ``load``
    each edge carried (all goods) ``(D,)``."""

    stocks: np.ndarray
    shipped: np.ndarray
    lost: np.ndarray
    load: np.ndarray


def route_incidence(graph, src: np.ndarray, dst: np.ndarray) -> np.ndarray:  # noqa: ANN001
    """Which directed edges the shortest path from region ``a`` to ``b`` uses: ``(R * R, D)``
    sparse 0/1 matrix (CSR).

    Paths are networkx's breadth-first shortest paths (deterministic for a given graph).
    """
    import networkx as nx
    import scipy.sparse as sp

    R = graph.number_of_nodes()
    edge = {(int(a), int(b)): k for k, (a, b) in enumerate(zip(src.tolist(), dst.tolist(), strict=True))}
    P = np.zeros((R * R, len(src)), dtype=bool)
    for a, paths in nx.all_pairs_shortest_path(graph):
        for b, path in paths.items():
            for u, v in zip(path[:-1], path[1:], strict=True):
                P[a * R + b, edge[(u, v)]] = True
    return sp.csr_matrix(P.astype(float))


def transport(
    stocks: np.ndarray,
    need: np.ndarray,
    paths: np.ndarray,
    capacity: np.ndarray,
    loss_rate: np.ndarray,
) -> TransportResult:
    """Ship goods from regions with a surplus to regions with a deficit along shortest paths.

    A region's claim on a good is its need, scaled down by the good's overall shortage (total
    stock over total need, when below 1), so that a region holding more than its fair share of
    a scarce good gives the rest away. Every surplus is split over the deficits in proportion
    (a proportional transportation plan: region ``a`` sends ``b`` the share
    ``deficit_b / sum deficit`` of its surplus, or less when surpluses exceed deficits). The
    plan is scaled down on edges whose ``capacity`` (units of all goods) it would exceed, and
    each edge of a path loses its ``loss_rate`` of what it carries.

    Args:
        stocks: stocks, shape ``(R, n)``; not modified.
        need: what each region needs of each good, shape ``(R, n)``.
        paths: :func:`route_incidence` of the region graph, ``(R * R, D)`` sparse.
        capacity: units each directed edge can still carry, shape ``(D,)``.
        loss_rate: share lost on each edge per good, ``(D, n)`` (or ``(D,)``).

    Returns:
        :class:`TransportResult`.
    """
    S = np.array(stocks, dtype=float, copy=True)
    R, n = S.shape
    D = paths.shape[1]
    if D == 0 or R < 2:
        return TransportResult(S, np.zeros((D, n)), np.zeros(n), np.zeros(D))
    need = np.asarray(need, dtype=float)
    tot_s, tot_n = S.sum(axis=0), need.sum(axis=0)
    fair = need * np.minimum(1.0, np.divide(tot_s, tot_n, out=np.ones_like(tot_s), where=tot_n > 0))
    deficit = np.maximum(fair - S, 0.0)
    surplus = np.maximum(S - fair, 0.0)
    tot_d, tot_sp = deficit.sum(axis=0), surplus.sum(axis=0)
    send_frac = np.minimum(1.0, np.divide(tot_d, tot_sp, out=np.zeros_like(tot_d), where=tot_sp > 0))
    share_in = np.divide(deficit, tot_d, out=np.zeros_like(deficit), where=tot_d > 0)
    flow = (surplus * send_frac)[:, None, :] * share_in[None, :, :]  # (R, R, n): a -> b
    idx = np.arange(R)
    flow[idx, idx, :] = 0.0
    flow = flow.reshape(R * R, n) * _MARGIN
    Pf = paths
    load = Pf.T @ flow.sum(axis=1)
    cap = np.asarray(capacity, dtype=float)
    if np.any(load > cap):
        edge_scale = np.minimum(1.0, np.divide(cap, load, out=np.ones_like(load), where=load > cap))
        pair_scale = np.ones(R * R)
        rows = np.flatnonzero(np.diff(Pf.indptr) > 0)
        pair_scale[rows] = np.minimum.reduceat(edge_scale[Pf.indices], Pf.indptr[rows])
        flow *= pair_scale[:, None]
    loss = np.asarray(loss_rate, dtype=float)
    loss = np.broadcast_to(loss[:, None] if loss.ndim == 1 else loss, (D, n))
    keep = np.exp(Pf @ np.log1p(-np.minimum(loss, 1.0 - 1e-15)))  # (R*R, n) kept along each path
    out = flow.reshape(R, R, n).sum(axis=1)
    arrive = (flow * keep).reshape(R, R, n).sum(axis=0)
    S = np.maximum(S - out, 0.0) + arrive
    lost = (flow * (1.0 - keep)).sum(axis=0)
    return TransportResult(S, Pf.T @ flow, lost, Pf.T @ flow.sum(axis=1))


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


def deliver(
    stocks: np.ndarray,
    allocation: np.ndarray,
    weight_reported: np.ndarray,
    bundles_true: np.ndarray,
    population_true: np.ndarray,
) -> DeliveryResult:
    """Hand out the night's allocation from regional stocks, rationing what is short.

    The plan allocates ``allocation[i, p]`` units of good ``i`` to profile ``p``; region ``r``
    hands out the part ``w_rp / sum_r w_rp`` of it, where ``w_rp`` is the reported demand
    weight of the profile's citizens in the region (their count times their mean report
    factor), and each citizen gets a part proportional to its own report. Where a region's
    stock of a good falls short of what it owes, every profile gets the same share.

    Args:
        stocks: stocks after transport, shape ``(R, n)``.
        allocation: goods per profile, shape ``(n, m)``.
        weight_reported: ``(R, m)``.
        bundles_true: per-citizen needs, ``(n, m)``; population_true: citizens per region and
            profile, ``(R, m)``.

    Returns:
        :class:`DeliveryResult`.
    """
    W = weight_reported.sum(axis=0)
    wn = np.divide(weight_reported, W[None, :], out=np.zeros_like(weight_reported), where=W[None, :] > 0)
    alloc = wn @ allocation.T  # (R, n)
    ratio = np.ones_like(alloc)
    np.divide(_MARGIN * stocks, alloc, out=ratio, where=alloc > 0)
    np.minimum(ratio, 1.0, out=ratio)
    delivered = alloc * ratio
    recv = allocation * (wn.T @ ratio).T  # (n, m) received by each profile, all regions
    need = bundles_true * population_true.sum(axis=0)[None, :]
    share = np.full(need.shape, np.nan)
    np.divide(recv, need, out=share, where=need > 0)
    # region r, profile p, good i: ratio_ri * allocation_ip * w_rp / (W_p * b_ip * n_rp)
    per_w = np.divide(allocation, bundles_true * W[None, :], out=np.zeros_like(allocation),
                      where=(bundles_true > 0) & (W[None, :] > 0))
    per_cap = np.divide(weight_reported, population_true, out=np.zeros_like(weight_reported),
                        where=population_true > 0)
    region_share = np.full(population_true.shape, np.nan)
    pi, gi = np.nonzero(bundles_true.T)  # (profile, good) pairs, sorted by profile
    if pi.size:
        vals = ratio[:, gi] * per_w[gi, pi]  # (R, nnz)
        starts = np.flatnonzero(np.r_[True, pi[1:] != pi[:-1]])
        mins = np.full(population_true.shape, np.nan)
        mins[:, pi[starts]] = np.minimum.reduceat(vals, starts, axis=1)
        region_share = np.where(population_true > 0, per_cap * mins, np.nan)
    return DeliveryResult(delivered=delivered, ratio=ratio, share=share, region_share=region_share)
