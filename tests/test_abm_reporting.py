"""Active learning of curves, reporting strategies, validation, and the strategy/defence hooks."""

from __future__ import annotations

import itertools
import logging

import numpy as np
import pytest
from innatura.abm.active_learning import SampledInput, UnitSamples, curve_error, learn_units
from innatura.abm.adversarial import Strategy
from innatura.abm.day import report
from innatura.abm.execution import produce
from innatura.abm.model import PlanningEconomy
from innatura.abm.reporting import NightReports, validate_factors

logging.getLogger("planner").setLevel(logging.ERROR)


def _true(u, q):
    scale = [np.array([0.01, 0.005]), np.array([1e-6, 0.001])][u]
    exponent = [np.array([0.5, 1.0]), np.array([2.0, 1.0])][u]
    return scale * q**exponent


@pytest.mark.parametrize("unit,top", [(0, 500.0), (1, 1000.0)])
def test_curve_error_shrinks_as_the_query_budget_grows(unit, top):
    errors = []
    for budget in (2, 4, 8, 16, 32):
        samples = learn_units(_true, 2, np.array([2, 2]), np.array([500.0, 1000.0]), budget)
        errors.append(curve_error(_true, samples[unit], unit, top))
    assert all(b < a for a, b in itertools.pairwise(errors)), errors
    assert errors[-1] < 0.15 * errors[0]


def test_sampled_input_interpolates_and_extrapolates_power_laws():
    q = np.array([100.0, 200.0, 400.0])
    f = SampledInput(tuple(q), tuple(3e-4 * q**2))
    assert f(0.0) == 0.0 and f(200.0) == pytest.approx(12.0)
    assert f(800.0) == pytest.approx(3e-4 * 800**2, rel=1e-9)  # power law through the last two samples
    assert f.derivative(800.0) == pytest.approx(2 * 3e-4 * 800, rel=1e-9)
    g = SampledInput(tuple(q), tuple(q), factor=1.5)
    assert g(100.0) == pytest.approx(150.0)


def test_observations_refine_samples():
    s = UnitSamples(np.array([100.0]), np.array([[1.0]]))
    assert s.add(50.0, np.array([0.4]))
    assert not s.add(50.01, np.array([0.4]), min_gap=1e-3)
    assert list(s.qs) == [50.0, 100.0]
    for q in np.linspace(1, 99, 40):
        s.add(float(q), np.array([q / 100.0]))
    s.prune(10)
    assert s.qs.size == 10 and s.qs[-1] == 100.0


def test_validation_clips_and_flags_absurd_reports():
    clean, flagged = validate_factors(np.array([1.0, np.nan, -2.0, 1e9, 3.0]), 0.0, 10.0)
    np.testing.assert_array_equal(clean, [1.0, 1.0, 0.0, 10.0, 3.0])
    np.testing.assert_array_equal(flagged, [False, True, True, True, False])


def test_misreporting_changes_reports_never_true_execution():
    honest = PlanningEconomy("selviaria", rng=5)
    liars = PlanningEconomy("selviaria", rng=5, misreport_share=1.0, unit_strategy="overstate_inputs(2.0)",
                            citizen_strategy="inflate(1.5)")
    lay_h, lay_l = honest.layout, liars.layout
    # the first night's reports differ: the planner sees twice the learned input use
    honest.state.record_reports(report(honest))
    liars.state.record_reports(report(liars))
    u = 0
    rep_h = [f(300.0) for f in honest.reported_inputs(u)]
    rep_l = [f(300.0) for f in liars.reported_inputs(u)]
    np.testing.assert_allclose(rep_l, 2.0 * np.array(rep_h))
    honest = PlanningEconomy("selviaria", rng=5)
    liars = PlanningEconomy("selviaria", rng=5, misreport_share=1.0, unit_strategy="overstate_inputs(2.0)",
                            citizen_strategy="inflate(1.5)")
    honest.step()
    liars.step()
    assert liars.model_frame()["report_input_factor"].iloc[0] > 1.0
    assert liars.model_frame()["report_demand_factor"].iloc[0] == pytest.approx(1.5)
    # ... but the true technology, and so execution for the same targets, is the same
    targets = np.array([400.0, 300.0, 200.0, 50.0, 50.0, 50.0, 10.0])
    stocks = np.full((3, 6), 1e6)
    a = produce(targets, lay_h.technology, stocks, lay_h.labour_supply)
    b = produce(targets, lay_l.technology, stocks, lay_l.labour_supply)
    np.testing.assert_array_equal(a.entry_use, b.entry_use)
    np.testing.assert_array_equal(a.output, b.output)
    # and what the liars' units actually used is their TRUE use at their output
    out = liars.last_outcome
    np.testing.assert_allclose(out.production.entry_use, lay_l.true_inputs.use(out.production.output))


def test_new_strategy_and_defence_plug_in():
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Escalate(Strategy):  # a strategy of one's own: no table entry needed
        step: float = 0.5
        name = "escalate"
        kind = "citizen"

        def report(self, ctx):
            return 1.0 + self.step * ctx.day * np.ones(ctx.index.size)

    seen = []

    def cap_demand(reports: NightReports, evidence) -> NightReports:
        seen.append(evidence.day)
        return NightReports(np.minimum(reports.citizen_factor, 1.2), reports.unit_input_factor,
                            reports.unit_capacity, reports.flags + 1)

    model = PlanningEconomy("selviaria", rng=0, misreport_share=1.0, citizen_strategy=Escalate())
    model.defence_chain.append(cap_demand)
    model.step()
    model.step()
    assert seen == [1, 2]
    assert model.state.citizen_factor.max() == pytest.approx(1.2)
    assert model.model_frame()["misreport_flags"].iloc[-1] >= 1
    assert model.settings.to_dict()["citizen_strategy"]["class"].endswith("Escalate")


def test_unknown_names_are_rejected():
    from innatura.planner.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="planner"):
        PlanningEconomy("selviaria", rng=0, planner="clairvoyant")
    with pytest.raises(InvalidInputError, match=r"citizen strategy 'lie-big'|citizen strategy 'lie_big' is unknown"):
        PlanningEconomy("selviaria", rng=0, misreport_share=1.0, citizen_strategy="lie_big(2.0)")
    with pytest.raises(InvalidInputError, match="defence 'nope' is unknown; known: audit, robust, belief, ic"):
        PlanningEconomy("selviaria", rng=0, defences=("nope",))
    with pytest.raises(InvalidInputError, match=r"unknown option 'misreport_shar' .did you mean 'misreport_share'"):
        PlanningEconomy("selviaria", rng=0, misreport_shar=0.2)
