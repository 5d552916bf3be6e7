"""The five-regions environment and observation model against closed forms."""

import math

import pytest

pytestmark = pytest.mark.learn
torch = pytest.importorskip("torch")
pytest.importorskip("torch_geometric")

from innatura.planner.errors import InvalidInputError  # noqa: E402
from innatura.planner.learned.config import EconomyConfig, ObservationConfig  # noqa: E402
from innatura.planner.learned.env import (  # noqa: E402
    allocate,
    initial_state,
    production,
    region_utility,
    regrowth,
    shares_from_logits,
    transition,
    utility,
    welfare,
)
from innatura.planner.learned.observations import draw_noise, implied_log_theta, observe, pooled_types  # noqa: E402

torch.set_num_threads(1)
ECO = EconomyConfig()


def _state(b=4, share=0.0, seed=0):
    return initial_state(ECO, ObservationConfig(misreport_share=share), b, torch.Generator().manual_seed(seed))


def test_production_is_cobb_douglas():
    st = _state(1)
    theta = torch.tensor([[0.5, 1.0, 1.5, 2.0, 0.2]])
    lab = torch.tensor([[0.5, 0.5, 1.0, 0.3, 0.7]])
    y = production(theta, st.capital, lab, torch.tensor([0.1]), ECO)
    for i, n in enumerate(ECO.populations):
        expect = math.exp(0.1) * float(theta[0, i]) ** 0.3 * 50.0 ** 0.4 * (float(lab[0, i]) * n) ** 0.6
        assert float(y[0, i]) == pytest.approx(expect, rel=1e-5)


def test_utility_and_regrowth_closed_forms():
    assert float(utility(torch.tensor(4.0), torch.tensor(1.0), 0.01)) == pytest.approx(2.0 - 0.04, abs=1e-4)
    assert float(regrowth(torch.tensor(500.0), ECO)) == pytest.approx(0.1 * 500 * 0.5)
    assert float(regrowth(torch.tensor(1000.0), ECO)) == pytest.approx(0.0)
    u = torch.tensor([[1.0, 0.0, 0.0, 0.0, 0.0]])
    assert float(welfare(u, ECO)[0]) == pytest.approx(100 / 750)


def test_allocation_conserves_the_stock_and_accumulates_capital():
    st = _state(3, seed=1)
    logits = torch.randn(3, 5, generator=torch.Generator().manual_seed(2))
    sc, sx = shares_from_logits(logits, logits - 1, torch.zeros(3))
    assert bool(((sc.sum(-1) + sx.sum(-1)) < 1).all())
    lab = torch.full((3, 5), 0.6)
    a = allocate(st, sc, sx, lab, ECO)
    nxt = transition(st, a, ECO, torch.Generator().manual_seed(3))
    opening = st.stock + regrowth(st.stock, ECO) + a.output.sum(-1)
    closing = nxt.stock + a.consumption.sum(-1) + a.investment.sum(-1)
    torch.testing.assert_close(opening, closing)
    torch.testing.assert_close(nxt.capital, 0.95 * st.capital + a.investment)
    assert bool((nxt.stock >= 0).all())
    assert nxt.t == 1


def test_bad_shares_are_rejected():
    st = _state(1)
    with pytest.raises(InvalidInputError, match="shares"):
        allocate(st, torch.full((1, 5), 0.3), torch.zeros(1, 5), torch.ones(1, 5), ECO)


def test_region_utility_charges_labour():
    c = torch.tensor([[100.0, 150.0, 120.0, 200.0, 180.0]])
    theta = torch.ones(1, 5)
    u0 = region_utility(c, torch.zeros(1, 5), theta, ECO)
    u1 = region_utility(c, torch.ones(1, 5), theta, ECO)
    torch.testing.assert_close(u0, torch.full((1, 5), 1.0 - 0.01), atol=1e-4, rtol=0)
    torch.testing.assert_close(u0 - u1, torch.full((1, 5), 0.25))


def test_types_and_misreporters_follow_the_config():
    st = _state(2000, share=0.25, seed=4)
    assert float(st.theta.min()) >= 0.1
    liars = (st.report_bias > 0).float().mean()
    assert float(liars) == pytest.approx(0.25, abs=0.02)
    assert float(st.report_bias.max()) == pytest.approx(math.log(1.5))


def test_observation_features_match_the_model():
    obs = ObservationConfig(output_noise=0.0, audit_noise=0.3, misreport_share=0.5)
    st = initial_state(ECO, obs, 8, torch.Generator().manual_seed(5))
    lab = torch.full((8, 5), 0.5)
    noise = draw_noise(8, 5, torch.Generator().manual_seed(6))
    x = observe(st, lab, noise, ECO, obs)
    torch.testing.assert_close(x[..., 0], 0.3 * torch.log(st.theta) + st.report_bias)
    torch.testing.assert_close(x[..., 1], torch.log(st.theta) + 0.3 * noise.audit)
    y = production(st.theta, st.capital, lab, st.shock, ECO)
    gap = torch.log((y * torch.exp(st.report_bias)).sum(-1) / y.sum(-1))
    torch.testing.assert_close(x[:, 0, 2], gap)
    pooled = observe(st, lab, noise, ECO, obs, reported_theta=pooled_types(st.theta))
    torch.testing.assert_close(pooled[..., 1], x[..., 1])  # audits cannot be manipulated
    honest = ObservationConfig(output_noise=0.0)
    st2 = initial_state(ECO, honest, 8, torch.Generator().manual_seed(5))
    hist = observe(st2, lab, noise, ECO, honest)[:, :, None, :]
    torch.testing.assert_close(implied_log_theta(hist, ECO), torch.log(st2.theta))


def test_config_validation_names_the_field():
    with pytest.raises(InvalidInputError, match=r"EconomyConfig.beta"):
        EconomyConfig(beta=1.5)
    with pytest.raises(InvalidInputError, match=r"ObservationConfig.misreport_share"):
        ObservationConfig(misreport_share=2.0)
