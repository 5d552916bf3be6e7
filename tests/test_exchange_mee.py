"""Markov exchange economy, MOLM (online, optimistic) and MPLM (offline, pessimistic)."""

from __future__ import annotations

import numpy as np
import pytest
from innatura.planner.errors import InvalidInputError
from innatura.planner.exchange import ExchangeMarket, competitive_equilibrium
from innatura.planner.exchange.mee import ce_allocation, make_mee
from innatura.planner.exchange.molm import molm
from innatura.planner.exchange.mplm import collect_dataset, mplm


def _small(seed: int):
    return make_mee(np.random.default_rng(seed), agents=3, goods=2, contexts=2, levels=3,
                    taus=(0.0, 0.5, 0.9), horizon=3)


def test_each_step_clears_at_a_competitive_equilibrium() -> None:
    env = _small(0)
    for s in range(env.n_states):
        for b in range(env.n_actions):
            e = env.redistributed(s, b)
            x = ce_allocation(env.theta[env.context(s)], e)
            res = competitive_equilibrium(ExchangeMarket("cobb-douglas", env.theta[env.context(s)], e))
            np.testing.assert_allclose(x, res.allocations, rtol=1e-9)
            np.testing.assert_allclose(x.sum(axis=0), e.sum(axis=0), rtol=1e-9)
            # redistribution keeps the total endowment
            np.testing.assert_allclose(e.sum(axis=0), env.redistributed(s, 0).sum(axis=0), rtol=1e-12)


def test_optimal_value_dominates_every_policy() -> None:
    env = _small(1)
    v_star, policy = env.optimal_value()
    r = env.rewards()
    assert env.evaluate(policy, r) == pytest.approx(v_star, rel=1e-12)
    rng = np.random.default_rng(0)
    for _ in range(20):
        other = rng.integers(0, env.n_actions, size=policy.shape)
        assert env.evaluate(other, r) <= v_star + 1e-9
        # a wrong belief about preferences (a CE under other utilities) cannot do better
        wrong = rng.dirichlet(np.ones(env.theta.shape[2]), size=env.theta.shape[:2])
        assert env.evaluate(policy, env.rewards(wrong)) <= v_star + 1e-9
    assert np.allclose(env.transition().sum(axis=2), 1.0)


def test_molm_regret_is_sublinear() -> None:
    slopes = []
    for seed in range(2):
        env = _small(seed)
        res = molm(env, 400, np.random.default_rng(10 + seed))
        assert (res.regret >= -1e-9).all()
        k = np.arange(1, 401)
        tail = k >= 40
        slopes.append(np.polyfit(np.log(k[tail]), np.log(res.cumulative[tail]), 1)[0])
        # later episodes are better than early ones
        assert res.regret[-100:].mean() < 0.5 * res.regret[:20].mean()
    assert max(slopes) < 0.9, slopes


def test_molm_is_reproducible() -> None:
    env = _small(3)
    a = molm(env, 30, np.random.default_rng(5))
    b = molm(env, 30, np.random.default_rng(5))
    np.testing.assert_array_equal(a.regret, b.regret)


def test_mplm_suboptimality_decreases_with_data() -> None:
    env = _small(2)
    sizes = (4, 64, 1024)
    sub = np.array([[mplm(env, collect_dataset(env, n, np.random.default_rng(100 * r + n))).suboptimality
                     for n in sizes] for r in range(4)])
    mean = sub.mean(axis=0)
    assert (sub >= -1e-9).all()
    assert mean[0] > mean[1] > mean[2], mean
    assert mean[2] < 0.25 * mean[0]


def test_mee_validation() -> None:
    env = _small(0)
    with pytest.raises(InvalidInputError, match="taus"):
        type(env)(theta=env.theta, base=env.base, scale=env.scale, taus=np.array([0.0, 1.5, 0.2]),
                  context_transition=env.context_transition, level_transition=env.level_transition, horizon=3)
    with pytest.raises(InvalidInputError, match="horizon"):
        type(env)(theta=env.theta, base=env.base, scale=env.scale, taus=env.taus,
                  context_transition=env.context_transition, level_transition=env.level_transition, horizon=0)
