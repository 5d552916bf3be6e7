"""An independent check of a regional plan against its problem (docs/model.md, "The regional plan").

Written from the problem's arrays and the model's text only: it loops over units, entries,
edges and regions in plain Python and calls every input function itself, so that it shares
no code with the planner it checks. ``violations(problem, plan)`` returns a list of
human-readable violations (empty: every constraint holds to ``tol``, relative).
"""

from __future__ import annotations

import numpy as np


def unit_use(problem, x):
    """Input use per region and good at unit outputs ``x``, entry by entry."""
    R, n = problem.n_regions, problem.n_goods
    use = np.zeros((R, n))
    inp = problem.inputs
    for k in range(inp.unit.size):
        u = int(inp.unit[k])
        use[problem.unit_region[u], inp.good[k]] += inp.coefficient[k] * max(x[u], 0.0)
    for k in range(inp.curve_unit.size):
        u = int(inp.curve_unit[k])
        use[problem.unit_region[u], inp.curve_good[k]] += float(inp.curves[k](max(x[u], 0.0)))
    return use


def _phase(problem, ship):
    """Departures and arrivals (after loss) of one phase's shipments, edge by edge."""
    R, n = problem.n_regions, problem.n_goods
    out, arrive = np.zeros((R, n)), np.zeros((R, n))
    for e in range(problem.n_edges):
        a, b = int(problem.edge_src[e]), int(problem.edge_dst[e])
        for i in range(n):
            out[a, i] += ship[e, i]
            arrive[b, i] += ship[e, i] * (1.0 - problem.edge_loss[e, i])
    return out, arrive


def _deliveries(problem, c):
    R, n, m = problem.n_regions, problem.n_goods, problem.n_profiles
    d = np.zeros((R, n))
    for r in range(R):
        for p in range(m):
            for i in range(n):
                d[r, i] += problem.bundles[i, p] * problem.demand[r, p] * c[r, p]
    return d


def violations(problem, plan, tol=1e-6):
    """Every constraint of the regional plan that ``plan`` breaks by more than ``tol`` (relative)."""
    p = problem
    bad = []

    def over(name, lhs, rhs):
        lhs, rhs = np.broadcast_arrays(np.asarray(lhs, float), np.asarray(rhs, float))
        gap = lhs - rhs
        scale = 1.0 + np.abs(np.where(np.isfinite(rhs), rhs, 0.0)) + np.abs(lhs)
        hit = np.argwhere(gap > tol * scale)
        if hit.size:
            idx = tuple(int(v) for v in hit[0])
            bad.append(f"{name} at {idx}: {float(lhs[idx])!r} > {float(rhs[idx])!r}")

    x = np.asarray(plan.unit_targets, float)
    c = np.asarray(plan.fulfilment, float)
    m, v = np.asarray(plan.morning_shipments, float), np.asarray(plan.evening_shipments, float)
    over("unit output below 0", -x, 0.0)
    over("unit capacity", x, p.unit_capacity)
    over("morning shipment below 0", -m, 0.0)
    over("evening shipment below 0", -v, 0.0)
    over("fulfilment above 1", c, 1.0)
    over("fulfilment below 0", -c, 0.0)
    load = m.sum(axis=1) + v.sum(axis=1)
    over("edge capacity", load, p.edge_capacity)
    for name, ship in (("morning", m), ("evening", v)):
        over(f"{name} shipment of labour", np.abs(ship[:, p.labour_mask]), 0.0)
    use = unit_use(p, x)
    R, n = p.n_regions, p.n_goods
    Y = np.zeros((R, n))
    for u in range(p.n_units):
        Y[p.unit_region[u], p.unit_good[u]] += x[u]
    out_m, in_m = _phase(p, m)
    out_e, in_e = _phase(p, v)
    a = p.stocks + in_m - out_m
    final, ind, lab = p.final, p.industrial, p.labour_mask
    over("stock after the morning below 0", -a[:, ~lab], 0.0)
    on_hand = a + Y + (in_e - out_e if getattr(p, "timing", "overnight") == "shifts" else 0.0)
    over("inputs beyond the stock on hand and the day's output", use[:, final], on_hand[:, final])
    over("capital beyond the capital on hand", use[:, ind], a[:, ind])
    over("labour beyond the supply", use[:, lab], p.labour[:, lab])
    d = _deliveries(p, c)
    closing = a + Y - np.where(final[None, :], use, 0.0) + in_e - out_e - d
    target = plan.safety_share * p.closing_target
    over("closing stock below its target", (target - closing)[:, ~lab], 0.0)
    over("reported closing stock", np.abs(plan.closing_expected - np.where(lab[None, :], 0.0, np.maximum(closing, 0.0)))
         [:, ~lab], 1e-6 * (1.0 + np.abs(closing[:, ~lab])))
    over("reported deliveries", np.abs(plan.delivered - d), 1e-6 * (1.0 + np.abs(d)))
    over("consumption stage above the plan", plan.unit_consumption, x)
    return bad
