"""Shipments of the decomposed regional plan: routes on the region graph and a transport rule.

:class:`Routes` fixes one route per ordered pair of regions: the path of largest keep (least
loss, averaged over goods; fewest hops among equals). The share of good ``i`` that arrives
from ``a`` at ``b`` is the product of the keeps of the path's edges, ``K_abi``. When every
edge's keep factors as ``alpha_e beta_i`` (an edge rate and a good rate, as the agent model
builds them), ``K_abi = A_ab beta_i ** hops_ab`` and :func:`route` works with ``(R, R)``
matrix products only; otherwise it builds ``(R, R, goods)`` arrays.

:func:`route` moves supplies to demands, nearest first: in order of hops (1, 2, ...), every
region still short asks the regions at that distance for what it lacks, in proportion to
what they can spare, and a region asked for more than it can spare serves every asker in the
same proportion. Further passes over the distances use what the first left, while a pass still
moves a share of what is asked (up to :data:`PASSES`). This is the
decomposed method's transport rule (``docs/model.md``, "The regional plan"): not a
least-loss transport plan, but close to one on graphs whose nearest supplier is also the
least lossy.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from innatura.planner.regional.problem import RegionalProblem
from scipy.sparse.csgraph import shortest_path

__all__ = ["RouteResult", "Routes", "route"]

logger = logging.getLogger(__name__)

#: most passes over the hop distances in one call of :func:`route`
PASSES = 6
#: a pass that brings less than this share of the demand still unmet is the last
PASS_GAIN = 1e-3


class Routes:
    """One path per ordered pair of regions, and the keep of every good along it.

    Attributes:
        hops: edges on the path from ``a`` to ``b``, ``(R, R)`` (``0`` on the diagonal,
            ``-1`` when ``b`` cannot be reached).
        incidence: ``(R * R, D)`` 0/1 matrix of the edges each path uses (CSR).
        edges: the path's edges in order, ``(R * R, H)``, ``-1`` beyond its end.
        factored: whether the keeps factor as ``alpha_e beta_i``.
    """

    def __init__(self, problem: RegionalProblem, blocked: np.ndarray | None = None):
        p = problem
        R, D = p.n_regions, p.n_edges
        self.n_regions = R
        lk = np.log(np.maximum(p.keep, 1e-300))  # (D, n)
        weight = -lk.mean(axis=1) + 1e-9 if D else np.zeros(0)
        if blocked is not None:
            weight = np.where(blocked, np.inf, weight)
        best = np.full((R, R), np.inf)
        which = np.full((R, R), -1, dtype=np.int64)
        for e in np.argsort(weight, kind="stable")[::-1]:  # the lightest parallel edge wins
            if not np.isfinite(weight[e]):
                continue
            best[p.edge_src[e], p.edge_dst[e]] = weight[e]
            which[p.edge_src[e], p.edge_dst[e]] = e
        graph = sp.csr_matrix(np.where(np.isfinite(best), best, 0.0))
        _, pred = shortest_path(graph, directed=True, return_predecessors=True)
        self.edges, self.hops = self._paths(pred, which)
        rows = np.repeat(np.arange(R * R), self.edges.shape[1])
        flat = self.edges.ravel()
        ok = flat >= 0
        self.incidence = sp.csr_matrix((np.ones(int(ok.sum())), (rows[ok], flat[ok])), shape=(R * R, D))
        self.log_keep = np.asarray(self.incidence @ lk) if D else np.zeros((R * R, p.n_goods))  # (R*R, n)
        self.factored = False
        if D:
            b = lk[0, :] - lk[0, 0]
            a = lk[:, 0]
            self.factored = bool(np.allclose(lk, a[:, None] + b[None, :], rtol=0.0, atol=1e-12))
            self.pair = np.exp(np.asarray(self.incidence @ a)).reshape(R, R)
            self.good = np.exp(b)
        self.classes = [h for h in range(1, int(self.hops.max(initial=0)) + 1)]
        self.incidence_t = self.incidence.T.tocsr()  # (D, R * R): edge loads of pair shipments
        # per hop class: the pairs at that distance, and (factored keeps) one over their keep
        self.at = {h: (self.hops == h).astype(float) for h in self.classes}
        self.inv_at = ({h: np.divide(m, self.pair, out=np.zeros((R, R)), where=m > 0) for h, m in self.at.items()}
                       if self.factored else {})

    @staticmethod
    def _paths(pred: np.ndarray, which: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        R = pred.shape[0]
        paths: list[list[int]] = []
        hops = np.zeros((R, R), dtype=np.int64)
        for a in range(R):
            for b in range(R):
                path: list[int] = []
                node = b
                while node != a and pred[a, node] >= 0:
                    prev = int(pred[a, node])
                    path.append(int(which[prev, node]))
                    node = prev
                if node != a:
                    hops[a, b] = -1
                    path = []
                else:
                    hops[a, b] = len(path)
                paths.append(path[::-1])
        H = max((len(q) for q in paths), default=0)
        edges = np.full((R * R, max(H, 1)), -1, dtype=np.int64)
        for k, q in enumerate(paths):
            edges[k, : len(q)] = q
        return edges, hops

    def keep(self, cols: np.ndarray) -> np.ndarray:
        """Path keep ``K_abi`` of the goods ``cols``, ``(R, R, c)``."""
        R = self.n_regions
        return np.exp(self.log_keep[:, cols]).reshape(R, R, cols.size)

    def edge_flows(self, pair_flows: np.ndarray, keep_edge: np.ndarray) -> np.ndarray:
        """Per-edge shipments ``(D, c)`` of per-pair shipments ``(R * R, c)`` (what leaves each
        path's source): an edge carries what is left of a path's shipment when it enters it;
        ``keep_edge`` is the keep of the same goods, ``(D, c)``."""
        D = self.incidence.shape[1]
        out = np.zeros((D, pair_flows.shape[1]))
        carried = pair_flows.copy()
        for k in range(self.edges.shape[1]):
            e = self.edges[:, k]
            on = e >= 0
            if not on.any():
                break
            np.add.at(out, e[on], carried[on])
            carried[on] = carried[on] * keep_edge[e[on]]
        return out


@dataclass(frozen=True, eq=False)
class RouteResult:
    """What :func:`route` moved: ``sent`` (before losses) and ``received`` (after) per region and
    good ``(R, c)``, demand left ``unmet`` ``(R, c)``, the load of every edge ``edge_load``
    ``(D,)`` (all goods), and per good the units sent from ``a`` to ``b``, ``(R * R, c)``,
    for each set of routes used (``parts``: ``(routes, pair flows)``) when asked."""

    sent: np.ndarray
    received: np.ndarray
    unmet: np.ndarray
    edge_load: np.ndarray
    parts: tuple = ()

    def then(self, other: RouteResult) -> RouteResult:
        """This call followed by ``other`` (on what this one left)."""
        return RouteResult(self.sent + other.sent, self.received + other.received, other.unmet,
                           self.edge_load + other.edge_load, self.parts + other.parts)


def _pair_scale(routes: Routes, pair: np.ndarray, cap: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """Share of each pair's shipment that fits the edges' capacity left, ``(R, R)`` (``None``:
    all of it), and the edges' loads of ``pair`` ``(D,)``."""
    R = routes.n_regions
    load = routes.incidence_t @ pair.ravel()
    over = load > cap
    if not over.any():
        return None, load
    edge_scale = np.minimum(1.0, np.divide(cap, load, out=np.ones_like(load), where=over))
    P = routes.incidence
    scale = np.ones(R * R)
    rows = np.flatnonzero(np.diff(P.indptr) > 0)
    scale[rows] = np.minimum.reduceat(edge_scale[P.indices], P.indptr[rows])
    return scale.reshape(R, R) * (1.0 - 1e-12), load


def _class_step(routes: Routes, h: int, cols: np.ndarray, S: np.ndarray, Q: np.ndarray, cap: np.ndarray, keep3):  # noqa: ANN001, ANN202
    """One hop class: asks, proportional service, scaled to the edges' capacity; returns sent,
    received, the edges' loads ``(D,)`` and the factors of the per-good flows."""
    M = routes.at[h]
    avail = M.T @ S  # what the sources at distance h can spare, per sink
    # share asked of every source (0 where the sources have next to nothing): ``Q / inf = 0``
    ratio = Q / np.where(avail > 1e-250, avail, np.inf)
    if routes.factored:
        inv = routes.inv_at[h]
        gh = routes.good[cols] ** h
        need = (inv @ ratio) / gh  # what each unit of supply is asked to send, per source
    else:
        inv = np.where(M[:, :, None] > 0, 1.0 / keep3, 0.0)
        gh = 1.0
        need = np.einsum("abi,bi->ai", inv, ratio)
    serve = 1.0 / np.maximum(need, 1.0)  # min(1, 1 / need): a source asked for more serves in proportion
    sr = S * serve
    y = sr / gh if routes.factored else sr
    pair = inv * (y @ ratio.T) if routes.factored else np.einsum("abi,ai,bi->ab", inv, sr, ratio)
    ps, edge = _pair_scale(routes, pair, cap)
    if ps is not None:
        M = M * ps
        inv = inv * (ps if routes.factored else ps[:, :, None])
        pair = pair * ps
        need = (inv @ ratio) / gh if routes.factored else np.einsum("abi,bi->ai", inv, ratio)
        edge = routes.incidence_t @ pair.ravel()
    sent = sr * need
    received = ratio * (M.T @ sr)
    return sent, received, edge, (inv, y, ratio)


def _widen(res: RouteResult, moving: np.ndarray, c: int, demand: np.ndarray) -> RouteResult:
    """A result over the goods ``moving`` as one over all ``c`` goods (the others stay put)."""
    R = demand.shape[0]
    sent, received = np.zeros((R, c)), np.zeros((R, c))
    unmet = demand.copy()
    sent[:, moving], received[:, moving], unmet[:, moving] = res.sent, res.received, res.unmet
    parts = []
    for routes, flows in res.parts:
        wide = np.zeros((flows.shape[0], c))
        wide[:, moving] = flows
        parts.append((routes, wide))
    return RouteResult(sent, received, unmet, res.edge_load, tuple(parts))


@dataclass
class _Tally:
    """What the passes of one :func:`route` call moved so far."""

    sent: np.ndarray
    received: np.ndarray
    load: np.ndarray
    flows: np.ndarray | None


def _pass(routes: Routes, cols: np.ndarray, live: np.ndarray, S: np.ndarray, Q: np.ndarray, cap: np.ndarray,
          keep3: np.ndarray | None, tally: _Tally) -> np.ndarray:
    """One pass over the hop classes for the goods ``live`` (positions in ``cols``): updates
    ``S`` and ``Q`` in place and the ``tally``; returns the edges' capacity left."""
    R = routes.n_regions
    sub = live.size < cols.size
    # the live goods' supplies, demands and tallies, gathered once per pass (their own arrays, so
    # updated in place) and scattered back at its end: the same sums in the same order
    Sl, Ql = (S[:, live], Q[:, live]) if sub else (S, Q)
    sent, received = (tally.sent[:, live], tally.received[:, live]) if sub else (tally.sent, tally.received)
    flows = None if tally.flows is None else (tally.flows[:, live] if sub else tally.flows)
    kl = keep3[:, :, live] if sub and keep3 is not None else keep3
    c = cols[live] if sub else cols
    for h in routes.classes:
        if not Ql.max(initial=0.0) > 1e-300 or not Sl.max(initial=0.0) > 1e-300:
            break
        s, r, edge, (inv, y, x) = _class_step(routes, h, c, Sl, Ql, cap, kl)
        np.maximum(np.subtract(Sl, s, out=Sl), 0.0, out=Sl)
        np.maximum(np.subtract(Ql, r, out=Ql), 0.0, out=Ql)
        sent += s
        received += r
        tally.load += edge
        cap = np.maximum(cap - edge, 0.0)
        if flows is not None:
            weight = inv[:, :, None] if routes.factored else inv
            flows += (weight * y[:, None, :] * x[None, :, :]).reshape(R * R, live.size)
    if sub:
        S[:, live], Q[:, live] = Sl, Ql
        tally.sent[:, live], tally.received[:, live] = sent, received
        if flows is not None and tally.flows is not None:
            tally.flows[:, live] = flows
    return cap


def route(routes: Routes, supply: np.ndarray, demand: np.ndarray, cols: np.ndarray, capacity: np.ndarray,
          with_flows: bool = False) -> RouteResult:
    """Move ``supply`` ``(R, c)`` towards ``demand`` ``(R, c)`` (amounts to arrive) of the goods
    ``cols``, nearest first, within the edges' ``capacity`` ``(D,)`` (see the module docstring)."""
    R = routes.n_regions
    S_all = np.maximum(np.asarray(supply, dtype=float), 0.0)
    Q_all = np.maximum(np.asarray(demand, dtype=float), 0.0)
    moving = np.flatnonzero((S_all > 0).any(axis=0) & (Q_all > 0).any(axis=0))  # goods that can move at all
    if moving.size < cols.size:
        res = route(routes, S_all[:, moving], Q_all[:, moving], cols[moving], capacity, with_flows)
        return _widen(res, moving, cols.size, Q_all)
    S, Q = S_all.copy(), Q_all.copy()
    tally = _Tally(np.zeros_like(S), np.zeros_like(S), np.zeros(np.size(capacity)),
                   np.zeros((R * R, cols.size)) if with_flows else None)
    cap = np.maximum(np.asarray(capacity, dtype=float), 0.0)
    keep3 = None if routes.factored or not routes.classes else routes.keep(cols)
    live = np.arange(cols.size)
    for k in range(PASSES):
        before = float(Q.sum())
        if k:  # later passes move only the goods still asked for and still on offer
            live = live[(Q[:, live] > 1e-300).any(axis=0) & (S[:, live] > 1e-300).any(axis=0)]
            if not live.size:
                break
        cap = _pass(routes, cols, live, S, Q, cap, keep3, tally)
        # sources over-asked in a pass serve in proportion: what they could not serve is asked
        # again of the others; stop when a pass brings next to nothing
        if k >= 1 and before - float(Q.sum()) <= PASS_GAIN * before:
            break
    sent, received, load, flows = tally.sent, tally.received, tally.load, tally.flows
    parts = ((routes, flows),) if flows is not None else ()
    return RouteResult(sent=sent, received=received, unmet=Q, edge_load=load, parts=parts)
