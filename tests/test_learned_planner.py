"""The learned planner of any economy: its policy gradient, its checkpoint, and the planning
method on every shipped scenario (10 days, invariants kept, a resume that continues exactly)."""

from __future__ import annotations

import io

import numpy as np
import pytest

pytestmark = [pytest.mark.learn, pytest.mark.filterwarnings("ignore")]
torch = pytest.importorskip("torch")
pytest.importorskip("torch_geometric")

from innatura.abm.learning.observe import observation_size  # noqa: E402
from innatura.abm.model import PlanningEconomy  # noqa: E402
from innatura.planner.errors import InvalidInputError  # noqa: E402
from innatura.planner.learned.checkpoint import load_policy, save_policy  # noqa: E402
from innatura.planner.learned.infer_train import build_inference  # noqa: E402
from innatura.planner.learned.inference import InferenceConfig  # noqa: E402
from innatura.planner.learned.pg import PolicyTrainConfig, PriorityPolicy, train_policy  # noqa: E402
from innatura.planner.learned.priority_env import PriorityEconomy  # noqa: E402

from innatura import scenarios  # noqa: E402


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_the_policy_loss_falls_in_a_short_run():
    env = PriorityEconomy(n_regions=3, horizon=3, kappa=0.5)
    cfg = PolicyTrainConfig(updates=60, episodes_per_update=8, lr=0.03, hidden=16, seed=0)
    loss = np.array([row["loss"] for row in train_policy(env, cfg).history])
    assert loss[-10:].mean() < loss[:10].mean()


def test_same_seed_same_weights():
    env = PriorityEconomy(n_regions=2, horizon=2)
    cfg = PolicyTrainConfig(updates=3, episodes_per_update=2, hidden=8, seed=5)
    a, b = (train_policy(env, cfg).policy.state_dict() for _ in range(2))
    assert all(torch.equal(a[k], b[k]) for k in a)
    c = train_policy(env, PolicyTrainConfig(updates=3, episodes_per_update=2, hidden=8, seed=6)).policy
    assert not all(torch.equal(a[k], c.state_dict()[k]) for k in a)


def _checkpoint(directory, n_regions: int, with_inference: bool = True, seed: int = 0):
    torch.manual_seed(seed)
    policy = PriorityPolicy(observation_size(n_regions), n_regions, hidden=8, base_investment=0.3)
    with torch.no_grad():  # a policy that departs from uniform priorities and the base share
        policy.mean_head.bias.normal_(0.0, 0.5)
    inference = build_inference(InferenceConfig(hidden=8, gnn_layers=1, seed=seed)) if with_inference else None
    save_policy(directory, policy, PolicyTrainConfig(hidden=8, base_investment=0.3), inference,
                extra={"days": 5, "scenario": "test"})
    return policy


def test_policy_checkpoint_round_trip_without_pickle(tmp_path):
    policy = _checkpoint(tmp_path, 4)
    back = load_policy(tmp_path)
    obs = np.linspace(-1, 1, observation_size(4))
    a, b = policy.act(obs), back.policy.act(obs)
    assert a.investment_share == b.investment_share and np.array_equal(a.priorities, b.priorities)
    assert back.inference is not None and back.extra["days"] == 5 and back.config.base_investment == 0.3

    class Payload:
        def __reduce__(self):
            return (print, ("pickle code ran",))

    buf = io.BytesIO()
    torch.save({"mean_head.bias": Payload()}, buf)
    (tmp_path / "model.pt").write_bytes(buf.getvalue())
    with pytest.raises(InvalidInputError, match=r"model\.pt"):
        load_policy(tmp_path)


#: scenarios whose ten days take long (402 goods): run with the slow tests.
SLOW = {"us-2017-detail"}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n
                                  for n in scenarios.names()])
def test_the_learned_planner_runs_ten_days_on_every_shipped_scenario(name, tmp_path):
    probe = PlanningEconomy(name, rng=0, days=1, collect_agents=False)
    _checkpoint(tmp_path, probe.layout.n_regions)
    model = PlanningEconomy(name, rng=0, days=10, planner="learned", planner_options={"model": str(tmp_path)},
                            misreport_share=0.3, citizen_strategy="honest", collect_agents=False)
    model.run_model()
    frame = model.model_frame()
    assert len(frame) == 10
    assert frame["invariant_violations"].sum() == 0
    assert np.isfinite(frame["humanity"]).all()
    info = model.central_planner.last_decision.info
    assert info["planner"] == "learned" and len(info["priorities"]) == model.layout.n_regions


def test_a_policy_of_another_economy_is_refused(tmp_path):
    _checkpoint(tmp_path, 7)
    model = PlanningEconomy("selviaria", rng=0, days=2, planner="learned", planner_options={"model": str(tmp_path)})
    with pytest.raises(InvalidInputError, match="7 regions"):
        model.step()


def test_a_resumed_run_continues_exactly(tmp_path):
    from innatura.abm.checkpoint import load_checkpoint, save_checkpoint

    _checkpoint(tmp_path / "policy", 20)
    opts = {"model": str(tmp_path / "policy")}
    kwargs = {"rng": 3, "days": 6, "planner": "learned", "planner_options": opts, "misreport_share": 0.3,
              "citizen_strategy": "honest", "collect_agents": False}
    spec = scenarios.load("archipelago", regions=20, citizens=800)
    first = PlanningEconomy(spec, **kwargs)
    for _ in range(3):
        first.step()
    save_checkpoint(first, tmp_path / "run")
    for _ in range(3):
        first.step()
    resumed, _ = load_checkpoint(tmp_path / "run")
    for _ in range(3):
        resumed.step()
    a, b = first.model_frame(), resumed.model_frame()
    cols = ["humanity", "planned_humanity", "unmet_demand"]
    assert np.array_equal(a[cols].to_numpy()[-3:], b[cols].to_numpy()[-3:])
    assert np.array_equal(first.central_planner.method.flagged_units, resumed.central_planner.method.flagged_units)


def test_the_oracle_and_an_uncorrected_plan():
    """With nothing to correct, the debiased plan is the plain plan: the oracle on honest units
    whose scales are forced to 1 reproduces OLIN-EP's run to the bit."""
    from innatura.abm.planning.learned_io import OracleMethod

    kwargs = {"rng": 1, "days": 4, "misreport_share": 0.3, "citizen_strategy": "honest", "unit_strategy": "honest",
              "collect_agents": False}
    plain = PlanningEconomy("selviaria", **kwargs)
    plain.run_model()
    oracle = PlanningEconomy("selviaria", planner="oracle", **kwargs)
    method = oracle.central_planner.method
    assert isinstance(method, OracleMethod)
    method.scales = lambda: np.ones(method.recorder.units.size)
    oracle.run_model()
    assert plain.model_frame()["humanity"].equals(oracle.model_frame()["humanity"])


def test_train_run_and_study_on_the_command_line(tmp_path, capsys):
    import csv
    import json

    from innatura.cli import main

    model = tmp_path / "model"
    assert main(["train", "learned", "--scenario", "selviaria", "--days", "3", "--updates", "2",
                 "--episodes-per-update", "2", "--inference-steps", "5", "--device", "cpu", "--seed", "1",
                 "--out", str(model), "--quiet"]) == 0
    for name in ("model.pt", "config.json", "history.csv", "training_curve.png", "inference/model.pt"):
        assert (model / name).stat().st_size > 0, name
    meta = json.loads((model / "config.json").read_text())
    assert meta["kind"] == "learned-io" and meta["extra"]["scenario"] == "selviaria" and meta["has_inference"]
    with open(model / "history.csv") as fh:
        assert len(list(csv.DictReader(fh))) == 2
    assert "plan with it: innatura run selviaria --planner learned" in capsys.readouterr().out

    run = tmp_path / "run"
    assert main(["run", "selviaria", "--planner", "learned", "--model", str(model), "--days", "3", "--out", str(run),
                 "--quiet", "--no-plots"]) == 0
    assert (run / "model.csv").is_file()

    study = tmp_path / "study"
    assert main(["experiment", "learned-vs-defences", "--scenario", "selviaria", "--seeds", "1", "--days", "3",
                 "--strategy", "overstate_inputs(1.3)", "--model", str(model), "--out", str(study), "--quiet"]) == 0
    with open(study / "summary.csv") as fh:
        summary = list(csv.DictReader(fh))
    assert [r["arm"] for r in summary] == ["honest", "no defence", "audit", "robust", "belief", "ic", "learned",
                                           "inferred", "oracle"]
    assert all(float(r["same_stream"]) == 1.0 for r in summary)
    assert (study / "learned_vs_defences.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| learned |" in (study / "summary.md").read_text()


def test_train_learned_refuses_a_bad_strategy(tmp_path, capsys):
    from innatura.cli import main

    assert main(["train", "learned", "--scenario", "selviaria", "--strategy", "nonsense",
                 "--out", str(tmp_path / "m")]) == 2
    assert "'nonsense' is unknown" in capsys.readouterr().err


def test_without_its_policy_the_planner_keeps_the_runs_investment_and_equal_priorities(tmp_path):
    _checkpoint(tmp_path, 3)
    model = PlanningEconomy("selviaria", rng=0, days=2, planner="learned",
                            planner_options={"model": str(tmp_path), "policy": False})
    model.run_model()
    info = model.central_planner.last_decision.info
    assert info["investment_share"] == model.settings.require("investment_share")
    assert info["priorities"] == [1 / 3] * 3
