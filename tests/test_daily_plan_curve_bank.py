"""The vectorised curve evaluation of the daily plan against the curves' own methods."""

from __future__ import annotations

import numpy as np
import pytest
from innatura.abm.active_learning import SampledInput
from innatura.planner.curves import (
    ConstantCurve,
    CurveCache,
    CurveStore,
    PiecewiseLinearCurve,
    PowerLawInput,
    StackedCurve,
)
from innatura.planner.economy import CurveCell
from innatura.planner.plan.inputs import secant_slopes, validate_plan_inputs

from innatura import scenarios


def _random_cells(rng, n_cells=200):
    cells = []
    for k in range(n_cells):
        funcs = []
        for _ in range(int(rng.integers(1, 4))):
            if rng.random() < 0.3:
                funcs.append(PowerLawInput(rng.uniform(0, 2), float(rng.choice([0.5, 1.0, 1.3, 2.0]))))
            else:
                qs = np.unique(np.sort(rng.uniform(0.1, 100, int(rng.integers(1, 6)))))
                vals = rng.uniform(0, 5, qs.size) * (rng.random(qs.size) > 0.2)
                funcs.append(SampledInput(tuple(qs), tuple(vals), rng.uniform(0.5, 2)))
        last = (np.inf,) if rng.random() < 0.5 else (rng.uniform(1, 50),)
        caps = tuple(rng.uniform(1, 50, len(funcs) - 1)) + last
        cells.append(CurveCell(0, k, StackedCurve(caps, tuple(funcs))))
    cells.append(CurveCell(0, n_cells, ConstantCurve(0.3)))
    cells.append(CurveCell(0, n_cells + 1, PiecewiseLinearCurve((1.0, 5.0), (0.2, 0.4))))  # cell by cell
    return cells


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bank_matches_each_curve(seed):
    rng = np.random.default_rng(seed)
    cells = _random_cells(rng)
    bank = CurveStore(cells)
    n = len(cells)
    for x in [np.zeros(n), rng.uniform(0, 300, n), np.geomspace(1e-6, 1e7, n), rng.uniform(0, 2, n)]:
        xf = np.maximum(x, 1e-9)
        f_ref = np.array([float(c.curve(xf[c.col])) for c in cells])
        d_ref = np.array([float(c.curve.derivative(xf[c.col])) for c in cells])
        np.testing.assert_allclose(bank.coefficients(x), f_ref, rtol=1e-12, atol=1e-300)
        # f' = G'/x - G/x^2 cancels: compare on the scale of its terms
        scale = np.abs(f_ref) / xf + np.abs(d_ref)
        assert np.all(np.abs(bank.derivatives(xf) - d_ref) <= 1e-9 * scale + 1e-300)
        np.testing.assert_allclose(bank.input_use(x), f_ref * x, rtol=1e-12, atol=1e-300)


def test_cache_reuses_the_store_of_the_same_curves():
    cells = _random_cells(np.random.default_rng(4), 10)
    cache = CurveCache()
    first = cache.store(cells)
    assert cache.store(tuple(CurveCell(*c) for c in cells)) is first
    other = [*cells[:-1], CurveCell(0, 11, ConstantCurve(0.5))]
    assert cache.store(other) is not first
    assert CurveCache().store(cells) is not first  # nothing is shared between caches


def test_plan_with_a_prebuilt_store_equals_the_plan_with_cells():
    e = scenarios.load("selviaria").to_economy()
    stocks, labour = np.array([2e3, 1e3, 5e2, 0, 0, 0.0]), np.array([0, 0, 0, 1e5, 7e5, 7e5])
    from innatura.planner import plan_day

    a = plan_day(e, stocks, labour, None, 0.3)
    b = plan_day(e, stocks, labour, None, 0.3, curves=CurveCache().store(e.curves))
    np.testing.assert_array_equal(a.production, b.production)


@pytest.mark.parametrize("base", [0.0, 2e3, 1e6, 1e9])
def test_secant_of_the_quadratic_last_unit_at_huge_outputs(base):
    # Selviaria's pick: units of 500, 500, then 1e-6 q^2 Lucloelium (OLIN-EP Fig. 2); beyond
    # 1000 the input use is 0.002*500 + 0.01*sqrt(500) + 1e-6 (x - 1000)^2
    e = scenarios.load("selviaria").to_economy()
    inp = validate_plan_inputs(e, np.zeros(6), np.array([0, 0, 0, 1, 1, 1.0]), None, 0.0)
    k = int(np.flatnonzero(inp.curve_rows == 0)[0])

    for step in [1e-3, 1.0, 1e4, 1e8]:
        b = base + 1000.0 if base else 1000.0
        p = b + step
        x0, x1 = np.zeros(6), np.zeros(6)
        x0[1], x1[1] = b, p
        slope = secant_slopes(inp, x0, x1)[k]
        exact = 1e-6 * (p + b - 2000)  # (g(p) - g(b)) / (p - b) for the quadratic
        assert slope == pytest.approx(exact, rel=1e-6, abs=1e-12), (b, p)


@pytest.mark.parametrize("method", ["lp", "balanced", "scaled-demand"])
def test_plan_with_a_store_built_from_arrays_equals_the_plan_with_the_curve_objects(method):
    # Selviaria's curves are stacks of power-law units: the same curves as parameter arrays
    e = scenarios.load("selviaria").to_economy()
    stocks, labour = np.array([2e3, 1e3, 5e2, 0, 0, 0.0]), np.array([0, 0, 0, 1e5, 7e5, 7e5])
    stacks = [c.curve for c in e.curves]
    store = CurveStore.from_power_units(
        [c.row for c in e.curves], [c.col for c in e.curves],
        np.repeat(np.arange(len(stacks)), [s.n_units for s in stacks]),
        np.concatenate([s.capacities for s in stacks]),
        [g.scale for s in stacks for g in s.input_functions],
        [g.exponent for s in stacks for g in s.input_functions],
    )
    from innatura.planner import plan_day

    a = plan_day(e, stocks, labour, None, 0.3, method=method)
    b = plan_day(e, stocks, labour, None, 0.3, method=method, curves=store)
    np.testing.assert_array_equal(a.production, b.production)
    np.testing.assert_array_equal(a.fulfilment, b.fulfilment)
