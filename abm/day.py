"""One simulated day as data flowing through four phases (docs/architecture.md, "One day as a
data flow"; docs/model.md): report, plan, execute, observe.

Each phase takes what it uses and returns a named, frozen result; none changes the model's
state, which :meth:`abm.model.PlanningEconomy.step` rolls over from the results:

* :func:`report` -> :class:`~abm.reporting.NightReports`: citizens and units report (through
  their classes' whole-population methods), reports are validated, defences applied;
* :func:`plan` -> :class:`~abm.night.NightPlan`: the central planner plans the night;
* :func:`execute` -> :class:`DayOutcome`: units produce with their TRUE technology, shift by
  shift, goods are lost, shipped and handed out;
* :func:`observe` -> :class:`DayObservation`: tomorrow's evidence: stocks roll over, units
  refit from what execution revealed, citizens record what they received.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from innatura.abm.agents import Citizen, ProductionUnit, Region
from innatura.abm.delivery import DeliveryResult, deliver, regional_allocation
from innatura.abm.execution import ProductionResult
from innatura.abm.loss_events import strike_losses
from innatura.abm.night import NightPlan
from innatura.abm.planning import PlanDecision
from innatura.abm.redispatch import redispatch, static_ceiling
from innatura.abm.reporting import (
    CITIZEN_FACTOR_MAX,
    UNIT_FACTOR_MAX,
    NightReports,
    apply_defences,
    validate_factors,
)
from innatura.abm.workday import Workday, follows, morning, phase_shifts, release, send_later, unforeseen

if TYPE_CHECKING:  # pragma: no cover
    from innatura.abm.model import PlanningEconomy

__all__ = ["DayObservation", "DayOutcome", "execute", "observe", "phase_shifts", "plan", "report"]

logger = logging.getLogger(__name__)

#: a target above a unit's TRUE capacity by more than this factor is cut to the capacity;
#: within it, it is the plan's rounding (LP solutions overshoot capacities by ~1e-13).
CAPACITY_ROUNDING = 1.0 + 1e-9


@dataclass(frozen=True, eq=False)
class DayOutcome:
    """Everything a day did, per region and good ``(R, n)`` unless noted.

    ``produced``, ``output_lost``, ``transport_lost``: per good ``(n,)``. ``weights``: the
    reported demand weights ``(R, m)`` the allocation was split by. ``targets``: the targets
    executed per unit ``(U,)``; ``planned_targets``: the plan's, before regional re-dispatch.
    ``edge_load``: units each directed edge carried, all goods and transports, ``(D,)``; of it,
    ``edge_followed`` carried the plan's shipments and ``shipped_goods`` is that per good
    ``(D, n)`` (``None`` when the plan had no shipments).
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
    edge_followed: np.ndarray | None = None  # units the plan's shipments carried along each edge, (D,)
    shipped_goods: np.ndarray | None = None  # the same per good, (D, n)


@dataclass(frozen=True, eq=False)
class DayObservation:
    """What the day leaves for tomorrow (the new values of :class:`abm.state.State`'s fields).

    Attributes:
        stocks: closing stocks, ``(R, n)``.
        last_draw: the day's national draw on each good (inputs used up, consumption), ``(n,)``.
        regional_draw: the same per region, ``(R, n)``.
        unit_target, unit_output: per unit, ``(U,)``.
        unit_true_use, unit_reported_use: per unit, its true and its reported use of its learned
            inputs at its output, ``(U,)``.
        citizen_received, citizen_satisfaction: per citizen, ``(C,)``.
        externalities: cumulative externalities (OLIN-EP Eq. 6).
    """

    stocks: np.ndarray
    last_draw: np.ndarray
    regional_draw: np.ndarray
    unit_target: np.ndarray
    unit_output: np.ndarray
    unit_true_use: np.ndarray
    unit_reported_use: np.ndarray
    citizen_received: np.ndarray
    citizen_satisfaction: np.ndarray
    externalities: float


# -- report --------------------------------------------------------------------------------------
def report(model: PlanningEconomy) -> NightReports:
    """Citizens report demand factors, units input and capacity factors, each kind through its
    classes' whole-population methods (:meth:`Citizen.report_demands`,
    :meth:`ProductionUnit.report_all`); then validated and defended (``model.defence_chain``)."""
    lay = model.layout
    evidence = model.state.evidence()
    demand = np.ones(lay.n_citizens)
    for cls, index in model.groups(Citizen):
        demand[index] = cls.report_demands(model, index, evidence)
    inputs, capacity = np.ones(lay.n_units), np.ones(lay.n_units)
    for cls, index in model.groups(ProductionUnit):
        inputs[index], capacity[index] = cls.report_all(model, index, evidence)
    cf, cflag = validate_factors(demand, 0.0, CITIZEN_FACTOR_MAX)
    uf, f1 = validate_factors(inputs, 1.0 / UNIT_FACTOR_MAX, UNIT_FACTOR_MAX)
    capf, f2 = validate_factors(capacity, 1.0 / UNIT_FACTOR_MAX, UNIT_FACTOR_MAX)
    reports = NightReports(cf, uf, lay.unit_capacity * capf, int(cflag.sum() + (f1 | f2).sum()),
                           flagged_citizens=cflag, flagged_units=f1 | f2)
    return apply_defences(model.defence_chain, reports, evidence)


# -- plan ----------------------------------------------------------------------------------------
def plan(model: PlanningEconomy, reports: NightReports) -> NightPlan:
    """The central planner turns ``reports`` into the night's plan
    (:meth:`abm.central_planner.CentralPlanner.plan_night`)."""
    return model.central_planner.plan_night(reports)


# -- execute -------------------------------------------------------------------------------------
def execute(model: PlanningEconomy, night: NightPlan) -> DayOutcome:
    """Run the night's plan with the TRUE technology (docs/model.md, "Execution").

    The day has ``settings.shifts`` shifts. In each, goods first move along the region graph
    (shortest paths, within the edges' daily capacity) towards the units that still need them
    and the citizens they are owed to (:meth:`Region.ship`), then units produce what the inputs
    on hand allow of the rest of their target (:meth:`ProductionUnit.produce`); so an input made
    in one region reaches a unit in another a shift later, and a unit short of inputs makes
    less, which propagates downstream. Each unit draws first what the plan allotted it
    (``decision.unit_inputs``: its reported input use at its target); a unit whose TRUE use
    exceeds its report takes the excess only from what is not owed to citizens tonight (the
    share ``1 - owed / (stock + output still to come)``), so misjudged curves cut investment,
    not consumption. A target above the unit's TRUE capacity is cut to it (a unit that
    overstated its capacity cannot make what it claimed). Then the loss events strike, goods
    move once more, and citizens receive their allocation (:func:`~abm.execution.deliver`).

    A regional plan (docs/model.md, "The regional plan") says what to ship: its morning
    shipments leave from the opening stocks before the first shift and its evening shipments
    after the loss events, before delivery (:func:`abm.transport.follow_shipments`, cut where
    a region holds less than planned); a plan in layers (``timing="layers"``) adds its phase
    shipments to the day's shipments before the first shift of their layer
    (:func:`phase_shifts`). Each region owes its citizens the plan's deliveries.
    The first shift then produces from what is on hand; before each further shift, and after the
    evening shipments, execution's transport moves only what the plan did not foresee: from
    stock beyond what a region's units, citizens and planned departures need, towards units and
    citizens left short.

    With ``regional_dispatch`` (off by default), each shift first moves the part of a target
    that the unit's region cannot staff or equip (labour supply, capital on hand) to the good's
    units elsewhere with headroom (:func:`abm.redispatch.redispatch`); every good's national
    target is kept.
    """
    lay, s, rng = model.layout, model.settings, model.rng
    opening = model.state.stocks.copy()
    weights, decision = night.weights, night.decision
    W = weights.sum(axis=0)
    wn = np.divide(weights, W[None, :], out=np.zeros_like(weights), where=W[None, :] > 0)
    owed = regional_allocation(wn, decision.allocation)  # (R, n) what each region hands out tonight
    if decision.delivered is not None:
        owed = np.asarray(decision.delivered, dtype=float)
    planned = np.maximum(night.targets, 0.0)
    # a unit makes at most its TRUE capacity, whatever it reported (the plan's rounding passes)
    t = np.where(planned > lay.unit_capacity * CAPACITY_ROUNDING, lay.unit_capacity, planned)
    loss = None
    if s.output_loss[0] > 0:
        hit = rng.random(lay.n_units) < s.output_loss[0]
        loss = np.where(hit, s.output_loss[1], 0.0)
    R, n = opening.shape
    work = Workday(targets=t, full=lay.true_inputs.use(t), entitled=night.unit_inputs, stocks=opening,
                    labour=lay.labour_supply.copy(), done=np.zeros(lay.n_units), used=np.zeros((R, n)),
                    output_lost=np.zeros(lay.n_units), transport_lost=np.zeros(n),
                    edge_left=lay.edge_capacity.copy(), edge_load=np.zeros(lay.edge_capacity.shape))
    dispatch = _dispatch_bounds(lay, night) if s.regional_dispatch else None
    if follows(decision):
        morning(model, work, decision)
    prod = _shift(model, work, owed, loss, dispatch, first=True)
    for shift in range(1, s.shifts):
        if np.all(work.done >= work.targets * (1 - 1e-12)):
            break
        release(work, shift)
        prod = _shift(model, work, owed, loss, dispatch)
    release(work, s.shifts)
    prod = replace(prod, used=work.used, output_lost=work.output_lost)
    stock_lost = strike_losses(model, work.stocks)
    return _evening(model, work, night, opening, owed, prod, stock_lost, planned)


def _dispatch_bounds(lay: Any, night: NightPlan) -> np.ndarray:
    """The capacity regional re-dispatch may fill at each unit: its reported capacity (at
    least its target), or, when unbounded, its target plus its good's whole target."""
    t = np.maximum(night.targets, 0.0)
    rep_cap = np.minimum(lay.unit_capacity, night.reports.unit_capacity)
    by_good = np.bincount(lay.unit_good, t, minlength=lay.n_goods)[lay.unit_good]
    return np.where(np.isfinite(rep_cap), np.maximum(rep_cap, t), t + by_good)


def _shift(model: PlanningEconomy, work: Workday, owed: np.ndarray, loss: np.ndarray | None,
           dispatch: np.ndarray | None, first: bool = False) -> ProductionResult:
    """One shift: ship towards what units and citizens still need (a regional plan: only what it
    did not foresee, and not before the first shift), re-dispatch (optional), produce; returns
    the shift's production (``output``: cumulative over the day)."""
    lay = model.layout
    ti = lay.true_inputs
    R, n = work.stocks.shape
    cell = lay.unit_region[ti.unit] * n + ti.good
    consumed = ~lay.industrial[ti.good]
    left = np.where(consumed, work.full - ti.use(work.done), work.full)
    requested = np.bincount(cell, left, minlength=R * n).reshape(R, n)
    requested[:, lay.labour_mask] = 0.0
    if work.later is None:
        moved = Region.ship(model, work.stocks, requested + owed, work.edge_left)
        work.edge_left = np.maximum(work.edge_left - moved.load, 0.0)
        work.edge_load += moved.load
        work.transport_lost += moved.lost
        on_hand = moved.stocks
    elif first:
        on_hand = work.stocks
    else:
        departing = send_later(model, work, owed, requested)
        work.stocks = unforeseen(model, work, work.stocks - requested - owed - departing, requested - work.stocks)
        on_hand = work.stocks
    if dispatch is not None:
        _redispatch(lay, work, on_hand, dispatch)
    # use beyond a unit's allotment may not touch the share of a good owed to citizens
    coming = on_hand.sum(axis=0) + np.bincount(lay.unit_good, work.targets - work.done, minlength=n)
    reserve = np.divide(owed.sum(axis=0), coming, out=np.zeros(n), where=coming > 0)
    prod = ProductionUnit.produce(model, work.targets, on_hand, work.labour, output_loss=loss, done=work.done,
                                  entitled=work.entitled, reserve=reserve)
    out_cell = lay.unit_region * n + lay.unit_good
    made = np.bincount(out_cell, (prod.output - work.done) - prod.output_lost, minlength=R * n).reshape(R, n)
    stocks = on_hand + made
    stocks[:, ~lay.industrial] -= prod.used[:, ~lay.industrial]
    stocks[:, lay.labour_mask] = 0.0
    work.stocks = np.maximum(stocks, 0.0)
    work.labour = np.maximum(work.labour - prod.used * lay.labour_mask, 0.0)
    work.used += prod.used
    work.output_lost += prod.output_lost
    work.done = prod.output
    return prod


def _redispatch(lay: Any, work: Workday, stocks: np.ndarray, dispatch: np.ndarray) -> None:
    """Move the targets a region cannot staff or equip to the good's units elsewhere."""
    ti = lay.true_inputs
    static = lay.industrial | lay.labour_mask
    c_now = static_ceiling(work.targets, lay.unit_region, ti, stocks, lay.labour_supply, static, lay.labour_mask)
    c_max = static_ceiling(dispatch, lay.unit_region, ti, stocks, lay.labour_supply, static, lay.labour_mask)
    t_new = redispatch(work.targets, work.done, c_now, c_max, lay.unit_good, lay.n_goods)
    if not np.array_equal(t_new, work.targets):
        full_new = ti.use(t_new)
        work.entitled = work.entitled + np.maximum(full_new - work.full, 0.0)
        work.targets, work.full = t_new, full_new


def _evening(model: PlanningEconomy, work: Workday, night: NightPlan, opening: np.ndarray, owed: np.ndarray,
             prod: ProductionResult, stock_lost: np.ndarray, planned: np.ndarray) -> DayOutcome:
    """Bring what was made to the citizens (and capital towards tomorrow's units), hand it out."""
    lay = model.layout
    ti = lay.true_inputs
    R, n = work.stocks.shape
    decision = night.decision
    if work.later is None:
        cell = lay.unit_region[ti.unit] * n + ti.good
        need = owed + np.bincount(cell, work.full, minlength=R * n).reshape(R, n) * lay.industrial
        moved = Region.ship(model, work.stocks, need, work.edge_left)
        work.edge_load += moved.load
        work.transport_lost += moved.lost
        on_hand = moved.stocks
    else:
        send_later(model, work, owed, np.zeros_like(owed))
        on_hand = work.stocks = unforeseen(model, work, work.stocks - owed, owed - work.stocks)
    delivery = deliver(on_hand, decision.allocation, night.weights, lay.economy.bundles, lay.population,
                       regional_fulfilment=decision.regional_fulfilment if decision.delivered is not None else None)
    closing = np.maximum(on_hand - delivery.delivered, 0.0)
    return DayOutcome(
        reports=night.reports, decision=night.decision, targets=work.targets, opening=opening, closing=closing,
        production=prod, produced=np.bincount(lay.unit_good, prod.output, minlength=n),
        output_lost=np.bincount(lay.unit_good, work.output_lost, minlength=n), stock_lost=stock_lost,
        transport_lost=work.transport_lost, delivery=delivery, weights=night.weights, edge_load=work.edge_load,
        planned_targets=planned.copy(), edge_followed=work.edge_followed, shipped_goods=work.shipped_goods,
    )


# -- observe -------------------------------------------------------------------------------------
def observe(model: PlanningEconomy, outcome: DayOutcome) -> DayObservation:
    """Tomorrow's evidence: stocks roll over, units refit from what execution revealed
    (:meth:`ProductionUnit.refit`), citizens record what they received
    (:meth:`Citizen.consume`)."""
    lay, st = model.layout, model.state
    received, satisfaction = Citizen.consume(model, outcome)
    true_use, rep_use = ProductionUnit.refit(model, outcome)
    draw = outcome.production.used + outcome.delivery.delivered
    return DayObservation(
        stocks=outcome.closing,
        last_draw=outcome.production.used.sum(axis=0) + outcome.delivery.delivered.sum(axis=0),
        regional_draw=draw,
        unit_target=outcome.targets, unit_output=outcome.production.output,
        unit_true_use=true_use, unit_reported_use=rep_use,
        citizen_received=received, citizen_satisfaction=satisfaction,
        externalities=st.externalities + float(lay.economy.externality_weights @ outcome.produced),
    )
