"""Productivity checks: spectral radius, Hawkins-Simon, and errors naming the goods responsible."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from innatura.planner.errors import NonProductiveError
from innatura.planner.leontief import check_productive, component_radii, hawkins_simon, solve_io, spectral_radius


def _rho(D: np.ndarray) -> float:
    return float(np.max(np.abs(np.linalg.eigvals(D)))) if D.size else 0.0


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 25), scale=st.floats(0.05, 2.0), density=st.floats(0.05, 1.0), seed=st.integers(0, 2**32 - 1))
def test_hawkins_simon_agrees_with_spectral_radius(n, scale, density, seed):
    rng = np.random.default_rng(seed)
    D = rng.random((n, n)) * (rng.random((n, n)) < density)
    D *= scale / max(D.sum(axis=0).max(), 1e-9)
    rho = _rho(D)
    if abs(rho - 1) < 1e-6:
        return
    assert hawkins_simon(D) == (rho < 1)
    assert spectral_radius(sp.csr_matrix(D)) == pytest.approx(rho, rel=1e-8, abs=1e-12)
    if rho < 1:
        assert check_productive(D) >= rho - 1e-9
        assert check_productive(sp.csr_matrix(D)) >= rho - 1e-9
    else:
        with pytest.raises(NonProductiveError):
            check_productive(D)
        with pytest.raises(NonProductiveError):
            check_productive(sp.csr_matrix(D))


def test_error_names_the_goods_of_the_bad_block():
    names = ["wheat", "flour", "bread", "steel", "coal", "iron"]
    A = np.zeros((6, 6))
    A[0, 1], A[1, 2] = 0.3, 0.2  # a productive chain wheat <- flour <- bread
    A[3, 4], A[4, 5], A[5, 3] = 1.2, 1.0, 0.9  # steel -> coal -> iron -> steel: rho = (1.08)^(1/3) > 1
    A[2, 3] = 0.5
    for M in (A, sp.csr_matrix(A)):
        with pytest.raises(NonProductiveError) as info:
            solve_io(M, np.ones(6), names=names)
        err = info.value
        assert set(err.goods) == {"steel", "coal", "iron"}
        assert err.spectral_radius == pytest.approx(1.08 ** (1 / 3), rel=1e-9)
        assert "'steel'" in str(err) and "'wheat'" not in str(err)


def test_error_without_names_uses_indices_and_self_loop():
    A = sp.csr_matrix(np.array([[0.5, 0.1, 0.0], [0.0, 1.5, 0.0], [0.0, 0.2, 0.1]]))
    with pytest.raises(NonProductiveError, match="good 1") as info:
        check_productive(A)
    assert info.value.goods == ("1",)
    assert info.value.spectral_radius == pytest.approx(1.5)


def test_exactly_unit_radius_is_not_productive():
    A = np.array([[0.0, 1.0], [1.0, 0.0]])  # closed economy: columns sum to 1
    with pytest.raises(NonProductiveError) as info:
        check_productive(sp.csr_matrix(A), names=["a", "b"])
    assert set(info.value.goods) == {"a", "b"}


def test_large_component_uses_collatz_wielandt_bounds():
    rng = np.random.default_rng(0)
    n = 1500
    A = sp.random(n, n, density=0.004, random_state=rng, format="csr") + sp.diags(np.ones(n - 1), 1)
    A = sp.csr_matrix(A + sp.csr_matrix(([1.0], ([n - 1], [0])), shape=(n, n)))  # one big cycle
    from scipy.sparse.linalg import eigs

    rho = float(np.max(np.abs(eigs(A, k=1, which="LM", return_eigenvectors=False))))
    for target in (0.9, 1.1):
        B = A * (target / rho)
        (members, lo, hi), = [c for c in component_radii(B) if len(c[0]) > 1]
        assert len(members) == n and lo <= target * (1 + 1e-6) and hi >= target * (1 - 1e-6)
        if target < 1:
            assert check_productive(B.tocsr()) < 1
        else:
            with pytest.raises(NonProductiveError) as info:
                check_productive(B.tocsr())
            assert len(info.value.goods) == n


def test_cheap_bound_ignores_goods_off_every_cycle():
    # profile-like columns with huge column sums, but nothing uses the profiles: still productive
    n = 5
    A = np.zeros((n + 2, n + 2))
    A[:n, :n] = 0.1 * (np.ones((n, n)) - np.eye(n)) + 0.1 * np.eye(n)
    A[:n, n:] = 10.0
    bound = check_productive(sp.csr_matrix(A))
    assert bound == pytest.approx(0.5) and bound >= _rho(A) - 1e-12


def test_check_can_be_skipped():
    A = sp.csr_matrix(np.array([[0.0, 2.0], [2.0, 0.0]]))
    sol = solve_io(A, np.ones(2), method="direct", check_productive=False)
    np.testing.assert_allclose(sol.x, np.linalg.solve(np.eye(2) - A.toarray(), np.ones(2)))
    assert (sol.x < 0).all()  # a non-productive economy needs negative output
