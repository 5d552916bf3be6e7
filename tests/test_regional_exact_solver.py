"""The exact regional plan's solver settings and the run flag that chooses the regional method
(docs/model.md, "The regional plan", "Methods")."""

from __future__ import annotations

import numpy as np
import pytest
from innatura.planner.regional import exact, plan_regional
from regional_checker import violations
from regional_economies import random_problem


@pytest.mark.parametrize("seed", range(8))
def test_the_primal_simplex_finds_the_optima_of_the_default_dual_simplex(seed, monkeypatch):
    problem = random_problem(np.random.default_rng(seed), curves=seed % 2 == 1, targets=True, regions=4)
    primal = plan_regional(problem, "lp")
    monkeypatch.setattr(exact, "HIGHS_OPTIONS", {})  # HiGHS's default: the dual simplex
    dual = plan_regional(problem, "lp")
    assert exact.HIGHS_OPTIONS == {} and primal.status == dual.status
    assert primal.planned_humanity == pytest.approx(dual.planned_humanity, abs=1e-7)
    assert primal.safety_share == pytest.approx(dual.safety_share, abs=1e-6)
    np.testing.assert_allclose(primal.fulfilment, dual.fulfilment, atol=1e-6)
    assert violations(problem, primal) == []


def test_the_run_flag_chooses_the_regional_method(tmp_path):
    import argparse

    from innatura.cli import main
    from innatura.cli.run import _planner_options

    out = tmp_path / "run"
    assert main(["run", "butter-village", "--plan", "regional", "--regional-method", "lp", "--days", "1", "--out",
                 str(out), "--quiet", "--no-plots"]) == 0
    assert main(["run", "butter-village", "--plan", "regional", "--regional-method", "simplex", "--days", "1",
                 "--out", str(tmp_path / "x"), "--quiet"]) == 2
    assert not (tmp_path / "x").exists()
    args = argparse.Namespace(model=None, regional_method="decomposed")
    assert _planner_options(args) == {"regional_method": "decomposed"}
    assert _planner_options(argparse.Namespace(model=None, regional_method=None)) == {}
    # a resumed run keeps its method: another one is refused
    assert main(["run", "--resume", str(out), "--regional-method", "decomposed", "--days", "2", "--quiet"]) != 0
    assert main(["run", "--resume", str(out), "--regional-method", "lp", "--days", "2", "--quiet",
                 "--no-plots"]) == 0


@pytest.mark.parametrize("seed", range(6))
def test_the_reserve_is_kept_at_the_fulfilment_the_consumption_stage_plans(seed):
    from dataclasses import replace

    from innatura.planner.regional.decomposed import reserve

    problem = random_problem(np.random.default_rng(100 + seed), regions=4, scarce=0.3)
    first = exact._consumption_stage(problem, 50, 1e-6, None)
    t1 = float(first[1].objective_values[0])
    stage, held = exact._with_reserve(problem, first, 50, 1e-6, None)
    per_t = reserve(problem)
    if stage is first:
        assert not held.any()
        return
    t = float(stage[1].objective_values[0])
    assert 0.0 < t <= t1 + 1e-9
    np.testing.assert_allclose(held, t * per_t, rtol=1e-6)
    # a larger reserve per unit of fulfilment leaves a smaller fixed point
    doubled = exact._consumption_stage(replace(problem, closing_target=2.0 * per_t), 50, 1e-6, None, tied=True)
    assert float(doubled[1].objective_values[0]) <= t + 1e-9
    plan = plan_regional(problem, "lp")
    assert violations(problem, plan) == []
    if plan.status == "optimal":
        assert (plan.closing_expected >= held - 2e-6 * (1.0 + held)).all()
