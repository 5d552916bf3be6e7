"""Humanity (Eq. 5), externalities (Eq. 6), fulfilment and unmet demand on hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from innatura.planner.errors import InvalidInputError
from innatura.planner.metrics import (
    externalities,
    externality_terms,
    fulfilment,
    humanity,
    humanity_io,
    profile_fulfilment,
    unmet_demand,
)

# two final goods (Lucloelium, T-ring), two profiles (Selviaria's bundles and populations)
BUNDLES = np.array([[3.0, 2.0], [0.1, 0.2]])
POP = np.array([800.0, 500.0])  # need: [[2400, 1000], [80, 100]]


def test_humanity_hand_worked_two_goods_two_profiles():
    delivered = np.array([[1200.0, 500.0], [40.0, 100.0]])  # ratios 0.5, 0.5 / 0.5, 1.0
    assert humanity(delivered, BUNDLES, POP) == pytest.approx(0.5)
    # a surplus of 100 Lucloelium counts for every profile: 1300/2400, 600/1000; T-ring still 0.5
    assert humanity(delivered, BUNDLES, POP, surplus=np.array([100.0, 0.0])) == pytest.approx(0.5)
    # plus 20 spare T-rings: 60/80 = 0.75, so the minimum is Lucloelium's 1300/2400
    assert humanity(delivered, BUNDLES, POP, surplus=np.array([100.0, 20.0])) == pytest.approx(1300 / 2400)


@settings(max_examples=50, deadline=None)
@given(c=st.lists(st.floats(0.0, 2.0), min_size=2, max_size=2))
def test_humanity_of_a_bundle_share_plan_is_its_smallest_share(c):
    delivered = BUNDLES * POP * np.array(c)
    assert humanity(delivered, BUNDLES, POP) == pytest.approx(min(c), abs=1e-12)


def test_humanity_io_hand_worked():
    # one final good needed by two profiles (2 and 3 per citizen; 10 and 20 citizens)
    A = sp.csr_matrix(np.array([[0.0, 2.0, 3.0], [0, 0, 0], [0, 0, 0]]))
    d = np.array([0.0, 10.0, 20.0])
    # both profiles served with 10 citizens each: net output 0; dhat = 20 and 30
    x = np.array([50.0, 10.0, 10.0])
    assert humanity_io(A, x, d, [0], [1, 2]) == pytest.approx(min(20 / 20, 30 / 60))
    # 10 more units of the good: dhat = 30 and 40
    x = np.array([60.0, 10.0, 10.0])
    assert humanity_io(A, x, d, [0], [1, 2]) == pytest.approx(min(30 / 20, 40 / 60))
    mask = np.array([True, False, False])
    assert humanity_io(A, x, d, mask, ~mask) == pytest.approx(40 / 60)


def test_humanity_forms_agree_on_a_balanced_plan():
    # goods: Lucloelium (needs 0.001 of itself), T-ring (needs 1 Lucloelium); profiles served c * n
    c = np.array([0.3, 0.8])
    served = c * POP
    t_ring = BUNDLES[1] @ served
    luc = (BUNDLES[0] @ served + t_ring) / 0.999
    A = np.zeros((4, 4))
    A[0, 0], A[0, 1] = 0.001, 1.0
    A[:2, 2:] = BUNDLES
    x = np.array([luc, t_ring, *served])
    d = np.array([0, 0, *POP])
    h_io = humanity_io(A, x, d, [0, 1], [2, 3])
    h_del = humanity(BUNDLES * served, BUNDLES, POP)
    assert h_io == pytest.approx(0.3) and h_del == pytest.approx(0.3)


def test_humanity_ignores_unneeded_pairs_and_empty_need():
    B = np.array([[1.0, 0.0], [0.0, 0.0]])
    assert humanity(np.array([[5.0, 0.0], [0.0, 0.0]]), B, np.array([10.0, 3.0])) == pytest.approx(0.5)
    assert humanity(np.zeros((2, 2)), np.zeros((2, 2)), np.array([1.0, 1.0])) == 1.0


def test_externalities_cumulative_and_per_day():
    w = np.array([1.0, 2.0])
    X = np.array([[1.0, 1.0], [2.0, 0.0], [0.0, 3.0]])
    np.testing.assert_allclose(externality_terms(X, w), [3.0, 2.0, 6.0])
    np.testing.assert_allclose(externalities(X, w), [3.0, 5.0, 11.0])
    assert float(externality_terms(np.array([4.0, 0.5]), w)) == 5.0
    np.testing.assert_allclose(externalities(np.array([4.0, 0.5]), w), [5.0])


def test_fulfilment_profile_share_and_unmet_demand():
    delivered = np.array([[1200.0, 1500.0], [80.0, 20.0]])
    np.testing.assert_allclose(fulfilment(delivered, BUNDLES, POP), [[0.5, 1.5], [1.0, 0.2]])
    np.testing.assert_allclose(profile_fulfilment(delivered, BUNDLES, POP), [0.5, 0.2])
    np.testing.assert_allclose(unmet_demand(delivered, BUNDLES, POP), [1200.0, 80.0])
    B = np.array([[1.0, 0.0], [0.0, 0.0]])
    np.testing.assert_allclose(fulfilment(np.zeros((2, 2)), B, np.ones(2)), [[0.0, 1.0], [1.0, 1.0]])
    np.testing.assert_allclose(profile_fulfilment(np.full((2, 2), 9.0), B, np.ones(2)), [1.0, 1.0])


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: humanity(np.zeros((3, 2)), BUNDLES, POP), "delivered: shape"),
        (lambda: humanity(np.zeros((2, 2)), BUNDLES, POP[:1]), "population"),
        (lambda: humanity(np.full((2, 2), np.nan), BUNDLES, POP), "delivered: entries must be finite"),
        (lambda: humanity(np.zeros((2, 2)), BUNDLES, POP, surplus=np.zeros(3)), "surplus"),
        (lambda: externalities(np.zeros((3, 2)), np.zeros(3)), "weights"),
        (lambda: externalities(np.array([[np.inf, 0.0]]), np.zeros(2)), "finite"),
        (lambda: humanity_io(np.zeros((2, 2)), np.zeros(3), np.zeros(2), [0], [1]), "shapes"),
    ],
)
def test_invalid_metric_inputs(call, match):
    with pytest.raises(InvalidInputError, match=match):
        call()
