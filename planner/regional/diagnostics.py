"""What holds each region back: the regional plan's constraints as one tidy table.

:func:`constraint_table` lists, for a :class:`~innatura.planner.regional.result.RegionalPlan`,
every regional labour supply, capital stock, stock of a final good, unit capacity and edge
capacity the plan touches: what it uses, the limit, the slack, whether it binds, and (for the
exact method) its valuation, the derivative of the max-min fulfilment with respect to the
limit (:class:`~innatura.planner.regional.result.Valuations`). The table is a mapping of
equal-length columns (names and arrays), so that ``pandas.DataFrame(constraint_table(...))``
is the table; the numerical core itself stays free of pandas.
"""

from __future__ import annotations

import logging

import numpy as np
from innatura.planner.regional.problem import RegionalProblem
from innatura.planner.regional.result import RegionalPlan

__all__ = ["COLUMNS", "constraint_table"]

logger = logging.getLogger(__name__)

#: the table's columns, in order
COLUMNS = ("constraint", "region", "item", "used", "limit", "slack", "binding", "shadow_price")


def _regional(p: RegionalProblem, kind: str, mask: np.ndarray, used: np.ndarray, limit: np.ndarray,
              price: np.ndarray | None) -> dict:
    r, j = np.nonzero(mask & ((used > 0) | (limit > 0)))
    return {"constraint": [kind] * r.size, "region": [p.regions[k] for k in r], "item": [p.goods[k] for k in j],
            "used": used[r, j], "limit": limit[r, j], "shadow_price": price[r, j] if price is not None else None}


def _rows(p: RegionalProblem, plan: RegionalPlan) -> list[dict]:
    """Blocks of rows: labour, capital, final-good stocks, unit capacities, edge capacities."""
    v = plan.valuations
    R = p.n_regions
    lab = np.broadcast_to(p.labour_mask[None, :], (R, p.n_goods))
    ind = np.broadcast_to(p.industrial[None, :], (R, p.n_goods))
    fin = np.broadcast_to(p.final[None, :], (R, p.n_goods))
    drawn = plan.inputs_used + plan.delivered + np.asarray(plan.closing_expected)
    blocks = [
        _regional(p, "labour", lab, plan.labour_used, p.labour, v.labour if v else None),
        _regional(p, "capital", ind, plan.capital_required, plan.morning_stocks, v.stock if v else None),
        # a final good's stock binds when nothing closes beyond the target
        _regional(p, "stock", fin, drawn - plan.closing_expected + plan.safety_share * p.closing_target, drawn,
                  v.stock if v else None),
    ]
    cap = np.flatnonzero(np.isfinite(p.unit_capacity))
    blocks.append({"constraint": ["unit capacity"] * cap.size, "region": [p.regions[p.unit_region[u]] for u in cap],
                   "item": [p.unit_names[u] for u in cap], "used": plan.unit_targets[cap],
                   "limit": p.unit_capacity[cap], "shadow_price": v.capacity[cap] if v else None})
    edges = np.flatnonzero(np.isfinite(p.edge_capacity))
    blocks.append({"constraint": ["edge capacity"] * edges.size,
                   "region": [p.regions[p.edge_src[e]] for e in edges],
                   "item": [f"{p.regions[p.edge_src[e]]}->{p.regions[p.edge_dst[e]]}" for e in edges],
                   "used": plan.edge_load[edges], "limit": p.edge_capacity[edges],
                   "shadow_price": v.edge[edges] if v else None})
    return blocks


def constraint_table(problem: RegionalProblem, plan: RegionalPlan, *, binding_only: bool = False,
                     tol: float = 1e-6) -> dict[str, list | np.ndarray]:
    """The plan's constraints as columns :data:`COLUMNS` (see the module docstring).

    Rows: ``labour`` (per region and labour type: used vs supply), ``capital`` (per region and
    capital good: needed vs on hand after the morning), ``stock`` (per region and final good:
    inputs, deliveries and the closing target vs what the region had: opening stock, arrivals
    and output), ``unit capacity`` and ``edge capacity`` (all goods, both shipments). A row
    binds when its slack is at most ``tol`` of its limit (``tol`` absolute below 1);
    ``shadow_price`` is ``nan`` without valuations (the decomposed method).

    Args:
        problem: the night's problem.
        plan: its :class:`RegionalPlan`.
        binding_only: keep only the rows that bind.
        tol: relative slack under which a row binds.

    Returns:
        ``{column: values}``, every column of equal length.
    """
    blocks = _rows(problem, plan)
    out: dict[str, list | np.ndarray] = {}
    for name in ("constraint", "region", "item"):
        out[name] = [x for b in blocks for x in b[name]]
    used = np.concatenate([np.asarray(b["used"], dtype=float) for b in blocks])
    limit = np.concatenate([np.asarray(b["limit"], dtype=float) for b in blocks])
    price = np.concatenate([np.asarray(b["shadow_price"], dtype=float) if b["shadow_price"] is not None
                            else np.full(len(b["constraint"]), np.nan) for b in blocks])
    slack = limit - used
    binding = slack <= tol * np.maximum(1.0, np.abs(limit))
    out.update(used=used, limit=limit, slack=slack, binding=binding, shadow_price=price)
    if binding_only:
        keep = np.flatnonzero(binding)
        out = {k: ([col[i] for i in keep] if isinstance(col, list) else col[keep]) for k, col in out.items()}
    return {k: out[k] for k in COLUMNS}
