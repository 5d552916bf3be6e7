"""Validation of the daily plan's inputs, unbounded stages, and the seed's scaled-demand baseline."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from innatura.planner.economy import Economy
from innatura.planner.errors import InvalidInputError
from innatura.planner.plan import plan_day
from test_daily_plan_fixtures import random_plan_economy, selviaria, selviaria_state


def _args():
    stocks, labour = selviaria_state()
    return {"stocks": stocks, "labour_supply": labour, "capacity": None, "investment_share": 0.5}


@pytest.mark.parametrize(
    "field, change, match",
    [
        ("stocks", lambda s: np.where(np.arange(6) == 2, np.nan, s), "stocks: invalid value nan for good 'T-ring'"),
        ("stocks", lambda s: np.where(np.arange(6) == 1, -1.0, s), "stocks: negative value -1.0 for good 'Vorpal Pick"),
        ("stocks", lambda s: s[:3], "stocks: expected shape"),
        ("labour_supply", lambda L: np.where(np.arange(6) == 0, 5.0, L), "labour_supply: 5.0 for good 'Lucloelium'"),
        ("labour_supply", lambda L: -L, "labour_supply: negative value"),
        ("capacity", lambda _: np.array([1, np.nan, 1, 1, 1, 1.0]), "capacity: invalid value nan for good 'Vorpal"),
        ("investment_share", lambda _: 1.0, r"investment_share: must be in \[0, 1\)"),
        ("investment_share", lambda _: -0.1, "investment_share"),
        ("investment_share", lambda _: "half", "investment_share"),
    ],
)
def test_invalid_inputs_name_field_and_good(field, change, match):
    args = _args()
    args[field] = change(args[field])
    with pytest.raises(InvalidInputError, match=match):
        plan_day(selviaria(), **args)
    with pytest.raises(InvalidInputError, match=match):
        plan_day(selviaria(), **args, method="scaled-demand")


def test_labour_stocks_are_ignored():
    args = _args()
    base = plan_day(selviaria(), **args)
    args["stocks"] = args["stocks"] + np.array([0, 0, 0, 1e9, np.nan, 7])
    np.testing.assert_allclose(plan_day(selviaria(), **args).production, base.production)


def test_invalid_coefficient_override_and_method():
    A = np.zeros((6, 6))
    A[0, 2] = -0.5
    with pytest.raises(InvalidInputError,
                       match=r"coefficients: invalid value -0.5 for input 'Lucloelium' of good 'T-ring'"):
        plan_day(selviaria(), **_args(), coefficients=A)
    with pytest.raises(InvalidInputError, match="method"):
        plan_day(selviaria(), **_args(), method="simplex")


def test_options_are_the_methods_own():
    with pytest.raises(InvalidInputError, match=r"unknown option 'max_iter'.*lp: max_slp_iter, tol"):
        plan_day(selviaria(), **_args(), max_iter=5)
    with pytest.raises(InvalidInputError, match="max_slp_iter/tol"):
        plan_day(selviaria(), **_args(), tol=0.0)
    # a method ignores the other methods' options (method=None may pick either)
    a = plan_day(selviaria(), **_args(), method="balanced")
    b = plan_day(selviaria(), **_args(), method="balanced", max_slp_iter=3, xatol=1e-3)
    np.testing.assert_array_equal(a.production, b.production)
    loose = plan_day(selviaria(), **_args(), method="scaled-demand", xatol=1e-2)
    assert loose.status == "scaled-demand"


def test_coefficient_override_changes_the_plan():
    e = selviaria(curves=False)
    A = e.coefficients.toarray()
    A[1, 0] = 0.25  # half the capital per Lucloelium -> twice the consumption-stage output
    a = plan_day(e, **{**_args(), "investment_share": 0.0})
    b = plan_day(e, **{**_args(), "investment_share": 0.0}, coefficients=A)
    assert b.consumption_production[0] == pytest.approx(2 * a.consumption_production[0], rel=1e-6)


def test_bundles_on_industrial_goods_are_rejected():
    e = selviaria()
    B = e.bundles.copy()
    B[1, 0] = 1.0
    bad = Economy(e.goods, e.kinds, e.coefficients, e.profiles, B, e.population, curves=e.curves)
    with pytest.raises(InvalidInputError, match="bundles: good 'Vorpal Pick \\+1' of kind 'industrial'"):
        plan_day(bad, **_args())


def test_unbounded_investment_names_the_goods():
    # a final good that needs nothing bounded can be produced without limit
    e = Economy(("Bread", "Oven"), ("final", "industrial"), sp.csr_matrix((2, 2)), ("p",),
                np.array([[1.0], [0.0]]), np.array([10.0]))
    with pytest.raises(InvalidInputError, match=r"unbounded.*'Bread'"):
        plan_day(e, np.zeros(2), np.zeros(2), None, 0.5)
    plan = plan_day(e, np.zeros(2), np.zeros(2), np.array([50.0, 0.0]), 0.5)
    assert plan.fulfilment[0] == pytest.approx(1.0)
    assert plan.production[0] == pytest.approx(50.0)  # investment keeps 40 for tomorrow


def test_profile_without_need_is_fulfilled():
    e = selviaria()
    pop = np.array([800.0, 0.0])
    e0 = Economy(e.goods, e.kinds, e.coefficients, e.profiles, e.bundles, pop, curves=e.curves)
    plan = plan_day(e0, **_args())
    assert plan.fulfilment[1] == 1.0 and 0 < plan.fulfilment[0] < 1
    assert plan.planned_humanity == pytest.approx(plan.fulfilment[0])


def test_scaled_demand_linear_closed_form_and_lp_dominates():
    # linear Selviaria: everything consumed is produced; the binding bound is the pick capital.
    e = selviaria(curves=False)
    stocks, labour = selviaria_state()
    base = plan_day(e, stocks, labour, None, 0.5, method="scaled-demand")
    # requirement at full demand: x_L = 0.001 x_L + 3400 + x_T, x_T = 180 -> capital 0.5 x_L
    x_full = (3400 + 180) / 0.999
    c_closed = 0.5 * 5.0 / (0.5 * x_full)
    assert base.fulfilment[0] == pytest.approx(c_closed, rel=1e-4)
    assert base.status == "scaled-demand" and base.investment_production.sum() == 0
    assert np.all(base.closing_stocks_expected >= 0)
    lp = plan_day(e, stocks, labour, None, 0.5)
    assert lp.fulfilment.min() >= base.fulfilment.min() * (1 - 1e-4)


def test_scaled_demand_full_when_everything_fits():
    e, stocks, labour, capacity = random_plan_economy(np.random.default_rng(3), 2, 1, 1, 2)
    plan = plan_day(e, stocks * 1e6, labour * 1e6, capacity * 1e6, 0.2, method="scaled-demand")
    np.testing.assert_allclose(plan.fulfilment, 1.0)


@pytest.mark.parametrize("seed", range(4))
def test_lp_plan_is_never_worse_than_the_baseline(seed):
    e, stocks, labour, capacity = random_plan_economy(np.random.default_rng(seed), 3, 2, 1, 2)
    lp = plan_day(e, stocks, labour, capacity, 0.3)
    base = plan_day(e, stocks, labour, capacity, 0.3, method="scaled-demand")
    assert lp.fulfilment.min() >= base.fulfilment.min() - 1e-4
