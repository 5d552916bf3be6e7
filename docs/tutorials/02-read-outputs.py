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
# # Read a run's outputs
#
# `innatura run` writes everything a run produced into one folder. This tutorial runs the
# butter village of the PLoS ONE paper (three regions on a path: hills, village, river) for
# twenty days with random stock losses, then reads the folder with pandas: the daily
# `model.csv`, the Parquet tables of the production units, the regions and the citizens, and
# `summary.json`, and plots what is in them with matplotlib.

# %%
import json
import subprocess
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Image

# %%
run = Path("runs/village")
subprocess.run(["innatura", "run", "butter-village", "--days", "20", "--seed", "4", "--noise", "0.1",
                "--out", str(run), "--quiet"], check=True, capture_output=True)
sorted(p.name for p in run.iterdir())

# %% [markdown]
# | file | one row per | what |
# |---|---|---|
# | `model.csv` | day | humanity, fulfilment, unmet demand, plan error, losses, stocks and production per good |
# | `units.parquet` | production unit and day | target, output, reported capacity, true and reported input use |
# | `regions.parquet` | region and day | population, final and capital stock, goods delivered, worst share |
# | `citizens.parquet` | citizen | profile, region, strategy, what it received, satisfaction at the end |
# | `summary.json` | run | the settings, sizes, final and aggregate metrics, seconds per phase |
# | `*.png` | | the figures of the browser view, drawn by the same functions |
# | `scenario.toml` | | the run's own copy of its scenario, which a resume rebuilds the economy from |
# | `checkpoint/` | | the state to continue from, as data: `innatura run --resume DIR --days N` |

# %% [markdown]
# ## The summary
#
# `summary.json` is the run at a glance: its settings, as given and as resolved from the
# scenario, and aggregate metrics.

# %%
summary = json.loads((run / "summary.json").read_text())
print({key: summary[key] for key in ("scenario", "seed", "days", "planner", "investment_share", "noise")})
pd.Series(summary["metrics"], name="value").to_frame()

# %% [markdown]
# ## `model.csv`: one row per day
#
# The columns are those of [the model](../model.md#collected-data-column-names). Columns that
# hold one value per good, profile or region are named `kind:name`.

# %%
model = pd.read_csv(run / "model.csv")
print(model.shape)
groups = sorted({c.split(":")[0] for c in model.columns if ":" in c})
print("per-good, per-profile and per-region columns:", groups)
model.set_index("day")[["humanity", "planned_humanity", "min_fulfilment", "unmet_demand", "losses"]].head().round(3)

# %% [markdown]
# Humanity (Eq. 5) as planned and as executed, and the goods lost each day: a little milk and
# butter on the roads every day, and on the days a loss event strikes (with `--noise 0.1`, a
# 10% chance a day) a fifth of the milk and the churns in stock.

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.5))
left.plot(model["day"], model["humanity"], label="executed")
left.plot(model["day"], model["planned_humanity"], "--", label="planned")
left.set(xlabel="day", ylabel="humanity", title="Humanity")
left.legend()
right.bar(model["day"], model["losses"], color="tab:red")
right.set(xlabel="day", ylabel="units lost", title="Losses (stocks and transport)", yscale="log")
fig.tight_layout()
plt.show()

# %% [markdown]
# Fulfilment per region: the share of the region's citizens' needs delivered. Goods travel
# along the path hills - village - river within each road's daily capacity.

# %%
by_region = model.filter(like="fulfilment_region:").rename(columns=lambda c: c.split(":", 1)[1])
by_region.index = model["day"]
by_region.plot(title="Fulfilment per region", xlabel="day", ylabel="share of the needs", figsize=(6, 3.2))
plt.show()

# %% [markdown]
# Stocks and production per good: the planner plans (`planned:`), the units execute with
# their true processes (`executed:`), and what is left is the closing stock (`inventory:`).

# %%
goods = [c.split(":", 1)[1] for c in model.columns if c.startswith("inventory:")]
fig, axes = plt.subplots(2, len(goods), figsize=(12, 5), sharex=True)
for (top, bottom), good in zip(axes.T, goods, strict=True):
    top.plot(model["day"], model[f"planned:{good}"], "--", label="planned")
    top.plot(model["day"], model[f"executed:{good}"], label="executed")
    top.set(title=f"{good}: production")
    bottom.plot(model["day"], model[f"inventory:{good}"], color="tab:green")
    bottom.set(title=f"{good}: closing stock", xlabel="day")
axes[0, 0].legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# ## `units.parquet`: one row per production unit and day
#
# The units that make a good are stacked: the first takes orders up to its capacity, then
# the next. `target` is what the plan asked of the unit, `output` what its true process
# made. `true_use` and `reported_use` compare the unit's real input use with what its
# fitted curve said: units learn their curves by querying their own process (`samples`) and
# refit as execution reveals their true use, so an honest unit's error shrinks. A unit's
# first target far from where it sampled is poorly fitted (the hill dairy on the day it
# starts).

# %%
units = pd.read_parquet(run / "units.parquet")
print(list(units.columns))
columns = ["name", "good", "region", "target", "output", "true_use", "reported_use", "samples"]
units.loc[units["day"] == 10, columns].round(3)

# %%
butter = units[units["good"] == "Butter"].pivot(index="day", columns="name", values="output")
learning = units[units["true_use"] > 1e-6].assign(error=lambda u: u["reported_use"] / u["true_use"] - 1)
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.5))
butter.plot.area(ax=left, title="Butter made, by dairy (stacked)", xlabel="day", ylabel="units a day")
for name, rows in learning.groupby("name"):
    right.plot(rows["day"], 100 * rows["error"], marker=".", label=name)
right.set(title="Reported input use: error of the fitted curve", xlabel="day", ylabel="% of the true use")
right.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# ## `regions.parquet`: one row per region and day

# %%
regions = pd.read_parquet(run / "regions.parquet")
regions.pivot(index="day", columns="region", values="min_share").plot(
    title="Worst share of a need delivered, by region", xlabel="day", ylim=(0, 1.05), figsize=(6, 3.2))
plt.show()
regions[regions["day"] == regions["day"].max()].set_index("region").round(3)

# %% [markdown]
# ## `citizens.parquet`: one row per citizen
#
# Citizens' state at the end of the run: what they received on the last day (as a share of
# their need) and their satisfaction, a running memory of how well they were served.

# %%
citizens = pd.read_parquet(run / "citizens.parquet")
citizens.groupby(["profile", "region"])[["received", "satisfaction"]].mean().round(3)

# %% [markdown]
# ## The figures `innatura run` drew
#
# The same functions draw the browser view's panels (`innatura viz`).

# %%
Image(filename=str(run / "humanity.png"), width=600)

# %% [markdown]
# ## The same data without files
#
# In Python the model hands you the daily rows directly, and Mesa's `DataCollector` holds
# agent-level rows of the units and the regions:

# %%
from innatura.abm.agents import ProductionUnit  # noqa: E402

import innatura  # noqa: E402

economy = innatura.PlanningEconomy("butter-village", rng=4, days=5, noise=0.1)
economy.run_model()
print(economy.model_frame()[["day", "humanity"]].to_string(index=False))
economy.datacollector.get_agenttype_vars_dataframe(ProductionUnit).tail(3)

# %% [markdown]
# ## Next
#
# [A misreporting study with a defence](03-misreporting.md) compares such runs when some
# citizens and units lie.
