"""The night: the central planner turns the reports into a plan (docs/model.md, "The bounded
daily plan" and "Regional friction").

:func:`plan_night` aggregates the citizens' demand factors into reported demand per region and
profile, builds the REPORTED economy (the units' reported curves, :mod:`abm.reported_curves`),
calls the planning method (:mod:`abm.planning`) through the
:class:`~abm.central_planner.CentralPlanner`, splits each good's production over its units, and returns
a :class:`NightPlan`. The helpers take the arrays they use: :func:`regional_labour_cut`,
:func:`safety_target`, :func:`staffed_capacity`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from innatura.abm.planning import PlanDecision, PlanningInputs, dispatch_targets
from innatura.abm.redispatch import static_ceiling
from innatura.abm.reporting import NightReports

if TYPE_CHECKING:  # pragma: no cover
    from innatura.abm.layout import Layout
    from innatura.abm.model import PlanningEconomy

__all__ = [
    "CAPACITY_FLOOR",
    "NightPlan",
    "plan_night",
    "regional_labour_cut",
    "safety_target",
    "staffed_capacity",
]

logger = logging.getLogger(__name__)

#: smallest capacity a cut leaves a unit, relative to its capacity (1 when unbounded): a stacked
#: curve needs positive capacities, so a unit its region cannot staff keeps a negligible one
#: instead of none.
CAPACITY_FLOOR = 1e-9


@dataclass(frozen=True, eq=False)
class NightPlan:
    """The night's plan, as execution receives it.

    Attributes:
        reports: the validated, defended reports it was made from.
        inputs: what the planning method saw (the reported economy).
        decision: the planning method's decision, with ``unit_inputs`` filled.
        unit_inputs: the input use the plan allots each (unit, input) entry of
            ``Layout.true_inputs`` at its target, ``(E,)`` (``decision.unit_inputs``).
        targets: target per unit, ``(U,)``.
        weights: reported demand weights per region and profile (citizens times their demand
            factors), ``(R, m)``: the allocation is split over regions by these.
    """

    reports: NightReports
    inputs: PlanningInputs
    decision: PlanDecision
    unit_inputs: np.ndarray
    targets: np.ndarray
    weights: np.ndarray


def plan_night(model: PlanningEconomy, reports: NightReports) -> NightPlan:
    """The central planner aggregates the reports, calls the planning method and sets targets.

    With ``settings.plan == "regional"`` the inputs carry the night's regional problem
    (:func:`abm.regional.regional_problem`, closing targets :func:`abm.regional.closing_target`),
    and a method that plans on the region graph (``olin``) sets the units' targets, each
    region's deliveries and the shipments itself (docs/model.md, "The regional plan").

    A national plan has one stock per good and one labour pool per type, while labour is
    regional (docs/model.md, "Regional friction"). Unless the method sets unit targets itself,
    the night is then re-planned up to
    ``settings.regional_labour_rounds`` times: each round cuts the capacity of every unit in a
    region whose labour the plan overdraws to the part of its target that labour can staff
    (:func:`regional_labour_cut`), so output moves to units elsewhere or the plan shrinks to
    what the regions can make. Capacities only fall, so the rounds settle.
    """
    lay, s = model.layout, model.settings
    R, m = lay.population.shape
    key = lay.citizen_region * m + lay.citizen_profile
    # float even with no citizens at all (bincount of nothing is an integer array)
    weights = np.bincount(key, reports.citizen_factor, minlength=R * m).reshape(R, m).astype(float, copy=False)
    unit_cap = staffed_capacity(lay, reports.unit_capacity) if s.staffed_capacity else \
        np.asarray(reports.unit_capacity, dtype=float)
    regional = None
    if s.plan == "regional":
        from innatura.abm.regional import closing_target, regional_problem

        target = closing_target(lay, float(s.require("safety_stock")), model.state.regional_draw)
        regional = regional_problem(model, reports, target=target)
        unit_cap = np.asarray(reports.unit_capacity, dtype=float)
    rounds = 1 + (s.regional_labour_rounds if lay.n_regions > 1 and regional is None else 0)
    for _ in range(rounds):
        inputs, decision, use, targets = _plan_once(model, weights, unit_cap, regional)
        if decision.unit_targets is not None:
            break
        cut = regional_labour_cut(lay, use)
        if cut is None:
            break
        floor = CAPACITY_FLOOR * np.where(np.isfinite(unit_cap), unit_cap, 1.0)
        unit_cap = np.minimum(unit_cap, np.maximum(targets * cut, floor))
    return NightPlan(reports=reports, inputs=inputs, decision=decision, unit_inputs=use, targets=targets,
                     weights=weights)


def _plan_once(model: PlanningEconomy, weights: np.ndarray, unit_cap: np.ndarray,
               regional: Any = None) -> tuple[PlanningInputs, PlanDecision, np.ndarray, np.ndarray]:
    """One call of the planning method with unit capacities ``unit_cap`` (and the night's
    ``regional`` problem, if any): (inputs, decision with the planned input use per entry, that
    use, targets per unit)."""
    st, lay, s = model.state, model.layout, model.settings
    economy = replace(lay.economy, curves=model.curves.curve_cells(st, unit_cap), population=weights.sum(axis=0))
    capacity = np.bincount(lay.unit_good, unit_cap, minlength=lay.n_goods)
    inputs = PlanningInputs(
        day=st.day + 1, economy=economy, stocks=st.stocks.sum(axis=0), labour_supply=lay.labour_supply.sum(axis=0),
        capacity=capacity, investment_share=float(s.require("investment_share")),
        safety_stock=safety_target(lay, float(s.require("safety_stock")), st.last_draw),
        regional_stocks=st.stocks.copy(), regional_demand=weights, unit_good=lay.unit_good,
        unit_region=lay.unit_region, unit_capacity=unit_cap, rng=model.rng, regional=regional,
    )
    decision = model.central_planner.plan(inputs)
    targets = decision.unit_targets
    if targets is None:
        targets = dispatch_targets(decision.production, lay.unit_good, unit_cap, lay.unit_stack,
                                   lay.unit_pooled, lay.pool_share)
    targets = np.asarray(targets, dtype=float)
    use = decision.unit_inputs
    if use is None:
        use = model.curves.planned_use(lay.true_inputs, st, targets)
        decision = replace(decision, unit_inputs=use)
    return inputs, decision, use, targets


def regional_labour_cut(layout: Layout, use: np.ndarray) -> np.ndarray | None:
    """Per unit, the share of its target its region's labour can staff, ``(U,)``, or ``None``
    when every region has the labour the plan asks of it.

    The plan's labour use (``use``: per (unit, input) entry) is summed per region and labour
    type; a type asked ``rho > 1`` times its supply in a region cuts every unit there that uses
    it to ``1 / rho`` of its target (the smallest over the unit's labour types).
    """
    lay = layout
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


def safety_target(layout: Layout, days: float, last_draw: np.ndarray | None) -> float | np.ndarray:
    """The safety stocks the planner keeps tonight (docs/model.md, "Safety stocks"): ``days`` of
    yesterday's whole draw on each good (inputs used up, consumption delivered), investment
    included; on the first night (no draw yet), days of the plan's own consumption-stage draw
    (a number for :func:`innatura.planner.plan.plan_day`)."""
    if days == 0.0 or last_draw is None:
        return days
    return days * np.where(layout.industrial | layout.labour_mask, 0.0, np.maximum(last_draw, 0.0))


def staffed_capacity(layout: Layout, capacity: np.ndarray) -> np.ndarray:
    """Each unit's capacity as far as its region's labour can staff it, ``(U,)``.

    Labour never moves between regions, so a unit can only make what its region's labour
    supply allows: the region's supply of each labour type goes to its units in stacking order
    (:func:`abm.redispatch.static_ceiling`, ``method="stacked"``), each taking what it needs at
    full capacity. The planner sees these capacities (in the curves, the per-good capacity and
    the dispatch), so that a national plan gives no targets to units no one can work in. On
    with ``PlanningEconomy(..., staffed_capacity=True)`` (off by default: it makes the plan
    regionally feasible, plan error near 0, but lowers what the planner dares to plan).
    """
    lay = layout
    cap = np.asarray(capacity, dtype=float)
    if lay.n_regions < 2:
        return cap
    finite = np.isfinite(cap)
    if not finite.any():
        return cap
    probe = np.where(finite, cap, 0.0)
    ceil = static_ceiling(probe, lay.unit_region, lay.true_inputs, np.zeros_like(lay.labour_supply),
                          lay.labour_supply, lay.labour_mask, lay.labour_mask, method="stacked", rank=lay.unit_stack)
    return np.where(finite, np.minimum(cap, np.maximum(ceil, CAPACITY_FLOOR * cap)), cap)
