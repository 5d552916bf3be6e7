"""The decomposed regional plan's building block: the least plan for given targets.

:class:`Evaluator` computes, for a common fulfilment ``t``, closing targets and capital growth,
the least production (a monotone fixed point over the national production ``y``, dispatched to
units by a :class:`Strategy`), the morning and evening shipments
(:func:`~innatura.planner.regional.routing.route` within the edges' capacity, and around edges
that fill up), and the largest scaled violation of a bound with the constraint where it occurs
(a :class:`Bottleneck`). See :mod:`innatura.planner.regional.decomposed`.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

import numpy as np
from innatura.planner.regional.dispatch import Filler
from innatura.planner.regional.problem import RegionalProblem
from innatura.planner.regional.routing import RouteResult, Routes, route

__all__ = ["FEASIBLE", "MEMORY", "OVERSHOOT", "ROUNDS", "Bottleneck", "Evaluator", "Point", "Strategy",
           "describe"]

logger = logging.getLogger(__name__)

#: rounds of (least production, transport) per evaluation: what transport loses feeds the next
ROUNDS = 12
#: violations up to this (scaled) size count as feasible
FEASIBLE = 1e-7
#: fixed-point sweeps of the least production per round
SWEEPS = 500
#: what transport still falls short of, when it is less than a tenth of the round before, is made
#: this many times over: the nearest-first rule gives what is made to nearer regions first, so
#: that making the exact amount leaves a residue about a hundred times smaller each round;
#: twice over ends in two or three rounds for a sliver more production
OVERSHOOT = 2.0
#: evaluations an :class:`Evaluator` remembers (a root search asks again for points it has
#: evaluated, and starts the fixed point of a larger plan from a smaller one's)
MEMORY = 8
#: production beyond this many times the targets counts as no least production (the
#: reported curves' inputs grow faster than their output)
DIVERGED = 1e9


@dataclass(frozen=True)
class Bottleneck:
    """Where a plan breaks a bound: ``kind`` (``"capacity"``, ``"labour"``, ``"capital"``,
    ``"inputs on hand"``, ``"deliveries"``, or ``"productivity"``: no least production, the
    curves' inputs outgrow output), ``region`` (``-1`` for the national kinds) and ``good``."""

    kind: str
    region: int
    good: int


def describe(problem: RegionalProblem, b: Bottleneck | None) -> str:
    """``"labour Lb0 @ north"``-style text of a bottleneck (empty for none)."""
    if b is None:
        return ""
    where = f" @ {problem.regions[b.region]}" if b.region >= 0 else ""
    return f"{b.kind} of {problem.goods[b.good]}{where}"


@dataclass(frozen=True, eq=False)
class Strategy:
    """How production goes to units: ``caps`` per unit, ``rank`` per unit (lower first; ties:
    bounded units, then the problem's order), and ``local``: a region's own units first make
    what the region lacks beyond its stock."""

    caps: np.ndarray
    rank: np.ndarray
    local: bool = False


@dataclass
class Point:
    """One evaluation: unit outputs, regional input use, the largest violation and where, what
    production could draw per region and good (``available``: labour and capital within the
    stage's share, final goods on hand after the morning plus the region's own output), and
    the shipments."""

    q: np.ndarray
    use: np.ndarray
    excess: float
    bottleneck: Bottleneck | None
    available: np.ndarray
    morning: RouteResult | None = None
    evening: RouteResult | None = None


class _UseCache:
    """What :meth:`Evaluator.use` computes once: each entry's position in the ``(R, n)`` use
    (``key``, ``curve_key``; ``None``: no curves), and at ``base`` the curve entries' orders
    ``b``, values ``g_base`` and derivatives ``d_base``."""

    def __init__(self, p: RegionalProblem, base: np.ndarray):
        inp = p.inputs
        self.key = p.unit_region[inp.unit] * p.n_goods + inp.good
        self.curve_key: np.ndarray | None = None
        if inp.n_curves:
            self.curve_key = p.unit_region[inp.curve_unit] * p.n_goods + inp.curve_good
            self.b = np.asarray(base, dtype=float)[inp.curve_unit]
            self.g_base, self.d_base = inp.curve_values(self.b)


class Evaluator:
    """Least regional plan and its violations for given targets, in one stage and strategy.

    Args:
        problem: the night's problem.
        routes: the region graph's routes (``None``: one region or no edges).
        stage: ``1`` (``1 - sigma`` of labour and capital) or ``2`` (all of it).
        base: unit outputs the curves' secants start from (``0``, then stage 1's outputs).
        strategy: the dispatch to units.
    """

    def __init__(self, problem: RegionalProblem, routes: Routes | None, stage: int, base: np.ndarray,
                 strategy: Strategy):
        p = self.problem = problem
        self.routes, self.stage, self.base, self.strategy = routes, stage, base, strategy
        self.keep = (1.0 - p.investment_share) if stage == 1 else 1.0
        self.cols = np.flatnonzero(~p.labour_mask)
        self.full_need = p.need(np.where(p.active, 1.0, 0.0))
        self.stock = p.stocks.sum(axis=0)
        self.national = Filler(p.unit_good, strategy.caps, strategy.rank)
        self.regional = Filler(p.unit_good * p.n_regions + p.unit_region, strategy.caps, strategy.rank)
        self.detours: dict[bytes, Routes] = {}
        self.evaluations = 0
        self.unplaced = np.zeros(p.n_goods)
        self.diverged = False
        self.loss = np.zeros(p.n_goods)
        # the investment stage places its outputs on top of the consumption stage's (``base``):
        # widened caps in the strategy's order would move that production to other units and
        # regions, whose labour and inputs on hand the consumption stage did not check
        self.floor = base if stage == 2 and np.any(base > 0) else None
        self.floor_made = np.bincount(p.unit_good, base, minlength=p.n_goods) if self.floor is not None else None
        self.memory: dict[bytes, tuple[tuple, Point, bool]] = {}
        self._use = _UseCache(p, base)
        # the shippable goods as a slice where they are consecutive (a view, not a copy), their
        # opening stocks and which of them are final goods, for every transport
        c = self.cols
        self._take: slice | np.ndarray = (slice(int(c[0]), int(c[-1]) + 1) if c.size and c[-1] - c[0] == c.size - 1
                                          else c)
        self._stock_cols = p.stocks[:, self.cols]
        self._stock_cols.flags.writeable = False
        self._final_cols = p.final[None, self.cols]
        # the regional filler's keys as positions in the (R, n) arrays, and what the floor makes there
        R, n = p.n_regions, p.n_goods
        self._lack_at = (self.regional.keys % R) * n + self.regional.keys // R
        self._lack_final = p.final[self.regional.keys // R]
        self._lack_floor = None if self.floor is None else np.bincount(
            p.unit_region * n + p.unit_good, self.floor, minlength=R * n)[self._lack_at]

    def use(self, q: np.ndarray) -> np.ndarray:
        """Input use per region and good at unit outputs ``q`` (curves by secant from ``base``):
        :meth:`InputUse.use <innatura.planner.regional.input_use.InputUse.use>` with the slopes of
        :meth:`~innatura.planner.regional.input_use.InputUse.secant_slopes`, the curves' values
        at ``base`` and the entries' positions computed once per evaluator."""
        p, c = self.problem, self._use
        q = np.maximum(q, 0.0)
        out = np.bincount(c.key, p.inputs.coefficient * q[p.inputs.unit], minlength=p.n_regions * p.n_goods)
        if c.curve_key is not None:
            qc = q[p.inputs.curve_unit]
            slopes = c.d_base.copy()
            far = np.abs(qc - c.b) > 1e-9 * np.maximum(1.0, np.abs(c.b))
            if far.any():
                gp, _ = p.inputs.curve_values(qc)
                slopes[far] = (gp[far] - c.g_base[far]) / (qc[far] - c.b[far])
            g = c.g_base + np.maximum(slopes, 0.0) * (qc - c.b)
            out += np.bincount(c.curve_key, g, minlength=p.n_regions * p.n_goods)
        return out.reshape(p.n_regions, p.n_goods)

    def dispatch(self, y: np.ndarray, req: np.ndarray, use: np.ndarray) -> np.ndarray:
        """Unit outputs for national production ``y``: in the investment stage first the
        consumption stage's outputs (``base``, all of them), then the rest; ``local``: a
        region's own units first make what it lacks beyond its stock (and that floor). What the
        units cannot take is left in ``unplaced``."""
        p, s = self.problem, self.strategy
        caps, loss = s.caps, self.loss
        q_floor = np.zeros(p.n_units)
        if self.floor is not None:
            q_floor = self.floor
            y = np.maximum(y - self.floor_made, 0.0)
            caps = np.maximum(caps - q_floor, 0.0)
        q_local = np.zeros(p.n_units)
        wanted = y
        if s.local:
            # what each unit's region lacks of its good, in the fill order (only the region and
            # good pairs that have units)
            at = self._lack_at
            lack = np.maximum(req.ravel()[at] + np.where(self._lack_final, use.ravel()[at], 0.0)
                              - p.stocks.ravel()[at], 0.0)
            if self._lack_floor is not None:
                lack = np.maximum(lack - self._lack_floor, 0.0)
            q_local = self.regional.fill_sorted(lack, caps)
            # what transport loses or cannot bring (``loss``) comes on top of what the regions'
            # own units make, even where they make more than the nation lacks
            wanted = np.maximum(y - loss - np.bincount(p.unit_good, q_local, minlength=p.n_goods), 0.0) + loss
        q = self.national.fill(wanted, caps - q_local)
        self.unplaced = np.maximum(wanted - np.bincount(p.unit_good, q, minlength=p.n_goods), 0.0)
        return q_floor + q_local + q

    def least(self, y: np.ndarray, req: np.ndarray, grow: np.ndarray, loss: np.ndarray):  # noqa: ANN201
        """Fixed point of the least production; returns (y, q, use ``(R, n)``)."""
        p = self.problem
        fin = p.final
        capital = np.where(p.industrial & (self.stage == 2), np.maximum(grow, req.sum(axis=0) - self.stock + loss), 0.0)
        use = self.use(self.national.fill(y, self.strategy.caps))
        ceiling = DIVERGED * (1.0 + req.sum())
        capital = np.maximum(capital, 0.0)
        self.diverged = False
        for _ in range(SWEEPS):
            q = self.dispatch(y, req, use)
            use = self.use(q)
            need = np.maximum(0.0, (use + req).sum(axis=0) - self.stock + loss)
            y_new = np.where(fin, need, capital)
            if not np.all(y_new <= ceiling):  # convex curves: inputs outgrow output
                self.diverged = True
                y = np.minimum(np.nan_to_num(y_new, nan=ceiling, posinf=ceiling), ceiling)
                break
            done = np.max(np.abs(y_new - y), initial=0.0) <= 1e-11 * (1.0 + np.max(y_new, initial=0.0))
            y = y_new
            if done:
                break
        q = self.dispatch(y, req, use)
        return y, q, self.use(q)

    def evaluate(self, t: float | np.ndarray, targets: np.ndarray, grow: np.ndarray, with_flows: bool = False) -> Point:
        """The least plan that delivers ``t`` of every need (a share, or one per region and
        profile ``(R, m)``), keeps ``targets`` ``(R, n)`` in closing stock and makes ``grow``
        ``(n,)`` of capital, and how far it breaks a bound.

        The fixed point of the first round climbs from that of the largest remembered
        evaluation whose arguments are all at most these (the least fixed point is monotone in
        the targets, so it climbs to the same point); an evaluation asked for again is
        remembered (:data:`MEMORY`)."""
        args = (np.asarray(t, dtype=float), np.asarray(targets, dtype=float), np.asarray(grow, dtype=float))
        key = hashlib.blake2b(b"".join(np.ascontiguousarray(a).tobytes() for a in args), digest_size=16).digest()
        hit = self.memory.get(key)
        if hit is not None and (hit[2] or not with_flows):
            return hit[1]
        self.evaluations += 1
        point = self._evaluate(args, self._start(args), with_flows)
        if len(self.memory) >= MEMORY:
            self.memory.pop(next(iter(self.memory)))
        self.memory[key] = ((*args, self._y), point, with_flows)
        return point

    def _start(self, args: tuple) -> np.ndarray:
        """Least production to start from: that of the first round (no transport loss yet) of the
        remembered evaluation with the largest such production among those whose arguments are
        all at most ``args``: below the least production of ``args``' first round."""
        y = np.zeros(self.problem.n_goods)
        for old, _, _ in self.memory.values():
            if old[3].sum() > y.sum() and all(np.all(a <= b) for a, b in zip(old[:3], args, strict=True)):
                y = old[3]
        return y.copy()

    def _evaluate(self, args: tuple, y: np.ndarray, with_flows: bool) -> Point:
        p = self.problem
        t, targets, grow = args
        deliveries = t * self.full_need if np.ndim(t) == 0 else p.need(np.where(p.active, t, 0.0))
        req = np.where(p.final[None, :], deliveries + targets, targets)
        loss = np.zeros(p.n_goods)
        last = 0.0
        for k in range(ROUNDS):
            self.loss = loss
            y, q, use = self.least(y, req, grow, loss)
            if k == 0:
                self._y = y  # the least production before any loss: where larger plans start
            flows = self.transport(q, use, req, with_flows)
            more = self._shortfall(flows["evening"], req)
            if more is None:
                break
            # a shortfall that shrinks fast (what is made goes to nearer regions first) is
            # overshot (OVERSHOOT); one that shrinks slowly (a full edge, a far region) doubles
            # each round after the sixth: a little more made, far fewer rounds
            now = float(more.sum())
            loss = loss.copy()
            loss[self.cols] += more * (OVERSHOOT if now < 0.1 * last else 1.0) * 2.0 ** max(0, k - 5)
            last = now
        excess, where = self.violations(y, q, use, flows)
        available = self.keep * p.labour
        available[:, self.cols] = np.where(p.final[None, self.cols], flows["a"] + flows["Y"][:, self.cols],
                                           self.keep * flows["a"])
        return Point(q=q, use=use, excess=excess, bottleneck=where, available=available, morning=flows["morning"],
                     evening=flows["evening"])

    def _shortfall(self, ev: RouteResult | None, req: np.ndarray) -> np.ndarray | None:
        """What to make more of because transport lost or could not bring it, per good (``None``:
        nothing, or nothing that more production can bring)."""
        if ev is None:
            return None
        # the deliveries' violation is about the unmet amount of a region (``violations``): stop
        # well below the feasibility tolerance, not relative to the largest requirement
        if ev.unmet.max(initial=0.0) <= 0.1 * FEASIBLE:
            return None
        unmet = ev.unmet.sum(axis=0)
        # what falls short arrives through lossy routes: make that much more, over the keep
        sent = ev.sent.sum(axis=0)
        kept = np.divide(ev.received.sum(axis=0), sent, out=np.zeros_like(sent), where=sent > 0)
        more = np.divide(unmet, kept, out=np.zeros_like(unmet), where=kept > 0)
        return more if more.any() else None

    def _route(self, routes: Routes, supply: np.ndarray, demand: np.ndarray, cap: np.ndarray,
               with_flows: bool) -> RouteResult:
        """Route along ``routes``, then route what is left around the edges that filled up (once)."""
        res = route(routes, supply, demand, self.cols, cap, with_flows)
        full = (cap - res.edge_load) <= 1e-9 * (1.0 + np.where(np.isfinite(cap), cap, 0.0))
        if not (res.unmet > 0).any() or not (full & (res.edge_load > 0)).any():
            return res
        key = full.tobytes()
        if key not in self.detours:
            self.detours[key] = Routes(self.problem, blocked=full)
        left = np.maximum(supply - res.sent, 0.0)
        return res.then(route(self.detours[key], left, res.unmet, self.cols, cap - res.edge_load, with_flows))

    def transport(self, q: np.ndarray, use: np.ndarray, req: np.ndarray, with_flows: bool) -> dict:
        """Morning and evening shipments of the plan with outputs ``q`` and input use ``use``."""
        p = self.problem
        R, n = p.n_regions, p.n_goods
        Y = np.bincount(p.unit_region * n + p.unit_good, q, minlength=R * n).reshape(R, n)
        fin = self._final_cols
        take = self._take
        s, Yc, Uc = self._stock_cols, Y[:, take], use[:, take]
        own = np.where(fin, np.maximum(Uc - Yc, 0.0), Uc / self.keep)  # what production takes from stock
        out: dict = {"morning": None, "evening": None, "a": s, "Y": Y}
        routes = self.routes
        if routes is None:
            on_hand = np.where(fin, s + Yc - Uc, s + Yc)
            out["short"] = np.where(fin, np.maximum(-on_hand, 0.0), np.maximum(own - s, 0.0))
            out["left"] = np.maximum(on_hand, 0.0) - req[:, take]
            return out
        cap = p.edge_capacity
        mo = self._route(routes, np.maximum(s - own, 0.0), np.maximum(own - s, 0.0), cap, with_flows)
        a = s - mo.sent + mo.received
        on_hand = np.where(fin, a + Yc - Uc, a + Yc)
        if p.timing == "shifts":
            # the day's shipments bring what a region's units lack as well as its deliveries
            after = on_hand - req[:, take]
            short = np.where(fin, 0.0, mo.unmet)
        else:
            # inputs a region lacks after the morning cannot come in the evening
            after = np.maximum(on_hand, 0.0) - req[:, take]
            short = np.where(fin, np.maximum(-on_hand, 0.0), mo.unmet)
        ev = self._route(routes, np.maximum(after, 0.0), np.maximum(-after, 0.0), cap - mo.edge_load, with_flows)
        out.update(morning=mo, evening=ev, a=a, short=short, left=after - ev.sent + ev.received)
        return out

    def violations(self, y: np.ndarray, q: np.ndarray, use: np.ndarray, flows: dict) -> tuple[float, Bottleneck | None]:
        """Largest scaled violation of a bound (``<= 0``: the plan fits) and where it is."""
        p, cols = self.problem, self.cols
        made = np.bincount(p.unit_good, q, minlength=p.n_goods)
        short = self.unplaced * (p.final if self.stage == 1 else ~p.labour_mask)
        lab = np.where(p.labour_mask[None, :], use, 0.0)
        bound = self.keep * p.labour
        ind = p.industrial[None, cols]
        a = flows["a"]
        checks = [
            ("capacity", short / (1.0 + made), False),
            ("labour", np.where(lab > 0, (lab - bound) / (1.0 + bound), -1.0), False),
            ("capital", np.where(ind, use[:, cols] - self.keep * a, -1.0) / (1.0 + a), True),
            ("inputs on hand", np.where(ind, -1.0, flows["short"] / (1.0 + use[:, cols])), True),
            ("deliveries", -flows["left"] / (1.0 + np.abs(flows["left"])), True),
        ]
        if self.diverged:
            checks.insert(0, ("productivity", np.where(y >= y.max(), 1.0, 0.0), False))
        best, where = -1.0, None
        for kind, values, on_cols in checks:
            k = int(np.argmax(values))
            if values.flat[k] > best:
                best = float(values.flat[k])
                r, j = divmod(k, values.shape[1]) if values.ndim == 2 else (-1, k)
                where = Bottleneck(kind, r, int(cols[j]) if on_cols else j)
        return best, where
