"""Misreporting strategies change reports as documented, and never the true execution."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from innatura.abm.adversarial import (
    Collude,
    Deflate,
    Hoard,
    Inflate,
    Noise,
    OverstateCapacity,
    OverstateInputs,
    Ratchet,
)
from innatura.abm.day import execute, plan, report
from innatura.abm.model import PlanningEconomy
from innatura.abm.reporting import Evidence, StrategyContext
from innatura.planner.errors import InvalidInputError

pytestmark = pytest.mark.filterwarnings("ignore")


def ctx(param, day=1, evidence=None, seed=0, index=None, regions=None):
    param = np.asarray(param, dtype=float)
    index = np.arange(param.size) if index is None else np.asarray(index)
    kind = "unit" if regions is not None else "citizen"
    return StrategyContext(index, param, day, np.random.default_rng(seed), np.ones(param.size), evidence, kind,
                           None if regions is None else np.asarray(regions))


def evidence_with(received):
    z = np.zeros(3)
    return Evidence(2, z, z, z, z, np.asarray(received, dtype=float))


def test_inflate_and_deflate_report_their_factor_per_citizen():
    np.testing.assert_array_equal(Inflate()(ctx([1.5, 2.0])), [1.5, 2.0])
    np.testing.assert_array_equal(Deflate()(ctx([0.7, 0.5])), [0.7, 0.5])
    with pytest.raises(InvalidInputError, match="Deflate: factor"):
        Deflate(factor=1.2)
    with pytest.raises(InvalidInputError, match="Inflate: factor"):
        Inflate(factor=0.9)


def test_noise_is_mean_one_lognormal_from_the_given_generator():
    c = ctx(np.full(200_000, 0.3), seed=5)
    a = Noise()(c)
    assert a.mean() == pytest.approx(1.0, abs=0.005)
    assert np.log(a).std() == pytest.approx(0.3, rel=0.01)
    np.testing.assert_array_equal(a, Noise()(ctx(np.full(200_000, 0.3), seed=5)))  # same seed, same reports


def test_hoard_inflates_only_after_a_short_night():
    h = Hoard(factor=2.0, threshold=0.999)
    ev = evidence_with([0.5, 1.0, 0.99, 1.2])
    np.testing.assert_array_equal(h(ctx([2.0, 2.0, 3.0], day=2, evidence=ev, index=[0, 1, 2])), [2.0, 1.0, 3.0])
    np.testing.assert_array_equal(h(ctx([2.0, 2.0], day=2, evidence=ev, index=[3, 1])), [1.0, 1.0])
    np.testing.assert_array_equal(h(ctx([2.0, 2.0], day=1, evidence=ev)), [1.0, 1.0])  # nothing received yet


def test_ratchet_creeps_to_its_factor_and_keeps_capacity_honest():
    r = Ratchet(factor=1.5, ramp_days=5)
    for day, want in ((1, 1.1), (3, 1.3), (5, 1.5), (9, 1.5)):
        inp, cap = r(ctx([1.5, 2.0], day=day))
        np.testing.assert_allclose(inp, [want, 1.0 + (day / 5 if day < 5 else 1.0) * 1.0])
        np.testing.assert_array_equal(cap, [1.0, 1.0])


def test_overstate_capacity_reports_honest_inputs():
    inp, cap = OverstateCapacity()(ctx([2.0, 3.0]))
    np.testing.assert_array_equal(inp, [1.0, 1.0])
    np.testing.assert_array_equal(cap, [2.0, 3.0])


def test_collusion_shares_one_factor_per_region_scaled_by_cover():
    c = Collude(factor=1.5)
    regions = (0, 0, 1, 1, -1)
    inp, cap = c(ctx([1.4, 1.6, 1.5], index=[0, 1, 2], regions=regions))
    # region 0: both units collude (cover 1), mean factor 1.5; region 1: one of two (cover 0.5)
    np.testing.assert_allclose(inp, [1.5, 1.5, 1.25])
    np.testing.assert_array_equal(cap, np.ones(3))
    inp, _ = c(ctx([1.5, 1.5], index=[2, 4], regions=regions))  # a unit with no curve gives no cover: honest
    np.testing.assert_allclose(inp, [1.25, 1.0])
    with pytest.raises(InvalidInputError, match="Collude: factor"):
        Collude(factor=0.5)


def test_overstate_inputs_reports_its_factor_and_honest_capacity():
    inp, cap = OverstateInputs()(ctx([1.3, 2.0], regions=[0, 0]))
    np.testing.assert_array_equal(inp, [1.3, 2.0])
    np.testing.assert_array_equal(cap, [1.0, 1.0])


CITIZEN_CASES = [Inflate(factor=1.5), Deflate(factor=0.6), Noise(sd=0.4), Hoard(factor=2.0)]
UNIT_CASES = [Ratchet(factor=1.5, ramp_days=1), OverstateCapacity(factor=2.0), Collude(factor=1.5),
              OverstateInputs(factor=1.5)]


def _pair(citizen, unit, share):
    """The first night of a misreporting model and of its honest twin (same draws of who lies)."""
    honest = PlanningEconomy("selviaria", rng=3, misreport_share=share, collect_agents=False,
                             citizen_strategy="honest", unit_strategy="honest")
    liar = PlanningEconomy("selviaria", rng=3, misreport_share=share, collect_agents=False,
                           citizen_strategy=citizen, unit_strategy=unit)
    return honest, liar


def _same_execution(honest, liar):
    hr, lr = report(honest), report(liar)
    night = plan(honest, hr)
    a = execute(honest, night)
    b = execute(liar, replace(night, reports=lr))
    np.testing.assert_array_equal(a.production.output, b.production.output)
    np.testing.assert_array_equal(a.production.entry_use, b.production.entry_use)
    np.testing.assert_array_equal(a.production.used, b.production.used)
    np.testing.assert_array_equal(a.delivery.delivered, b.delivery.delivered)
    ti = liar.layout.true_inputs  # the true technology at the executed output, whatever was reported
    np.testing.assert_allclose(b.production.entry_use, ti.use(b.production.output), rtol=1e-12)
    return hr, lr


@pytest.mark.parametrize("strategy", CITIZEN_CASES, ids=lambda s: s.name)
def test_citizen_strategy_changes_reports_never_execution_or_needs(strategy):
    honest, liar = _pair(strategy, "honest", 0.3)
    liars = liar.state.citizen_code != 0
    assert 0 < liars.sum() < liars.size
    hr, lr = _same_execution(honest, liar)
    np.testing.assert_array_equal(hr.citizen_factor, 1.0)
    np.testing.assert_array_equal(lr.citizen_factor[~liars], 1.0)
    if isinstance(strategy, Hoard):  # the first night nobody has been short-changed yet
        np.testing.assert_array_equal(lr.citizen_factor, 1.0)
    elif isinstance(strategy, Noise):
        assert np.all(lr.citizen_factor[liars] != 1.0)
    else:
        np.testing.assert_array_equal(lr.citizen_factor[liars], strategy.factor)
    np.testing.assert_array_equal(lr.unit_input_factor, hr.unit_input_factor)
    np.testing.assert_array_equal(liar.layout.economy.bundles, honest.layout.economy.bundles)  # true needs
    np.testing.assert_array_equal(liar.layout.population, honest.layout.population)


@pytest.mark.parametrize("strategy", UNIT_CASES, ids=lambda s: s.name)
def test_unit_strategy_changes_reports_never_execution(strategy):
    honest, liar = _pair("honest", strategy, 1.0)
    hr, lr = _same_execution(honest, liar)
    lay = liar.layout
    if isinstance(strategy, OverstateCapacity):
        np.testing.assert_array_equal(lr.unit_input_factor, 1.0)
        np.testing.assert_array_equal(lr.unit_capacity, np.minimum(lay.unit_capacity * 2.0, np.inf))
    elif isinstance(strategy, Collude):  # every unit colludes: regions fully captured; no-curve units honest
        curve = liar.reporting_regions >= 0
        np.testing.assert_allclose(lr.unit_input_factor, np.where(curve, 1.5, 1.0))
        np.testing.assert_array_equal(lr.unit_capacity, hr.unit_capacity)
    else:  # every scenario unit ratchets
        np.testing.assert_allclose(lr.unit_input_factor, 1.5)
        np.testing.assert_array_equal(lr.unit_capacity, hr.unit_capacity)
    np.testing.assert_array_equal(honest.layout.true_inputs.scale, lay.true_inputs.scale)
    np.testing.assert_array_equal(honest.layout.unit_capacity, lay.unit_capacity)


def test_collusion_in_a_model_follows_the_region_cover():
    liar = PlanningEconomy("selviaria", rng=11, misreport_share=0.5, collect_agents=False,
                           citizen_strategy="honest", unit_strategy="collude(1.6)")
    colluding = liar.state.unit_code != 0
    reg = liar.reporting_regions
    rep = report(liar)
    for u in np.flatnonzero(colluding):
        if reg[u] < 0:
            assert rep.unit_input_factor[u] == 1.0
            continue
        peers = reg == reg[u]
        cover = (colluding & peers).sum() / peers.sum()
        assert rep.unit_input_factor[u] == pytest.approx(1.0 + 0.6 * cover)
    np.testing.assert_array_equal(rep.unit_input_factor[~colluding], 1.0)
