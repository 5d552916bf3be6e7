# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Plug in your own planning method
#
# Every night the central planner agent gathers the reports into a `PlanningInputs` and asks
# its *planning method* for a `PlanDecision`: what to produce and what each profile gets. The
# method is the only part of the day you have to write to try a planner of your own; the
# agents, execution with the units' true processes, transport, losses, data collection and
# the invariants stay as they are. A planning method is any object with a `name` and a
# `plan(inputs) -> PlanDecision` method; it joins the model by one entry in the table
# `innatura.abm.planning.METHODS`.
#
# This tutorial looks at what a method sees, writes one from scratch with the Leontief
# solver, and one on top of the shipped nightly plan, and compares them with OLIN-EP's plan
# on the bakery economy of the first tutorial.

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from innatura.abm.planning import METHODS, PlanDecision, PlanningInputs, make_method
from innatura.scenarios import spec_from_dict

import innatura

# %% [markdown]
# The bakery economy of [the first tutorial](01-your-own-scenario.md), as a spec built from
# plain dicts (`innatura.scenarios.spec_from_dict` takes the structure of the TOML file):

# %%
labour = [{"name": f"Lb({g})", "kind": "labour"} for g in ("Grain", "Bread", "Oven")]
bakery = spec_from_dict({
    "scenario": {"name": "bakery", "description": "Two villages that live on grain and bread", "days": 30},
    "goods": [{"name": "Grain", "kind": "final", "externality": 0.1},
              {"name": "Bread", "kind": "final", "externality": 0.05, "transport_loss": 0.02},
              {"name": "Oven", "kind": "industrial", "externality": 2.0}, *labour],
    "coefficients": {"Grain": {"Lb(Grain)": 0.01}, "Bread": {"Grain": 0.6, "Lb(Bread)": 0.02},
                     "Oven": {"Grain": 5.0, "Lb(Oven)": 0.5}},
    "profiles": [{"name": "adults", "population": 300, "bundle": {"Grain": 1.0, "Bread": 2.0}},
                 {"name": "children", "population": 200, "bundle": {"Grain": 0.5, "Bread": 1.0}}],
    "units": [{"name": "mill-farm", "good": "Grain", "region": "mill"},
              {"name": "market-farm", "good": "Grain", "region": "market", "capacity": 600.0},
              {"name": "market-bakery", "good": "Bread", "region": "market", "capacity": 500.0,
               "inputs": {"Oven": {"scale": 0.01, "exponent": 1.0}}},
              {"name": "mill-bakery", "good": "Bread", "region": "mill",
               "inputs": {"Oven": {"scale": 0.002, "exponent": 1.3}}},
              {"name": "smithy", "good": "Oven", "region": "market"}],
    "regions": {"nodes": [{"name": "mill", "population_share": 0.4}, {"name": "market", "population_share": 0.6}],
                "edges": [{"source": "mill", "target": "market", "capacity": 2000.0, "loss": 0.005}]},
    "inventory": {"Grain": 1500.0, "Oven": {"market": 2.0}},
    "labour": {"Lb(Grain)": 30.0, "Lb(Bread)": 30.0, "Lb(Oven)": 2.0},
    "planning": {"investment_share": 0.3},
})

# %% [markdown]
# ## What a method sees
#
# A method that keeps what it was given and asks the shipped OLIN-EP method to plan:

# %%
class Recorder:
    name = "recorder"

    def __init__(self) -> None:
        self.nights: list[PlanningInputs] = []
        self.olin = make_method("olin")

    def plan(self, inputs: PlanningInputs) -> PlanDecision:
        self.nights.append(inputs)
        return self.olin.plan(inputs)


METHODS["recorder"] = Recorder
model = innatura.PlanningEconomy(bakery, rng=0, days=2, planner="recorder")
model.run_model()
night = model.central_planner.method.nights[0]
economy = night.economy
pd.DataFrame({"kind": economy.kinds, "stock": night.stocks, "labour supply": night.labour_supply,
              "reported capacity": night.capacity, "reported need": economy.demand()}, index=economy.goods)

# %% [markdown]
# `economy` is the *reported* economy (`innatura.Economy`): the constant coefficients, the
# units' reported curves stacked by output, the profiles' bundles, and the reported demand
# as `population` (citizens times their report factors). `coefficients_at(x)` evaluates the
# curves at an output. The other fields: the national opening `stocks`, `labour_supply`,
# reported `capacity` per good, the `investment_share` and `safety_stock` of the run, the
# regional stocks and demand, the units' goods, regions and reported capacities, and the
# model's random generator `rng` for methods that sample.

# %%
print("profiles:", economy.profiles, "reported demand:", economy.population)
print("ovens needed per loaf at 100 and at 800 loaves a day:",
      economy.coefficients_at(np.array([0, 100.0, 0, 0, 0, 0]))[2, 1],
      economy.coefficients_at(np.array([0, 800.0, 0, 0, 0, 0]))[2, 1])

# %% [markdown]
# ## A method from scratch: ration the Leontief requirement
#
# The simplest planner: solve the Leontief system for what the reported demand needs,
# `(I - A) x = d` over final goods, and scale it down by one share until the capital, the
# labour and the capacities it asks for are available. Every profile gets that share; nothing
# is invested. `innatura.solve_io` is the solver (dense or sparse, with a productivity check).
#
# The decision leaves `unit_targets` to the central planner, which splits each good's
# production over its units in stacking order.

# %%
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


METHODS["rationing"] = ProportionalRationing

# %% [markdown]
# ## A method on top of the nightly plan: stop investing when everyone is fed
#
# OLIN-EP's plan (`innatura.plan_day`) has two stages: consumption with `1 - sigma` of the
# capital, labour and capacity, then investment with the rest. Its investment never stops:
# ovens keep being built, and every oven costs externalities. A *sufficiency* rule keeps
# only the consumption stage on the nights when the plan already feeds everyone. Options of
# a method (`enough`) are given to the model as `planner_options`.

# %%
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


METHODS["sufficiency"] = Sufficiency

# %% [markdown]
# ## Compare
#
# The same economy, seed and thirty days, with each method. Execution is the same for all:
# units produce with their true processes, and a plan that asks for more than there is gets
# rationed, never turned into negative stock.

# %%
frames = {}
for planner in ["olin", "rationing", "sufficiency"]:
    run = innatura.PlanningEconomy(bakery, rng=0, days=30, planner=planner,
                                   planner_options={"enough": 0.999} if planner == "sufficiency" else {})
    run.run_model()
    frames[planner] = run.model_frame()

pd.DataFrame({planner: {"mean humanity": f["humanity"].mean(),
                        "first day fully fed": f.loc[f["humanity"] >= 0.999, "day"].min(),
                        "ovens at the end": f["inventory:Oven"].iloc[-1],
                        "externalities": f["externalities"].iloc[-1],
                        "invariant violations": f["invariant_violations"].sum()}
              for planner, f in frames.items()}).round(2)

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.5))
for planner, frame in frames.items():
    left.plot(frame["day"], frame["humanity"], marker=".", label=planner)
    right.plot(frame["day"], frame["externalities"], label=planner)
left.set(xlabel="day", ylabel="humanity", title="Humanity", ylim=(0, 1.05))
right.set(xlabel="day", ylabel="cumulative externalities (Eq. 6)", title="Damage")
left.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# Rationing never invests: with two ovens the villages get a quarter of their bread for
# ever, though on day 1 it beats OLIN-EP's plan, which sets 30% of the ovens aside for
# investment. OLIN-EP's plan feeds everyone from day 4 and keeps building ovens: 74 by day 30.
# Sufficiency is fed on day 4 too, but dips on some of the days after (the consumption stage
# alone keeps no stock for the next day's inputs) and holds from day 9, with 14 ovens and
# half the damage.
#
# ## Your method in your own package
#
# An entry of `METHODS` may also be `"module:attribute"`, imported on first use, so a method
# that lives in your package costs nothing until a model uses it:
#
# ```text
# METHODS["sufficiency"] = "mypackage.planning:Sufficiency"
# ```
#
# The same method object plans every night of a run (`model.central_planner.method`), so it
# may keep memory from night to night, as OLIN-EP's warm start does. The finished methods of
# this tutorial are in `examples/planning_method.py`.
#
# ## Next
#
# - [The planners side by side](../planners.md): what OLIN-EP, the learned planner and the
#   exchange economy assume.
# - [The architecture](../architecture.md#a-planning-method): the contract in full.
