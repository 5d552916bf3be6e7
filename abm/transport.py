"""Transport of goods along the region graph (shortest paths, edge capacities, losses).

Vectorised over regions and goods: one call ships every surplus to every deficit at once with
a proportional transportation plan (see :func:`transport`). Conventions as in
:mod:`abm.execution`: ``R`` regions, ``n`` goods, ``D`` directed edges.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

__all__ = ["TransportResult", "route_incidence", "path_keep", "transport"]

logger = logging.getLogger(__name__)

#: Safety margin on shipped amounts, so that rounding never drives a stock below zero.
_MARGIN = 1.0 - 1e-12


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
    keep: np.ndarray | None = None,
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
        keep: :func:`path_keep` of ``paths`` and ``loss_rate``, if precomputed.

    Returns:
        :class:`TransportResult`.
    """
    S = np.array(stocks, dtype=float, copy=True)
    R, n = S.shape
    D = paths.shape[1]
    shipped = np.zeros((D, n))
    lost = np.zeros(n)
    if D == 0 or R < 2:
        return TransportResult(S, shipped, lost, np.zeros(D))
    need = np.asarray(need, dtype=float)
    tot_s, tot_n = S.sum(axis=0), need.sum(axis=0)
    fair = need * np.minimum(1.0, np.divide(tot_s, tot_n, out=np.ones_like(tot_s), where=tot_n > 0))
    deficit = np.maximum(fair - S, 0.0)
    surplus = np.maximum(S - fair, 0.0)
    tot_d, tot_sp = deficit.sum(axis=0), surplus.sum(axis=0)
    cols = np.flatnonzero((tot_d > 0) & (tot_sp > 0))  # only goods that move at all
    if cols.size == 0:
        return TransportResult(S, shipped, lost, np.zeros(D))
    send_frac = np.minimum(1.0, tot_d[cols] / tot_sp[cols])
    share_in = deficit[:, cols] / tot_d[cols]
    flow = (surplus[:, cols] * send_frac)[:, None, :] * share_in[None, :, :]  # (R, R, c): a -> b
    idx = np.arange(R)
    flow[idx, idx, :] = 0.0
    flow = flow.reshape(R * R, cols.size) * _MARGIN
    Pf = paths
    load = Pf.T @ flow.sum(axis=1)
    cap = np.asarray(capacity, dtype=float)
    if np.any(load > cap):
        edge_scale = np.minimum(1.0, np.divide(cap, load, out=np.ones_like(load), where=load > cap))
        pair_scale = np.ones(R * R)
        rows = np.flatnonzero(np.diff(Pf.indptr) > 0)
        pair_scale[rows] = np.minimum.reduceat(edge_scale[Pf.indices], Pf.indptr[rows])
        flow *= pair_scale[:, None]
        load = Pf.T @ flow.sum(axis=1)
    if keep is None:
        loss = np.asarray(loss_rate, dtype=float)
        loss = np.broadcast_to(loss[:, None] if loss.ndim == 1 else loss, (D, n))
        kept = np.exp(Pf @ np.log1p(-np.minimum(loss[:, cols], 1.0 - 1e-15)))
    else:
        kept = keep[:, cols]
    out = flow.reshape(R, R, cols.size).sum(axis=1)
    arrive = (flow * kept).reshape(R, R, cols.size).sum(axis=0)
    S[:, cols] = np.maximum(S[:, cols] - out, 0.0) + arrive
    lost[cols] = (flow * (1.0 - kept)).sum(axis=0)
    shipped[:, cols] = Pf.T @ flow
    return TransportResult(S, shipped, lost, load)


def path_keep(paths, loss_rate: np.ndarray) -> np.ndarray:  # noqa: ANN001
    """Share of a shipment that arrives along each shortest path, per good: ``(R * R, n)``."""
    loss = np.asarray(loss_rate, dtype=float)
    return np.exp(paths @ np.log1p(-np.minimum(loss, 1.0 - 1e-15)))
