"""The agent model end to end: smoke runs, invariants, determinism, agents as views."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from innatura.abm.agents import Citizen, ProductionUnit, Region
from innatura.abm.invariants import InvariantError, check_day
from innatura.abm.model import PlanningEconomy
from innatura.scenarios.builders.synthetic import synthetic_spec

from innatura import scenarios

logging.getLogger("planner").setLevel(logging.ERROR)

SMALL = [name for name, _ in scenarios.available() if len(scenarios.load(name).goods) <= 60]
LARGE = [name for name, _ in scenarios.available() if name not in SMALL]


def _smoke(name: str, days: int) -> pd.DataFrame:
    model = PlanningEconomy(name, rng=1, strict=True)
    for _ in range(days):
        model.step()
    df = model.model_frame()
    assert list(df["day"]) == list(range(1, days + 1))
    assert df["invariant_violations"].eq(0).all()
    assert np.isfinite(df["humanity"]).all() and (df["humanity"] >= 0).all()
    assert (model.state.stocks >= 0).all()
    return df


@pytest.mark.parametrize("name", SMALL)
def test_ten_day_smoke_run(name):
    df = _smoke(name, 10)
    assert df["planned_humanity"].max() > 0


@pytest.mark.slow
@pytest.mark.parametrize("name", LARGE)
def test_ten_day_smoke_run_large(name):
    _smoke(name, 10)


def test_selviaria_humanity_rises_from_published_start():
    model = PlanningEconomy("selviaria", rng=0, single_region=True, strict=True)
    for _ in range(8):
        model.step()
    h = model.model_frame()["humanity"].to_numpy()
    assert h[0] < 0.01  # the published figure starts at 0.00054; one day of production here
    assert h[-1] > 0.99


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), regions=st.integers(1, 5), noise=st.sampled_from([None, 0.0, 0.5]),
       misreport=st.sampled_from([0.0, 0.5]))
# night 3 of this economy: the investment stage kept its safety share as a column bound that
# HiGHS then found infeasible by rounding, and the balanced fallback's root search saw no sign change
@example(seed=625, regions=4, noise=0.0, misreport=0.0)
def test_invariants_hold_on_random_economies(seed, regions, noise, misreport):
    spec = synthetic_spec(citizens=300, units=8, goods=16, regions=regions, profiles=3, seed=seed)
    model = PlanningEconomy(spec, rng=seed, strict=True, noise=noise, misreport_share=misreport,
                            output_loss=(0.2, 0.1))
    for _ in range(4):
        model.step()  # strict: any broken invariant raises
    out = model.last_outcome
    assert (out.closing >= 0).all()
    lab = model.layout.labour_mask
    assert (out.production.used[:, lab] <= model.layout.labour_supply[:, lab] * (1 + 1e-9) + 1e-12).all()


def test_strict_mode_raises_on_a_broken_invariant():
    model = PlanningEconomy("selviaria", rng=0)
    model.step()
    out = model.last_outcome
    out.closing[0, 0] += 1.0  # a unit of Lucloelium from nowhere
    with pytest.raises(InvariantError, match="conservation"):
        check_day(model.layout, out, 1, strict=True)
    assert check_day(model.layout, out, 1, strict=False)


def _frame(seed, **kw):
    model = PlanningEconomy("selviaria", rng=seed, noise=0.5, misreport_share=0.3, **kw)
    for _ in range(6):
        model.step()
    return model.model_frame(), model


def test_same_seed_same_results_different_seed_differs():
    a, ma = _frame(7)
    b, mb = _frame(7)
    pd.testing.assert_frame_equal(a, b)
    np.testing.assert_array_equal(ma.state.stocks, mb.state.stocks)
    c, _ = _frame(8)
    assert not a.equals(c)


def test_agents_view_the_arrays():
    model = PlanningEconomy("selviaria", rng=0)
    model.step()
    lay = model.layout
    assert len(model.agents_by_type[Citizen]) == lay.n_citizens == 1300
    assert len(model.agents_by_type[Region]) == lay.n_regions
    region = model.regions[1]
    np.testing.assert_array_equal(region.inventory, model.state.stocks[1])
    assert region.cell.coordinate == 1 and len(region.links) == 2
    unit = model.units[2]
    assert isinstance(unit, ProductionUnit) and unit.good == "Vorpal Pick +1"
    assert unit.output == model.state.unit_output[2]
    np.testing.assert_allclose(unit.query(100.0), [1e-6 * 100**2, 1e-3 * 100])
    c = model.citizens[0]
    assert c.profile in lay.profiles and c.strategy.name == "honest" and c.report_factor == 1.0
