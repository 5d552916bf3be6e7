"""The exchange planner behind the agent model's planner interface (``planner="exchange"``)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from innatura.abm.model import PlanningEconomy
from innatura.abm.planning import make_method
from innatura.abm.planning.exchange import ExchangeMethod, profile_endowments
from innatura.planner.errors import InvalidInputError

logging.getLogger("planner").setLevel(logging.ERROR)


def test_profile_endowments_share_the_pool() -> None:
    pool = np.array([10.0, 4.0, 6.0])
    stocks = np.array([[1.0, 0.0, 0.0], [3.0, 0.0, 2.0]])  # good 1: nobody holds any -> equal shares
    demand = np.array([[1.0, 0.0, 1.0], [0.0, 2.0, 0.0]])
    pop = np.array([5.0, 10.0, 5.0])
    for tau in (0.0, 0.3, 1.0):
        e = profile_endowments(pool, stocks, demand, pop, tau)
        np.testing.assert_allclose(e.sum(axis=0), pool, rtol=1e-12)
        assert (e >= 0).all()
    np.testing.assert_allclose(profile_endowments(pool, stocks, demand, pop, 1.0), np.outer(pop / pop.sum(), pool))
    e0 = profile_endowments(pool, stocks, demand, pop, 0.0)
    # region 0 holds 1/4 of good 0, split equally between its two profiles
    np.testing.assert_allclose(e0[[0, 2], 0], [1.25, 1.25])


def test_registered_and_validated() -> None:
    assert isinstance(make_method("exchange"), ExchangeMethod)
    with pytest.raises(InvalidInputError, match="redistribution"):
        make_method("exchange", redistribution=0.0)


def test_exchange_planner_runs_the_model() -> None:
    model = PlanningEconomy("butter-village", rng=1, strict=True, planner="exchange",
                            planner_options={"redistribution": 0.8})
    for _ in range(4):
        model.step()
    df = model.model_frame()
    assert df["invariant_violations"].eq(0).all()
    assert np.isfinite(df["humanity"]).all() and (df["humanity"] >= 0).all()
    cp = model.central_planner
    assert not cp.fallback
    decision, inputs = cp.last_decision, cp.last_inputs
    assert decision.info["ce_converged"] and decision.info["max_excess_demand"] < 1e-9
    # the CE reshuffles the goods OLIN-EP handed out: same totals per good, same production
    olin = ExchangeMethod(redistribution=0.8).production.plan(inputs)
    np.testing.assert_allclose(decision.allocation.sum(axis=1), olin.allocation.sum(axis=1), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(decision.production, olin.production, rtol=1e-9)
    # Cobb-Douglas CE: every profile that needs a traded good gets some of it
    need = inputs.economy.bundles * inputs.economy.population
    traded = olin.allocation.sum(axis=1) > 0
    assert (decision.allocation[traded][need[traded] > 0] > 0).all()
