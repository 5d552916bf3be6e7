"""The paper's Fig. 3 dynamics (``planner.olin_paper``), checked against independent oracles:
the authors' algorithm rebuilt here with scipy (spline, sparse solves, bounded Brent search), the
closed form of the booking recursion, Eq. 5 on the plan, and the published figure data."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from innatura.planner.errors import InvalidInputError
from innatura.planner.metrics import humanity_io
from innatura.planner.olin_paper import (
    OPENING_STOCKS,
    paper_dynamics,
    paper_plan,
    smallest_mu,
    vorpal_curve,
)
from scipy.interpolate import UnivariateSpline
from scipy.optimize import minimize_scalar
from scipy.sparse.linalg import spsolve

SHARES = (0.51, 0.52, 0.55, 0.60)

# Published figure data (OLIN-EP Fig. 3, the public code's plot_data): humanity at some ticks.
PUBLISHED_051 = {0: 0.0005384913302702454, 100: 0.0039011790635964678, 200: 0.02826265840937603,
                 300: 0.2047526617808682, 380: 0.998270305436682}
PUBLISHED_052_TICK_100 = 0.02719647266820364
# Fig. 3b, read off the published noisy series: ticks after which humanity fell (a loss struck),
# the first tick above 0.999, and humanity at two ticks.
PUBLISHED_NOISY = {
    0.55: ((19, 36, 46, 47, 64, 73, 82), 96, {47: 0.024316715954735522, 95: 0.9663099367049677}),
    0.60: ((3, 12, 17, 20, 21, 23, 27, 31, 35, 52), 54, {30: 0.02680688340381846, 53: 0.9092579022950186}),
}


# -- an independent rebuild of the authors' algorithm (Table 1, their spline and search) --------

def _code_matrix() -> tuple[np.ndarray, np.ndarray]:
    names = ["Lucloelium", "Vorpal", "T-ring", "Lb0", "Lb1", "Lb2", "P0", "P1"]
    A = np.zeros((8, 8))
    cells = {("Lucloelium", "Lucloelium"): 0.001, ("Lucloelium", "Vorpal"): 0.07, ("Lucloelium", "T-ring"): 1.0,
             ("Vorpal", "Lucloelium"): 0.5, ("Lb0", "Lucloelium"): 0.001, ("Lb1", "Vorpal"): 0.012,
             ("Lb2", "T-ring"): 0.001, ("Lucloelium", "P0"): 3.0, ("Lucloelium", "P1"): 2.0,
             ("T-ring", "P0"): 0.1, ("T-ring", "P1"): 0.2}
    for (row, col), value in cells.items():
        A[names.index(row), names.index(col)] = value
    d = np.array([0, 0, 0, 0, 0, 0, 800.0, 500.0])
    return A, d


def _code_spline() -> UnivariateSpline:
    orders = np.arange(1, 2000)
    picks = []
    for q in orders:
        if q <= 500:
            use = q * 3 / 1000
        elif q <= 1000:
            use = 1.5 + (q - 500) * 5 / 1000
        else:
            use = 1.5 + 2.5 + (q - 1000) / 1000
        picks.append(use / q)
    return UnivariateSpline(orders, np.array(picks), k=1, s=0)


SPLINE = _code_spline()


def _code_solve(A0: np.ndarray, y: np.ndarray) -> np.ndarray:
    x = y + 0.001
    for _ in range(3):
        A = A0.copy()
        A[1, 1] = SPLINE(x[1])
        x = spsolve(sp.csc_matrix(np.eye(8) - A), y)
    return x


def _code_mu(stocks: np.ndarray) -> float:
    A0, d = _code_matrix()
    ub = np.concatenate([stocks, [np.inf, np.inf]])

    def fun(m: float) -> float:
        x = _code_solve(A0, d / m)
        r = np.maximum(x - ub, 0.0).sum()
        return r if r > 1e-5 else -x[-2:].sum()

    return float(minimize_scalar(fun, bounds=[1, 10000], method="bounded")["x"])


def _full_requirement() -> float:
    """Lucloelium needed by the full profiles, the curve iterated to its fixed point."""
    A0, d = _code_matrix()
    x = d + 0.001
    for _ in range(100):
        A = A0.copy()
        A[1, 1] = SPLINE(x[1])
        x = np.linalg.solve(np.eye(8) - A, d)
    return float(x[0])


# -- tests -------------------------------------------------------------------------------------

def test_vorpal_curve_is_the_codes_spline():
    q = np.concatenate([[0.0, 0.001, 0.5], np.linspace(1, 1999, 777), [1862.3, 2500.0]])
    np.testing.assert_allclose(vorpal_curve(q), SPLINE(q), rtol=0, atol=1e-15)
    assert vorpal_curve(100.0) == pytest.approx(0.003)


@pytest.mark.parametrize("stocks", [OPENING_STOCKS, (40.0, 900.0, 1e5, 1e5, 7e5, 7e5),
                                    (3600.0, 20.0, 1e5, 1e5, 7e5, 7e5), (1000.0, 1e6, 1e5, 1e5, 7e5, 7e5)])
def test_plan_and_mu_agree_with_the_codes_algorithm(stocks):
    stocks = np.asarray(stocks)
    mu = smallest_mu(stocks[None])[0]
    assert mu == pytest.approx(_code_mu(stocks), rel=1e-5)
    x, _ = paper_plan(np.array([1.0 / mu]))
    np.testing.assert_allclose(x[0], _code_solve(_code_matrix()[0], _code_matrix()[1] / mu), rtol=1e-10)
    assert np.maximum(x[0, :6] - stocks, 0).sum() <= 1e-5 + 1e-12


def test_mu_bounds():
    assert smallest_mu(np.array([[1e6, 1e6, 1e6, 1e6, 1e6, 1e6]]))[0] == 1.0
    assert smallest_mu(np.array([[1e-6, 1e-6, 1e5, 1e5, 7e5, 7e5]]))[0] == 1e4


def test_humanity_is_eq5_of_the_plan():
    mu = smallest_mu(np.asarray(OPENING_STOCKS)[None])
    x, c = paper_plan(1.0 / mu)
    A, d = _code_matrix()
    A[1, 1] = c[0]
    assert humanity_io(A, x[0], d, [0, 2], [6, 7]) == pytest.approx(1.0 / mu[0], rel=1e-9)


def test_no_noise_gives_the_published_ticks_and_the_closed_form():
    need = _full_requirement()
    assert need == pytest.approx(3714.05, abs=0.01)
    for share, published in zip(SHARES, (381, 192, 79, 42), strict=True):
        res = paper_dynamics(share)
        assert res.first_tick.tolist() == [published]
        assert math.ceil(math.log(0.999 * need / 2.0) / math.log(2 * share)) == published
        assert np.isnan(res.humanity[0, published + 1:]).all()  # the run stops there
    res = paper_dynamics(0.51)
    for tick, value in PUBLISHED_051.items():
        assert res.humanity[0, tick] == pytest.approx(value, rel=1e-5)
    assert paper_dynamics(0.52).humanity[0, 100] == pytest.approx(PUBLISHED_052_TICK_100, rel=1e-5)


def test_the_lucloelium_bound_binds_and_the_stock_follows_2_sigma():
    res = paper_dynamics(0.51)
    stock, made = res.stocks[0, :382, 0], res.output[0, :382, 0]
    excess = made - stock  # the code's search accepts an excess up to 1e-5
    assert np.all((excess[:381] >= 0) & (excess[:381] <= 1e-5 + 1e-12))  # binds on 381 of 382 ticks
    assert excess[381] < -1.0
    np.testing.assert_allclose(stock[1:] / stock[:-1], 1.02, rtol=1e-6)


@pytest.mark.parametrize("share", [0.55, 0.60])
def test_published_noisy_runs_replay_exactly(share):
    loss_ticks, first, values = PUBLISHED_NOISY[share]
    losses = np.zeros(1000, dtype=bool)
    losses[list(loss_ticks)] = True
    res = paper_dynamics(share, losses=losses)
    assert res.first_tick.tolist() == [first]
    assert res.losses[0].nonzero()[0].tolist() == list(loss_ticks)
    for tick, value in values.items():
        assert res.humanity[0, tick] == pytest.approx(value, rel=1e-5)


def _closed_form_band(share: float, need: float, paths: int = 20000, ticks: int = 1000) -> tuple[float, float]:
    """5% and 95% of the first tick of ``s <- 2 sigma s`` from 2, times 0.8 with probability 0.1 after
    each tick, above ``0.999 need``: the recursion simulated on its own generator."""
    rng = np.random.default_rng(20240917)
    lost = np.cumsum(rng.random((paths, ticks)) < 0.1, axis=1)
    before = np.concatenate([np.zeros((paths, 1)), lost[:, :-1]], axis=1)  # losses before tick t
    log_s = math.log(2.0) + np.arange(ticks) * math.log(2 * share) + before * math.log(0.8)
    above = log_s > math.log(0.999 * need)
    first = np.where(above.any(axis=1), above.argmax(axis=1), np.inf)
    return tuple(np.quantile(first, [0.05, 0.95], method="inverted_cdf"))


def test_noise_over_200_seeds_collapses_at_051_and_follows_the_closed_form():
    need = _full_requirement()
    medians = {}
    for share in SHARES:
        res = paper_dynamics(share, [np.random.default_rng(s) for s in range(200)])
        if share == 0.51:
            assert not res.reached.any()
            assert np.median(res.humanity[:, -1]) < res.humanity[0, 0] / 2  # the typical run shrinks
            continue
        assert res.reached.all()
        medians[share] = float(np.median(res.first_tick))
        q05, q95 = _closed_form_band(share, need)
        assert q05 <= medians[share] <= q95, (share, medians[share], q05, q95)
    assert medians[0.52] > medians[0.55] > medians[0.60]
    # the collapse condition: the log-stock drift ln(2 sigma) + 0.1 ln 0.8 changes sign at 0.5113
    assert math.log(1.02) + 0.1 * math.log(0.8) < 0 < math.log(1.04) + 0.1 * math.log(0.8)


def test_the_booking_does_not_conserve_goods():
    res = paper_dynamics(0.51)
    assert res.conserves_goods is False
    out = res.output[0, :382]
    booked_luc = 0.02 * out[:, 0].sum()
    booked_picks = out[:, 1].sum()
    # under the plan's own balance nothing would be left to add: the whole booking is the gap
    np.testing.assert_allclose(res.ledger_gap[0], [booked_luc, booked_picks], rtol=1e-9)
    assert res.ledger_gap[0, 0] > 1000 and res.ledger_gap[0, 1] > 10000


def test_same_seed_same_run_and_losses_follow_the_generator():
    a = paper_dynamics(0.55, [np.random.default_rng(5), np.random.default_rng(6)], max_ticks=300)
    b = paper_dynamics(0.55, [np.random.default_rng(5), np.random.default_rng(6)], max_ticks=300)
    np.testing.assert_array_equal(a.humanity, b.humanity)
    draws = np.random.default_rng(5).random(300) < 0.1
    stop = a.first_tick[0]
    assert stop > 0
    np.testing.assert_array_equal(a.losses[0, : stop + 1], draws[: stop + 1])


@pytest.mark.parametrize("kwargs", [{"investment_share": 1.5}, {"investment_share": float("nan")},
                                    {"investment_share": 0.5, "max_ticks": 0},
                                    {"investment_share": 0.5, "threshold": 0.0},
                                    {"investment_share": 0.5, "rngs": [1, 2]},
                                    {"investment_share": 0.5, "rngs": np.random.default_rng(0),
                                     "losses": np.zeros(1000, bool)},
                                    {"investment_share": 0.5, "losses": np.zeros(10, bool)}])
def test_bad_input_is_named(kwargs):
    with pytest.raises(InvalidInputError):
        paper_dynamics(**kwargs)
