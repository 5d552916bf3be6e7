"""Training lowers the loss, is deterministic given the seed, and checkpoints reload exactly."""

import json

import pytest

# one training run for the module: under ``pytest -n`` the module stays in one worker
pytestmark = [pytest.mark.learn, pytest.mark.xdist_group("learned-train")]
torch = pytest.importorskip("torch")
pytest.importorskip("torch_geometric")

from innatura.planner.errors import InvalidInputError  # noqa: E402
from innatura.planner.learned import (  # noqa: E402
    CONSTRAINED_WEIGHTS,
    LearnedPlannerConfig,
    ModelConfig,
    ObservationConfig,
    PlannerInput,
    TrainConfig,
    load_checkpoint,
    save_checkpoint,
    simulate,
    train,
)

torch.set_num_threads(1)


def _config(episodes=40, seed=0, weights=None, **kw):
    cfg = LearnedPlannerConfig(
        observation=ObservationConfig(misreport_share=0.3),
        model=ModelConfig(hidden=16),
        train=TrainConfig(episodes=episodes, batch_size=16, seed=seed, lr=1e-2),
    )
    return cfg if weights is None else LearnedPlannerConfig(cfg.economy, cfg.observation, cfg.model, weights, cfg.train)


@pytest.fixture(scope="module")
def trained():
    return train(_config())


def test_short_training_lowers_the_loss(trained):
    h = trained.history
    first = sum(r["loss"] for r in h[:8]) / 8
    last = sum(r["loss"] for r in h[-8:]) / 8
    assert last < first
    assert sum(r["vae"] for r in h[-8:]) < sum(r["vae"] for r in h[:8])


def test_same_seed_same_result(trained):
    again = train(_config())
    assert again.history == trained.history
    for (k, a), (_, b) in zip(trained.policy.state_dict().items(), again.policy.state_dict().items(), strict=True):
        assert torch.equal(a, b), k
    other = train(_config(seed=1, episodes=5))
    assert other.history[0] != trained.history[0]


def test_training_leaves_global_rng_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    train(_config(episodes=2))
    torch.testing.assert_close(torch.rand(3), expected)


def test_constrained_training_runs_all_terms():
    res = train(_config(episodes=3, weights=CONSTRAINED_WEIGHTS))
    assert all(r["ic"] >= 0 and r["ir"] >= 0 and r["ostrom"] > 0 for r in res.history)
    assert any(r["ic"] > 0 for r in res.history)


def test_checkpoint_round_trip(trained, tmp_path):
    save_checkpoint(tmp_path / "ckpt", trained.policy, trained.config, extra={"note": "test"})
    policy, cfg = load_checkpoint(tmp_path / "ckpt")
    assert cfg == trained.config
    hist = torch.randn(4, 5, 6, 3, generator=torch.Generator().manual_seed(0))
    inp = PlannerInput(hist, torch.full((4, 5), 60.0), torch.full((4,), 450.0), 3)
    a, b = trained.policy.plan(inp), policy.plan(inp)
    for f in ("share_c", "share_x", "labour"):
        assert torch.equal(getattr(a, f), getattr(b, f))
    m1 = simulate(trained.policy, cfg.economy, cfg.observation, 8, torch.Generator().manual_seed(3)).metrics
    m2 = simulate(policy, cfg.economy, cfg.observation, 8, torch.Generator().manual_seed(3)).metrics
    assert m1 == m2


def test_config_json_round_trip_and_errors(tmp_path):
    cfg = _config()
    assert LearnedPlannerConfig.from_json(cfg.to_json()) == cfg
    with pytest.raises(InvalidInputError, match="unknown fields"):
        LearnedPlannerConfig.from_dict({"economy": {"alfa": 0.3}})
    with pytest.raises(InvalidInputError, match="not found"):
        load_checkpoint(tmp_path / "missing")
    d = tmp_path / "bad"
    d.mkdir()
    (d / "config.json").write_text(json.dumps({"format_version": 1, "config": cfg.to_dict()}))
    (d / "model.pt").write_bytes(b"")
    with pytest.raises(InvalidInputError, match=r"model.pt"):
        load_checkpoint(d)
    other = LearnedPlannerConfig(model=ModelConfig(hidden=8))
    save_checkpoint(d, train(_config(episodes=1)).policy, other)  # weights of hidden=16, config says 8
    with pytest.raises(InvalidInputError, match="does not match"):
        load_checkpoint(d)
