"""Baselines: equal split, greedy on reports, and the full-information oracle (upper bound)."""

import pytest

pytestmark = pytest.mark.learn
torch = pytest.importorskip("torch")
pytest.importorskip("torch_geometric")

from innatura.planner.learned import (  # noqa: E402
    BudgetRule,
    EconomyConfig,
    EqualSplit,
    FullInformationOracle,
    GreedyOnReports,
    ObservationConfig,
    PlannerInput,
    initial_state,
    simulate,
)
from innatura.planner.learned.observations import draw_noise, observe  # noqa: E402

torch.set_num_threads(1)
ECO = EconomyConfig()
RULE = BudgetRule(rho_c=0.5, rho_x=0.1, l0=0.6)


def _input(obs, b=4, seed=0):
    gen = torch.Generator().manual_seed(seed)
    st = initial_state(ECO, obs, b, gen)
    lab = torch.full_like(st.theta, 0.5)
    hist = torch.stack([observe(st, lab, draw_noise(b, 5, gen), ECO, obs) for _ in range(3)], 2)
    return PlannerInput(hist, st.capital, st.stock, 0), st


def test_equal_split_is_equal_per_citizen():
    inp, _ = _input(ObservationConfig())
    d = EqualSplit(ECO, RULE).plan(inp)
    pop = torch.tensor(ECO.populations)
    per_capita = d.share_c / pop
    torch.testing.assert_close(per_capita, per_capita[:, :1].expand_as(per_capita))
    torch.testing.assert_close(d.share_c.sum(-1), torch.full((4,), 0.5))
    torch.testing.assert_close(d.share_x.sum(-1), torch.full((4,), 0.1))


def test_greedy_allocates_in_proportion_to_reported_types():
    obs = ObservationConfig(output_noise=0.0, misreport_share=0.0)
    inp, st = _input(obs)
    d = GreedyOnReports(ECO, RULE).plan(inp)
    w = torch.tensor(ECO.populations) * st.theta
    torch.testing.assert_close(d.share_c, 0.5 * w / w.sum(-1, keepdim=True))
    # a misreporter gets more than its true type warrants
    lying = ObservationConfig(output_noise=0.0, misreport_share=0.5, misreport_factor=2.0)
    inp, st = _input(lying, b=64, seed=1)
    d = GreedyOnReports(ECO, RULE).plan(inp)
    w = torch.tensor(ECO.populations) * st.theta
    fair = 0.5 * w / w.sum(-1, keepdim=True)
    liars = st.report_bias > 0
    assert float((d.share_c / fair)[liars].mean()) > 1.5 * float((d.share_c / fair)[~liars].mean())


def test_oracle_bounds_the_baselines_and_ignores_reports():
    obs = ObservationConfig(misreport_share=0.4)
    res = {}
    for name, p in (("equal", EqualSplit(ECO, RULE)), ("greedy", GreedyOnReports(ECO, RULE)),
                    ("oracle", FullInformationOracle(ECO, steps=150, rule=RULE))):
        res[name] = simulate(p, ECO, obs, 16, torch.Generator().manual_seed(11)).metrics
    assert res["oracle"].utility > max(res["equal"].utility, res["greedy"].utility) + 0.02
    assert res["oracle"].ic_penalty == 0.0 and res["equal"].ic_penalty == 0.0
    assert res["greedy"].ic_penalty > 0.0


def test_oracle_uses_the_true_types():
    obs = ObservationConfig()
    theta = torch.tensor([0.2, 0.5, 1.0, 1.5, 2.5])
    ep = simulate(FullInformationOracle(ECO, steps=150, rule=RULE), ECO, obs, 2, torch.Generator().manual_seed(0),
                  theta=theta)
    per_capita = ep.consumption.sum(1)[0] / torch.tensor(ECO.populations)
    # welfare-maximising consumption per citizen rises with theta (c_i / n_i ∝ theta_i in a static split)
    assert bool((per_capita[1:] > per_capita[:-1]).all())
