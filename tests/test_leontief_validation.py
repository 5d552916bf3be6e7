"""Validation of coefficient matrices, demand vectors and names."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from innatura.planner.errors import InvalidInputError
from innatura.planner.leontief import solve_io, validate_coefficients, validate_demand


@pytest.mark.parametrize("sparse", [False, True])
def test_negative_entries_are_named(sparse):
    A = np.zeros((3, 3))
    A[2, 0] = -0.5
    M = sp.csr_matrix(A) if sparse else A
    with pytest.raises(InvalidInputError, match=r"1 are negative: A\['c', 'a'\] = -0.5"):
        solve_io(M, np.ones(3), names=["a", "b", "c"])
    with pytest.raises(InvalidInputError, match=r"A\[good 2, good 0\]"):
        validate_coefficients(M)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_entries_are_named(sparse, bad):
    A = np.zeros((2, 2))
    A[0, 1] = bad
    M = sp.csr_matrix(A) if sparse else A
    with pytest.raises(InvalidInputError, match=r"not finite: A\[good 0, good 1\]"):
        validate_coefficients(M)


def test_many_bad_entries_are_summarised():
    A = -np.ones((4, 4))
    with pytest.raises(InvalidInputError, match=r"16 are negative.* and 11 more"):
        validate_coefficients(A)


def test_negative_zero_is_accepted():
    A = sp.csr_matrix(np.array([[0.1, 0.2], [0.0, 0.1]]))
    A.data[0] = -0.0
    assert validate_coefficients(A) is A


@pytest.mark.parametrize("A", [np.zeros((2, 3)), np.zeros(3), sp.csr_matrix((2, 3))])
def test_non_square(A):
    with pytest.raises(InvalidInputError, match="square"):
        validate_coefficients(A)


def test_demand_shapes():
    with pytest.raises(InvalidInputError, match=r"d: expected shape \(3,\) or \(3, k\).*got \(2,\)"):
        validate_demand(np.ones(2), 3)
    with pytest.raises(InvalidInputError, match="not finite"):
        validate_demand(np.array([1.0, np.nan, 0.0]), 3)
    assert validate_demand(np.ones((3, 2)), 3).shape == (3, 2)
    with pytest.raises(InvalidInputError, match="d: expected"):
        validate_demand(np.ones((3, 2, 1)), 3)


def test_names_length_and_tolerance():
    with pytest.raises(InvalidInputError, match="expected 2 names"):
        solve_io(np.zeros((2, 2)), np.ones(2), names=["a"])
    with pytest.raises(InvalidInputError, match="tol"):
        solve_io(np.zeros((2, 2)), np.ones(2), tol=0)


def test_canonical_form_and_dtypes():
    A = sp.coo_matrix(([0.1, 0.2, 0.3], ([0, 0, 1], [1, 1, 0])), shape=(2, 2))  # duplicates
    M = validate_coefficients(A)
    assert isinstance(M, sp.csr_matrix) and M.has_canonical_format and M.dtype == np.float64
    assert M[0, 1] == pytest.approx(0.3)
    assert validate_coefficients(sp.csr_matrix(np.eye(2, dtype=np.int64))).dtype == np.float64
    with pytest.raises(InvalidInputError, match="real numbers"):
        validate_coefficients(sp.csr_matrix(np.eye(2, dtype=complex)))
    with pytest.raises(InvalidInputError, match="cannot read"):
        validate_coefficients([["a", "b"], ["c", "d"]])
