"""The Leontief solve against pymrio's own results on its shipped test MRIO."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from innatura.planner.errors import InvalidInputError
from innatura.planner.leontief import METHODS, solve_io

pymrio = pytest.importorskip("pymrio")


@pytest.fixture(scope="module")
def mrio():
    io = pymrio.load_test()
    io.calc_all()
    return io


@pytest.mark.parametrize("method", [None, *METHODS])
@pytest.mark.parametrize("sparse", [False, True])
def test_gross_output_matches_pymrio(mrio, method, sparse):
    A = mrio.A.to_numpy()
    y = mrio.Y.to_numpy().sum(axis=1)
    names = [f"{region}/{sector}" for region, sector in mrio.A.index]
    if method == "triangular":  # a real table has cycles
        with pytest.raises(InvalidInputError, match="cycle"):
            solve_io(sp.csr_matrix(A) if sparse else A, y, method=method)
        return
    sol = solve_io(sp.csr_matrix(A) if sparse else A, y, method=method, names=names)
    x_ref = mrio.x.to_numpy().ravel()
    if sol.method in ("direct", "triangular"):
        np.testing.assert_allclose(sol.x, x_ref, rtol=1e-9)
        np.testing.assert_allclose(sol.x, mrio.L.to_numpy() @ y, rtol=1e-9)
    # iterative methods meet a norm-wise target; the table's outputs span 5 orders of magnitude
    assert np.linalg.norm(sol.x - x_ref) <= 1e-8 * np.linalg.norm(x_ref)
    assert sol.residual <= 1e-10


def test_leontief_inverse_columns_match_pymrio(mrio):
    A = mrio.A.to_numpy()
    n = A.shape[0]
    sol = solve_io(sp.csr_matrix(A), np.eye(n)[:, :5], method="direct")
    np.testing.assert_allclose(sol.x, mrio.L.to_numpy()[:, :5], rtol=1e-9, atol=1e-12)
