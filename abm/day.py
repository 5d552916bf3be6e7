"""One simulated day (DESIGN.md "One simulated day"; docs/model.md): report, plan, execute, observe.

Each phase is a function of the model that works on whole arrays; :meth:`PlanningEconomy.step`
calls them in order and times them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from innatura.abm.active_learning import SampledInput
from innatura.abm.execution import DeliveryResult, ProductionResult, deliver, produce, regional_allocation
from innatura.abm.planners import PlanDecision, PlanningInputs, dispatch_targets
from innatura.abm.redispatch import redispatch, static_ceiling
from innatura.abm.reporting import Evidence, NightReports, apply_defences, citizen_reports, unit_reports
from innatura.abm.transport import transport
from innatura.planner.curves import PowerLawInput, StackedCurve
from innatura.planner.economy import CurveCell

if TYPE_CHECKING:  # pragma: no cover
    from innatura.abm.model import PlanningEconomy

__all__ = [
    "DayOutcome",
    "execute",
    "observe",
    "plan",
    "regional_labour_cut",
    "report",
    "safety_target",
    "staffed_capacity",
]

logger = logging.getLogger(__name__)

_ZERO = PowerLawInput(0.0, 1.0)


@dataclass(frozen=True, eq=False)
class DayOutcome:
    """Everything a day did, per region and good ``(R, n)`` unless noted.

    ``production``, ``output_lost``, ``transport_lost``: per good ``(n,)``. ``weights``: the
    reported demand weights ``(R, m)`` the allocation was split by.
    """

    reports: NightReports
    decision: PlanDecision
    targets: np.ndarray
    opening: np.ndarray
    closing: np.ndarray
    production: ProductionResult
    produced: np.ndarray
    output_lost: np.ndarray
    stock_lost: np.ndarray
    transport_lost: np.ndarray
    delivery: DeliveryResult
    weights: np.ndarray
    edge_load: np.ndarray | None = None  # units carried along each directed edge today, all goods, (D,)
    planned_targets: np.ndarray | None = None  # the plan's targets per unit, before regional re-dispatch, (U,)


def report(model: PlanningEconomy) -> NightReports:
    """Citizens report demand factors, units their input and capacity factors; validated."""
    st, lay = model.state, model.layout
    day = st.day + 1
    evidence = Evidence(day, st.unit_output, st.unit_target, st.unit_true_use, st.unit_reported_use,
                        st.citizen_received)
    cf, cflag = citizen_reports(st.citizen_code, st.citizen_strategies, st.citizen_param, day, model.rng,
                                st.citizen_factor, evidence=evidence)
    uf, capf, uflag = unit_reports(st.unit_code, st.unit_strategies, st.unit_param, day, model.rng,
                                   st.unit_input_factor, evidence=evidence)
    reports = NightReports(cf, uf, lay.unit_capacity * capf, int(cflag.sum() + uflag.sum()))
    reports = apply_defences(model.defences, reports, evidence)
    st.citizen_factor = reports.citizen_factor
    st.unit_input_factor = reports.unit_input_factor
    st.unit_reported_capacity = reports.unit_capacity
    return reports


def _unit_fits(model: PlanningEconomy, u: int) -> list[SampledInput]:
    st = model.state
    key = (int(st.sample_version[u]), float(st.unit_input_factor[u]))
    hit = model._fit_cache.get(u)
    if hit is None or hit[0] != key:
        hit = (key, st.samples[u].fitted(key[1]))
        model._fit_cache[u] = hit
    return hit[1]


def reported_curves(model: PlanningEconomy, capacity: np.ndarray | None = None) -> tuple[CurveCell, ...]:
    """The curve cells of the reported economy: each cell's units stacked with their reports
    (and ``capacity`` per unit, default the reported capacities)."""
    st = model.state
    cap = st.unit_reported_capacity if capacity is None else capacity
    cells = []
    for c, (row, col, units, local) in enumerate(model._cells):
        caps = tuple(float(cap[u]) for u in units)
        key = tuple((int(st.sample_version[u]), float(st.unit_input_factor[u])) for u in units) + caps
        hit = model._cell_cache.get(c)
        if hit is None or hit[0] != key:
            funcs = tuple(_unit_fits(model, u)[k] if k >= 0 else _ZERO for u, k in zip(units, local, strict=True))
            hit = (key, CurveCell(row, col, StackedCurve(caps, funcs)))
            model._cell_cache[c] = hit
        cells.append(hit[1])
    return tuple(cells)


def plan(model: PlanningEconomy, reports: NightReports) -> tuple[PlanningInputs, PlanDecision, np.ndarray, np.ndarray]:
    """The central planner aggregates the reports, calls the planning method and sets targets.

    The plan is national, labour is regional (docs/model.md, "Regional friction"). Unless the
    method sets unit targets itself, the night is re-planned up to
    ``model.regional_labour_rounds`` times: each round cuts the capacity of every unit in a
    region whose labour the plan overdraws to the part of its target that labour can staff
    (:func:`regional_labour_cut`), so output moves to units elsewhere or the plan shrinks to
    what the regions can make. Capacities only fall, so the rounds settle.

    Returns:
        ``(inputs, decision, targets per unit, reported demand weights (R, m))``.
    """
    lay = model.layout
    R, m = lay.population.shape
    key = lay.citizen_region * m + lay.citizen_profile
    # float even with no citizens at all (bincount of nothing is an integer array)
    weights = np.bincount(key, reports.citizen_factor, minlength=R * m).reshape(R, m).astype(float, copy=False)
    unit_cap = staffed_capacity(model, reports.unit_capacity)
    for _ in range(1 + (model.regional_labour_rounds if lay.n_regions > 1 else 0)):
        inputs, decision, targets = _plan_once(model, weights, unit_cap)
        if decision.unit_targets is not None:
            break
        cut = regional_labour_cut(model, decision.unit_inputs)
        if cut is None:
            break
        unit_cap = np.minimum(unit_cap, np.maximum(targets * cut, 1e-9 * np.where(np.isfinite(unit_cap), unit_cap, 1.0)))
    return inputs, decision, targets, weights


def _plan_once(model: PlanningEconomy, weights: np.ndarray, unit_cap: np.ndarray):  # noqa: ANN202
    """One call of the planning method with unit capacities ``unit_cap``: (inputs, decision
    with the planned input use per entry, targets per unit)."""
    st, lay = model.state, model.layout
    economy = replace(lay.economy, curves=reported_curves(model, unit_cap), population=weights.sum(axis=0))
    capacity = np.bincount(lay.unit_good, unit_cap, minlength=lay.n_goods)
    inputs = PlanningInputs(
        day=st.day + 1, economy=economy, stocks=st.stocks.sum(axis=0), labour_supply=lay.labour_supply.sum(axis=0),
        capacity=capacity, investment_share=model.investment_share, safety_stock=safety_target(model),
        regional_stocks=st.stocks.copy(),
        regional_demand=weights, unit_good=lay.unit_good, unit_region=lay.unit_region,
        unit_capacity=unit_cap, rng=model.rng,
    )
    decision = model.central_planner.plan(inputs)
    targets = decision.unit_targets
    if targets is None:
        targets = dispatch_targets(decision.production, lay.unit_good, unit_cap, lay.unit_stack,
                                   lay.unit_pooled, lay.pool_share)
    targets = np.asarray(targets, dtype=float)
    if decision.unit_inputs is None:
        decision = replace(decision, unit_inputs=planned_use(model, targets))
    return inputs, decision, targets


def regional_labour_cut(model: PlanningEconomy, use: np.ndarray) -> np.ndarray | None:
    """Per unit, the share of its target its region's labour can staff, ``(U,)``, or ``None``
    when every region has the labour the plan asks of it.

    The plan's labour use (``use``: per (unit, input) entry) is summed per region and labour
    type; a type asked ``rho > 1`` times its supply in a region cuts every unit there that uses
    it to ``1 / rho`` of its target (the smallest over the unit's labour types).
    """
    lay = model.layout
    ti = lay.true_inputs
    R, n = lay.labour_supply.shape
    lab = lay.labour_mask[ti.good]
    cell = lay.unit_region[ti.unit] * n + ti.good
    demand = np.bincount(cell[lab], use[lab], minlength=R * n).reshape(R, n)
    supply = lay.labour_supply
    over = lay.labour_mask[None, :] & (demand > supply * (1.0 + 1e-9) + 1e-12)
    if not over.any():
        return None
    ratio = np.divide(supply, demand, out=np.ones_like(demand), where=over)
    f_entry = np.where(lab & (use > 0), ratio.ravel()[cell], 1.0)
    cut = np.ones(lay.n_units)
    np.minimum.at(cut, ti.unit, f_entry)
    return cut


def safety_target(model: PlanningEconomy) -> float | np.ndarray:
    """The safety stocks the planner keeps tonight (docs/model.md, "Safety stocks"): the
    model's ``safety_stock`` days of yesterday's whole draw on each good (inputs used up,
    consumption delivered), investment included; on the first night, days of the plan's own
    consumption-stage draw (a number for :func:`planner.daily_plan.plan_day`)."""
    beta = model.safety_stock
    draw = model.state.last_draw
    if beta == 0.0 or draw is None:
        return beta
    return beta * np.where(model.layout.industrial | model.layout.labour_mask, 0.0, np.maximum(draw, 0.0))


def staffed_capacity(model: PlanningEconomy, capacity: np.ndarray) -> np.ndarray:
    """Each unit's capacity as far as its region's labour can staff it, ``(U,)``.

    Labour never moves between regions, so a unit can only make what its region's labour
    supply allows: the region's supply of each labour type goes to its units in stacking order
    (:func:`abm.redispatch.static_ceiling`, ``method="stacked"``), each taking what it needs at
    full capacity. The planner sees these capacities (in the curves, the per-good capacity and
    the dispatch), so that a national plan gives no targets to units no one can work in. On
    with ``PlanningEconomy(..., staffed_capacity=True)`` (off by default: it makes the plan regionally
    feasible, plan error near 0, but lowers what the planner dares to plan).
    """
    lay = model.layout
    if not model.staffed_capacity or lay.n_regions < 2:
        return np.asarray(capacity, dtype=float)
    cap = np.asarray(capacity, dtype=float)
    finite = np.isfinite(cap)
    if not finite.any():
        return cap
    probe = np.where(finite, cap, 0.0)
    ceil = static_ceiling(probe, lay.unit_region, lay.true_inputs, np.zeros_like(lay.labour_supply),
                          lay.labour_supply, lay.labour_mask, lay.labour_mask, method="stacked", rank=lay.unit_stack)
    # a stacked curve needs positive capacities: an unstaffed unit keeps a negligible one
    return np.where(finite, np.minimum(cap, np.maximum(ceil, 1e-9 * cap)), cap)


def planned_use(model: PlanningEconomy, targets: np.ndarray) -> np.ndarray:
    """The plan's input use of every (unit, input) entry at ``targets``, ``(E,)``: the units'
    REPORTED curves for the inputs they learn, the public constant coefficients otherwise."""
    ti = model.layout.true_inputs
    out = ti.use(np.maximum(targets, 0.0))
    for u, ent in model._learned.items():
        if targets[u] > 0 and ent.size:
            out[ent] = [f(float(targets[u])) for f in _unit_fits(model, u)]
    return out


def execute(model: PlanningEconomy, reports: NightReports, decision: PlanDecision, targets: np.ndarray,
            weights: np.ndarray) -> DayOutcome:
    """Run the plan with the TRUE technology (docs/model.md, "Execution").

    The day has ``model.shifts`` shifts. In each, goods first move along the region graph
    (shortest paths, within the edges' daily capacity) towards the units that still need them
    and the citizens they are owed to
    (:func:`~abm.execution.transport`), then units produce what the inputs on hand allow of the
    rest of their target (:func:`~abm.execution.produce`); so an input made in one region
    reaches a unit in another a shift later, and a unit short of inputs makes less, which
    propagates downstream. Each unit draws first what the plan allotted it
    (``decision.unit_inputs``: its reported input use at its target); a unit whose TRUE use exceeds its report takes the excess only from what
    is not owed to citizens tonight (the share ``1 - owed / (stock + output still to come)``), so
    misjudged curves cut investment, not consumption. Then the loss events strike, goods move once more, and citizens
    receive their allocation (:func:`~abm.execution.deliver`).

    With ``PlanningEconomy(..., regional_dispatch=True)`` (off by default), each shift first moves the part
    of a target that the unit's region cannot staff or equip (labour supply, capital on hand)
    to the good's units elsewhere with headroom (:func:`abm.redispatch.redispatch`); every
    good's national target is kept. ``DayOutcome.targets`` are the targets executed,
    ``DayOutcome.planned_targets`` the plan's.
    """
    st, lay, rng = model.state, model.layout, model.rng
    R, n = st.stocks.shape
    opening = st.stocks.copy()
    W = weights.sum(axis=0)
    wn = np.divide(weights, W[None, :], out=np.zeros_like(weights), where=W[None, :] > 0)
    owed = regional_allocation(wn, decision.allocation)  # (R, n) what each region hands out tonight
    owed_total = owed.sum(axis=0)
    ti = lay.true_inputs
    cell = lay.unit_region[ti.unit] * n + ti.good
    t = np.maximum(targets, 0.0)
    full = ti.use(t)
    consumed = ~lay.industrial[ti.good]
    entitled = decision.unit_inputs if decision.unit_inputs is not None else planned_use(model, t)
    loss = None
    if model.output_loss[0] > 0:
        hit = rng.random(lay.n_units) < model.output_loss[0]
        loss = np.where(hit, model.output_loss[1], 0.0)
    stocks = opening
    labour = lay.labour_supply.copy()
    done = np.zeros(lay.n_units)
    used = np.zeros((R, n))
    out_lost = np.zeros(lay.n_units)
    t_lost = np.zeros(n)
    out_cell = lay.unit_region * n + lay.unit_good
    prod = None
    cap_left = lay.edge_capacity.copy()  # units per day, shared by the day's shipments
    edge_load = np.zeros(lay.edge_capacity.shape)
    plan_targets = t.copy()
    regional = model.regional_dispatch
    if regional:
        static = lay.industrial | lay.labour_mask
        rep_cap = np.minimum(lay.unit_capacity, reports.unit_capacity)
        by_good = np.bincount(lay.unit_good, t, minlength=n)[lay.unit_good]
        cap_eff = np.where(np.isfinite(rep_cap), np.maximum(rep_cap, t), t + by_good)
    for _ in range(model.shifts):
        left = np.where(consumed, full - ti.use(done), full)
        requested = np.bincount(cell, left, minlength=R * n).reshape(R, n)
        requested[:, lay.labour_mask] = 0.0
        moved = transport(stocks, requested + owed, lay.paths, cap_left, lay.edge_loss, model.path_keep)
        cap_left = np.maximum(cap_left - moved.load, 0.0)
        edge_load += moved.load
        t_lost += moved.lost
        if regional:
            # targets this region cannot staff or equip go to the good's units elsewhere
            c_now = static_ceiling(t, lay.unit_region, ti, moved.stocks, lay.labour_supply, static, lay.labour_mask)
            c_max = static_ceiling(cap_eff, lay.unit_region, ti, moved.stocks, lay.labour_supply, static,
                                   lay.labour_mask)
            t_new = redispatch(t, done, c_now, c_max, lay.unit_good, n)
            if not np.array_equal(t_new, t):
                full_new = ti.use(t_new)
                entitled = entitled + np.maximum(full_new - full, 0.0)
                t, full = t_new, full_new
        # use beyond a unit's allotment may not touch the share of a good owed to citizens
        coming = moved.stocks.sum(axis=0) + np.bincount(lay.unit_good, t - done, minlength=n)
        reserve = np.divide(owed_total, coming, out=np.zeros(n), where=coming > 0)
        prod = produce(t, lay.unit_region, lay.unit_good, ti, moved.stocks, labour, lay.industrial, lay.labour_mask,
                       loss, done=done, entitled=entitled, reserve=reserve)
        made = np.bincount(out_cell, (prod.output - done) - prod.output_lost, minlength=R * n).reshape(R, n)
        stocks = moved.stocks + made
        stocks[:, ~lay.industrial] -= prod.used[:, ~lay.industrial]
        stocks[:, lay.labour_mask] = 0.0
        stocks = np.maximum(stocks, 0.0)
        labour = np.maximum(labour - prod.used * lay.labour_mask, 0.0)
        used += prod.used
        out_lost += prod.output_lost
        done = prod.output
        if np.all(done >= t * (1 - 1e-12)):
            break
    prod = replace(prod, used=used, output_lost=out_lost)
    stock_lost = np.zeros((R, n))
    for ev in lay.loss_events if (model.noise is not None or lay.losses_enabled) else ():
        p = model.noise if model.noise is not None else ev.probability
        draws = rng.random(1 if ev.scope == "economy" else R)
        hit = np.broadcast_to(draws < p, (R,))
        lost = stocks[:, ev.goods] * ev.fraction * hit[:, None]
        stock_lost[:, ev.goods] += lost
        stocks[:, ev.goods] -= lost
    # evening: bring what was made to the citizens, and capital towards tomorrow's units
    need = owed + np.bincount(cell, full, minlength=R * n).reshape(R, n) * lay.industrial
    moved = transport(stocks, need, lay.paths, cap_left, lay.edge_loss, model.path_keep)
    edge_load += moved.load
    t_lost += moved.lost
    delivery = deliver(moved.stocks, decision.allocation, weights, lay.economy.bundles, lay.population)
    closing = np.maximum(moved.stocks - delivery.delivered, 0.0)
    produced = np.bincount(lay.unit_good, prod.output, minlength=n)
    return DayOutcome(
        reports=reports, decision=decision, targets=t, opening=opening, closing=closing, production=prod,
        produced=produced, output_lost=np.bincount(lay.unit_good, out_lost, minlength=n),
        stock_lost=stock_lost, transport_lost=t_lost, delivery=delivery, weights=weights, edge_load=edge_load,
        planned_targets=plan_targets,
    )


def observe(model: PlanningEconomy, out: DayOutcome) -> None:
    """Tomorrow's evidence: stocks roll over, units refit from what execution revealed, citizens
    record what they received."""
    st, lay = model.state, model.layout
    st.stocks = out.closing
    st.last_draw = out.production.used.sum(axis=0) + out.delivery.delivered.sum(axis=0)
    st.unit_target = out.targets
    st.unit_output = out.production.output
    m = lay.population.shape[1]
    grp = lay.citizen_region * m + lay.citizen_profile
    mean_f = np.divide(out.weights, lay.population, out=np.ones_like(out.weights), where=lay.population > 0).ravel()
    got = np.nan_to_num(out.delivery.region_share.ravel()[grp] / np.maximum(mean_f[grp], 1e-300) * st.citizen_factor)
    st.citizen_received = got
    st.citizen_satisfaction = got if st.day == 0 else 0.8 * st.citizen_satisfaction + 0.2 * np.minimum(got, 1.0)
    use = out.production.entry_use
    true_use = np.zeros(lay.n_units)
    rep_use = np.zeros(lay.n_units)
    for u, ent in model._learned.items():
        q = float(out.production.output[u])
        if q <= 0 or ent.size == 0:
            continue
        g = use[ent]
        fits = _unit_fits(model, u)
        true_use[u] = g.sum()
        rep_use[u] = sum(f(q) for f in fits)
        smp = st.samples[u]
        changed = smp.add(q, g, min_gap=model.observation_gap)
        if st.unit_target[u] > smp.qs[-1] * (1 + model.observation_gap) and model.daily_queries > 0:
            top = 2.0 * float(st.unit_target[u])
            changed |= smp.add(top, model.units[u].query(top))
            st.extra_queries[u] += 1
        if changed:
            smp.prune(model.max_samples)
            st.sample_version[u] += 1
    st.unit_true_use = true_use
    st.unit_reported_use = rep_use
    st.externalities += float(lay.economy.externality_weights @ out.produced)
