"""Defences: audits catch at the configured rate, robust aggregation, belief updates, IC penalty;
detection metrics by hand."""

from __future__ import annotations

import numpy as np
import pytest
from innatura.abm.adversarial import (
    Audit,
    BeliefUpdate,
    ICPenalty,
    Ratchet,
    RobustAggregation,
    attach_defences,
    detection_scores,
    truthful_welfare,
)
from innatura.abm.adversarial.peers import Peers
from innatura.abm.model import PlanningEconomy
from innatura.abm.reporting import Evidence, NightReports
from innatura.planner.errors import InvalidInputError
from scipy import stats

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture(scope="module")
def model():
    return PlanningEconomy("selviaria", rng=0, collect_agents=False)


def honest_reports(model, **changes):
    lay = model.layout
    r = NightReports(np.ones(lay.n_citizens), np.ones(lay.n_units), lay.unit_capacity.copy(), 0)
    from dataclasses import replace

    return replace(r, **changes)


def no_evidence(model, day=1):
    U, C = model.layout.n_units, model.layout.n_citizens
    z = np.zeros(U)
    return Evidence(day, z, z, z, z, np.zeros(C))


def binomial_ok(k: int, n: int, p: float, alpha: float = 1e-4) -> bool:
    return stats.binomtest(k, n, p).pvalue > alpha


def test_peers_of_selviaria(model):
    p = Peers.of(model.layout)
    np.testing.assert_array_equal(p.unit_reports_curve, [True, True, True, False, False, False, False])
    assert p.citizen_group.max() < model.layout.n_regions * model.layout.population.shape[1]


def test_audit_catches_an_understating_unit_at_the_audit_probability(model):
    audit = Audit(probability=0.3, penalty_days=0, citizens=False).bind(model)
    inp = np.ones(model.layout.n_units)
    inp[0] = 1.5  # factory-1 understates its productivity by a third
    rep, ev = honest_reports(model, unit_input_factor=inp), no_evidence(model)
    nights, caught = 2000, 0
    for _ in range(nights):
        out = audit(rep, ev)
        caught += bool(out.unit_input_factor[0] == 1.0)  # caught tonight: corrected to the truth
    assert caught == audit.caught_units[0]
    assert binomial_ok(caught, nights, 0.3), caught / nights
    assert audit.caught_units[1:].sum() == 0  # honest units are never caught
    assert binomial_ok(int(audit.audited_units[1]), nights, 0.3)
    np.testing.assert_array_equal(audit.flagged_units, np.eye(model.layout.n_units, dtype=bool)[0])


def test_audit_in_the_model_catches_ratcheting_factories_at_the_rate():
    m = PlanningEconomy("selviaria", rng=4, misreport_share=1.0, collect_agents=False,
                        citizen_strategy="honest", unit_strategy=Ratchet(factor=1.5, ramp_days=1))
    (audit,) = attach_defences(m, [Audit(probability=0.3, penalty_days=0, citizens=False)])
    days = 30
    for _ in range(days):
        m.step()
    factories = Peers.of(m.layout).unit_reports_curve
    caught = int(audit.caught_units[factories].sum())
    assert binomial_ok(caught, days * int(factories.sum()), 0.3), caught
    np.testing.assert_array_equal(audit.caught_units[factories], audit.audited_units[factories])
    assert audit.caught_units[~factories].sum() == 0  # no curve, no lie about it
    assert m.model_frame()["misreport_flags"].sum() >= caught


def test_audit_probation_and_citizen_fine(model):
    audit = Audit(probability=1.0, penalty=0.5, penalty_days=2).bind(model)
    cf = np.ones(model.layout.n_citizens)
    cf[:5] = 1.5
    cap = model.layout.unit_capacity.copy()
    cap[1] = 900.0  # factory-2 overstates its capacity of 500
    out = audit(honest_reports(model, citizen_factor=cf, unit_capacity=cap), no_evidence(model))
    np.testing.assert_array_equal(out.citizen_factor[:5], 0.5)
    np.testing.assert_array_equal(out.citizen_factor[5:], 1.0)
    assert out.unit_capacity[1] == 500.0 and out.flags == 6
    never = Audit(probability=0.0, penalty=0.5, penalty_days=2).bind(model)
    assert never(honest_reports(model, citizen_factor=cf), no_evidence(model)).citizen_factor[0] == 1.5
    # probation: caught on night 1, corrected on nights 2 and 3 even when not audited, free on night 4
    run = Audit(probability=1.0, penalty=0.0, penalty_days=2).bind(model)
    run(honest_reports(model, citizen_factor=cf), no_evidence(model))
    run.spec = Audit(probability=0.0, penalty=0.0, penalty_days=2)
    seen = [run(honest_reports(model, citizen_factor=cf), no_evidence(model)).citizen_factor[0] for _ in range(3)]
    assert seen == [1.0, 1.0, 1.5]


def test_audit_parameters_are_validated():
    with pytest.raises(InvalidInputError, match="probability"):
        Audit(probability=1.5)
    with pytest.raises(InvalidInputError, match="penalty_days"):
        Audit(penalty_days=-1)


def test_robust_aggregation_by_hand(model):
    groups = Peers.of(model.layout).citizen_group
    g0 = np.flatnonzero(groups == groups[0])
    cf = np.ones(model.layout.n_citizens)
    cf[g0[:3]] = 1.5  # three inflators among their peers
    inp = np.ones(model.layout.n_units)
    inp[1] = 1.4  # factory-2 against factories 1 and 3 (same good)
    inp[4] = 3.0  # a Lucloelium workshop reports no curve: not judged
    rep = honest_reports(model, citizen_factor=cf, unit_input_factor=inp)
    d = RobustAggregation().bind(model)
    out = d(rep, no_evidence(model))
    np.testing.assert_array_equal(out.citizen_factor, 1.0)
    np.testing.assert_array_equal(out.unit_input_factor, [1, 1, 1, 1, 3.0, 1, 1])
    np.testing.assert_array_equal(np.flatnonzero(d.flagged_citizens), np.sort(g0[:3]))
    np.testing.assert_array_equal(np.flatnonzero(d.flagged_units), [1])
    # trimmed: every citizen of the group gets the group's trimmed mean; trim 0 is the plain mean
    k = g0.size
    out = RobustAggregation(method="trimmed", trim=0.2).bind(model)(rep, no_evidence(model))
    np.testing.assert_array_equal(out.citizen_factor[g0], 1.0)  # floor(0.2 k) >= 3 inflators cut
    out = RobustAggregation(method="trimmed", trim=0.0).bind(model)(rep, no_evidence(model))
    np.testing.assert_allclose(out.citizen_factor[g0], (k - 3 + 3 * 1.5) / k)
    out = RobustAggregation(method="median").bind(model)(rep, no_evidence(model))
    np.testing.assert_array_equal(out.citizen_factor, 1.0)
    with pytest.raises(InvalidInputError, match="method"):
        RobustAggregation(method="mode")


def test_belief_update_corrects_a_ratcheting_unit_from_execution():
    m = PlanningEconomy("selviaria", rng=1, misreport_share=1.0, collect_agents=False,
                        citizen_strategy="honest", unit_strategy="ratchet(1.5, ramp_days=1)")
    (belief,) = attach_defences(m, [BeliefUpdate(rate=0.5)])
    for _ in range(10):
        m.step()
    # factory-1 produced every day: its accepted factor converged from the reported 1.5 to ~1
    assert m.state.unit_input_factor[0] == pytest.approx(1.0, abs=0.01)
    assert belief.flagged_units[0]
    assert np.exp(belief.log_correction[0]) == pytest.approx(1 / 1.5, rel=0.02)
    # units without a curve give no evidence: never corrected
    np.testing.assert_array_equal(belief.log_correction[3:], 0.0)


def test_ic_penalty_takes_away_the_gain_from_inflating(model):
    groups = Peers.of(model.layout).citizen_group
    g0 = np.flatnonzero(groups == groups[0])
    cf = np.ones(model.layout.n_citizens)
    cf[g0[0]], cf[g0[1]] = 2.0, 0.5
    rep = honest_reports(model, citizen_factor=cf)
    full = ICPenalty(strength=1.0).bind(model)(rep, no_evidence(model))
    half = ICPenalty(strength=0.5).bind(model)(rep, no_evidence(model))
    assert full.citizen_factor[g0[0]] == 1.0 and half.citizen_factor[g0[0]] == 1.5
    assert full.citizen_factor[g0[1]] == 0.5  # understating is taken as it is
    assert full.flags == 1


def test_detection_scores_and_truthful_welfare_by_hand():
    d = detection_scores(np.array([1, 1, 0, 0, 1], bool), np.array([1, 0, 1, 0, 1], bool))
    assert (d.true_positives, d.flagged, d.misreporters) == (2, 3, 3)
    assert d.precision == pytest.approx(2 / 3) and d.recall == pytest.approx(2 / 3)
    none = detection_scores(np.zeros(3, bool), np.array([1, 0, 0], bool))
    assert np.isnan(none.precision) and none.recall == 0.0
    w = truthful_welfare(np.array([0.5, 1.0, 0.8]), np.array([0.9, 0.2, 1.0]), np.array([1, 0, 1], bool))
    assert w["welfare"] == pytest.approx(0.65) and w["honest_welfare"] == pytest.approx(0.95)
    assert w["welfare_loss"] == pytest.approx(0.3) and w["welfare_loss_rel"] == pytest.approx(0.3 / 0.95)
