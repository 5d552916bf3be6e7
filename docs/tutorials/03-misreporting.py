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
# # A misreporting study with a defence
#
# The planner knows only what it is told. Citizens report what they need, production units
# report the input curves they fitted; a share of them may lie. This tutorial measures what
# inflated demand reports cost the citizens who tell the truth in the butter village, and
# what three of the planner's defences win back: audits, robust aggregation and an
# incentive-compatibility penalty. It ends with the same study as a sweep on the command
# line.
#
# Strategies and defences are written in one text form everywhere (Python, `innatura run`,
# the sweep, the browser view): a name, then parameters, positional in order or by keyword:
# `inflate(2.0)`, `ratchet(1.3, ramp_days=5)`, `audit(probability=0.3)`; defences join with
# `+`. See [misreporting and defences](../misreporting.md) for all of them.

# %%
import subprocess
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import innatura

# %% [markdown]
# ## Texts become objects
#
# `RunSettings` holds every option of a run, validated once. A strategy or a defence given
# as text is read into an object whose `str()` is the canonical text:

# %%
settings = innatura.RunSettings(misreport_share=0.3, citizen_strategy="inflate(2.0)", unit_strategy="honest",
                                defences="audit(probability=0.3)+robust")
print(repr(settings.citizen_strategy))
print([str(d) for d in settings.defences])

# %% [markdown]
# ## One run, with and without liars
#
# 30% of the citizens, drawn by the model's seed, claim twice their need (`inflate(2.0)`);
# the units stay honest. The planner shares what it can produce by the reported demand, so
# the liars' extra claim comes out of everybody's share. We follow what each citizen
# received, as a share of its true need, over ten days of scarcity.

# %%
DAYS = 10


def simulate(seed: int, **options) -> dict:
    """One run of the butter village; what truthful and lying citizens received on average."""
    model = innatura.PlanningEconomy("butter-village", rng=seed, days=DAYS, unit_strategy="honest", **options)
    received = []
    while model.running:
        model.step()
        received.append(model.state.citizen_received.copy())
    honest = np.array([str(citizen.strategy) == "honest" for citizen in model.citizens])
    received = np.array(received)
    frame = model.model_frame()
    return {"truthful": received[:, honest].mean(), "liars": received[:, ~honest].mean() if (~honest).any() else np.nan,
            "flags": frame["misreport_flags"].sum(), "humanity": frame["humanity"].mean()}


honest_run = simulate(0)
lying_run = simulate(0, misreport_share=0.3, citizen_strategy="inflate(2.0)")
pd.DataFrame({"everyone honest": honest_run, "30% inflate x2": lying_run}).round(3)

# %% [markdown]
# The truthful citizens lose about a fifth of what they received, and the liars get twice
# what the truthful get. Humanity, the *worst* share of any profile, hardly moves: the
# liars are spread over both profiles, and the loss is within each profile.
#
# ## Defences
#
# - `audit(probability=0.3)`: each night each citizen is audited with probability 0.3; a
#   caught liar is put on probation and fined (its claims cut) for a few days;
# - `robust`: reports that are outliers among their peers (by the median absolute
#   deviation) are replaced by the peers' median;
# - `ic`: claims above the peer median are discounted (an incentive-compatibility penalty).
#
# Three seeds each (the seed also draws who lies):

# %%
defences = ["none", "audit(probability=0.3)", "robust", "ic"]
rows = []
for seed in range(3):
    rows.append({"defence": "everyone honest", "seed": seed, **simulate(seed)})
    for defence in defences:
        options = {} if defence == "none" else {"defences": defence}
        rows.append({"defence": defence, "seed": seed,
                     **simulate(seed, misreport_share=0.3, citizen_strategy="inflate(2.0)", **options)})
results = pd.DataFrame(rows)
table = results.groupby("defence", sort=False)[["truthful", "liars", "flags", "humanity"]].mean()
table.round(3)

# %%
ax = table[["truthful", "liars"]].plot.bar(figsize=(7, 3.5), rot=0, color=["tab:blue", "tab:red"])
no_liars = table.loc["everyone honest", "truthful"]
ax.axhline(no_liars, color="k", linestyle=":", label="truthful, no liars")
ax.set(ylabel="mean share of need received", xlabel="",
       title=f"30% of citizens claim twice their need, {DAYS} days, 3 seeds")
ax.legend()
plt.show()

# %% [markdown]
# Robust aggregation and the IC penalty cut every inflated claim back to the peers' level
# here, so the truthful citizens get exactly what they would without liars. Audits catch a
# share of the liars each night and fine them: the truthful citizens even gain a little
# while the fines last, and the liars end up below them.

# %% [markdown]
# ## Units misreport too
#
# Units report their input curves. Half of the units here claim to need twice the inputs
# they use (`overstate_inputs(2.0)`): the planner sets aside goods for inputs that are never
# used, and plans less consumption. Audits check a unit's reported use against what it drew;
# `belief` corrects each unit's curve by its reported use against what execution revealed.

# %%
unit_rows = []
for defence in ["everyone honest", "none", "audit(probability=0.3)", "belief"]:
    options = {} if defence in ("none", "everyone honest") else {"defences": defence}
    lying = {} if defence == "everyone honest" else {"misreport_share": 0.5, "unit_strategy": "overstate_inputs(2.0)"}
    for seed in range(2):
        model = innatura.PlanningEconomy("butter-village", rng=seed, days=12, citizen_strategy="honest",
                                         **lying, **options)
        model.run_model()
        frame = model.model_frame()
        unit_rows.append({"defence": defence, "humanity, mean": frame["humanity"].mean(),
                          "unmet demand, last day": frame["unmet_demand"].iloc[-1],
                          "flags": frame["misreport_flags"].sum()})
pd.DataFrame(unit_rows).groupby("defence", sort=False).mean().round(3)

# %% [markdown]
# The overstated inputs cost the village about two fifths of its humanity over these twelve
# days; audits and the belief defence win most of it back. Robust aggregation (not shown)
# does not help here: it compares a unit with the units that make the same good, three per
# good in this village, and with half of them lying the peers' median is no honest yardstick.

# %% [markdown]
# ## The same study as a sweep
#
# `innatura experiment misreporting` runs every (planner, strategy, share, defence, seed)
# against the honest run with the same seed, on a local Dask cluster by default (`--local`
# here: in this process), writes each run's result as it finishes, and reports. Re-running
# the same command runs only what is missing. A tiny sweep:

# %%
out = Path("runs/misreporting")
subprocess.run(["innatura", "experiment", "misreporting", "--local", "--quiet", "--scenario", "butter-village",
                "--shares", "0,0.3", "--strategies", "inflate(2.0),ratchet", "--defences", "none,audit,robust",
                "--seeds", "2", "--days", "5", "--out", str(out)], check=True, capture_output=True)
sorted(p.name for p in out.iterdir())

# %% [markdown]
# `outcomes.parquet` has one row per case: the scenario, seed, strategy mix, share and
# defence, then the outcomes: welfare (the mean share of need the truthful citizens received),
# the welfare loss against the honest run with the same seed (positive: worse), the same for
# everyone (`welfare_loss_all`: fined liars included), and the recall of each night's flags.

# %%
cases = pd.read_parquet(out / "outcomes.parquet")
cells = cases.groupby(["mix", "share", "defence"])
cells[["welfare", "welfare_loss", "welfare_loss_all", "daily_recall"]].mean().round(3)

# %% [markdown]
# `report.md` has the same as Markdown tables, with the spread over seeds, and
# `welfare_loss.png` the welfare loss against the share of liars, one line per defence.

# %%
print((out / "report.md").read_text().splitlines()[0])

# %% [markdown]
# The sweep is the shipped study `misreporting` with its grid as flags. A study of your own is
# a TOML file (scenarios, seeds, levers, uncertainties, a design) run by
# `innatura experiment run FILE --out DIR`; `innatura experiment list` lists the shipped ones,
# among them `misreporting-both-sides` (both sides lie, every defence) and
# `adaptive-adversaries` (liars that learn how much to lie). See
# [misreporting and defences](../misreporting.md#studies).

# %% [markdown]
# ## Next
#
# - A strategy or a defence of your own is a small frozen dataclass:
#   [the architecture](../architecture.md#how-to-add).
# - [Your own planning method](04-planning-method.md), and how it copes with liars.
