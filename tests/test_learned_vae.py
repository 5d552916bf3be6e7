"""The type VAE recovers the ranking of hidden productivities from informative observations."""

import pytest

pytestmark = pytest.mark.learn
torch = pytest.importorskip("torch")
pytest.importorskip("torch_geometric")
stats = pytest.importorskip("scipy.stats")

from innatura.planner.learned.config import EconomyConfig, ObservationConfig  # noqa: E402
from innatura.planner.learned.env import initial_state  # noqa: E402
from innatura.planner.learned.observations import draw_noise, observe  # noqa: E402
from innatura.planner.learned.vae import TypeVAE  # noqa: E402

torch.set_num_threads(1)
ECO = EconomyConfig()


def _histories(obs: ObservationConfig, batch: int, periods: int, seed: int):
    gen = torch.Generator().manual_seed(seed)
    st = initial_state(ECO, obs, batch, gen)
    lab = torch.full_like(st.theta, 0.5)
    hist = [observe(st, lab, draw_noise(batch, 5, gen), ECO, obs) for _ in range(periods)]
    return torch.stack(hist, 2), st


def _train(obs: ObservationConfig, steps: int = 250) -> TypeVAE:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        vae = TypeVAE(ECO.alpha, latent_dim=2, hidden=16)
    opt = torch.optim.Adam(vae.parameters(), lr=1e-2)
    gen = torch.Generator().manual_seed(1)
    for step in range(steps):
        hist, _ = _histories(obs, 32, 6, seed=10 + step)
        opt.zero_grad()
        vae.loss(hist, vae(hist), gen).backward()
        opt.step()
    return vae


def test_vae_ranks_held_out_types():
    obs = ObservationConfig(output_noise=0.1, audit_noise=0.3, misreport_share=0.0)
    vae = _train(obs)
    hist, st = _histories(obs, 40, 6, seed=99_999)  # held-out economies: 200 regions
    with torch.no_grad():
        est = vae(hist).log_theta
    rho = stats.spearmanr(est.flatten().numpy(), st.theta.flatten().numpy()).statistic
    assert rho > 0.8
    within = [stats.spearmanr(est[b].numpy(), st.theta[b].numpy()).statistic for b in range(40)]
    assert sum(within) / len(within) > 0.8


def test_vae_loss_falls_and_an_untrained_vae_does_not_rank():
    obs = ObservationConfig(output_noise=0.1, audit_noise=0.3)
    hist, _st = _histories(obs, 40, 6, seed=5)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        fresh = TypeVAE(ECO.alpha, latent_dim=2, hidden=16)
    trained = _train(obs, steps=150)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        assert float(trained.loss(hist, trained(hist), gen)) < float(fresh.loss(hist, fresh(hist), gen))


def test_vae_separates_misreporting_from_productivity():
    obs = ObservationConfig(output_noise=0.1, audit_noise=0.3, misreport_share=0.5, misreport_factor=2.0)
    vae = _train(obs)
    hist, st = _histories(obs, 40, 6, seed=77_777)
    with torch.no_grad():
        post = vae(hist)
    liars = st.report_bias > 0
    # the report-bias latent is larger for misreporting regions, and types still rank well
    assert float(post.mu[..., 1][liars].mean()) > float(post.mu[..., 1][~liars].mean()) + 0.2
    rho = stats.spearmanr(post.log_theta.flatten().numpy(), st.theta.flatten().numpy()).statistic
    assert rho > 0.8
