"""viz.view_model and viz.components: the page's model wrapper on the real agent model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("solara")

from innatura.planner.errors import InfeasiblePlanError
from innatura.viz.components import region_snapshot, summary_text
from innatura.viz.params import DEFAULTS
from innatura.viz.view_model import EconomyView, available_planners, available_scenarios

SMALL = "butter-village"


@pytest.fixture(scope="module")
def stepped() -> EconomyView:
    view = EconomyView(scenario_name=SMALL, seed="7")
    view.step()
    view.step()
    return view


def test_choices_come_from_the_registries():
    scenarios = available_scenarios()
    assert scenarios[0] == DEFAULTS.scenario
    assert {"selviaria", SMALL} <= set(scenarios)
    assert available_planners()[0] == "olin"


def test_valid_parameters_build_the_economy(stepped):
    assert stepped.errors == []
    assert stepped.params.seed == 7 and stepped.params.scenario == SMALL
    assert stepped.economy is not None
    assert stepped.day == 2
    df = stepped.frame()
    assert list(df["day"]) == [1, 2]
    assert {"humanity", "externalities", "misreport_flags"} <= set(df.columns)


def test_effective_params_fill_in_the_scenarios_values(stepped):
    effective = stepped.effective_params()
    assert stepped.params.investment_share is None
    assert effective.investment_share == pytest.approx(stepped.economy.investment_share)
    assert 0.0 <= effective.loss_probability <= 1.0


def test_slider_values_reach_the_economy():
    view = EconomyView(scenario_name=SMALL, investment_share=0.6, loss_probability=0.25, misreport_share=0.5,
                       seed=3)
    assert view.errors == []
    assert view.economy.investment_share == pytest.approx(0.6)
    assert view.economy.settings.noise == pytest.approx(0.25)


def test_bad_seed_is_a_message_and_the_default_is_used():
    view = EconomyView(scenario_name=SMALL, seed="twelve")
    assert len(view.errors) == 1
    assert view.errors[0].startswith("seed: 'twelve' is not a whole number")
    assert view.params.seed == DEFAULTS.seed
    assert view.economy is not None and view.running


def test_unknown_scenario_is_a_message():
    view = EconomyView(scenario_name="atlantis", seed="1")
    assert any(e.startswith("scenario: 'atlantis' is not one of") for e in view.errors)
    assert view.params.scenario == DEFAULTS.scenario


def test_a_failing_day_stops_the_view_with_a_message(monkeypatch):
    view = EconomyView(scenario_name=SMALL, seed=1)

    def fail():
        raise InfeasiblePlanError("no feasible plan tonight")

    monkeypatch.setattr(view.economy, "step", fail)
    view.step()
    assert not view.running
    assert view.errors == ["day 1 failed: no feasible plan tonight"]
    view.step()  # stepping a stopped view is harmless
    assert view.day == 0


def test_same_seed_same_frame():
    frames = []
    for _ in range(2):
        view = EconomyView(scenario_name=SMALL, seed="11", loss_probability=0.5)
        view.step()
        view.step()
        frames.append(view.frame())
    pd.testing.assert_frame_equal(frames[0], frames[1])


def test_summary_line_names_day_and_metrics(stepped):
    text = summary_text(stepped)
    assert text.startswith(f"Day 2 · {SMALL} · olin · humanity ")
    assert "externalities" in text
    fresh = EconomyView(scenario_name=SMALL, seed=1)
    assert summary_text(fresh).startswith("Day 0")


def test_region_snapshot_matches_the_layout(stepped):
    snap = region_snapshot(stepped)
    layout = stepped.economy.layout
    assert set(snap.graph.nodes) == set(snap.population)
    assert sum(snap.population.values()) == pytest.approx(layout.population.sum())
    assert sorted(snap.labels.values()) == sorted(layout.regions)
    assert set(snap.fulfilment) == set(snap.graph.nodes)
    df = stepped.frame()
    for node, name in snap.labels.items():
        assert snap.fulfilment[node] == pytest.approx(df[f"fulfilment_region:{name}"].iloc[-1])
    assert all(0.0 <= v <= 1.0 for v in snap.humanity.values())
    assert set(snap.shipped) == set(snap.graph.edges)
    assert all(v >= 0 for v in snap.shipped.values())
    total = np.asarray(stepped.economy.last_outcome.edge_load).sum()
    assert sum(snap.shipped.values()) == pytest.approx(total)


def test_region_snapshot_before_the_first_day_has_only_the_graph():
    snap = region_snapshot(EconomyView(scenario_name=SMALL, seed=1))
    assert snap.graph.number_of_nodes() > 0
    assert snap.fulfilment == {} and snap.humanity == {} and snap.shipped == {}


def test_strategy_and_defence_fields_reach_the_economy():
    view = EconomyView(scenario_name=SMALL, misreport_share=0.5, citizen_strategy="inflate(2.0)",
                       unit_strategy="collude(1.4)", defence="audit(0.4)", seed=3)
    assert view.errors == []
    s = view.economy.settings
    assert str(s.citizen_strategy) == "inflate(factor=2.0)" and str(s.unit_strategy) == "collude(factor=1.4)"
    assert [d.probability for d in s.defences] == [0.4]
    view.step()
    assert view.economy.state.citizen_factor.max() <= 2.0


def test_unit_table_shows_reported_against_true_use_and_flags():
    from innatura.viz.components import unit_table

    view = EconomyView(scenario_name="archipelago", misreport_share=0.3, unit_strategy="overstate_inputs",
                       unit_parameters="1.5", citizen_strategy="honest", defence="audit", defence_parameters="1.0",
                       seed=2)
    assert unit_table(view).empty  # nothing simulated yet
    view.step()
    view.step()
    table = unit_table(view)
    economy = view.economy
    assert len(table) == economy.layout.n_units
    assert list(table.columns) == ["unit", "good", "strategy", "target", "output", "reported use", "planned use",
                                   "true use", "reported / true", "flagged"]
    liars = table[table["strategy"] == "overstate_inputs(factor=1.5)"]
    assert len(liars) == int((economy.state.unit_code > 0).sum())
    measured = liars[liars["reported / true"] != "-"]
    ratio = measured["reported / true"].astype(float)
    assert not measured.empty and abs(ratio.median() - 1.5) < 0.05  # the lie, against the truth (learning error aside)
    flagged = table["flagged"] == "yes"
    assert flagged.any() and flagged.iloc[:flagged.sum()].all()  # flagged units first
