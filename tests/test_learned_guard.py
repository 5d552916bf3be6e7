"""The policy guard: a trained policy that plans worse than the baseline it replaces (the run's
investment share, equal priorities) is rejected on held-out episodes, a better one is kept, the
decision round-trips through the checkpoint, and a rejected policy's planner plans with the
baseline; the policy's investment share stays within its range around the run's."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytestmark = [pytest.mark.learn, pytest.mark.filterwarnings("ignore")]
torch = pytest.importorskip("torch")
pytest.importorskip("torch_geometric")

from innatura.abm.learning.observe import observation_size  # noqa: E402
from innatura.abm.model import PlanningEconomy  # noqa: E402
from innatura.planner.errors import InvalidInputError  # noqa: E402
from innatura.planner.learned.checkpoint import load_policy, save_policy  # noqa: E402
from innatura.planner.learned.guard import (  # noqa: E402
    GUARD_SEED_BASE,
    GuardDecision,
    baseline_action,
    guard_policy,
    guard_seeds,
)
from innatura.planner.learned.pg import PolicyTrainConfig, PriorityPolicy, investment_bounds  # noqa: E402
from innatura.planner.learned.priority_env import PriorityEconomy  # noqa: E402


def _fixed_share(observation_size_: int, n_regions: int, pre_activation: float, base: float = 0.3,
                 investment_range: float = 0.9) -> PriorityPolicy:
    """A policy that ignores what it observes: equal priorities and the investment share of
    ``pre_activation`` (very negative: the bottom of its range; very positive: the top)."""
    torch.manual_seed(0)
    policy = PriorityPolicy(observation_size_, n_regions, hidden=8, base_investment=base,
                            investment_range=investment_range)
    with torch.no_grad():
        policy.mean_head.weight.zero_()
        policy.mean_head.bias.zero_()
        policy.mean_head.bias[0] = pre_activation
    return policy


def test_investment_share_stays_within_its_range_around_the_run_share():
    lo, hi = investment_bounds(0.3, 0.25)
    assert (lo, hi) == pytest.approx((0.225, 0.375))
    assert investment_bounds(0.9, 0.5) == pytest.approx((0.45, 0.999))
    for bias in (-50.0, -1.0, 0.0, 1.0, 50.0):
        share = _fixed_share(5, 3, bias, investment_range=0.25).act(np.zeros(5)).investment_share
        assert lo - 1e-12 <= share <= hi + 1e-12
    assert _fixed_share(5, 3, 0.0, investment_range=0.25).act(np.zeros(5)).investment_share == pytest.approx(0.3)
    with pytest.raises(InvalidInputError, match="investment_range"):
        PriorityPolicy(5, 3, investment_range=0.0)


def test_a_policy_that_starves_investment_is_rejected_and_one_that_invests_well_is_kept():
    """Where investing pays (``kappa = 2``: tomorrow's output is ``1 + 2 sqrt(sigma)``, and the
    steady day's ``(1 - sigma)(1 + 2 sqrt(sigma))`` peaks at ``sigma = 0.188``), a policy whose
    investment share is forced near 0 loses to the baseline's 0.3 and is rejected; one that
    invests 0.19 beats it and is kept."""
    env = PriorityEconomy(n_regions=3, horizon=8, kappa=2.0)
    seeds = guard_seeds(3)
    bad = _fixed_share(env.observation_size, 3, -30.0)
    assert bad.act(np.zeros(env.observation_size)).investment_share < 0.031
    decision = guard_policy(env, bad, seeds)
    assert not decision.kept and decision.difference < 0
    assert len(decision.policy_humanity) == len(decision.baseline_humanity) == 3
    good = _fixed_share(env.observation_size, 3, -0.87)
    assert good.act(np.zeros(env.observation_size)).investment_share == pytest.approx(0.19, abs=0.005)
    decision = guard_policy(env, good, seeds)
    assert decision.kept and decision.difference > 0 and "kept" in decision.verdict
    # the baseline against itself: equal, so kept (at least as good)
    same = _fixed_share(env.observation_size, 3, 0.0)
    assert guard_policy(env, same, seeds).difference == pytest.approx(0.0, abs=1e-12)
    assert guard_policy(env, same, seeds).kept
    # a tolerance lets a slightly worse policy pass
    assert guard_policy(env, bad, seeds, tolerance=1e6).kept


def test_guard_seeds_are_held_out_from_training():
    cfg = PolicyTrainConfig(updates=3, episodes_per_update=2, seed=0)
    assert guard_seeds(2, cfg) == (GUARD_SEED_BASE, GUARD_SEED_BASE + 1)
    trained = range(cfg.seed * 1_000_003, cfg.seed * 1_000_003 + cfg.updates * cfg.episodes_per_update)
    assert not set(guard_seeds(5, cfg)) & set(trained)
    # a config whose training episodes cover the guard's first seeds: they are skipped
    big = PolicyTrainConfig(updates=GUARD_SEED_BASE + 2, episodes_per_update=2, seed=0)
    assert min(guard_seeds(2, big)) >= 2 * (GUARD_SEED_BASE + 2)
    with pytest.raises(InvalidInputError):
        guard_seeds(0)


def _save(directory, n_regions: int, guard: GuardDecision | None) -> PriorityPolicy:
    policy = _fixed_share(observation_size(n_regions), n_regions, -30.0, base=0.3, investment_range=0.9)
    with torch.no_grad():
        policy.mean_head.bias[1:] = torch.linspace(-1.0, 1.0, n_regions)
    save_policy(directory, policy, PolicyTrainConfig(hidden=8, base_investment=0.3, investment_range=0.9), None,
                extra={"days": 3, "scenario": "test"}, guard=guard)
    return policy


def test_the_guard_decision_round_trips_through_the_checkpoint(tmp_path):
    decision = GuardDecision(kept=False, seeds=(500000, 500001), policy_humanity=(0.1, 0.2),
                             baseline_humanity=(0.3, 0.35), difference=-0.175, difference_se=0.025, tolerance=0.0)
    _save(tmp_path / "rejected", 4, decision)
    back = load_policy(tmp_path / "rejected")
    assert back.guard == decision and not back.policy_kept
    assert back.policy.investment_range == 0.9 and back.config.investment_range == 0.9
    _save(tmp_path / "unguarded", 4, None)
    assert load_policy(tmp_path / "unguarded").guard is None and load_policy(tmp_path / "unguarded").policy_kept
    # a malformed decision is named
    meta = json.loads((tmp_path / "rejected" / "config.json").read_text())
    meta["guard"]["kept"] = "no"
    (tmp_path / "rejected" / "config.json").write_text(json.dumps(meta))
    with pytest.raises(InvalidInputError, match=r"config\.json: field 'guard': field 'kept'"):
        load_policy(tmp_path / "rejected")


def test_a_rejected_policy_plans_with_the_baseline(tmp_path):
    """The planner of a checkpoint whose policy the guard rejected invests the run's share and
    serves every region alike; the same policy kept sets its own share and priorities."""
    spec_kwargs = {"rng": 1, "days": 2, "collect_agents": False, "misreport_share": 0.3}
    probe = PlanningEconomy("selviaria", **spec_kwargs)
    R = probe.layout.n_regions
    run_share = float(probe.settings.require("investment_share"))
    rejected = GuardDecision(kept=False, seeds=(1,), policy_humanity=(0.0,), baseline_humanity=(0.5,),
                             difference=-0.5, difference_se=0.0)
    kept = GuardDecision(kept=True, seeds=(1,), policy_humanity=(0.6,), baseline_humanity=(0.5,),
                         difference=0.1, difference_se=0.0)
    infos = {}
    for name, decision in (("rejected", rejected), ("kept", kept)):
        policy = _save(tmp_path / name, R, decision)
        model = PlanningEconomy("selviaria", planner="learned", planner_options={"model": str(tmp_path / name)},
                                **spec_kwargs)
        model.step()
        infos[name] = model.central_planner.last_decision.info
        assert model.central_planner.method.impl.policy_kept is decision.kept
    assert infos["rejected"]["investment_share"] == pytest.approx(run_share)
    assert np.allclose(infos["rejected"]["priorities"], baseline_action(policy).priorities)
    assert infos["kept"]["investment_share"] < 0.5 * run_share
    assert np.ptp(infos["kept"]["priorities"]) > 0


def test_train_learned_flags_default_to_the_policy_settings():
    """The command's defaults (written out so that building the parser does not import torch)
    are the policy's."""
    import argparse

    from innatura.planner.learned.pg import DEFAULT_GUARD_SEEDS, DEFAULT_INVESTMENT_RANGE

    from innatura.cli.train_learned_io import add_io_flags

    parser = argparse.ArgumentParser()
    add_io_flags(parser)
    args = parser.parse_args([])
    assert args.investment_range == DEFAULT_INVESTMENT_RANGE and args.guard_seeds == DEFAULT_GUARD_SEEDS
    assert args.strategy == "overstate_inputs(2.0)"
