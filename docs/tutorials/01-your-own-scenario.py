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
# # Write your own scenario and run it
#
# A scenario is a TOML file that describes an economy in physical quantities: its goods, what
# each good needs to be made, what citizens need, the production units that make the goods,
# the regions they live in, the opening stocks and the daily labour. This tutorial writes one
# from scratch (two villages that live on grain and bread baked in ovens), checks it, runs it
# in Python and on the command line, and asks one question of it: how much should the
# villages invest?
#
# Every field is documented in [the scenario format](../scenario-format.md); what the
# quantities mean is fixed by [the model](../model.md). The finished file is
# `examples/scenarios/bakery.toml` in the repository.

# %%
import subprocess
from pathlib import Path

import matplotlib.pyplot as plt

import innatura

# %% [markdown]
# ## The goods
#
# Every good has a *kind*. `final` goods are stored, consumed by citizens and used up as
# inputs (grain, bread). `industrial` goods are capital: an oven must be *in stock* for
# bread to be baked, and it is not used up. `labour` goods are daily flows, renewed every
# morning and never stored; by convention one labour good per product, `Lb(...)`.
# `externality` is the damage per unit made (OLIN-EP Eq. 6).

# %%
goods = """
[scenario]
name = "bakery"
description = "Two villages, a mill town and a market town, that live on grain and bread baked in ovens"
days = 30
seed = 0

[[goods]]
name = "Grain"
kind = "final"
externality = 0.1

[[goods]]
name = "Bread"
kind = "final"
externality = 0.05
transport_loss = 0.02      # bread goes stale on the road

[[goods]]
name = "Oven"
kind = "industrial"        # capital: needed in stock to bake, never used up
externality = 2.0

[[goods]]
name = "Lb(Grain)"
kind = "labour"

[[goods]]
name = "Lb(Bread)"
kind = "labour"

[[goods]]
name = "Lb(Oven)"
kind = "labour"
"""

# %% [markdown]
# ## What each good needs: the coefficients
#
# One table per good made (a *column* of the input-output matrix): what one unit of it
# needs. A loaf needs 0.6 grain and 0.02 of a baker's day; an oven needs 5 grain and half
# a smith's day.

# %%
coefficients = """
[coefficients.Grain]
"Lb(Grain)" = 0.01

[coefficients.Bread]
Grain = 0.6
"Lb(Bread)" = 0.02

[coefficients.Oven]
Grain = 5.0
"Lb(Oven)" = 0.5
"""

# %% [markdown]
# ## Who needs what: the profiles
#
# A profile is a daily bundle of final goods per citizen, and the number of citizens on it.

# %%
profiles = """
[[profiles]]
name = "adults"
population = 300
bundle = { Grain = 1.0, Bread = 2.0 }

[[profiles]]
name = "children"
population = 200
bundle = { Grain = 0.5, Bread = 1.0 }
"""

# %% [markdown]
# ## Who makes what: the production units
#
# Each unit makes one good in one region. A unit's `inputs` are its *private* process:
# `scale * q ** exponent` of the input for an order of `q` units. The units of a good are
# stacked by output in file order (the first takes orders up to its capacity, then the
# next), which makes the coefficient a *curve* of the good's output (OLIN-EP Eq. 4, Fig. 1).
# Here the market bakery needs one oven per 100 loaves a day up to 500 loaves; the mill
# bakery, which bakes the rest, has diminishing returns. Inputs a unit does not list come
# from the good's constant column. The planner never sees these processes: the units fit
# curves to them by active learning and report those.

# %%
units = """
[[units]]
name = "mill-farm"
good = "Grain"
region = "mill"

[[units]]
name = "market-farm"
good = "Grain"
region = "market"
capacity = 600.0

[[units]]
name = "market-bakery"
good = "Bread"
region = "market"
capacity = 500.0
inputs = { Oven = { scale = 0.01, exponent = 1.0 } }

[[units]]
name = "mill-bakery"
good = "Bread"
region = "mill"
inputs = { Oven = { scale = 0.002, exponent = 1.3 } }

[[units]]
name = "smithy"
good = "Oven"
region = "market"
"""

# %% [markdown]
# ## Where: regions, stocks and labour
#
# Two regions joined by a road that carries 2000 units of goods a day and loses 0.5% of
# them. Opening stocks and labour given as one number are split over the regions by
# population; a table puts them where you say. The `[planning]` table sets the planner's
# investment share `sigma`: the share of capital, labour and capacity kept for
# investment after the night's consumption plan.

# %%
places = """
[regions]

[[regions.nodes]]
name = "mill"
population_share = 0.4

[[regions.nodes]]
name = "market"
population_share = 0.6

[[regions.edges]]
source = "mill"
target = "market"
capacity = 2000.0
loss = 0.005

[inventory]
Grain = 1500.0
Oven = { market = 2.0 }

[labour]
"Lb(Grain)" = 30.0
"Lb(Bread)" = 30.0
"Lb(Oven)" = 2.0

[planning]
investment_share = 0.3
"""

path = Path("bakery.toml")
path.write_text(goods + coefficients + profiles + units + places, encoding="utf-8")
print(f"wrote {path}")

# %% [markdown]
# ## Check it
#
# Loading validates the whole file into a frozen `ScenarioSpec`. `innatura scenarios FILE`
# describes any scenario file on the command line.

# %%
spec = innatura.load_scenario("bakery.toml")
print(spec.name, "-", spec.description)
print("goods:", ", ".join(spec.good_names))
print("profiles:", ", ".join(spec.profile_names))
print("regions:", ", ".join(spec.region_names))

# %%
print(subprocess.run(["innatura", "scenarios", "bakery.toml"], capture_output=True, text=True, check=True).stdout)

# %% [markdown]
# A mistake is reported with the file, the field and the value. Give the market bakery a
# negative scale:

# %%
broken = path.read_text(encoding="utf-8").replace("scale = 0.01", "scale = -0.01")
Path("broken.toml").write_text(broken, encoding="utf-8")
try:
    innatura.load_scenario("broken.toml")
except innatura.ScenarioError as error:
    print(error)

# %% [markdown]
# ## Run it in Python
#
# `PlanningEconomy` is a `mesa.Model`: every step is one day (citizens and units report,
# the central planner plans the night, units produce with their true processes, goods move
# and are consumed). It stops after the scenario's `days`. `model_frame()` has one row per
# day, with the columns of [the model](../model.md#collected-data-column-names).

# %%
model = innatura.PlanningEconomy("bakery.toml", rng=0)
model.run_model()
frame = model.model_frame()
columns = ["humanity", "planned_humanity", "unmet_demand", "inventory:Oven", "executed:Bread"]
frame.set_index("day")[columns].head(8).round(3)

# %% [markdown]
# *Humanity* (OLIN-EP Eq. 5) is the smallest share of a profile's need that the day
# delivered: 1 means every citizen got the whole bundle. The villages open with two ovens,
# enough for 200 loaves of the 800 they need a day, so on day 1 they get about a fifth. Every
# night 30% of the smith's labour goes to new ovens, and in four days there are enough.

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
left.plot(frame["day"], frame["humanity"], marker="o", label="executed")
left.plot(frame["day"], frame["planned_humanity"], linestyle="--", label="planned")
left.set(xlabel="day", ylabel="humanity", title="Humanity (Eq. 5)", ylim=(0, 1.05))
left.legend()
right.plot(frame["day"], frame["inventory:Oven"], color="tab:brown")
right.set(xlabel="day", ylabel="ovens in stock", title="Capital")
fig.tight_layout()
plt.show()

# %% [markdown]
# The model checks every day that no stock is negative and that goods are conserved
# (`opening + production = consumption + inputs used + losses + closing`); a broken
# invariant would be counted in `invariant_violations`.

# %%
print("invariant violations:", int(frame["invariant_violations"].sum()))

# %% [markdown]
# ## How much should the villages invest?
#
# Options of a run override the scenario's values; here the investment share. More
# investment means less for today and more ovens for tomorrow.

# %%
shares = [0.05, 0.1, 0.3, 0.6]
runs = {}
for share in shares:
    run = innatura.PlanningEconomy("bakery.toml", rng=0, days=12, investment_share=share)
    run.run_model()
    runs[share] = run.model_frame()

fig, ax = plt.subplots(figsize=(6, 3.5))
for share, result in runs.items():
    ax.plot(result["day"], result["humanity"], marker=".", label=f"sigma = {share}")
ax.set(xlabel="day", ylabel="humanity", ylim=(0, 1.05), title="Investment share and the climb")
ax.legend()
plt.show()

for share, result in runs.items():
    full = result.loc[result["humanity"] >= 0.999, "day"]
    print(f"sigma = {share}: humanity 1 from day {full.iloc[0] if len(full) else 'never (12 days)'}")

# %% [markdown]
# ## Run it on the command line
#
# `innatura run` takes the same file and writes the results to a folder: `model.csv`, the
# agents' tables as Parquet, `summary.json` and figures. The next tutorial reads them.

# %%
done = subprocess.run(["innatura", "run", "bakery.toml", "--days", "10", "--out", "runs/bakery", "--quiet"],
                      capture_output=True, text=True, check=True)
sorted(p.name for p in Path("runs/bakery").iterdir())

# %% [markdown]
# ## Next
#
# - [Read a run's outputs](02-read-outputs.md): `model.csv`, the Parquet agent tables, plots.
# - `innatura scenarios NAME --dump FILE` writes any shipped scenario as an editable file:
#   a good way to start from `butter-village` or `selviaria`.
# - Python builders make scenarios too: `innatura.scenarios.spec_from_dict(data)` takes
#   the same structure as the file, as plain dicts.
