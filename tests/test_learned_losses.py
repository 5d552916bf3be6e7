"""IC, IR, Ostrom, resource and policy loss terms on hand-computed cases."""

import pytest

pytestmark = pytest.mark.learn
torch = pytest.importorskip("torch")
pytest.importorskip("torch_geometric")

from innatura.planner.learned.config import LossWeights  # noqa: E402
from innatura.planner.learned.losses import (  # noqa: E402
    LossTerms,
    discounted_returns,
    ic_penalty,
    ir_penalty,
    ostrom_penalty,
    reinforce_loss,
    resource_penalty,
    total_loss,
)


def test_ic_penalty_floors_gains_at_zero():
    truthful = torch.tensor([1.0, 2.0, 3.0])
    pooled = torch.tensor([1.5, 1.0, 3.25])  # gains 0.5, -1 -> 0, 0.25
    assert float(ic_penalty(truthful, pooled)) == pytest.approx((0.5 + 0.0 + 0.25) / 3)
    assert float(ic_penalty(truthful, truthful - 1)) == 0.0


def test_ir_penalty_is_mean_shortfall():
    u = torch.tensor([[-0.5, 0.2], [0.1, -0.1]])
    assert float(ir_penalty(u, 0.0)) == pytest.approx((0.5 + 0.1) / 4)
    assert float(ir_penalty(u, 0.15)) == pytest.approx((0.65 + 0.0 + 0.05 + 0.25) / 4)


def test_ostrom_is_variance_over_time():
    # one economy, T = 3, two regions: region 0 constant, region 1 = 1, 2, 3 (variance 2/3)
    alloc = torch.tensor([[[5.0, 1.0], [5.0, 2.0], [5.0, 3.0]]])
    assert float(ostrom_penalty(alloc)) == pytest.approx((0.0 + 2.0 / 3.0) / 2)
    assert float(ostrom_penalty(alloc[:, :1])) == 0.0


def test_resource_penalty_squared_excess_over_regrowth_bound():
    total = torch.tensor([100.0, 400.0])
    stock = torch.tensor([200.0, 300.0])
    g = torch.tensor([5.0, 6.0])  # bounds 250, 360
    assert float(resource_penalty(total, stock, g, 10.0)) == pytest.approx((0.0 + 40.0 ** 2) / 2)


def test_discounted_returns():
    r = torch.tensor([[1.0, 2.0, 3.0]])
    torch.testing.assert_close(discounted_returns(r, 0.5), torch.tensor([[1 + 0.5 * 2 + 0.25 * 3, 2 + 1.5, 3.0]]))


def test_reinforce_pushes_up_better_actions_and_fits_the_baseline():
    logp = torch.zeros(2, 1, requires_grad=True)
    returns = torch.tensor([[1.0], [0.0]])
    values = torch.tensor([[0.5], [0.5]], requires_grad=True)
    loss = reinforce_loss(logp, returns, values, value_coef=1.0)
    loss.backward()
    assert float(logp.grad[0, 0]) < 0 < float(logp.grad[1, 0])  # descent raises log pi of the better action
    torch.testing.assert_close(values.grad, torch.tensor([[-0.5], [0.5]]))


def test_total_loss_is_the_weighted_sum():
    t = LossTerms(*(torch.tensor(v) for v in (1.0, 2.0, 3.0, 4.0, 5.0, 6.0)))
    w = LossWeights(vae=1.0, ic=0.5, ir=0.0, ostrom=2.0, resource=0.1, policy=1.0)
    assert float(total_loss(t, w)) == pytest.approx(1 + 1 + 0 + 8 + 0.5 + 6)
