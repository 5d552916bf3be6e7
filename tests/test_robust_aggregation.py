"""Robust aggregation within peer groups, against hand-computed cases and scipy/numpy oracles."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from innatura.planner.errors import InvalidInputError
from innatura.planner.robust import (
    MAD_SCALE,
    group_mad,
    group_median,
    group_trimmed_mean,
    mad_outliers,
    robust_location,
    summarise_groups,
)
from scipy import stats


def test_median_by_hand_odd_even_and_empty_groups():
    v = np.array([3.0, 1.0, 2.0, 10.0, 4.0, 7.0])
    g = np.array([0, 0, 0, 2, 2, 2])
    # group 0: {1, 2, 3} -> 2; group 1: empty; group 2: {4, 7, 10} -> 7
    np.testing.assert_array_equal(group_median(v, g), [2.0, np.nan, 7.0])
    # even sizes: {1, 3} -> 2 and {4, 7, 10, 20} -> 8.5
    v2 = np.array([1.0, 3.0, 4.0, 7.0, 10.0, 20.0])
    g2 = np.array([0, 0, 1, 1, 1, 1])
    np.testing.assert_array_equal(group_median(v2, g2, n_groups=3), [2.0, 8.5, np.nan])


def test_a_minority_of_liars_does_not_move_the_median_but_moves_the_mean():
    honest = np.ones(6)
    liars = np.full(4, 1.5)  # 40% inflate by 1.5
    v = np.r_[honest, liars]
    g = np.zeros(10, dtype=int)
    assert group_median(v, g)[0] == 1.0
    assert robust_location(v, g, method="mean")[0] == pytest.approx(1.2)
    # trim 0.2 cuts 2 from each end: {1, 1, 1, 1, 1.5, 1.5} -> 7/6
    assert group_trimmed_mean(v, g, trim=0.2)[0] == pytest.approx(7.0 / 6.0)
    # exact-majority groups have MAD 0: every liar is an outlier, no honest report is
    np.testing.assert_array_equal(mad_outliers(v, g), np.r_[np.zeros(6, bool), np.ones(4, bool)])


def test_trimmed_mean_by_hand():
    # {1, 2, 3, 4, 100}, trim 0.2 -> cut one each end -> mean(2, 3, 4) = 3
    v = np.array([100.0, 1.0, 3.0, 2.0, 4.0])
    assert group_trimmed_mean(v, np.zeros(5, int), trim=0.2)[0] == 3.0
    # trim 0.1 of 5 cuts floor(0.5) = 0 values: the plain mean 22
    assert group_trimmed_mean(v, np.zeros(5, int), trim=0.1)[0] == 22.0


def test_mad_and_outliers_by_hand():
    # {1, 2, 3, 4, 100}: median 3, |dev| {2, 1, 0, 1, 97} -> MAD 1
    v = np.array([1.0, 2.0, 3.0, 4.0, 100.0])
    g = np.zeros(5, int)
    assert group_mad(v, g)[0] == 1.0
    assert group_mad(v, g, scale=MAD_SCALE)[0] == pytest.approx(MAD_SCALE)
    # threshold 3 sigma = 3 * 1.4826: only 100 is beyond
    np.testing.assert_array_equal(mad_outliers(v, g, threshold=3.0), [False, False, False, False, True])
    # threshold 0.5 sigma = 0.741: 1 and 2 and 4 (dev 2, 1, 1) are beyond as well
    np.testing.assert_array_equal(mad_outliers(v, g, threshold=0.5), [True, True, False, True, True])


def test_small_groups_are_not_judged():
    v = np.array([1.0, 1.0, 9.0, 1.0, 9.0])
    g = np.array([0, 0, 0, 1, 1])
    np.testing.assert_array_equal(mad_outliers(v, g), [False, False, True, False, False])
    np.testing.assert_array_equal(mad_outliers(v, g, min_size=4), np.zeros(5, bool))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.floats(-1e3, 1e3)), min_size=1, max_size=40),
       st.sampled_from([0.0, 0.1, 0.2, 0.25, 0.4]))
def test_against_numpy_and_scipy_per_group(pairs, trim):
    g = np.array([p[0] for p in pairs])
    v = np.array([p[1] for p in pairs])
    med, tm, mad = group_median(v, g), group_trimmed_mean(v, g, trim), group_mad(v, g)
    s = summarise_groups(v, g, trim=trim)
    for k in range(g.max() + 1):
        x = v[g == k]
        if x.size == 0:
            assert np.isnan(med[k]) and np.isnan(tm[k]) and np.isnan(mad[k])
            continue
        assert med[k] == pytest.approx(np.median(x), rel=1e-12, abs=1e-12)
        assert tm[k] == pytest.approx(stats.trim_mean(x, trim), rel=1e-9, abs=1e-9)
        assert mad[k] == pytest.approx(stats.median_abs_deviation(x), rel=1e-9, abs=1e-9)
        assert s.mad[k] == pytest.approx(stats.median_abs_deviation(x, scale="normal"), rel=1e-9, abs=1e-9)
        assert s.size[k] == x.size


def test_bad_input_is_refused():
    with pytest.raises(InvalidInputError, match="finite"):
        group_median(np.array([1.0, np.nan]), np.array([0, 0]))
    with pytest.raises(InvalidInputError, match="one length"):
        group_median(np.array([1.0, 2.0]), np.array([0]))
    with pytest.raises(InvalidInputError, match="integer"):
        group_median(np.array([1.0]), np.array([-1]))
    with pytest.raises(InvalidInputError, match="trim"):
        group_trimmed_mean(np.array([1.0]), np.array([0]), trim=0.5)
    with pytest.raises(InvalidInputError, match="unknown"):
        robust_location(np.array([1.0]), np.array([0]), method="mode")
    with pytest.raises(InvalidInputError, match="n_groups"):
        group_median(np.array([1.0, 2.0]), np.array([0, 3]), n_groups=2)
    assert mad_outliers(np.zeros(0), np.zeros(0, int)).shape == (0,)
