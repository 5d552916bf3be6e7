"""The regional plan in the agent model (docs/model.md, "The regional plan"): the setting, the
execution that follows the plan's shipments, the invariants, the outputs and resume."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from innatura.abm import checkpoint as ck
from innatura.abm.model import PlanningEconomy
from innatura.abm.settings import RunSettings
from innatura.planner.errors import InfeasiblePlanError, InvalidInputError


def _run(scenario: str = "butter-village", days: int = 8, **options) -> PlanningEconomy:
    model = PlanningEconomy(scenario, rng=3, days=days, strict=True, **options)
    while model.running:
        model.step()  # strict: a broken invariant raises
    return model


@pytest.fixture(scope="module")
def regional() -> PlanningEconomy:
    return _run(plan="regional", noise=0.3)


def test_plan_is_a_setting_the_scenario_and_the_run_choose():
    with pytest.raises(InvalidInputError, match="plan: one of national, regional, got 'local'"):
        RunSettings(plan="local")
    assert PlanningEconomy("butter-village", rng=0, days=1).settings.plan == "national"
    assert PlanningEconomy("butter-village", rng=0, days=1, plan="regional").settings.plan == "regional"
    spec = PlanningEconomy("butter-village", rng=0, days=1).spec
    chosen = spec.model_copy(update={"planning": spec.planning.model_copy(update={"plan": "regional"})})
    assert PlanningEconomy(chosen, rng=0, days=1).settings.plan == "regional"


def test_the_night_plans_on_the_region_graph_and_execution_follows_its_shipments(regional):
    d = regional.last_outcome.decision
    lay = regional.layout
    assert d.morning_shipments.shape == d.evening_shipments.shape == (lay.edge_src.size, lay.n_goods)
    assert d.delivered.shape == (lay.n_regions, lay.n_goods) and d.info["method"] == "lp"
    edges = pd.concat([pd.DataFrame(r) for r in regional.edge_log])
    per_day = edges.groupby("day")[["planned", "followed", "carried"]].sum()
    assert (per_day["planned"] > 0).all()
    # what the plan shipped left as planned (no stock ran short of it) ...
    np.testing.assert_allclose(per_day["followed"], per_day["planned"], rtol=1e-9)
    # ... and execution's own transport only adds what the plan did not foresee
    assert (per_day["carried"] >= per_day["followed"] * (1 - 1e-12)).all()
    frame = regional.model_frame()
    np.testing.assert_allclose(frame["shipped"].to_numpy(), per_day["carried"].to_numpy(), rtol=1e-12)
    assert (frame["transport_losses"] > 0).all() and (frame["transport_losses"] <= frame["losses"] + 1e-9).all()


def test_the_invariants_hold_under_the_plans_shipments(regional):
    frame = regional.model_frame()
    assert (frame["invariant_violations"] == 0).all()
    assert np.all(regional.state.stocks >= 0)
    assert frame["plan_error"].max() < 1e-6  # execution makes what the plan said


def test_same_seed_same_results(regional):
    again = _run(plan="regional", noise=0.3)
    pd.testing.assert_frame_equal(again.model_frame(), regional.model_frame())
    for a, b in zip(again.edge_log, regional.edge_log, strict=True):
        for column in a:
            np.testing.assert_array_equal(a[column], b[column])


def test_the_regional_plan_feeds_regions_the_national_plan_cannot():
    # five regions, each with its own labour: the national plan counts one labour pool and
    # plans output no region can staff; the regional plan plans what each region can make
    national = _run("five-regions", days=6, plan="national").model_frame()["humanity"]
    regional = _run("five-regions", days=6, plan="regional").model_frame()["humanity"]
    assert regional.iloc[-1] > 0.8 > 0.2 > national.iloc[-1]


def test_a_failed_night_keeps_yesterdays_plan_and_its_shipments(monkeypatch):
    import innatura.planner.regional as regional_plan

    model = PlanningEconomy("butter-village", rng=3, days=4, plan="regional", strict=True)
    model.step()
    model.step()

    def fail(*args, **kwargs):
        raise InfeasiblePlanError("no plan tonight")

    monkeypatch.setattr(regional_plan, "plan_regional", fail)
    yesterday = model.last_outcome.decision
    model.step()
    assert model.model_frame()["plan_fallback"].tolist() == [0.0, 0.0, 1.0]
    today = model.last_outcome.decision
    for field in ("production", "delivered", "morning_shipments", "evening_shipments"):
        np.testing.assert_array_equal(getattr(today, field), getattr(yesterday, field))
    assert model.model_frame()["invariant_violations"].sum() == 0


def test_a_regional_run_resumes_day_by_day_identical(tmp_path):
    whole = _run(plan="regional", noise=0.3, days=6)
    half = PlanningEconomy("butter-village", rng=3, days=3, strict=True, plan="regional", noise=0.3)
    while half.running:
        half.step()
    ck.save_checkpoint(half, tmp_path / "run")
    resumed, _ = ck.load_checkpoint(tmp_path / "run")
    assert resumed.central_planner.method.state_dict()["targets"] is not None
    resumed.run_until(6)
    while resumed.running:
        resumed.step()
    pd.testing.assert_frame_equal(resumed.model_frame(), whole.model_frame())
    assert len(resumed.edge_log) == 6
    for a, b in zip(resumed.edge_log, whole.edge_log, strict=True):
        for column in a:
            np.testing.assert_array_equal(a[column], b[column])


def test_the_run_writes_shipments_per_edge_and_the_nights_diagnostics(tmp_path):
    from innatura.cli import main

    out = tmp_path / "run"
    assert main(["run", "butter-village", "--plan", "regional", "--days", "3", "--out", str(out), "--quiet",
                 "--no-plots"]) == 0
    model = pd.read_csv(out / "model.csv")
    assert {"shipped", "transport_losses"} <= set(model.columns)
    edges = pd.read_parquet(out / "edges.parquet")
    assert list(edges.columns) == ["day", "edge", "source", "target", "planned", "followed", "carried"]
    assert len(edges) == 3 * 4 and set(edges["source"]) <= {"town", "farm", "village", "dairy", "mill"} | set(
        edges["source"])
    diag = pd.read_parquet(out / "diagnostics.parquet")
    assert list(diag.columns) == ["day", "constraint", "region", "item", "used", "limit", "slack", "shadow_price"]
    assert set(diag["day"]) == {1, 2, 3} and (diag["constraint"] == "labour").any()
    assert main(["run", "butter-village", "--plan", "local", "--days", "1", "--out", str(tmp_path / "x"),
                 "--quiet"]) == 2


def test_a_national_run_reports_its_transport_too():
    frame = _run(plan="national", noise=0.3).model_frame()
    assert (frame["shipped"] > 0).any() and (frame["transport_losses"] >= 0).all()
    assert (frame["transport_losses"] <= frame["losses"] + 1e-9).all()
