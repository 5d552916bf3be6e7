"""The array curve store against the scalar curve classes: values, derivatives, marginal use,
dispatch at the kinks, construction from arrays, and memory that grows linearly."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from innatura.abm.active_learning import SampledInput
from innatura.planner.curves import (
    X_FLOOR,
    ConstantCurve,
    CurveMatrix,
    CurveStore,
    PiecewiseLinearCurve,
    PowerLawInput,
    StackedCurve,
    power_input,
    stack_orders,
)
from innatura.planner.economy import CurveCell
from innatura.planner.errors import InvalidInputError

exponents = st.floats(0.3, 2.5)
scales = st.floats(0.0, 5.0)
capacities = st.floats(0.01, 1e3)


@st.composite
def power_stacks(draw, max_units=4):
    """A stacked curve of power-law units (the last one unbounded or with a capacity)."""
    k = draw(st.integers(1, max_units))
    funcs = tuple(PowerLawInput(draw(scales), draw(exponents)) for _ in range(k))
    caps = (*tuple(draw(capacities) for _ in range(k - 1)), draw(st.sampled_from([math.inf, 50.0])))
    return StackedCurve(caps, funcs)


@st.composite
def mixed_cells(draw):
    """Cells of stacked power laws and learned knot tables, constants and a curve evaluated alone."""
    cells = []
    for k in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["power", "power", "knots", "constant", "object"]))
        if kind == "power":
            curve = draw(power_stacks())
        elif kind == "knots":
            qs = tuple(sorted(set(draw(st.lists(st.floats(0.1, 100.0), min_size=1, max_size=5)))))
            vals = tuple(draw(st.one_of(st.just(0.0), st.floats(1e-6, 5.0))) for _ in qs)  # no subnormals
            unit = SampledInput(qs, vals, draw(st.floats(0.5, 2.0)))
            curve = StackedCurve((draw(capacities), math.inf), (unit, PowerLawInput(draw(scales), draw(exponents))))
        elif kind == "constant":
            curve = ConstantCurve(draw(st.floats(0.0, 2.0)))
        else:
            curve = PiecewiseLinearCurve((1.0, 5.0), (draw(st.floats(0.0, 1.0)), draw(st.floats(0.0, 1.0))))
        cells.append(CurveCell(draw(st.integers(0, 3)), k, curve))
    return cells


def _breaks(cells: list[CurveCell]) -> np.ndarray:
    """Every stacked unit's lower bound: the kinks where dispatch and slopes change."""
    out = [c.curve.lower_bounds for c in cells if isinstance(c.curve, StackedCurve)]
    return np.concatenate(out) if out else np.zeros(0)


def _points(cells: list[CurveCell], draw_x: np.ndarray) -> list[np.ndarray]:
    n = len(cells)
    pts = [np.zeros(n), draw_x]
    kinks = _breaks(cells)
    if kinks.size:  # every cell at a kink of some stack, and just below and above it
        at = np.resize(kinks, n)
        pts += [at, np.nextafter(at, -np.inf), np.nextafter(at, np.inf)]
    return pts


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cells=mixed_cells(), data=st.data())
def test_store_equals_the_scalar_curves(cells, data):
    n = len(cells)
    draw_x = np.array(data.draw(st.lists(st.floats(0.0, 5e3), min_size=n, max_size=n)))
    store = CurveStore(cells)
    for x in _points(cells, draw_x):
        xf = np.maximum(x, X_FLOOR)
        f = np.array([float(c.curve(xf[c.col])) for c in cells])
        df = np.array([0.0 if x[c.col] < X_FLOOR else float(c.curve.derivative(xf[c.col])) for c in cells])
        # knot interpolation may round a zero input use to -1e-16 where the scalar curve gives 0
        np.testing.assert_allclose(store.coefficients(x), f, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(store.input_use(x), f * x, rtol=1e-12, atol=1e-14 * max(1.0, float(x.max())))
        # f' = G'/x - G/x^2 cancels: compare on the scale of its terms
        assert np.all(np.abs(store.derivatives(x) - df) <= 1e-9 * (np.abs(f) / xf + np.abs(df)) + 1e-300)
        # the marginal use f + f' x is the active unit's slope (the right derivative at a kink)
        marginal = f + df * x
        assert np.all(np.abs(store.marginal_use(x) - marginal) <= 1e-9 * (np.abs(f) + np.abs(df) * x) + 1e-300)


@settings(max_examples=60, deadline=None)
@given(curve=power_stacks(), x=st.floats(0.0, 5e3), pick=st.integers(0, 3), side=st.sampled_from([-1, 0, 1]))
def test_dispatch_matches_the_stack_at_and_around_its_kinks(curve, x, pick, side):
    kinks = curve.lower_bounds
    if side or pick:  # exactly at a kink, or one ulp either side
        x = float(kinks[pick % kinks.size])
        x = float(np.nextafter(x, side * np.inf)) if side else x
    store = CurveStore([CurveCell(0, 0, curve)])
    np.testing.assert_array_equal(store.dispatch(np.array([x])), curve.dispatch(x))
    assert store.dispatch(np.array([x])).sum() == pytest.approx(max(x, 0.0), rel=1e-12, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(stacks=st.lists(power_stacks(), min_size=1, max_size=6), data=st.data())
def test_store_from_arrays_equals_the_store_from_objects(stacks, data):
    cells = [CurveCell(k % 3, k, c) for k, c in enumerate(stacks)]
    unit_cell = np.repeat(np.arange(len(stacks)), [c.n_units for c in stacks])
    caps = np.concatenate([c.capacities for c in stacks])
    scale = np.array([g.scale for c in stacks for g in c.input_functions])
    exp = np.array([g.exponent for c in stacks for g in c.input_functions])
    rows = np.array([c.row for c in cells])
    cols = np.array([c.col for c in cells])
    arrays = CurveStore.from_power_units(rows, cols, unit_cell, caps, scale, exp)
    objects = CurveStore(cells)
    x = np.array(data.draw(st.lists(st.floats(0.0, 5e3), min_size=len(cells), max_size=len(cells))))
    for fn in ("coefficients", "derivatives", "marginal_use", "input_use", "dispatch"):
        np.testing.assert_array_equal(getattr(arrays, fn)(x), getattr(objects, fn)(x), err_msg=fn)
    assert arrays.cells == () and arrays.n_units == objects.n_units == unit_cell.size
    sub = arrays.subset(np.arange(len(cells)) % 2 == 0)
    np.testing.assert_array_equal(sub.coefficients(x), arrays.coefficients(x)[::2])


def test_store_memory_grows_linearly_with_the_cells():
    def store(k: int) -> CurveStore:
        rng = np.random.default_rng(k)
        unit_cell = np.repeat(np.arange(k), 2)
        caps = np.tile([10.0, np.inf], k)
        return CurveStore.from_power_units(rng.integers(0, 100, k), np.arange(k), unit_cell, caps,
                                           rng.random(2 * k), 1 + rng.random(2 * k))

    b1, b2, b3 = (store(k).nbytes for k in (1_000, 10_000, 100_000))
    assert b3 - b2 == 10 * (b2 - b1)  # exactly linear: the same bytes for every further cell
    per_cell = (b3 - b2) / 90_000
    # row and column per cell, and per unit its cell, column, lower bound, width, scale, exponent
    assert per_cell == 2 * 8 + 2 * 6 * 8
    assert b1 - 1_000 * per_cell < 64  # and no more than a few empty arrays besides


def test_kernels_are_the_unit_formulas():
    q = np.array([-1.0, 0.0, 2.0, 9.0])
    np.testing.assert_array_equal(power_input(2.0, 0.5, q), [0.0, 0.0, 2.0 * math.sqrt(2.0), 6.0])
    np.testing.assert_array_equal(stack_orders(np.array([5.0, 15.0]), np.array([0.0, 10.0]), np.array([10.0, np.inf])),
                                  [5.0, 5.0])


def test_curve_matrix_takes_a_store_and_keeps_the_structure_of_its_coefficients():
    rng = np.random.default_rng(3)
    A = sp.random(50, 50, density=0.2, format="csr", random_state=rng)
    A.sort_indices()
    coo = A.tocoo()
    pick = rng.choice(coo.nnz, 10, replace=False)
    curve = StackedCurve((5.0, math.inf), (PowerLawInput(0.01, 1.0), PowerLawInput(0.02, 1.2)))
    cells = [CurveCell(int(coo.row[k]), int(coo.col[k]), curve) for k in pick]
    cm = CurveMatrix(A, CurveStore(cells))
    assert np.array_equal(cm.base.indices, A.indices)  # no re-sorting: the cells were entries of A
    x = rng.random(50) * 10
    F = cm.at(x).toarray()
    for c in cells:
        assert F[c.row, c.col] == pytest.approx(float(c.curve(x[c.col])), rel=1e-13)


@pytest.mark.parametrize(
    "change, match",
    [
        ({"capacity": [1.0, -1.0]}, "capacity of unit 1"),
        ({"scale": [np.nan, 1.0]}, "scale of unit 0"),
        ({"exponent": [1.0, 0.0]}, "exponent of unit 1"),
        ({"unit_cell": [0, 2]}, "unit_cell"),
        ({"rows": [0, 1, 2]}, "rows"),
        ({"capacity": [np.inf, 1.0], "unit_cell": [0, 0], "rows": [0], "cols": [0]}, "infinite"),
    ],
)
def test_store_from_arrays_rejects_bad_arrays(change, match):
    args = {"rows": [0, 1], "cols": [0, 1], "unit_cell": [0, 1], "capacity": [1.0, 1.0], "scale": [1.0, 1.0],
            "exponent": [1.0, 1.0]}
    args.update(change)
    with pytest.raises(InvalidInputError, match=match):
        CurveStore.from_power_units(**args)
