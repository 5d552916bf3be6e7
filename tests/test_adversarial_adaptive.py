"""Adaptive adversaries learn the best factor where it is known by hand, keep their memory as
data, and resume in a fresh process exactly as an uninterrupted run."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from innatura.abm.adversarial import AdaptiveInflate, AdaptiveInputs, FactorBandit, parse_strategy
from innatura.abm.checkpoint import load_checkpoint, save_checkpoint
from innatura.abm.checkpoint.files import CHECKPOINT_DIR, MANIFEST
from innatura.abm.model import PlanningEconomy
from innatura.abm.reporting import Evidence, StrategyContext
from innatura.planner.errors import InvalidInputError

pytestmark = pytest.mark.filterwarnings("ignore")

GRID = np.round(np.arange(1.0, 2.01, 0.1), 2)
BEST = 4  # factor 1.4


def _payoff(arms: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A payoff whose best factor is 1.4 by construction, with noise."""
    return -np.abs(GRID[arms] - 1.4) + 0.05 * rng.standard_normal(arms.size)


@pytest.mark.parametrize("learner, explore, shared, nights", [
    ("greedy", 0.1, True, 40), ("ucb", 0.5, True, 60), ("exp3", 0.1, True, 40),
    ("greedy", 0.1, False, 300), ("ucb", 0.5, False, 300), ("exp3", 0.2, False, 1500),
])
def test_the_bandit_finds_the_best_factor_known_by_hand(learner, explore, shared, nights):
    rng = np.random.default_rng(7)
    agents = np.arange(100 if shared else 10)
    bandit = FactorBandit(agents.size, GRID.size, learner=learner, explore=explore, shared=shared,
                          discount=0.9 if shared else 1.0)
    for _ in range(nights):
        arms = bandit.choose(agents, rng)
        bandit.update(agents, arms, _payoff(arms, rng))
    best = bandit.best()
    assert (best == BEST).mean() >= (1.0 if shared else 0.8), np.bincount(best, minlength=GRID.size)


def test_a_shared_group_tries_every_factor_on_the_first_night():
    bandit = FactorBandit(30, GRID.size)
    arms = bandit.choose(np.arange(30), np.random.default_rng(0))
    assert set(arms.tolist()) == set(range(GRID.size))


def _context(strategy, day, memory, received=None, index=None):
    index = np.arange(6) if index is None else index
    z = np.zeros(6)
    evidence = None if received is None else Evidence(day, z, z, z, z, np.asarray(received, dtype=float))
    return StrategyContext(index, np.ones(index.size), day, np.random.default_rng(day), np.ones(index.size), evidence,
                           "citizen", None, memory)


def test_a_citizen_learns_from_what_it_received_once_a_night():
    s = AdaptiveInflate(high=2.0, step=0.5, lie_cost=0.0)
    memory = s.new_memory(6)
    first = s.report(_context(s, 1, memory))
    np.testing.assert_array_equal(np.sort(first), [1.0, 1.0, 1.5, 1.5, 2.0, 2.0])  # every factor tried
    assert s.report(_context(s, 1, memory)).tolist() == first.tolist()  # asked again tonight: the same answer
    received = first.copy()  # each got its factor times its need: lying paid
    s.report(_context(s, 2, memory, received))
    np.testing.assert_allclose(memory.means()[0], [0.0, 0.5, 1.0])
    with pytest.raises(InvalidInputError, match="needs the model's memory"):
        s.report(_context(s, 3, None))


def test_adaptive_strategies_read_and_validate_in_the_one_syntax():
    s = parse_strategy("adaptive_inflate(high=3.0, step=0.5, learner='ucb', explore=0.3)", kind="citizen")
    assert s == AdaptiveInflate(high=3.0, step=0.5, learner="ucb", explore=0.3)
    assert parse_strategy(str(s), kind="citizen") == s and s.grid().tolist() == [1.0, 1.5, 2.0, 2.5, 3.0]
    assert parse_strategy("adaptive_inputs", kind="unit") == AdaptiveInputs()
    assert AdaptiveInputs().grid()[-1] == 1.5
    for text, message in [("adaptive_inflate(learner='magic')", "learner must be one of"),
                          ("adaptive_inflate(low=2.0, high=1.5)", "high must be"),
                          ("adaptive_inflate(step=0.0001)", "more than 200 factors"),
                          ("adaptive_inflate(discount=0)", "discount must be"),
                          ("adaptive_inputs", "is a unit strategy")]:
        with pytest.raises(InvalidInputError, match=message):
            parse_strategy(text, kind="citizen")


def test_memory_is_plain_data_and_refuses_the_wrong_shape():
    bandit = FactorBandit(5, 3, shared=False)
    arms = bandit.choose(np.arange(5), np.random.default_rng(0))
    bandit.update(np.arange(5), arms, np.ones(5))
    state = json.loads(json.dumps({k: v.tolist() for k, v in bandit.state_dict().items()}))
    again = FactorBandit(5, 3, shared=False)
    again.load_state_dict(state)
    for k, v in bandit.state_dict().items():
        np.testing.assert_array_equal(again.state_dict()[k], v)
    with pytest.raises(InvalidInputError, match="'counts' has shape"):
        FactorBandit(4, 3, shared=False).load_state_dict(state)


@pytest.mark.parametrize("defence, best", [("none", 2.0), ("ic", 1.0), ("robust", 1.0),
                                           ("audit(probability=1.0)", 1.0)])
def test_adaptive_citizens_settle_where_the_defence_leaves_them_known_by_hand(defence, best):
    """Selviaria feeds everyone once its first days are over, so a liar gets its claim: with no
    defence the largest claim pays most (payoff ``f - 1 - c ln f`` rises in ``f``); the IC
    penalty and robust aggregation cut every claim above the peers' median (1) to it, and an
    audit of every citizen every night fines every lie, so honesty (no lie cost) is best."""
    model = PlanningEconomy("selviaria", rng=0, days=25, misreport_share=0.3, unit_strategy="honest",
                            citizen_strategy="adaptive_inflate(high=2.0, step=0.25)", defences=defence,
                            collect_agents=False)
    model.run_model()
    strategy = model.state.citizen_strategies[1]
    learned = strategy.grid()[model.memories[("citizen", 1)].best()[0]]
    assert learned == best
    said = model.last_outcome.reports.before_defences.citizen_factor[model.state.citizen_code == 1]
    assert abs(np.mean(said) - best) < 0.15  # what they report, exploration aside


def test_adaptive_units_learn_the_slack_no_defence_takes():
    model = PlanningEconomy("archipelago", rng=0, days=15, misreport_share=0.3, citizen_strategy="honest",
                            unit_strategy="adaptive_inputs(high=1.5, step=0.1)", collect_agents=False)
    model.run_model()
    memory = model.memories[("unit", 1)]
    assert model.state.unit_strategies[1].grid()[memory.best()[0]] >= 1.4
    assert model.model_frame()["unit_slack"].iloc[-3:].mean() > 0.03


def test_a_run_with_adaptive_strategies_resumes_in_a_fresh_process(tmp_path):
    options = dict(rng=5, misreport_share=0.3, citizen_strategy="adaptive_inflate(high=2.0, step=0.25)",
                   unit_strategy="adaptive_inputs(learner='exp3')", defences="audit(probability=0.5)", days=8,
                   collect_agents=False)
    whole = PlanningEconomy("butter-village", **options)
    whole.run_model()
    part = PlanningEconomy("butter-village", **options)
    for _ in range(4):
        part.step()
    assert {k for k, _ in part.memories} == {"citizen", "unit"}
    save_checkpoint(part, tmp_path / "run")
    manifest = json.loads((tmp_path / "run" / CHECKPOINT_DIR / MANIFEST).read_text())
    saved = manifest["memory"]["strategies"]  # what they learned, as data: arrays in the hashed state file
    assert [(s["kind"], s["code"]) for s in saved] == [("citizen", 1), ("unit", 1)]
    assert saved[1]["memory"]["log_weights"] == {"$array": "memory/strategies/1/memory/log_weights"}
    script = textwrap.dedent(f"""
        from innatura.abm.checkpoint import load_checkpoint
        model, _ = load_checkpoint({str(tmp_path / "run")!r})
        assert str(model.settings.citizen_strategy).startswith("adaptive_inflate(low=1.0, high=2.0, step=0.25")
        model.run_model()
        model.model_frame().to_csv({str(tmp_path / "resumed.csv")!r}, index=False)
    """)
    subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True)
    resumed = (tmp_path / "resumed.csv").read_text()
    assert resumed == whole.model_frame().to_csv(index=False)  # bit-identical (floats written exactly)
    assert pd.read_csv(tmp_path / "resumed.csv")["report_demand_factor"].nunique() > 1  # they learned


def test_a_checkpoint_whose_strategy_memory_does_not_fit_is_refused_naming_the_field(tmp_path):
    model = PlanningEconomy("butter-village", rng=2, days=4, misreport_share=0.3, citizen_strategy="adaptive_inflate",
                            unit_strategy="honest", collect_agents=False)
    model.step()
    save_checkpoint(model, tmp_path / "run")
    path = tmp_path / "run" / CHECKPOINT_DIR / MANIFEST
    manifest = json.loads(path.read_text())
    manifest["memory"]["strategies"][0]["strategy"]["high"] = 3.0  # not the strategy the state holds
    path.write_text(json.dumps(manifest))
    with pytest.raises(InvalidInputError, match=r"memory\.strategies\[0\].*adaptive_inflate"):
        load_checkpoint(tmp_path / "run")
