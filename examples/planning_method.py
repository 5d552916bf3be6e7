"""Two planning methods of your own, plugged into the agent model.

    python examples/planning_method.py [--days 30]

- :class:`ProportionalRationing` solves the Leontief system for what the reported demand
  needs and scales it down until capital, labour and capacity suffice; it never invests.
- :class:`Sufficiency` takes OLIN-EP's nightly plan (``innatura.plan_day``) and drops its
  investment stage on nights when the plan already feeds everyone.

Each is a class with a ``name`` and ``plan(inputs) -> PlanDecision``, added to
``innatura.abm.planning.METHODS``. The script compares them with OLIN-EP's plan on the bakery
economy. The tutorial "Plug in your own planning method" explains both.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from innatura.abm.planning import METHODS, PlanDecision, PlanningInputs

import innatura

BAKERY = Path(__file__).resolve().parent / "scenarios" / "bakery.toml"


class ProportionalRationing:
    """Scale the full requirement of the reported demand to what capital, labour and capacity allow."""

    name = "rationing"

    def plan(self, inputs: PlanningInputs) -> PlanDecision:
        economy = inputs.economy
        final, capital, labour = (economy.mask(kind) for kind in ("final", "industrial", "labour"))
        need = economy.demand()
        x = need.copy()
        for _ in range(3):  # the curves depend on the output: evaluate them at the last solution
            A = economy.coefficients_at(x).toarray()
            x = np.zeros_like(need)
            x[final] = innatura.solve_io(A[np.ix_(final, final)], need[final]).x
        uses = A @ x
        with np.errstate(divide="ignore", invalid="ignore"):
            room = np.concatenate([inputs.stocks[capital] / uses[capital],
                                   inputs.labour_supply[labour] / uses[labour],
                                   inputs.capacity[final] / x[final]])
        share = float(min(1.0, np.nanmin(room)))
        return PlanDecision(production=share * x, allocation=share * economy.bundles * economy.population,
                            fulfilment=np.full(economy.n_profiles, share), planned_humanity=share)


class Sufficiency:
    """OLIN-EP's nightly plan, without its investment stage on nights when everyone is fed."""

    name = "sufficiency"

    def __init__(self, enough: float = 0.999) -> None:
        self.enough = enough

    def plan(self, inputs: PlanningInputs) -> PlanDecision:
        plan = innatura.plan_day(inputs.economy, inputs.stocks, inputs.labour_supply, inputs.capacity,
                                 inputs.investment_share, safety_stock=inputs.safety_stock)
        fed = plan.planned_humanity >= self.enough
        return PlanDecision(production=plan.consumption_production if fed else plan.production,
                            allocation=plan.allocation, fulfilment=plan.fulfilment,
                            planned_humanity=plan.planned_humanity, info={"invested": not fed})


def compare(scenario: str | Path = BAKERY, days: int = 30, seed: int = 0) -> pd.DataFrame:
    """Humanity, capital and externalities of OLIN-EP's plan and the two methods above."""
    METHODS["rationing"] = ProportionalRationing
    METHODS["sufficiency"] = Sufficiency
    rows = {}
    for planner in ("olin", "rationing", "sufficiency"):
        model = innatura.PlanningEconomy(scenario, rng=seed, days=days, planner=planner)
        model.run_model()
        frame = model.model_frame()
        rows[planner] = {"mean humanity": frame["humanity"].mean(),
                         "externalities": frame["externalities"].iloc[-1],
                         "invariant violations": frame["invariant_violations"].sum()}
    return pd.DataFrame(rows).T


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    print(compare(days=args.days).round(3).to_string())


if __name__ == "__main__":
    main()
