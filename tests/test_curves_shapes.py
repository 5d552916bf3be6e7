"""Coefficient curves against closed forms (OLIN-EP Fig. 1/2, the Selviaria factories)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from innatura.planner.curves import (
    X_FLOOR,
    ConstantCurve,
    PiecewiseLinearCurve,
    PowerLawInput,
    SmoothCurve,
    StackedCurve,
)
from innatura.planner.economy import CoefficientCurve
from innatura.planner.errors import InvalidInputError

CAPS = (500.0, 500.0, math.inf)


def lucloelium_curve() -> StackedCurve:
    """Lucloelium per Vorpal Pick: factories 2q/1000, 10 sqrt(q)/1000, q^2/1000/1000."""
    return StackedCurve(CAPS, (PowerLawInput(0.002, 1), PowerLawInput(0.01, 0.5), PowerLawInput(1e-6, 2)))


def vorpal_curve() -> StackedCurve:
    """Vorpal Pick per Vorpal Pick: factories 3q/1000, 5q/1000, q/1000."""
    return StackedCurve(CAPS, (PowerLawInput(0.003, 1), PowerLawInput(0.005, 1), PowerLawInput(0.001, 1)))


def test_stacked_selviaria_by_hand():
    x = np.array([300.0, 700.0, 1500.0])
    # 300: all to factory 1 -> 0.6 / 300; 700: 1.0 + 0.01 sqrt(200); 1500: 1.0 + 0.01 sqrt(500) + 500^2 / 1e6
    expected_l = [0.6 / 300, (1.0 + 0.01 * math.sqrt(200)) / 700, (1.0 + 0.01 * math.sqrt(500) + 0.25) / 1500]
    expected_v = [0.9 / 300, (1.5 + 1.0) / 700, (1.5 + 2.5 + 0.5) / 1500]
    np.testing.assert_allclose(lucloelium_curve()(x), expected_l, rtol=1e-13)
    np.testing.assert_allclose(vorpal_curve()(x), expected_v, rtol=1e-13)
    assert lucloelium_curve()(700.0) == pytest.approx(expected_l[1], rel=1e-13)
    assert isinstance(lucloelium_curve()(700.0), float)


def test_dispatch_splits_in_stacking_order():
    c = lucloelium_curve()
    np.testing.assert_allclose(c.dispatch(np.array([300.0, 700.0, 1500.0, -5.0])),
                               [[300, 0, 0], [500, 200, 0], [500, 500, 500], [0, 0, 0]])
    assert c.dispatch(np.ones((2, 3))).shape == (2, 3, 3)
    assert c.total_capacity == math.inf
    finite = StackedCurve((10.0, 20.0), (PowerLawInput(1, 1), PowerLawInput(2, 1)))
    assert finite.total_capacity == 30.0
    # the last unit takes everything beyond its predecessors (documented choice)
    np.testing.assert_allclose(finite.dispatch(100.0), [10.0, 90.0])
    assert finite.total_input(100.0) == pytest.approx(10 + 180)


@pytest.mark.parametrize("curve", [lucloelium_curve(), vorpal_curve()])
def test_stacked_derivative_matches_finite_differences(curve):
    x = np.array([1.0, 37.0, 250.0, 499.0, 620.0, 880.0, 1001.0, 1300.0, 4000.0])
    h = 1e-4
    fd = (curve(x + h) - curve(x - h)) / (2 * h)
    np.testing.assert_allclose(curve.derivative(x), fd, rtol=1e-5, atol=1e-12)


def test_power_law_input_and_derivative():
    g = PowerLawInput(0.01, 0.5)
    q = np.array([1.0, 4.0, 100.0])
    np.testing.assert_allclose(g(q), 0.01 * np.sqrt(q))
    np.testing.assert_allclose(g.derivative(q), 0.005 / np.sqrt(q))
    np.testing.assert_allclose(g.coefficient(q), 0.01 / np.sqrt(q))
    assert g(-3.0) == 0.0
    assert np.isfinite(g.derivative(0.0))


def test_coefficient_is_finite_at_zero_output():
    c = StackedCurve((math.inf,), (PowerLawInput(0.01, 0.5),))
    assert c(0.0) == pytest.approx(0.01 / math.sqrt(X_FLOOR))
    assert c.derivative(0.0) == 0.0
    assert lucloelium_curve()(0.0) == pytest.approx(0.002)


def test_piecewise_linear_interpolates_and_is_flat_outside():
    c = PiecewiseLinearCurve.from_inputs([200, 100, 400], [3, 1, 4])  # coefficients 0.015, 0.01, 0.01
    assert c.xs == (100.0, 200.0, 400.0)
    np.testing.assert_allclose(c(np.array([0.0, 100.0, 150.0, 300.0, 1e6])), [0.01, 0.01, 0.0125, 0.0125, 0.01])
    np.testing.assert_allclose(c.derivative(np.array([50.0, 150.0, 300.0, 500.0])), [0.0, 5e-5, -2.5e-5, 0.0])


def test_piecewise_linear_fit_of_stacked_units_converges():
    true = lucloelium_curve()
    qs = np.linspace(10, 2000, 400)
    fit = PiecewiseLinearCurve.from_inputs(qs, true.total_input(qs))
    x = np.linspace(20, 1990, 97)
    np.testing.assert_allclose(fit(x), true(x), rtol=2e-3)


@pytest.mark.parametrize("method", ["pchip", "lsq"])
def test_smooth_fit_derivative_and_extrapolation(method):
    true = vorpal_curve()
    qs = np.linspace(10, 2000, 60)
    fit = SmoothCurve.from_inputs(qs, true.total_input(qs), method=method, n_knots=8)
    x = np.array([50.0, 300.0, 750.0, 1200.0, 1800.0])
    h = 1e-3
    np.testing.assert_allclose(fit.derivative(x), (fit(x + h) - fit(x - h)) / (2 * h), rtol=1e-4, atol=1e-10)
    assert fit(1e6) == pytest.approx(fit(2000.0))
    assert fit.derivative(1e6) == 0.0
    assert np.all(fit(np.linspace(0, 5000, 101)) >= 0)
    if method == "pchip":
        np.testing.assert_allclose(fit(qs), true(qs), rtol=1e-12)


def test_pchip_preserves_monotone_samples():
    xs = np.array([0.0, 1.0, 2.0, 3.0, 10.0])
    vs = np.array([1.0, 1.0, 2.0, 5.0, 5.0])
    fit = SmoothCurve.fit(xs, vs)
    grid = np.linspace(0, 10, 501)
    assert np.all(np.diff(fit(grid)) >= -1e-12)
    assert fit(grid).max() <= 5.0 + 1e-12


def test_constant_curve():
    c = ConstantCurve(0.25)
    np.testing.assert_array_equal(c(np.arange(3.0)), [0.25] * 3)
    np.testing.assert_array_equal(c.derivative(np.arange(3.0)), [0.0] * 3)
    assert c(7.0) == 0.25


def test_curves_satisfy_protocol_and_are_immutable_values():
    curves = [lucloelium_curve(), PiecewiseLinearCurve((1, 2), (0.1, 0.2)), SmoothCurve.fit((1, 2, 3), (1, 2, 3)),
              ConstantCurve(1.0)]
    for c in curves:
        assert isinstance(c, CoefficientCurve)
        with pytest.raises(dataclasses.FrozenInstanceError):
            c.xs = (0.0,)  # type: ignore[misc]
    assert lucloelium_curve() == lucloelium_curve()
    assert hash(lucloelium_curve()) == hash(lucloelium_curve())
    assert lucloelium_curve() != vorpal_curve()
    assert "PowerLawInput(scale=0.002" in repr(lucloelium_curve())
    assert PiecewiseLinearCurve((1, 2), (0.1, 0.2)) == PiecewiseLinearCurve([1.0, 2.0], [0.1, 0.2])


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: StackedCurve((1.0,), ()), "capacities"),
        (lambda: StackedCurve((-1.0, 2.0), (PowerLawInput(1, 1),) * 2), "positive"),
        (lambda: StackedCurve((math.inf, 2.0), (PowerLawInput(1, 1),) * 2), "finite"),
        (lambda: PowerLawInput(-1.0, 1.0), "scale"),
        (lambda: PowerLawInput(1.0, 0.0), "exponent"),
        (lambda: PiecewiseLinearCurve((2.0, 1.0), (0.1, 0.2)), "strictly increasing"),
        (lambda: PiecewiseLinearCurve((1.0, 2.0), (0.1, -0.2)), "non-negative"),
        (lambda: PiecewiseLinearCurve.from_inputs((0.0, 2.0), (0.1, 0.2)), "positive"),
        (lambda: SmoothCurve.fit((1.0, 2.0), (1.0, 2.0), method="cubic"), "method"),
        (lambda: SmoothCurve.fit((1.0, 2.0, 3.0), (1.0, 2.0, 3.0), method="lsq", n_knots=4), "samples"),
        (lambda: ConstantCurve(float("nan")), "finite"),
    ],
)
def test_invalid_curves_raise(make, match):
    with pytest.raises(InvalidInputError, match=match):
        make()
