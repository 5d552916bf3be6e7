"""Metrics that mean what they say under misreporting: humanity against TRUE needs, the
misreporting columns of model.csv, true capacity in execution, every defence on both sides."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from innatura.abm.model import PlanningEconomy
from innatura.abm.welfare import MISREPORT_COLUMNS, excess_receipts

pytestmark = pytest.mark.filterwarnings("ignore")

CITIZEN_STRATEGIES = ["honest", "inflate(1.5)", "inflate(3.0)", "inflate(10.0)", "deflate(0.5)", "noise(0.5)",
                      "hoard(2.0)", "adaptive_inflate(high=4.0, step=0.5)"]
UNIT_STRATEGIES = ["honest", "overstate_inputs(2.0)", "ratchet(1.5, ramp_days=1)", "overstate_capacity(3.0)",
                   "collude(2.0)", "adaptive_inputs"]
DEFENCES = ["none", "audit", "robust", "belief", "ic", "audit(probability=1.0)+robust(method='median')"]


def _brute_force_excess(model, out):
    """The goods each citizen received beyond its need, one citizen at a time (the oracle)."""
    lay, st_ = model.layout, model.state
    B, a, W, ratio = lay.economy.bundles, out.decision.allocation, out.weights.sum(axis=0), out.delivery.ratio
    by_profile = np.zeros(B.shape)
    for c in range(lay.n_citizens):
        r, p, f = lay.citizen_region[c], lay.citizen_profile[c], st_.citizen_factor[c]
        for i in np.flatnonzero(B[:, p]):
            got = ratio[r, i] * a[i, p] * f / W[p]  # units of good i this citizen received
            by_profile[i, p] += max(got - B[i, p], 0.0)
    return by_profile


def test_excess_receipts_match_a_citizen_by_citizen_count():
    model = PlanningEconomy("selviaria", rng=2, days=4, misreport_share=0.4, citizen_strategy="inflate(3.0)",
                            collect_agents=False)
    total = 0.0
    for _ in range(4):
        model.step()
        out = model.last_outcome
        excess = excess_receipts(model.layout, out.decision.allocation, out.weights, out.delivery.ratio,
                                 model.state.citizen_factor)
        np.testing.assert_allclose(excess.by_profile, _brute_force_excess(model, out), rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(excess.by_region.sum(), excess.by_profile.sum(), rtol=1e-12)
        total += excess.by_profile.sum()
    assert total > 0  # the liars did receive more than they need


@settings(max_examples=12, deadline=None)
@given(scenario=st.sampled_from(["butter-village", "selviaria"]), share=st.floats(0.0, 1.0),
       citizens=st.sampled_from(CITIZEN_STRATEGIES), units=st.sampled_from(UNIT_STRATEGIES),
       defence=st.sampled_from(DEFENCES), seed=st.integers(0, 50))
def test_humanity_and_fulfilment_never_exceed_one(scenario, share, citizens, units, defence, seed):
    model = PlanningEconomy(scenario, rng=seed, days=4, misreport_share=share, citizen_strategy=citizens,
                            unit_strategy=units, defences=defence, collect_agents=False)
    model.run_model()
    frame = model.model_frame()
    capped = ["humanity", "min_fulfilment", "truthful_fulfilment",
              *[c for c in frame.columns if c.startswith("fulfilment")]]
    values = frame[capped].to_numpy(dtype=float)
    assert np.all(np.isnan(values) | (values <= 1.0)), frame[capped].max()
    for column in ("detection_precision", "detection_recall"):
        v = frame[column].to_numpy(dtype=float)
        assert np.all(np.isnan(v) | ((v >= 0) & (v <= 1)))
    assert (frame["invariant_violations"] == 0).all()


def test_lying_no_longer_raises_humanity():
    """``innatura run butter-village --misreport-share 0.3`` reported humanity 1.136 when the liars
    received more than they need; against TRUE needs it cannot exceed the honest run's 1."""
    frame = PlanningEconomy("butter-village", rng=0, misreport_share=0.3, collect_agents=False)
    frame.run_model()
    df = frame.model_frame()
    assert df["humanity"].max() <= 1.0
    assert (df["liars_gain"] > 0).any()  # the liars did get more than the truthful


@pytest.mark.parametrize("defence", DEFENCES)
def test_both_sides_lie_under_every_defence(defence):
    model = PlanningEconomy("archipelago", rng=1, days=4, misreport_share=0.3, citizen_strategy="inflate(2.0)",
                            unit_strategy="overstate_inputs(1.5)", defences=defence, collect_agents=False)
    model.run_model()
    df = model.model_frame()
    assert (df["invariant_violations"] == 0).all() and not df["plan_fallback"].any()
    assert (df["misreporters"] > 0).all()
    citizens, units = model.state.citizen_code > 0, model.state.unit_code > 0
    assert citizens.any() and units.any()
    raw = model.last_outcome.reports.before_defences
    np.testing.assert_allclose(raw.citizen_factor[citizens], 2.0)
    curve = model.reporting_regions >= 0
    np.testing.assert_allclose(raw.unit_input_factor[units & curve], 1.5)
    if defence == "none":
        assert df["misreport_flags"].sum() == 0 and df["detection_recall"].eq(0).all()
        assert df["detection_precision"].isna().all() and (df["unit_slack"] > 0.02).all()
    else:
        assert df["misreport_flags"].sum() > 0 and (df["detection_precision"].dropna() > 0).any()


def test_honest_runs_have_no_misreporters_and_no_liars_gain():
    model = PlanningEconomy("selviaria", rng=0, days=3, collect_agents=False)
    model.run_model()
    df = model.model_frame()
    assert list(df.columns[df.columns.get_loc("plan_fallback") + 1:][:len(MISREPORT_COLUMNS)]) == \
        list(MISREPORT_COLUMNS)
    assert (df["misreporters"] == 0).all() and df["liars_gain"].isna().all()
    assert df["detection_precision"].isna().all() and df["detection_recall"].isna().all()
    assert (df["truthful_fulfilment"] <= 1).all() and (df["unit_slack"] < 0.05).all()


def test_a_defence_that_catches_everyone_leaves_no_liar_better_off():
    """Audited every night, every liar is caught on its first lie: citizens are fined (their
    claims cut) and units report the truth of their books; no liar receives more than the
    truthful of its region and profile, no lying unit is planned more inputs than it uses."""
    model = PlanningEconomy("butter-village", rng=4, days=6, misreport_share=0.4, citizen_strategy="inflate(3.0)",
                            unit_strategy="overstate_inputs(2.0)", defences="audit(probability=1.0)",
                            collect_agents=False)
    lay, st_ = model.layout, model.state
    liars, lying_units = st_.citizen_code > 0, (st_.unit_code > 0) & (model.reporting_regions >= 0)
    assert liars.any() and lying_units.any()
    groups = lay.citizen_region * lay.population.shape[1] + lay.citizen_profile
    for _ in range(6):
        model.step()
        got = st_.citizen_received
        for g in np.unique(groups[liars]):
            honest = ~liars & (groups == g)
            if honest.any():
                assert got[liars & (groups == g)].max() <= got[honest].min() + 1e-12
        np.testing.assert_array_equal(st_.unit_input_factor[lying_units], 1.0)  # on probation: the truth
        assert model.metrics["liars_gain"] < 0
    frame = model.model_frame()
    assert (frame["detection_recall"] == 1.0).all() and (frame["detection_precision"] == 1.0).all()


def test_execution_enforces_true_capacity():
    """Units that claim three times their capacity are planned beyond it, and make no more than
    it: overstating capacity now costs output (plan error, humanity)."""
    honest = PlanningEconomy("butter-village", rng=1, days=5)
    honest.run_model()
    lying = PlanningEconomy("butter-village", rng=1, days=5, misreport_share=1.0, citizen_strategy="honest",
                            unit_strategy="overstate_capacity(3.0)")
    lying.run_model()
    lay = lying.layout
    bounded = np.isfinite(lay.unit_capacity)
    units = lying.datacollector.get_agenttype_vars_dataframe(lying.unit_type)
    planned_beyond = False
    for row in lying.unit_log:
        assert (row["output"][bounded] <= lay.unit_capacity[bounded] * (1 + 1e-9)).all()
        assert (row["target"][bounded] <= lay.unit_capacity[bounded] * (1 + 1e-9)).all()
    for out_day in [lying.last_outcome]:
        planned_beyond |= bool((out_day.planned_targets[bounded] > lay.unit_capacity[bounded] * 1.01).any())
    assert planned_beyond and not units.empty
    assert lying.model_frame()["plan_error"].mean() > honest.model_frame()["plan_error"].mean()


def test_misreports_figure_is_not_blank_at_30_percent(tmp_path):
    from innatura.abm.plots import misreport_figure

    model = PlanningEconomy("butter-village", rng=0, days=5, misreport_share=0.3, collect_agents=False)
    model.run_model()
    fig = misreport_figure(model.model_frame())
    lines = {line.get_label(): line.get_ydata() for line in fig.axes[0].get_lines()}
    assert np.allclose(lines["citizens' demand (reported / true)"], 1.0 + 0.3 * 0.5, atol=0.05)
    assert (lines["units' inputs (reported / true)"] > 1.0).all()
    audited = PlanningEconomy("butter-village", rng=0, days=5, misreport_share=0.3, defences="audit",
                              collect_agents=False)
    audited.run_model()
    fig = misreport_figure(audited.model_frame())
    assert sum(p.get_height() for p in fig.axes[0].patches) > 0  # the flags, with precision and recall
    assert [line.get_label() for line in fig.axes[1].get_lines()] == ["precision", "recall"]
