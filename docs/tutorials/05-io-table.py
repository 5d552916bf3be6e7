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
# # Turn a real input-output table into a scenario
#
# National statistical offices publish the economy's input-output tables: what each industry
# buys from each other industry, and what final demand (households, government, investment,
# exports) takes. innatura reads BEA Make/Use tables, WIOD national tables and any pymrio
# system, checks them by solving the Leontief system against the table's own gross output,
# and maps them to a runnable scenario. This tutorial does it for the US economy in 2022 (BEA
# summary tables, 71 industries), which ships with innatura.
#
# [Real input-output tables](../io-tables.md) describes the formats and the mapping in full.

# %%
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from innatura.planner import spectral_radius
from innatura.scenarios.io_tables import data_path, load_table
from innatura.scenarios.io_tables.solve import solve_table

import innatura

# %% [markdown]
# ## Read the table
#
# `data_path` finds the tables that ship with innatura; we copy the BEA folder here, as you
# would any folder of your own with a `use.csv` and a `make.csv`. BEA's tables have a few
# negative cells (scrap, and final demand net of imports): `load_table` keeps them by
# default (`negative_policy="keep"`) and lists them.

# %%
folder = Path("bea_summary_2022")
shutil.copytree(data_path("bea_summary_2022"), folder, dirs_exist_ok=True)
table = load_table(folder, format="bea")
print(f"{table.name}: {table.n} industries, year {table.year}, {table.unit}")
print(f"coefficients: density {table.density:.2f}, largest column sum {table.max_column_sum:.3f}")
print(f"negative entries, kept and listed: {len(table.negatives.cells)}")

# %% [markdown]
# Industry technology: column `j` of `A` is what one dollar of industry `j`'s output buys
# from each industry. Those that buy the most per dollar:

# %%
names = pd.Series(table.industry_names, index=table.industries)
biggest = pd.Series(np.asarray(table.A.sum(axis=0)).ravel(), index=table.industries).nlargest(5)
pd.DataFrame({"industry": names[biggest.index], "inputs per dollar of output": biggest.round(3)})

# %% [markdown]
# ## Check it: the Leontief solution against the table's gross output
#
# Solving `(I - A) x = f` must give back the gross output the table reports. `solve_table`
# does it for a table as it is (a table with negative cells is solved by LU alone, outside
# Leontief theory's guarantees) and reports the spectral radius of `A`: below 1, the economy
# is productive, and `(I - A) x = f` has a non-negative solution for any final demand.
# `innatura io solve` on the command line prints the same report.

# %%
check = solve_table(table)
gross = table.gross_output
print(f"spectral radius {check.spectral_radius:.4f}, method {check.method}, residual {check.residual:.1e}, "
      f"relative error against gross output {check.relative_error:.1e}")

top = np.argsort(gross)[-12:]
fig, ax = plt.subplots(figsize=(8, 4))
ax.barh(names.iloc[top].str.slice(0, 40), gross[top], color="lightgrey", label="table's gross output")
ax.plot(check.x[top], range(len(top)), "o", color="tab:blue", label="(I - A)^-1 f")
ax.set(xlabel=f"{table.unit}", title="The twelve largest industries, US 2022")
ax.legend(loc="lower right")
fig.tight_layout()
plt.show()

# %%
print(subprocess.run(["innatura", "io", "solve", str(folder), "--format", "bea"],
                     capture_output=True, text=True, check=True).stdout)

# %% [markdown]
# A scenario needs non-negative quantities. The `clip` policy sets negative coefficients and
# negative net final demand to zero, nets imports out of the other final-demand components,
# and reports every change. The clipped `A` is a proper Leontief matrix, which
# `innatura.solve_io` takes (it proves `rho(A) < 1` first); the solution moves off the table's
# gross output by the size of the changes:

# %%
clipped = load_table(folder, format="bea", negative_policy="clip")
moved = innatura.solve_io(clipped.A, clipped.f)
print(f"clip: {len(clipped.negatives.cells)} entries changed; spectral radius {spectral_radius(clipped.A):.4f}; "
      f"relative error against gross output {np.linalg.norm(moved.x - gross) / np.linalg.norm(gross):.3f}")

# %% [markdown]
# ## Make it a scenario
#
# `innatura import-io` writes a runnable scenario file: industries become final goods,
# value added one labour good; annual money flows divided by 365 are read as physical units
# a day (the file says so); households become `--population` citizens sharing household
# final demand, and the other final-demand components become profiles of their own; one
# production unit per industry, with inputs `a_ij x*_j (q / x*_j)^(1/E)` (constant
# coefficients at the observed output for `--returns-to-scale 1`); stocks, labour and
# capacities sized so that day 1 can be planned.

# %%
done = subprocess.run(["innatura", "import-io", str(folder), "--format", "bea", "--population", "1000",
                       "--out", "us.toml"], capture_output=True, text=True, check=True)
print(done.stdout)
print("\n".join(Path("us.toml").read_text(encoding="utf-8").splitlines()[:12]))

# %%
spec = innatura.load_scenario("us.toml")
kinds = Counter(good.kind for good in spec.goods)
print(dict(kinds), "|", len(spec.units), "units |", len(spec.profiles), "profiles:",
      ", ".join(p.name for p in spec.profiles))

# %% [markdown]
# In Python the same mapping is `innatura.scenarios.io_tables.to_scenario.table_to_spec(table,
# name, population=1000)`, which returns the spec without writing a file.
#
# ## Run it
#
# The scenario runs like any other. Twenty days of the US economy, planned in natura:

# %%
model = innatura.PlanningEconomy("us.toml", rng=0, days=20)
model.run_model()
frame = model.model_frame()
frame.set_index("day")[["humanity", "planned_humanity", "min_fulfilment", "plan_error", "invariant_violations"]].tail()

# %%
fulfilment = frame.filter(like="fulfilment:").rename(columns=lambda c: c.split(":", 1)[1])
fulfilment.index = frame["day"]
ax = fulfilment.plot(figsize=(7, 3.5), title="Fulfilment per profile, US 2022 as a planned economy")
ax.set(xlabel="day", ylabel="share of the bundle", ylim=(0, 1.05))
ax.legend(fontsize="small", ncol=2)
plt.show()

# %% [markdown]
# ## Other tables
#
# The WIOD national table of the USA (56 industries, 2000 to 2014) ships too; `--year`
# picks the year. A pymrio `IOSystem` (EXIOBASE, OECD ICIO, ...) goes through
# `innatura.scenarios.io_tables.from_pymrio(io)` (the `io` extra installs pymrio): MRIO
# regions become the scenario's regions, and the inter-regional blocks of `A` are kept.

# %%
wiod = load_table(data_path("wiod_niot_usa_2000_2014/USA_NIOT_domestic_2000-2014.csv"), format="wiod", year=2014)
check = innatura.solve_io(wiod.A, wiod.f)
print(f"WIOD USA {wiod.year}: {wiod.n} industries, spectral radius {spectral_radius(wiod.A):.3f}, "
      f"relative error {np.linalg.norm(check.x - wiod.gross_output) / np.linalg.norm(wiod.gross_output):.2e}")
