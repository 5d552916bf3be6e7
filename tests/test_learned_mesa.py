"""The learned planner plans inside the Mesa model (five-regions scenario) for 10 days."""

import numpy as np
import pytest

# one training run for the module: under ``pytest -n`` the module stays in one worker
pytestmark = [pytest.mark.learn, pytest.mark.xdist_group("learned-mesa")]
torch = pytest.importorskip("torch")
pytest.importorskip("torch_geometric")
pytest.importorskip("mesa")

from innatura.abm.model import PlanningEconomy  # noqa: E402
from innatura.planner.errors import InvalidInputError  # noqa: E402
from innatura.planner.learned import LearnedPlannerConfig, ModelConfig, TrainConfig, save_checkpoint, train  # noqa: E402


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    torch.set_num_threads(1)
    cfg = LearnedPlannerConfig(model=ModelConfig(hidden=16), train=TrainConfig(episodes=3, batch_size=4))
    path = tmp_path_factory.mktemp("learned") / "ckpt"
    save_checkpoint(path, train(cfg).policy, cfg)
    return path


def test_learned_planner_runs_ten_days(checkpoint):
    model = PlanningEconomy("five-regions", rng=0, planner="learned", planner_options={"model": str(checkpoint)},
                            strict=True)
    for _ in range(10):
        model.step()
    df = model.model_frame()
    assert list(df["day"]) == list(range(1, 11))
    decision = model.central_planner.last_decision
    assert decision.info["planner"] == "learned" and decision.info["episode_step"] == 9
    goods = model.layout.goods.index("goods")
    # what was planned for the profiles is the policy's consumption, region by region
    np.testing.assert_allclose(decision.allocation[goods].sum(), sum(decision.info["consumption"]), rtol=1e-9)
    assert (df["humanity"] > 0).all()
    assert (df["inventory:goods"] >= 0).all()


def test_learned_planner_rejects_other_economies(checkpoint):
    with pytest.raises(InvalidInputError, match="no good 'goods'"):
        model = PlanningEconomy("selviaria", rng=0, planner="learned", planner_options={"model": str(checkpoint)})
        model.step()


def test_innatura_run_uses_the_checkpoint(checkpoint, tmp_path):
    from innatura.cli import main

    out = tmp_path / "run"
    code = main(["run", "five-regions", "--planner", "learned", "--model", str(checkpoint), "--days", "2",
                 "--out", str(out), "--quiet", "--no-plots"])
    assert code == 0
    lines = (out / "model.csv").read_text().splitlines()
    assert len(lines) == 3 and lines[0].startswith("day,")


def test_a_run_of_the_learned_planner_resumes_bit_identically_and_only_with_its_weights(checkpoint, tmp_path):
    import shutil

    from innatura.abm.checkpoint import load_checkpoint
    from innatura.abm.checkpoint import save_checkpoint as save_run

    options = dict(rng=0, planner="learned", planner_options={"model": str(checkpoint)}, days=6)
    whole = PlanningEconomy("five-regions", **options)
    whole.run_model()
    part = PlanningEconomy("five-regions", **options)
    for _ in range(3):
        part.step()
    save_run(part, tmp_path / "run")
    again, _ = load_checkpoint(tmp_path / "run")
    again.run_model()
    assert again.model_frame().equals(whole.model_frame())
    other = tmp_path / "retrained"  # the weights named by the run are replaced by others
    shutil.copytree(checkpoint, other)
    save_run(PlanningEconomy("five-regions", **{**options, "planner_options": {"model": str(other)}}),
             tmp_path / "other")
    from innatura.planner.learned import load_checkpoint as load_policy

    policy, cfg = load_policy(other)
    with torch.no_grad():
        next(policy.parameters()).add_(0.5)
    save_checkpoint(other, policy, cfg)
    with pytest.raises(InvalidInputError, match="not the ones the run was saved with"):
        load_checkpoint(tmp_path / "other")
