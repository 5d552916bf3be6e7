"""Competitive-equilibrium solvers against independent oracles (closed form, cvxpy, scipy)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.optimize
from innatura.planner.exchange import ExchangeMarket, FisherMarket, competitive_equilibrium
from innatura.planner.exchange.demand import demand


def _perron_oracle(weights: np.ndarray, endowments: np.ndarray) -> np.ndarray:
    """CD exchange prices from the eigenvector of the expenditure-share matrix (numpy eig)."""
    a = weights / weights.sum(axis=1, keepdims=True)
    supply = endowments.sum(axis=0)
    mmat = a.T @ (endowments / supply)
    vals, vecs = np.linalg.eig(mmat)
    v = np.real(vecs[:, np.argmin(np.abs(vals - 1.0))])
    p = v / supply
    return p / p.sum()


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("method", ["closed-form", "newton", "tatonnement", "proportional-response"])
def test_cobb_douglas_exchange_matches_perron_vector(seed: int, method: str) -> None:
    rng = np.random.default_rng(seed)
    n, m = 5 + seed, 3 + seed
    w, e = rng.random((n, m)) + 0.05, rng.random((n, m)) + 0.05
    res = competitive_equilibrium(ExchangeMarket("cobb-douglas", w, e), method, tol=1e-9)
    assert res.converged
    np.testing.assert_allclose(res.prices, _perron_oracle(w, e), rtol=1e-7)
    assert abs(res.prices.sum() - 1) < 1e-12
    assert res.max_excess_demand < 1e-8 and res.walras_residual < 1e-8 and res.max_budget_violation < 1e-8


def test_cobb_douglas_two_by_two_by_hand() -> None:
    # agent 0 owns good 0 and spends 1/3 on it; agent 1 owns good 1 and spends 2/3 on good 1:
    # value of good 0 = 1/3 v0 + 1/3 v1 -> v0 = v1/2 ... p = (1/3, 2/3)
    w = np.array([[1.0, 2.0], [1.0, 2.0]])
    e = np.eye(2)
    res = competitive_equilibrium(ExchangeMarket("cobb-douglas", w, e))
    np.testing.assert_allclose(res.prices, [1 / 3, 2 / 3], rtol=1e-12)


def _cvxpy_linear_fisher(a: np.ndarray, budgets: np.ndarray, supply: np.ndarray) -> np.ndarray:
    cp = pytest.importorskip("cvxpy")
    x = cp.Variable(a.shape, nonneg=True)
    cons = [cp.sum(x, axis=0) <= supply]
    cp.Problem(cp.Maximize(budgets @ cp.log(cp.sum(cp.multiply(a, x), axis=1))), cons).solve(
        solver=cp.CLARABEL, tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
    return np.asarray(cons[0].dual_value)


@pytest.mark.parametrize("seed", range(3))
def test_linear_fisher_matches_cvxpy_eisenberg_gale(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, m = 40, 8
    a, budgets, supply = rng.random((n, m)), rng.random(n) + 0.5, rng.random(m) + 0.5
    oracle = _cvxpy_linear_fisher(a, budgets, supply)
    res = competitive_equilibrium(FisherMarket("linear", a, budgets, supply), tol=1e-6)
    assert res.converged and res.method == "eisenberg-gale"
    money = res.prices * res.price_scale
    np.testing.assert_allclose(money, oracle, rtol=1e-6)
    assert res.error < 1e-9  # the exact finish: every buyer on its best goods, markets clear
    # proportional response reaches the same prices, less precisely
    pr = competitive_equilibrium(FisherMarket("linear", a, budgets, supply), "proportional-response",
                                 tol=1e-3, max_iter=20_000)
    np.testing.assert_allclose(pr.prices, res.prices, rtol=1e-2)


def test_ces_fisher_matches_cvxpy() -> None:
    cp = pytest.importorskip("cvxpy")
    rng = np.random.default_rng(5)
    n, m, rho = 30, 6, 0.5
    a, budgets, supply = rng.random((n, m)) + 0.1, rng.random(n) + 0.5, rng.random(m) + 0.5
    x = cp.Variable((n, m), nonneg=True)
    cons = [cp.sum(x, axis=0) <= supply]
    util = cp.hstack([cp.pnorm(cp.multiply(a[i] ** (1 / rho), x[i]), rho) for i in range(n)])
    cp.Problem(cp.Maximize(budgets @ cp.log(util)), cons).solve(solver=cp.CLARABEL)
    oracle = np.asarray(cons[0].dual_value)
    for method in ("eisenberg-gale", "proportional-response", "tatonnement"):
        res = competitive_equilibrium(FisherMarket("ces", a, budgets, supply, rho), method, tol=1e-9)
        assert res.converged, method
        np.testing.assert_allclose(res.prices * res.price_scale, oracle, rtol=1e-5, err_msg=method)


@pytest.mark.parametrize("rho", [0.5, -0.5, -2.0])
def test_ces_exchange_matches_scipy_root(rho: float) -> None:
    rng = np.random.default_rng(11)
    n, m = 6, 4
    w, e = rng.random((n, m)) + 0.1, rng.random((n, m)) + 0.1
    market = ExchangeMarket("ces", w, e, rho)
    res = competitive_equilibrium(market, tol=1e-11)
    assert res.converged

    def excess(logp_free: np.ndarray) -> np.ndarray:  # numeraire: the last good
        p = np.exp(np.append(logp_free, 0.0))
        x = demand(w, p, e @ p, "ces", rho)
        return (x.sum(axis=0) - e.sum(axis=0))[:-1]

    sol = scipy.optimize.root(excess, np.zeros(m - 1), method="hybr", tol=1e-13)
    assert sol.success
    p = np.exp(np.append(sol.x, 0.0))
    np.testing.assert_allclose(res.prices, p / p.sum(), rtol=1e-8)
    if rho > 0:
        tat = competitive_equilibrium(market, "tatonnement", tol=1e-10)
        np.testing.assert_allclose(tat.prices, res.prices, rtol=1e-7)


@pytest.mark.parametrize("method", ["fisher-fixed-point", "proportional-response"])
@pytest.mark.parametrize("shape", [(7, 4), (30, 5)])
def test_linear_exchange_is_an_equilibrium(method: str, shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(3)
    n, m = shape
    w, e = rng.random((n, m)) + 0.05, rng.random((n, m)) + 0.05
    res = competitive_equilibrium(ExchangeMarket("linear", w, e), method, tol=1e-6)
    assert res.converged and res.method == method
    # independent check of the definition: budgets spent, markets clear, best bang-per-buck only
    p, x = res.prices, res.allocations
    np.testing.assert_allclose(x.sum(axis=0), e.sum(axis=0), rtol=1e-9)
    np.testing.assert_allclose(x @ p, e @ p, rtol=1e-6)
    bang = w / p
    spend_share = (x * p) / (e @ p)[:, None]
    off_best = bang < bang.max(axis=1, keepdims=True) * (1 - 1e-3)
    assert spend_share[off_best].max(initial=0.0) < 1e-4
    if method == "fisher-fixed-point":
        assert res.error < 1e-10  # exact up to rounding


@pytest.mark.parametrize("utility,rho", [("cobb-douglas", None), ("ces", 0.3), ("ces", -1.0), ("linear", None)])
def test_walras_law_and_budget_balance(utility: str, rho: float | None) -> None:
    rng = np.random.default_rng(2)
    n, m = 20, 5
    w, budgets, supply = rng.random((n, m)) + 0.05, rng.random(n) + 0.1, rng.random(m) + 0.5
    res = competitive_equilibrium(FisherMarket(utility, w, budgets, supply, rho))
    assert res.converged
    assert res.walras_residual < 1e-8 and res.max_budget_violation < 1e-8
    np.testing.assert_allclose(res.allocations.sum(axis=0), supply, rtol=1e-7)
    # money prices clear the money: sum_j p_j s_j = sum_i B_i
    assert res.price_scale * res.prices @ supply == pytest.approx(budgets.sum(), rel=1e-8)
    assert not res.prices.flags.writeable


def test_results_are_deterministic() -> None:
    rng = np.random.default_rng(9)
    a, b, s = rng.random((50, 6)), rng.random(50) + 0.5, rng.random(6) + 0.5
    r1 = competitive_equilibrium(FisherMarket("linear", a, b, s))
    r2 = competitive_equilibrium(FisherMarket("linear", a, b, s))
    np.testing.assert_array_equal(r1.prices, r2.prices)


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31), n=st.integers(1, 12), m=st.integers(1, 6),
       utility=st.sampled_from(["cobb-douglas", "ces", "linear"]), rho=st.sampled_from([-3.0, -0.5, 0.4, 0.9]),
       sparse=st.booleans())
def test_fisher_equilibrium_property(seed: int, n: int, m: int, utility: str, rho: float, sparse: bool) -> None:
    """Any valid Fisher market: the default method returns a verified equilibrium."""
    rng = np.random.default_rng(seed)
    w = rng.random((n, m))
    if sparse:
        w[rng.random((n, m)) < 0.4] = 0.0
        w[np.arange(n), rng.integers(0, m, n)] += 0.5  # every buyer wants something
        w[rng.integers(0, n, m), np.arange(m)] += 0.5  # every good is wanted
    market = FisherMarket(utility, w, rng.random(n) + 0.1, rng.random(m) + 0.1, rho if utility == "ces" else None)
    res = competitive_equilibrium(market)
    assert res.converged, (res.method, res.error)
    assert res.prices.sum() == pytest.approx(1.0) and (res.prices > 0).all()
    assert res.walras_residual < 1e-6
