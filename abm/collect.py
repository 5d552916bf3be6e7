"""Daily metrics and the DataCollector columns (docs/model.md, "Collected data").

:func:`day_metrics` turns a :class:`abm.day.DayOutcome` into one row of model-level metrics
(humanity Eq. 5 on what citizens received, externalities Eq. 6, fulfilment per profile and
region, inventory, unmet demand, plan error, losses, report statistics). :func:`model_reporters`
gives the matching ``mesa.DataCollector`` reporters and :func:`agent_reporters` its per-type
agent reporters (units and regions); :func:`unit_rows` and :func:`region_rows` the same
agent-level data as whole arrays, written as Parquet.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from innatura.abm.welfare import MISREPORT_COLUMNS, excess_receipts, misreport_metrics

if TYPE_CHECKING:  # pragma: no cover
    from innatura.abm.agents import EconomyAgent
    from innatura.abm.day import DayOutcome
    from innatura.abm.layout import Layout
    from innatura.abm.model import PlanningEconomy

__all__ = [
    "agent_reporters",
    "citizen_table",
    "day_metrics",
    "edge_rows",
    "metric_columns",
    "model_reporters",
    "region_rows",
    "unit_rows",
]

logger = logging.getLogger(__name__)

#: report statistics collected besides the columns that docs/model.md fixes.
REPORT_COLUMNS = (
    "report_demand_factor",  # mean demand factor reported by citizens (1 = honest)
    "report_input_factor",  # mean input factor reported by units (1 = honest)
    "report_capacity_ratio",  # reported over true capacity, mean over bounded units
    "report_curve_error",  # relative L1 error of reported vs true input use at executed output
    "invariant_violations",
    "plan_fallback",  # 1 when the planner failed and yesterday's plan was kept
    *MISREPORT_COLUMNS,  # truthful citizens' fulfilment, liars' gain, units' slack, detection (abm/welfare.py)
)


def metric_columns(layout: Layout) -> list[str]:
    """All model-level column names, in order (``day`` first)."""
    cols = ["day", "humanity", "planned_humanity", "externalities", "externalities_today", "min_fulfilment",
            "unmet_demand", "plan_error", "losses", "shipped", "transport_losses", "misreport_flags", *REPORT_COLUMNS]
    cols += [f"fulfilment:{p}" for p in layout.profiles]
    cols += [f"fulfilment_region:{r}" for r in layout.regions]
    stock = [g for g, lab in zip(layout.goods, layout.labour_mask, strict=True) if not lab]
    cols += [f"inventory:{g}" for g in stock]
    made = [layout.goods[j] for j in sorted(set(layout.unit_good.tolist()))]
    cols += [f"planned:{g}" for g in made] + [f"executed:{g}" for g in made]
    return cols


def day_metrics(model: PlanningEconomy, out: DayOutcome, violations: int = 0) -> dict[str, float]:
    """One row of model-level metrics for the day just executed."""
    lay, st = model.layout, model.state
    B = lay.economy.bundles
    need = B * lay.population.sum(axis=0)[None, :]
    # received over TRUE need, each citizen's receipt of each good counted up to its need
    excess = excess_receipts(lay, out.decision.allocation, out.weights, out.delivery.ratio, st.citizen_factor)
    share = out.delivery.share - np.divide(excess.by_profile, need, out=np.zeros_like(need), where=need > 0)
    gi, pi = np.nonzero(need)  # only (good, profile) pairs with a need count
    got = share[gi, pi]
    humanity = min(float(np.min(got)), 1.0) if gi.size else float("nan")
    per_profile = np.full(B.shape[1], np.inf)
    np.minimum.at(per_profile, pi, np.minimum(np.nan_to_num(got), 1.0))
    per_profile = np.where(np.isinf(per_profile), np.nan, per_profile)
    unmet = float(np.sum(need[gi, pi] * np.maximum(0.0, 1.0 - np.nan_to_num(got))))
    planned = np.asarray(out.decision.production, dtype=float)
    executed = out.produced
    made_goods = np.unique(lay.unit_good)
    denom = float(np.abs(planned[made_goods]).sum())
    plan_error = float(np.abs(planned[made_goods] - executed[made_goods]).sum() / denom) if denom > 0 else 0.0
    today = float(lay.economy.externality_weights @ executed)
    # transport loss is sent minus arrived: on lossless edges it is rounding, of either sign
    lost = out.output_lost + out.stock_lost.sum(axis=0) + out.transport_lost
    losses = max(float(lost[~lay.labour_mask].sum()), 0.0)
    shipped = float(out.edge_load.sum()) if out.edge_load is not None else 0.0
    transport_losses = max(float(out.transport_lost[~lay.labour_mask].sum()), 0.0)
    reg_need = _names(lay)["reg_need"]  # (R, n) the citizens' true needs per region
    reg_got = np.minimum(out.delivery.delivered - excess.by_region, reg_need)
    tot = reg_need.sum(axis=1)
    region_f = np.divide(reg_got.sum(axis=1), tot, out=np.full(tot.shape, np.nan), where=tot > 0)
    bounded = np.isfinite(lay.unit_capacity) & ~lay.unit_implicit
    cap_ratio = float(np.mean(st.unit_reported_capacity[bounded] / lay.unit_capacity[bounded])) if bounded.any() \
        else 1.0
    reporting = ~lay.unit_implicit
    tu = st.unit_true_use.sum()
    row: dict[str, float] = {
        "day": st.day, "humanity": humanity, "planned_humanity": float(out.decision.planned_humanity),
        "externalities": float(st.externalities), "externalities_today": today,
        "min_fulfilment": float(np.nanmin(per_profile)) if np.isfinite(per_profile).any() else float("nan"),
        "unmet_demand": unmet, "plan_error": plan_error, "losses": losses,
        "shipped": shipped, "transport_losses": transport_losses,
        "misreport_flags": float(out.reports.flags),
        "report_demand_factor": float(np.mean(st.citizen_factor)) if st.citizen_factor.size else 1.0,
        "report_input_factor": float(np.mean(st.unit_input_factor[reporting])) if reporting.any() else 1.0,
        "report_capacity_ratio": cap_ratio,
        "report_curve_error": float(np.abs(st.unit_reported_use - st.unit_true_use).sum() / tu) if tu > 0 else 0.0,
        "invariant_violations": float(violations),
        "plan_fallback": float(model.central_planner.fallback),
        **misreport_metrics(model, out, out.decision.unit_inputs),
    }
    names = _names(lay)
    row.update(zip(names["fulfilment"], per_profile.tolist(), strict=False))
    row.update(zip(names["fulfilment_region"], region_f.tolist(), strict=False))
    row.update(zip(names["inventory"], out.closing.sum(axis=0)[names["stock"]].tolist(), strict=False))
    row.update(zip(names["planned"], planned[made_goods].tolist(), strict=False))
    row.update(zip(names["executed"], executed[made_goods].astype(float).tolist(), strict=False))
    return row


_NAMES: dict[int, tuple[object, dict]] = {}


def _names(lay: Layout) -> dict:
    """Column names of the per-profile, per-region and per-good metrics, and the citizens' true
    needs per region and good, built once per layout."""
    hit = _NAMES.get(id(lay))
    if hit is None or hit[0] is not lay:
        stock = np.flatnonzero(~lay.labour_mask)
        made = np.unique(lay.unit_good)
        names = {
            "fulfilment": [f"fulfilment:{p}" for p in lay.profiles],
            "fulfilment_region": [f"fulfilment_region:{r}" for r in lay.regions],
            "stock": stock, "inventory": [f"inventory:{lay.goods[j]}" for j in stock],
            "planned": [f"planned:{lay.goods[j]}" for j in made],
            "executed": [f"executed:{lay.goods[j]}" for j in made],
            "reg_need": lay.population @ lay.economy.bundles.T,
        }
        hit = (lay, names)
        _NAMES.clear()
        _NAMES[id(lay)] = hit
    return hit[1]


def model_reporters(columns: list[str]) -> dict:
    """``mesa.DataCollector`` model reporters reading the model's latest metrics row."""
    return {c: (lambda m, c=c: m.metrics.get(c, float("nan"))) for c in columns}


#: per-agent columns of the DataCollector's agent-type reporters (one row per agent and day).
UNIT_REPORTERS = ("target", "output", "reported_capacity", "input_factor", "true_use", "reported_use")
REGION_REPORTERS = ("final_stock", "capital_stock", "delivered")


def _unit_value(column: str) -> Callable[[EconomyAgent], float]:
    def read(agent: EconomyAgent) -> float:
        return float(agent.model.unit_log[-1][column][agent.index])

    return read


def _region_value(column: str) -> Callable[[EconomyAgent], float]:
    def read(agent: EconomyAgent) -> float:
        return float(agent.model.region_log[-1][column][agent.index])

    return read


def agent_reporters(unit_type: type, region_type: type) -> dict[type, dict]:
    """``agenttype_reporters`` of ``mesa.DataCollector``: per unit and per region, the day's
    values of :func:`unit_rows` / :func:`region_rows` (``get_agenttype_vars_dataframe``)."""
    return {
        unit_type: {c: _unit_value(c) for c in UNIT_REPORTERS},
        region_type: {c: _region_value(c) for c in REGION_REPORTERS},
    }


def unit_rows(model: PlanningEconomy, out: DayOutcome) -> dict[str, np.ndarray]:
    """Agent-level rows of the day for production units (columns of equal length)."""
    lay, st = model.layout, model.state
    U = lay.n_units
    return {
        "day": np.full(U, st.day, dtype=np.int64), "unit": np.arange(U, dtype=np.int64),
        "good": lay.unit_good, "region": lay.unit_region, "target": out.targets,
        "output": out.production.output, "output_lost": out.production.output_lost,
        "reported_capacity": st.unit_reported_capacity, "input_factor": st.unit_input_factor,
        "true_use": st.unit_true_use, "reported_use": st.unit_reported_use,
        "samples": np.array([0 if s is None else s.qs.size for s in st.samples], dtype=np.int64),
    }


def region_rows(model: PlanningEconomy, out: DayOutcome) -> dict[str, np.ndarray]:
    """Agent-level rows of the day for regions."""
    lay, st = model.layout, model.state
    R = lay.n_regions
    share = out.delivery.region_share
    stock = st.stocks
    return {
        "day": np.full(R, st.day, dtype=np.int64), "region": np.arange(R, dtype=np.int64),
        "population": lay.population.sum(axis=1), "final_stock": stock[:, lay.final].sum(axis=1),
        "capital_stock": stock[:, lay.industrial].sum(axis=1), "delivered": out.delivery.delivered.sum(axis=1),
        "min_share": np.nanmin(np.where(np.isnan(share), np.inf, share), axis=1),
    }


def edge_rows(model: PlanningEconomy, out: DayOutcome) -> dict[str, np.ndarray]:
    """Rows of the day for the directed edges of the region graph: ``planned`` units (all goods)
    the night's plan ships along the edge (morning, between layers and day shipments; 0 for a national plan),
    ``followed`` units execution sent of them, ``carried`` units the edge carried in all
    (the plan's shipments and execution's transport of what the plan did not foresee)."""
    lay, st = model.layout, model.state
    D = lay.edge_src.size
    d = out.decision
    planned = np.zeros(D)
    for ship in (d.morning_shipments, d.evening_shipments):
        if ship is not None:
            planned += np.asarray(ship, dtype=float).sum(axis=1)
    if d.phase_shipments is not None:
        planned += np.asarray(d.phase_shipments, dtype=float).sum(axis=(0, 2))
    return {
        "day": np.full(D, st.day, dtype=np.int64), "edge": np.arange(D, dtype=np.int64),
        "source": lay.edge_src.astype(np.int64), "target": lay.edge_dst.astype(np.int64), "planned": planned,
        "followed": np.zeros(D) if out.edge_followed is None else np.asarray(out.edge_followed, dtype=float),
        "carried": np.zeros(D) if out.edge_load is None else np.asarray(out.edge_load, dtype=float),
    }


def citizen_table(model: PlanningEconomy) -> dict[str, np.ndarray]:
    """The citizens' state now (one row per citizen)."""
    lay, st = model.layout, model.state
    return {
        "citizen": np.arange(lay.n_citizens, dtype=np.int64), "profile": lay.citizen_profile,
        "region": lay.citizen_region, "strategy": np.asarray([str(s) for s in st.citizen_strategies],
                                                             dtype=object)[st.citizen_code],
        "report_factor": st.citizen_factor,
        "received": st.citizen_received, "satisfaction": st.citizen_satisfaction,
    }
