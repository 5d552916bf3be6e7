"""The decomposed regional plan: least regional production by fixed point, shipments by routing.

For economies of thousands of goods over many regions the exact LPs are out of reach (the
national LP alone is, above a thousand goods). This method keeps the regional plan's
constraints and timing and decomposes it into a production problem solved by a monotone
fixed point and per-good transport (``docs/model.md``, "The regional plan", where the choice
is justified); the building block is :class:`~innatura.planner.regional.fixed_point.Evaluator`:

- **Production.** For targets (every region's deliveries ``t * need``, closing targets,
  capital growth) the least production solves the fixed point
  ``y_i = max(0, sum_r (inputs_ri(y) + targets_ri) - S_i + l_i)`` (``S``: national stock,
  ``l``: what transport loses), with curves linearised by secants at the current outputs.
  Each region's own units first make what the region lacks beyond its stock (inputs made
  elsewhere today cannot reach them before the evening); the rest of a good's production goes
  to its units in a ranked order, each up to its capacity.
- **Transport.** Each good's shipments follow :func:`~innatura.planner.regional.routing.route`
  within the edges' capacity: in the morning, regions whose units lack an input (beyond their
  stock and their own output of the day) draw on the stocks other regions can spare; in the
  evening, what regions hold after production beyond their deliveries and closing targets
  goes to the regions short of them. What a saturated edge holds back is routed again around
  it; what transport loses or cannot bring feeds ``l``, and production is solved again.
- **Searches.** Feasibility (capacities, regional labour and capital, shipments that arrive)
  grows monotone in the targets for a fixed dispatch, so the largest common fulfilment ``t``
  (stage 1, on ``1 - sigma`` of labour, capital and capacity; with the pipeline, keeping
  ``t`` times the inputs from other regions of the stock-neutral plan in closing stock, so
  that tomorrow can repeat today), then the shares of the closing targets (today's pipeline,
  then that of a plan fulfilling every need and building capital at ``sigma`` of capacity, then
  the capital the regions' units need) and capital growth ``theta_k (S_k + 1)`` good by good
  (stage 2) are found by root searches on the largest scaled violation and water-filling.
- **Strategies.** When ``t < 1`` the constraint that stops it (the bottleneck) prices the
  dispatch: the search is repeated with regions' lacks first made by units anywhere (not
  their own units first), with the units of regions whose labour, capital or inputs on hand
  a higher ``t`` would over-ask capped at what they can staff and supply (their goods move to
  units elsewhere), with a good that does not reach a region made by its units nearest to it,
  and with each good's units ranked by their use of the bottleneck resource (least first).
  The best plan is kept (at most :data:`STRATEGY_ROUNDS` rounds); a dispatch whose plan does
  not fit just above the best ``t`` is not searched (feasibility is monotone in ``t``).

Every region-profile pair gets the same fulfilment ``t`` (the max-min value; no second
priority). The bottleneck is reported; the same method on the night with all regions pooled
(no transport) gives the plan's ``national_fulfilment``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from innatura.planner.regional.filling import FILL_ROUNDS, largest, spread, users, water_fill
from innatura.planner.regional.fixed_point import FEASIBLE, Bottleneck, Evaluator, Point, Strategy, describe
from innatura.planner.regional.investment import STAGE2_TOL, Consumption, invest, relief
from innatura.planner.regional.problem import RegionalProblem
from innatura.planner.regional.result import RegionalPlan, assemble_plan, pipeline_targets
from innatura.planner.regional.routing import Routes
from innatura.planner.regional.supply import supply_bottleneck, supply_caps

if TYPE_CHECKING:
    import scipy.sparse as sp

__all__ = ["FILL_ROUNDS", "STAGE1_TOL", "STAGE2_TOL", "STRATEGY_ROUNDS", "merged", "plan_decomposed", "reserve",
           "users"]

logger = logging.getLogger(__name__)

#: rounds of re-planning with a dispatch priced by the bottleneck
STRATEGY_ROUNDS = 3
#: tolerance of the consumption stage's search for the common fulfilment
STAGE1_TOL = 1e-7


def merged(problem: RegionalProblem) -> RegionalProblem:
    """The same night with all regions pooled into one (no transport): the national relaxation."""
    p = problem
    return replace(
        p, regions=("all",), demand=p.demand.sum(axis=0, keepdims=True), stocks=p.stocks.sum(axis=0, keepdims=True),
        labour=p.labour.sum(axis=0, keepdims=True), unit_region=np.zeros(p.n_units, dtype=np.int64),
        edge_src=np.zeros(0, dtype=np.int64), edge_dst=np.zeros(0, dtype=np.int64), edge_capacity=np.zeros(0),
        edge_loss=np.zeros((0, p.n_goods)), closing_target=p.closing_target.sum(axis=0, keepdims=True),
        timing="overnight" if p.timing == "layers" else p.timing,
    )


@dataclass
class _Stage1:
    t: float
    point: Point
    bottleneck: Bottleneck | None
    strategy: Strategy
    c: np.ndarray | None = None  # fulfilment per region and profile after the filling, (R, m)
    reserve: np.ndarray | None = None  # closing stocks per unit of fulfilment, (R, n)


def _search(p: RegionalProblem, routes: Routes | None, strategy: Strategy, counter: list,
            reserve: np.ndarray | None = None, above: float | None = None) -> _Stage1:
    """The largest common fulfilment ``t`` with the dispatch ``strategy``, keeping ``t * reserve``
    ``(R, n)`` in closing stock (tomorrow's inputs from other regions at the same fulfilment).

    ``above``: only a fulfilment above this counts; where the plan at ``above`` does not fit,
    none above it does (feasibility is monotone in ``t`` for a fixed dispatch), and the search
    ends there with ``t = 0``."""
    ev = Evaluator(p, routes, 1, np.zeros(p.n_units), strategy)
    keep = np.zeros((p.n_regions, p.n_goods)) if reserve is None else reserve
    zero_g = np.zeros(p.n_goods)
    if above is not None and above < 1.0:
        pt = ev.evaluate(above, above * keep, zero_g)
        if pt.excess > FEASIBLE:
            counter[0] += ev.evaluations
            return _Stage1(0.0, pt, pt.bottleneck, strategy, reserve=reserve)
    t, bottleneck = largest(lambda s: ev.evaluate(s, s * keep, zero_g), 1.0, STAGE1_TOL) if p.active.any() \
        else (1.0, None)
    point = ev.evaluate(t, t * keep, zero_g)
    counter[0] += ev.evaluations
    return _Stage1(t, point, bottleneck, strategy, reserve=reserve)


def _intensity(p: RegionalProblem, q: np.ndarray) -> sp.csr_matrix:
    """Input per unit of output of every (unit, good) at outputs ``q``, sparse ``(U, n)`` (CSR)."""
    import scipy.sparse as sp

    inp = p.inputs
    rows, cols, vals = [inp.unit], [inp.good], [inp.coefficient]
    if inp.n_curves:
        qc = np.maximum(q[inp.curve_unit], 1e-9)
        rows.append(inp.curve_unit)
        cols.append(inp.curve_good)
        vals.append(inp.curve_values(qc)[0] / qc)
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                         shape=(p.n_units, p.n_goods))


def _priced(p: RegionalProblem, best: _Stage1) -> Strategy | None:
    """Each good's units ranked by their use of the bottleneck (least first), after the old rank."""
    b = best.bottleneck
    if b is None:
        return None
    use = np.asarray(_intensity(p, best.point.q)[:, b.good].todense()).ravel()
    if b.region >= 0 and b.kind in ("labour", "capital", "inputs on hand"):
        use = np.where(p.unit_region == b.region, use, 0.0)
    if not use.any():
        return None
    order = np.lexsort((best.strategy.rank, use))
    rank = np.empty(p.n_units)
    rank[order] = np.arange(p.n_units)
    return Strategy(best.strategy.caps, rank, best.strategy.local)


def _nearest(p: RegionalProblem, routes: Routes | None, best: _Stage1) -> Strategy | None:
    """The units of a good that does not reach a region ranked by the keep of their route to it
    (nearest first: produce where the good is short)."""
    b = best.bottleneck
    if routes is None or b is None or b.region < 0 or b.kind not in ("deliveries", "inputs on hand"):
        return None
    R = p.n_regions
    mine = p.unit_good == b.good
    if np.unique(p.unit_region[mine]).size < 2:
        return None
    keep = np.exp(routes.log_keep[p.unit_region * R + b.region, b.good])
    keep = np.where(routes.hops[p.unit_region, b.region] >= 0, keep, 0.0)
    order = np.lexsort((best.strategy.rank, np.where(mine, -keep, 0.0)))
    rank = np.empty(p.n_units)
    rank[order] = np.arange(p.n_units)
    return Strategy(best.strategy.caps, rank, best.strategy.local)


def _relieved(p: RegionalProblem, routes: Routes | None, best: _Stage1) -> Strategy | None:
    """Caps of the units in regions that a plan above ``t`` over-asks of labour, capital or an
    input on hand: each such unit's output there times what is available over what is asked
    (the rest of its good moves to the good's units elsewhere)."""
    b = best.bottleneck
    if b is None or b.kind not in ("labour", "capital", "inputs on hand"):
        return None
    ev = Evaluator(p, routes, 1, np.zeros(p.n_units), best.strategy)
    probe = min(1.0, best.t + 0.5 * (1.0 - best.t) + 1e-3)
    pt = ev.evaluate(probe, probe * _reserve(p, best), np.zeros(p.n_goods))
    caps = relief(p, pt, best.strategy.caps, np.zeros(p.n_units), p.final[p.unit_good])
    return None if caps is None else Strategy(caps, best.strategy.rank, best.strategy.local)


def _improve(p: RegionalProblem, routes: Routes | None, best: _Stage1, counter: list) -> _Stage1:
    """Re-plan with dispatches priced by the bottleneck while that raises ``t``."""
    for _ in range(STRATEGY_ROUNDS):
        if best.t >= 1.0 - 1e-12:
            break
        improved = False
        for strategy in (_relieved(p, routes, best), _nearest(p, routes, best), _priced(p, best)):
            if strategy is None:
                continue
            bar = best.t * (1 + 1e-9) + 1e-12
            trial = _search(p, routes, strategy, counter, best.reserve, above=bar)
            if trial.t > bar:
                best, improved = trial, True
        if not improved:
            break
    return best


def _frozen(p: RegionalProblem, b: Bottleneck | None, depth: int = 0) -> np.ndarray:
    """The region-profile pairs a bottleneck holds: every pair of its region, or for a national
    bound the pairs whose bundle holds its good or a good made with it (all pairs when none
    does), ``(R, m)``."""
    if b is None:
        return np.ones(p.active.shape, dtype=bool)
    if b.region >= 0:
        out = np.zeros(p.active.shape, dtype=bool)
        out[b.region] = True
        return out
    direct = (p.bundles[users(p, b.good, depth)] > 0).any(axis=0)
    return np.broadcast_to(direct[None, :] if direct.any() else True, p.active.shape).copy()


def _reserve(p: RegionalProblem, s1: _Stage1) -> np.ndarray:
    """The stage's closing stocks per unit of fulfilment, ``(R, n)`` (zero without a reserve)."""
    return np.zeros((p.n_regions, p.n_goods)) if s1.reserve is None else s1.reserve


def _fill(p: RegionalProblem, routes: Routes | None, best: _Stage1, counter: list) -> _Stage1:
    """Raise the fulfilment of the pairs the max-min's bottleneck does not hold (progressive
    filling: the pairs a round's bottleneck holds keep their level, the others rise together);
    ``best.c`` is the result."""
    c0 = np.where(p.active, best.t, 1.0)
    if best.t >= 1.0 - 1e-12:
        return replace(best, c=c0)
    ev = Evaluator(p, routes, 1, np.zeros(p.n_units), best.strategy)
    # the reserve stays at the max-min's level: tomorrow is planned for at least ``t``
    zero_t, zero_g = best.t * _reserve(p, best), np.zeros(p.n_goods)
    c = water_fill(c0, ~p.active | _frozen(p, best.bottleneck), lambda x: ev.evaluate(x, zero_t, zero_g),
                   lambda b, free, _c: spread(lambda d: _frozen(p, b, d), free), tol=STAGE1_TOL)
    point = best.point if (c == c0).all() else ev.evaluate(c, zero_t, zero_g)
    counter[0] += ev.evaluations
    return replace(best, c=c, point=point)


def _consumption(p: RegionalProblem, routes: Routes | None, counter: list, supply: np.ndarray,
                 reserve: np.ndarray | None = None) -> _Stage1:
    """The best of the strategies (see the module docstring), then the filling (:func:`_fill`)."""
    return _fill(p, routes, _max_min(p, routes, counter, supply, reserve), counter)


def _max_min(p: RegionalProblem, routes: Routes | None, counter: list, supply: np.ndarray | None = None,
             reserve: np.ndarray | None = None) -> _Stage1:
    """The largest common fulfilment, the best of the strategies (units capped at ``supply``),
    keeping ``t * reserve`` in closing stock."""
    supply = supply_caps(p) if supply is None else supply
    caps = np.where(p.final[p.unit_good], np.minimum((1.0 - p.investment_share) * p.unit_capacity, supply), 0.0)
    best = _search(p, routes, Strategy(caps, np.zeros(p.n_units), p.n_regions > 1), counter, reserve)
    if best.t >= 1.0 - 1e-12:
        return best
    best = _improve(p, routes, best, counter)
    if p.n_regions > 1 and best.t < 1.0 - 1e-12:
        pooled = _search(p, routes, Strategy(caps, np.zeros(p.n_units), False), counter, reserve)
        pooled = _improve(p, routes, pooled, counter)
        best = pooled if pooled.t > best.t else best
    return best


def _shipments(p: RegionalProblem, point: Point) -> tuple[np.ndarray, np.ndarray]:
    cols = np.flatnonzero(~p.labour_mask)
    out = []
    for res in (point.morning, point.evening):
        s = np.zeros((p.n_edges, p.n_goods))
        for routes, flows in (res.parts if res is not None else ()):
            s[:, cols] += routes.edge_flows(flows, p.keep[:, cols])
        out.append(s)
    return out[0], out[1]


def _steady(p: RegionalProblem, routes: Routes | None, strategy: Strategy) -> np.ndarray:
    """Unit outputs of the least plan that fulfils every need from production alone (no stocks:
    the stock-neutral production ``y = use(y) + needs``) with the dispatch ``strategy``, feasible
    or not, ``(U,)``."""
    bare = replace(p, stocks=np.zeros_like(p.stocks))
    ev = Evaluator(bare, routes, 1, np.zeros(p.n_units), strategy)
    return ev.evaluate(1.0, np.zeros((p.n_regions, p.n_goods)), np.zeros(p.n_goods)).q


def reserve(problem: RegionalProblem, routes: Routes | None = None) -> np.ndarray:
    """Tomorrow's inputs from other regions per unit of fulfilment, ``(R, n)``: the pipeline
    (:func:`~innatura.planner.regional.result.pipeline_targets`) of the stock-neutral plan that
    fulfils every need (units within their capacities, each region's own units first). A plan
    of fulfilment ``t`` keeps ``t`` times this in closing stock so that tomorrow can repeat
    today: with the overnight timing, a plan that spends today what tomorrow's units need on
    hand is not repeated tomorrow."""
    p = problem
    routes = Routes(p) if routes is None and p.n_edges and p.n_regions > 1 else routes
    return pipeline_targets(p, _steady(p, routes, _full_strategy(p, np.zeros(p.n_units), p.n_regions > 1)))


def _full_strategy(p: RegionalProblem, rank: np.ndarray, local: bool) -> Strategy:
    """The dispatch of the stock-neutral plans (:func:`_steady`): the final goods' units at their
    capacity, in the order ``rank``."""
    return Strategy(np.where(p.final[p.unit_good], p.unit_capacity, 0.0), rank, local)


def _full(p: RegionalProblem, routes: Routes | None, s1: _Stage1, steady: np.ndarray | None = None) -> np.ndarray:
    """Unit outputs of the least plan that would fulfil every need from production alone, with
    the consumption stage's dispatch and the units' capacities (feasible or not): what
    tomorrow's units make when the stocks are held at their targets, so what they need of
    inputs made elsewhere. Today's plan may draw on stocks instead of producing (a good still
    in stock is not made today); tomorrow's pipeline must not count on that. ``steady``: the
    stock-neutral outputs with the first search's dispatch (:func:`reserve`'s), the same plan
    when the consumption stage kept that dispatch's order."""
    if steady is None or s1.strategy.rank.any() or s1.strategy.local != (p.n_regions > 1):
        steady = _steady(p, routes, _full_strategy(p, s1.strategy.rank, s1.strategy.local))
    return np.maximum(steady, s1.point.q)


def plan_decomposed(problem: RegionalProblem, pipeline: bool = True,
                    warm: Mapping[str, float] | None = None) -> RegionalPlan:
    """The decomposed regional plan (see the module docstring); ``pipeline``: the closing
    targets include the consumption stage's inputs from other regions
    (:func:`~innatura.planner.regional.result.pipeline_targets`)."""
    from threadpoolctl import threadpool_limits

    # thin (R, goods) products: one BLAS thread is many times faster than several
    with threadpool_limits(limits=1, user_api="blas"):
        return _plan(problem, pipeline, warm)


def _plan(problem: RegionalProblem, pipeline: bool, warm: Mapping[str, float] | None) -> RegionalPlan:
    p = problem
    routes = Routes(p) if p.n_edges and p.n_regions > 1 else None
    counter = [0]
    supply = supply_caps(p)
    steady = None
    if pipeline and p.n_regions > 1:
        steady = _steady(p, routes, _full_strategy(p, np.zeros(p.n_units), True))
    s1 = _consumption(p, routes, counter, supply, None if steady is None else pipeline_targets(p, steady))
    target = p.closing_target
    capital, extra = np.zeros(target.shape), np.zeros(target.shape)
    if pipeline:
        # tomorrow's inputs from other regions if tomorrow repeats today (the closing targets),
        # and, after capital growth, those of a plan that fulfils every need and the capital
        # its regions' units need (where the capital is short, what the investment stage makes goes)
        target = target + np.maximum(pipeline_targets(p, s1.point.q), s1.t * _reserve(p, s1))
        full = _full(p, routes, s1, steady)
        capital = np.where(p.industrial[None, :], p.inputs.use(full, p.unit_region, p.n_regions, p.n_goods), 0.0)
        # and the inputs from other regions of tomorrow's capital goods, their units at the
        # investment share of their capacity
        build = p.investment_share * np.where(p.industrial[p.unit_good] & np.isfinite(p.unit_capacity),
                                              p.unit_capacity, 0.0)
        extra = np.maximum(pipeline_targets(p, full + build) - target, 0.0)
    t = np.where(p.active, s1.t, 1.0) if s1.c is None else s1.c
    final, _, kept = invest(p, routes, Consumption(t, s1.point, s1.strategy, s1.t * _reserve(p, s1)), counter,
                            target, supply, capital, extra)
    target = target + capital + extra
    share = np.divide(kept, target, out=np.zeros(target.shape), where=target > 0)
    national = s1.t
    if s1.t < 1.0 - 1e-9 and p.n_regions > 1:
        national = _max_min(merged(p), None, counter).t
    held = np.asarray(target > 0)
    # the common share of the closing targets kept (each target keeps at least this share)
    tau = float(share[held].min()) if held.any() else 0.0
    return assemble_plan(
        replace(p, closing_target=target), final.q, np.minimum(s1.point.q, final.q),
        np.where(p.active, s1.t, 1.0) if s1.c is None else s1.c, _shipments(p, final),
        tau, method="decomposed", status="decomposed", national_fulfilment=float(national),
        bottleneck=describe(p, supply_bottleneck(p, s1.bottleneck, supply)), slp_iterations=counter[0],
        warm={"t": float(s1.t), "tau": tau},
    )
