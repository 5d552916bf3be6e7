"""``innatura solve SCENARIO``: the first night's plan of a scenario (OLIN-EP daily plan).

Prints a table with each good's production (consumption and investment stages), expected
closing stock and the fulfilment of every profile, then humanity (Eq. 5) and the day's
externalities (Eq. 6); ``--json`` prints the same as JSON.
"""

from __future__ import annotations

import argparse
import json
import logging
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from innatura.scenarios.spec import ScenarioSpec

__all__ = ["configure", "first_night", "run"]

logger = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    from innatura.cli.args import real

    parser.add_argument("scenario", metavar="SCENARIO", help="scenario name (see `innatura scenarios`) or a .toml path")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--investment", type=real(0.0, 1.0, hi_open=True), default=None, metavar="F",
        help="investment share sigma in [0, 1) (default: the scenario's [planning] investment_share)",
    )
    parser.add_argument(
        "--method", choices=("lp", "balanced", "scaled-demand"), default=None,
        help="planning method (default: exact LPs for up to 1000 goods, balanced above); "
        "'scaled-demand' is the seed code's single scalar scaling of demand",
    )


def first_night(spec: ScenarioSpec, investment_share: float | None = None, method: str | None = None) -> dict:
    """Plan the first night of a scenario spec; returns a JSON-ready dict."""
    from innatura.planner.metrics import externality_terms
    from innatura.planner.plan import plan_day

    economy = spec.to_economy()
    n = economy.n_goods
    stocks = np.asarray(spec.initial_stocks(), dtype=float).sum(axis=0)
    labour = np.asarray(spec.labour_supply(), dtype=float).sum(axis=0)
    units = spec.unit_arrays()
    capacity = np.full(n, np.inf)
    made = np.bincount(units.good, minlength=n) > 0
    capacity[made] = np.bincount(units.good, weights=units.capacity, minlength=n)[made]
    sigma = spec.planning.investment_share if investment_share is None else investment_share
    plan = plan_day(economy, stocks, labour, capacity, sigma, method=method)
    externality = float(externality_terms(plan.production, economy.externality_weights))
    goods = []
    for j, name in enumerate(economy.goods):
        goods.append({
            "good": name,
            "kind": economy.kinds[j],
            "opening_stock": float(stocks[j] if economy.kinds[j] != "labour" else labour[j]),
            "production": float(plan.production[j]),
            "consumption_stage": float(plan.consumption_production[j]),
            "investment_stage": float(plan.investment_production[j]),
            "consumed": float(plan.allocation[j].sum()),
            "used": float(plan.inputs_used[j] + plan.capital_required[j] + plan.labour_used[j]),
            "closing_stock": float(plan.closing_stocks_expected[j]),
        })
    return {
        "scenario": spec.name,
        "investment_share": float(sigma),
        "status": plan.status,
        "goods": goods,
        "fulfilment": {p: float(c) for p, c in zip(economy.profiles, plan.fulfilment, strict=False)},
        "humanity": float(plan.planned_humanity),
        "externalities": externality,
    }


def _table(result: dict) -> str:
    head = ("good", "kind", "opening", "production", "consumption", "investment", "consumed", "used", "closing")
    rows = [
        (g["good"], g["kind"], *(f"{g[k]:.6g}" for k in
         ("opening_stock", "production", "consumption_stage", "investment_stage", "consumed", "used",
          "closing_stock")))
        for g in result["goods"]
    ]
    widths = [max(len(str(r[i])) for r in (head, *rows)) for i in range(len(head))]
    def fmt(r: tuple) -> str:
        cells = enumerate(zip(r, widths, strict=False))
        return "  ".join(str(v).ljust(w) if i < 2 else str(v).rjust(w) for i, (v, w) in cells)

    lines = [f"{result['scenario']}: first night's plan (investment share {result['investment_share']:.3g}, "
             f"{result['status']})", "", fmt(head), fmt(tuple("-" * w for w in widths))]
    lines += [fmt(r) for r in rows]
    lines += ["", "profile fulfilment:"]
    width = max(len(p) for p in result["fulfilment"])
    lines += [f"  {p.ljust(width)}  {c:.6g}" for p, c in result["fulfilment"].items()]
    lines += ["", f"humanity (Eq. 5):       {result['humanity']:.6g}",
              f"externalities (Eq. 6):  {result['externalities']:.6g}"]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from innatura import scenarios

    spec = scenarios.load(args.scenario)
    result = first_night(spec, args.investment, args.method)
    print(json.dumps(result, indent=2) if args.json else _table(result))
    return 0
