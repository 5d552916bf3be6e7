"""The regional plan in the agent model (docs/model.md, "The regional plan"): the night's
:class:`~innatura.planner.regional.RegionalProblem` built from the reports, and the
:class:`~innatura.planner.regional.RegionalPlan` turned into the fields of a
:class:`~abm.planning.PlanDecision` that execution follows.

* :func:`regional_problem`: units with their reported capacities and reported input functions
  (every other input is the public constant coefficient), the citizens' reported demand per
  region and profile, the opening stocks, labour and edges of the layout, and the closing
  targets of :func:`closing_target`;
* :func:`closing_target`: the safety stocks per region, ``days`` of yesterday's regional draw;
* :func:`decision_fields`: what a planning method answers from a regional plan (unit targets,
  the allocation, each region's deliveries and fulfilment, the morning and evening shipments
  and the night's diagnostics);
* :func:`plan_diagnostics`: the constraints that bind tonight, per region and good, with their
  shadow prices (:func:`~innatura.planner.regional.constraint_table`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from innatura.abm.layout import Layout
    from innatura.abm.model import PlanningEconomy
    from innatura.abm.reporting import NightReports
    from innatura.planner.regional import RegionalPlan, RegionalProblem

__all__ = ["DIAGNOSTIC_COLUMNS", "closing_target", "decision_fields", "plan_diagnostics", "regional_problem"]

logger = logging.getLogger(__name__)

#: the columns of a night's diagnostics (one row per constraint that binds, and the bottleneck)
DIAGNOSTIC_COLUMNS = ("constraint", "region", "item", "used", "limit", "slack", "shadow_price")


def regional_problem(model: PlanningEconomy, reports: NightReports, stocks: np.ndarray | None = None,
                     target: np.ndarray | None = None) -> RegionalProblem:
    """The night's :class:`~innatura.planner.regional.RegionalProblem` after ``reports``.

    Units keep their reported capacities and report their learned inputs as input functions
    (their fits times their input factors); every other input is the public constant
    coefficient. Demand is the citizens' reported weights per region and profile (citizens
    times their demand factors).

    Args:
        model: the agent model.
        reports: tonight's (defended) reports.
        stocks: opening stocks ``(R, n)``; default the model's.
        target: closing targets ``(R, n)`` (the safety stocks); default none.
    """
    from innatura.planner.regional import RegionalProblem

    lay = model.layout
    R, m = lay.population.shape
    key = lay.citizen_region * m + lay.citizen_profile
    demand = np.bincount(key, reports.citizen_factor, minlength=R * m).reshape(R, m).astype(float, copy=False)
    stocks = model.state.stocks if stocks is None else stocks
    return RegionalProblem(
        goods=lay.goods, kinds=lay.economy.kinds, regions=lay.regions, profiles=lay.profiles,
        bundles=lay.economy.bundles, demand=demand, stocks=np.where(lay.labour_mask[None, :], 0.0, stocks),
        labour=lay.labour_supply, unit_good=lay.unit_good, unit_region=lay.unit_region,
        unit_capacity=reports.unit_capacity,
        inputs=model.curves.input_use(lay.true_inputs, lay.entry_curve, model.state),
        edge_src=lay.edge_src, edge_dst=lay.edge_dst,
        edge_capacity=lay.edge_capacity, edge_loss=lay.edge_loss, investment_share=model.investment_share,
        closing_target=np.zeros((R, len(lay.goods))) if target is None else target, unit_names=lay.unit_names,
        # what execution can always do: an input made elsewhere today reaches a unit tomorrow
        # (its shifts may do better, when a chain of regions is short enough to cross in a day)
        timing="overnight",
    )


def closing_target(layout: Layout, days: float, regional_draw: np.ndarray | None) -> np.ndarray | None:
    """The regional safety stocks of tonight (docs/model.md, "Safety stocks"): ``days`` of
    yesterday's draw of each region on each final good (inputs used up there and deliveries
    to its citizens), ``(R, n)``; ``None`` on the first night or without safety stock."""
    if days == 0.0 or regional_draw is None:
        return None
    return days * np.where(layout.final[None, :], np.maximum(regional_draw, 0.0), 0.0)


def decision_fields(problem: RegionalProblem, plan: RegionalPlan) -> dict[str, Any]:
    """The keyword arguments of :class:`~abm.planning.PlanDecision` for a regional plan.

    ``fulfilment`` is each profile's share of its bundle over all regions; ``planned_humanity``
    the smallest share over region-profile pairs (Eq. 5 of the plan).
    """
    w = problem.demand * plan.fulfilment
    W = problem.demand.sum(axis=0)
    share = np.divide(w.sum(axis=0), W, out=np.ones(problem.n_profiles), where=W > 0)
    return {
        "production": np.bincount(problem.unit_good, plan.unit_targets, minlength=problem.n_goods),
        "allocation": np.asarray(plan.allocation, dtype=float), "fulfilment": share,
        "planned_humanity": float(plan.planned_humanity), "unit_targets": np.asarray(plan.unit_targets, dtype=float),
        "delivered": plan.delivered, "regional_fulfilment": plan.fulfilment,
        "morning_shipments": plan.morning_shipments, "evening_shipments": plan.evening_shipments,
        "phase_shipments": plan.phase_shipments,
        "diagnostics": plan_diagnostics(problem, plan),
    }


def plan_diagnostics(problem: RegionalProblem, plan: RegionalPlan) -> dict[str, np.ndarray]:
    """What holds each region back tonight: the constraints that bind, as columns
    :data:`DIAGNOSTIC_COLUMNS` (``region`` empty for national rows).

    Rows: every binding labour supply, capital stock, final-good stock, unit capacity and edge
    capacity (:func:`~innatura.planner.regional.constraint_table`) with its shadow price (the
    exact method's valuation: the rise of the max-min fulfilment per unit of the limit; the
    decomposed method's price of the bottleneck), and a ``bottleneck`` row naming the
    constraint that stopped the fulfilment (decomposed method) when it is below 1.
    """
    from innatura.planner.regional import constraint_table

    table = constraint_table(problem, plan, binding_only=True)
    out = {k: np.asarray(table[k], dtype=object if k in ("constraint", "region", "item") else float)
           for k in DIAGNOSTIC_COLUMNS}
    b = plan.bottleneck
    if b:
        kind, _, rest = b.partition(" of ")
        item, _, region = rest.partition(" @ ")
        extra = {"constraint": np.array(["bottleneck"], dtype=object), "region": np.array([region], dtype=object),
                 "item": np.array([f"{kind}: {item}"], dtype=object), "used": np.array([np.nan]),
                 "limit": np.array([np.nan]), "slack": np.array([0.0]), "shadow_price": np.array([np.nan])}
        out = {k: np.concatenate([extra[k], out[k]]) for k in DIAGNOSTIC_COLUMNS}
    return out
