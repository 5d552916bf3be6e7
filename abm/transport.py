"""Transport of goods along the region graph (shortest paths, edge capacities, losses).

Two kinds of shipments: :func:`follow_shipments` carries out a regional plan's shipments edge
by edge (docs/model.md, "The regional plan"), and :func:`transport` moves surpluses to
deficits where no plan says what to ship (the national plan, and what a regional plan did not
foresee). :func:`transport` is vectorised over regions and goods: one call ships every surplus
to every deficit at once with a proportional transportation plan, in a few rounds that reuse
the capacity earlier rounds left. The plan of a round is the outer product of surpluses and
deficit shares, so nothing of shape ``(R, R, n)`` is ever built: edge loads, departures and
arrivals are ``(R, R) @ (R, n)`` matrix products. Conventions as in :mod:`abm.execution`:
``R`` regions, ``n`` goods, ``D`` directed edges.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import networkx as nx
    import scipy.sparse as sp

__all__ = ["FollowResult", "PathKeep", "TransportResult", "follow_shipments", "path_keep", "route_incidence",
           "transport"]

logger = logging.getLogger(__name__)

#: Safety margin on shipped amounts, so that rounding never drives a stock below zero.
_MARGIN = 1.0 - 1e-12


@dataclass(frozen=True, eq=False)
class TransportResult:
    """Shipments of one call: ``stocks`` after transport, per good what was ``lost`` on the way
    ``(n,)``, the ``load`` each directed edge carried (all goods) ``(D,)`` and the units each
    region sent (``sent``, before losses) and received (``received``, after losses), ``(R, n)``."""

    stocks: np.ndarray
    lost: np.ndarray
    load: np.ndarray
    sent: np.ndarray
    received: np.ndarray


@dataclass(frozen=True, eq=False)
class PathKeep:
    """Share of a shipment that arrives along each shortest path, per good.

    ``matrix[a * R + b, g]`` is the share of good ``g`` sent from ``a`` that reaches ``b``.
    When every edge's loss composes as ``1 - (1 - l_e)(1 - l_g)`` (an edge rate and a good
    rate), the matrix factors as ``pair[ab] * good[g] ** hops[ab]`` and transport uses the
    factors (``factored``), one ``(R, R) @ (R, n)`` product per distinct path length.
    """

    matrix: np.ndarray
    pair: np.ndarray
    hops: np.ndarray
    good: np.ndarray
    factored: bool


def route_incidence(graph: nx.Graph, src: np.ndarray, dst: np.ndarray) -> sp.csr_matrix:
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
            for u, v in itertools.pairwise(path):
                P[a * R + b, edge[(u, v)]] = True
    return sp.csr_matrix(P.astype(float))


def path_keep(paths: sp.spmatrix, loss_rate: np.ndarray) -> PathKeep:
    """Share of a shipment that arrives along each shortest path, per good (:class:`PathKeep`)."""
    loss = np.asarray(loss_rate, dtype=float)
    D = paths.shape[1]
    if loss.ndim == 1:
        loss = loss[:, None]
    lk = np.log1p(-np.minimum(loss, 1.0 - 1e-15))  # (D, n)
    matrix = np.exp(paths @ lk)
    hops = np.asarray(paths.sum(axis=1)).ravel().round().astype(np.int64)
    n = lk.shape[1]
    if D == 0:
        return PathKeep(matrix, np.ones(paths.shape[0]), hops, np.ones(n), False)
    b = lk[0, :] - lk[0, 0]  # log keep of the good part, up to a constant moved into the edges
    a = lk[:, 0]
    factored = bool(np.allclose(lk, a[:, None] + b[None, :], rtol=0.0, atol=1e-14))
    return PathKeep(matrix, np.exp(paths @ a), hops, np.exp(b), factored)


def _round(S: np.ndarray, need: np.ndarray, paths: sp.spmatrix, cap: np.ndarray,
           keep: PathKeep | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """One proportional round: ``(cols, sent (R, c), arrived (R, c), edge load (D,))`` for the
    goods ``cols`` that move, or ``None`` when nothing moves."""
    R = S.shape[0]
    tot_s, tot_n = S.sum(axis=0), need.sum(axis=0)
    fair = need * np.minimum(1.0, np.divide(tot_s, tot_n, out=np.ones_like(tot_s), where=tot_n > 0))
    deficit = np.maximum(fair - S, 0.0)
    surplus = np.maximum(S - fair, 0.0)
    tot_d, tot_sp = deficit.sum(axis=0), surplus.sum(axis=0)
    cols = np.flatnonzero((tot_d > 0) & (tot_sp > 0))  # only goods that move at all
    if cols.size == 0:
        return None
    send_frac = np.minimum(1.0, np.divide(tot_d[cols], tot_sp[cols]))
    s = surplus[:, cols] * (send_frac * _MARGIN)  # what each region offers, (R, c)
    sh = deficit[:, cols] / tot_d[cols]  # each region's share of the deficits, (R, c)
    off = 1.0 - np.eye(R)
    # einsum, not BLAS: a multi-threaded GEMM of these thin shapes is slower than a plain loop
    pair = np.einsum("ag,bg->ab", s, sh) * off  # units a -> b, all goods, (R, R)
    load = paths.T @ pair.ravel()
    if np.any(load > cap):
        edge_scale = np.minimum(1.0, np.divide(cap, load, out=np.ones_like(load), where=load > cap))
        pair_scale = np.ones(R * R)
        rows = np.flatnonzero(np.diff(paths.indptr) > 0)
        pair_scale[rows] = np.minimum.reduceat(edge_scale[paths.indices], paths.indptr[rows])
        ps = pair_scale.reshape(R, R) * off
        pair = pair * ps
        load = paths.T @ pair.ravel()
    else:
        ps = off
    out = s * np.einsum("ab,bg->ag", ps, sh)  # (R, c): a sends sum_b ps_ab s_ag sh_bg
    if keep is None:
        arr_w = np.einsum("ab,ag->bg", ps, s)  # no losses
    elif keep.factored:
        arr_w = np.zeros_like(s)
        wk = ps * keep.pair.reshape(R, R)
        hop = keep.hops.reshape(R, R)
        for h in np.unique(hop[off > 0]):
            term = np.einsum("ab,ag->bg", np.where(hop == h, wk, 0.0), s)
            arr_w += term * (keep.good[cols] ** h)[None, :]
    else:
        k3 = keep.matrix[:, cols].reshape(R, R, cols.size)
        arr_w = np.einsum("ab,abg,ag->bg", ps, k3, s)
    arrive = sh * arr_w
    out = np.minimum(out, S[:, cols])
    return cols, out, arrive, load


def _as_keep(keep: PathKeep | np.ndarray | None, paths: sp.spmatrix, loss_rate: np.ndarray, R: int,
             n: int) -> PathKeep | None:
    """``keep`` as a :class:`PathKeep` (a plain matrix is wrapped; ``None`` is computed when
    some edge loses goods, else stays ``None``: nothing is lost)."""
    if keep is not None and not isinstance(keep, PathKeep):
        return PathKeep(np.asarray(keep, dtype=float), np.ones(R * R), np.zeros(R * R, np.int64), np.ones(n), False)
    if keep is None and np.any(np.asarray(loss_rate) > 0):
        return path_keep(paths, loss_rate)
    return keep


def transport(
    stocks: np.ndarray,
    need: np.ndarray,
    paths: sp.spmatrix,
    capacity: np.ndarray,
    loss_rate: np.ndarray,
    keep: PathKeep | np.ndarray | None = None,
    rounds: int = 1,
) -> TransportResult:
    """Ship goods from regions with a surplus to regions with a deficit along shortest paths.

    A region's claim on a good is its need, scaled down by the good's overall shortage (total
    stock over total need, when below 1), so that a region holding more than its fair share of
    a scarce good gives the rest away. Every surplus is split over the deficits in proportion
    (a proportional transportation plan: region ``a`` sends ``b`` the share
    ``deficit_b / sum deficit`` of its surplus, or less when surpluses exceed deficits). The
    plan is scaled down on edges whose ``capacity`` (units of all goods) it would exceed, and
    each edge of a path loses its ``loss_rate`` of what it carries. Up to ``rounds`` rounds
    run, each on the stocks, deficits and edge capacity the previous ones left, so capacity a
    blocked pair could not use goes to the pairs that can still be served.

    Args:
        stocks: stocks, shape ``(R, n)`` (not modified); need: what each region needs, ``(R, n)``.
        paths: :func:`route_incidence` of the region graph, ``(R * R, D)`` sparse.
        capacity: units each directed edge can still carry, shape ``(D,)``.
        loss_rate: share lost on each edge per good, ``(D, n)`` (or ``(D,)``).
        keep: :func:`path_keep` of ``paths`` and ``loss_rate``, if precomputed.
        rounds: at most this many proportional rounds.

    Returns:
        :class:`TransportResult`.
    """
    S = np.array(stocks, dtype=float, copy=True)
    R, n = S.shape
    D = paths.shape[1]
    lost = np.zeros(n)
    sent = np.zeros((R, n))
    received = np.zeros((R, n))
    total_load = np.zeros(D)
    if D == 0 or R < 2:
        return TransportResult(S, lost, total_load, sent, received)
    keep = _as_keep(keep, paths, loss_rate, R, n)
    need = np.asarray(need, dtype=float)
    cap = np.asarray(capacity, dtype=float).copy()
    for _ in range(max(int(rounds), 1)):
        if not np.any(cap > 0):
            break
        res = _round(S, need, paths, cap, keep)
        if res is None:
            break
        cols, out, arrive, load = res
        S[:, cols] = np.maximum(S[:, cols] - out, 0.0) + arrive
        sent[:, cols] += out
        received[:, cols] += arrive
        lost[cols] += out.sum(axis=0) - arrive.sum(axis=0)
        total_load += load
        cap = np.maximum(cap - load, 0.0)
        if load.sum() <= 1e-9 * max(total_load.sum(), 1e-300):
            break
    return TransportResult(S, lost, total_load, sent, received)


@dataclass(frozen=True, eq=False)
class FollowResult:
    """What :func:`follow_shipments` moved: ``stocks`` after it, the units of each good each
    edge carried (``carried``, before the edge's loss, ``(D, n)``), the ``load`` of each edge
    ``(D,)`` and what was ``lost`` on the way, per good ``(n,)``."""

    stocks: np.ndarray
    carried: np.ndarray
    load: np.ndarray
    lost: np.ndarray


def follow_shipments(stocks: np.ndarray, shipments: np.ndarray, edge_src: np.ndarray, edge_dst: np.ndarray,
                     loss_rate: np.ndarray, capacity: np.ndarray, protect: np.ndarray | None = None) -> FollowResult:
    """Carry out planned shipments, edge by edge, from the stocks on hand.

    Every edge ``e = a -> b`` sends the planned ``shipments[e]`` from ``a``'s stock; ``b``
    receives it less the edge's loss. A shipment that crosses several edges is passed on:
    goods that reach ``b`` are on hand for ``b``'s own departures in the next round, and rounds
    repeat until everything planned has left or nothing moves. Where a region holds less than
    its planned departures plus what it must keep (``protect``: e.g. its citizens' deliveries
    that no arrival covers), every departure and the kept amount are cut by the same ratio,
    so no stock goes negative and a shortfall is shared. Nothing exceeds an edge's remaining
    ``capacity`` (units of all goods).

    Args:
        stocks: stocks on hand, ``(R, n)`` (not modified).
        shipments: units of each good to send along each directed edge, ``(D, n)``.
        edge_src, edge_dst: the edges' regions, ``(D,)``.
        loss_rate: share lost on each edge per good, ``(D, n)`` (or ``(D,)``).
        capacity: units each edge can still carry, ``(D,)``.
        protect: what each region keeps before it sends, ``(R, n)``; default nothing.

    Returns:
        :class:`FollowResult`.
    """
    import scipy.sparse as sp

    S = np.array(stocks, dtype=float, copy=True)
    R, n = S.shape
    D = int(np.asarray(edge_src).size)
    left = np.maximum(np.asarray(shipments, dtype=float), 0.0)
    carried = np.zeros((D, n))
    lost = np.zeros(n)
    if D == 0 or not left.any():
        return FollowResult(S, carried, np.zeros(D), lost)
    keep = 1.0 - np.broadcast_to(np.asarray(loss_rate, dtype=float).reshape(D, -1), (D, n))
    out_of = sp.csr_matrix((np.ones(D), (edge_src, np.arange(D))), shape=(R, D))
    into = sp.csr_matrix((np.ones(D), (edge_dst, np.arange(D))), shape=(R, D))
    cap = np.maximum(np.asarray(capacity, dtype=float), 0.0).copy()
    kept = np.zeros((R, n)) if protect is None else np.maximum(np.asarray(protect, dtype=float), 0.0)
    total = left.sum()
    for _ in range(R):
        claim = out_of @ left + kept
        # a region sends in full unless its claims exceed its stock (no division by tiny claims)
        ratio = np.divide(_MARGIN * S, claim, out=np.ones_like(S), where=claim > _MARGIN * S)
        send = left * ratio[edge_src]
        load = send.sum(axis=1)
        fits = np.minimum(1.0, np.divide(cap, load, out=np.ones_like(load), where=load > cap))
        send *= fits[:, None]
        if not send.any():
            break
        arrive = send * keep
        S = np.maximum(S - out_of @ send, 0.0) + into @ arrive
        carried += send
        lost += (send - arrive).sum(axis=0)
        cap = np.maximum(cap - send.sum(axis=1), 0.0)
        left = np.maximum(left - send, 0.0)
        if left.sum() <= 1e-12 * total:
            break
    return FollowResult(S, carried, carried.sum(axis=1), lost)
