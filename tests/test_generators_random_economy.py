"""The seed-style and cyclic random economies of OLIN-EP Section 5."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from innatura.planner.errors import InvalidInputError
from innatura.planner.leontief import solve_io
from innatura.scenarios.generator_cache import cached_random_economy
from innatura.scenarios.generators import random_economy


def _seed(n_ind=40, n_fin=10, k=8, P=6, **kw):
    return random_economy(n_ind, n_fin, k, P, rng=np.random.default_rng(3), **kw)


def test_seed_style_layout():
    e = _seed()
    A, n, P = e.A, 50, 6
    assert A.shape == (n + P, n + P) and e.size == n + P and e.n_goods == n
    assert A.format == "csr" and A.dtype == np.float64 and A.indices.dtype == np.int32
    A.check_format(full_check=True)
    assert A.has_canonical_format
    D = A.toarray()
    assert np.array_equal(D, np.triu(D))  # upper triangular among goods (and overall)
    np.testing.assert_array_equal(np.diag(D)[:n], 0.1)
    off = D[:n, :n] - np.diag(np.diag(D)[:n])
    assert off.max() <= 0.001 and off.min() >= 0
    # each good row has min(k, goods after it) inputs
    np.testing.assert_array_equal((off > 0).sum(axis=1), np.minimum(8, n - 1 - np.arange(n)))
    # final goods supply every profile, industrial goods none; profile rows are empty
    assert (D[40:n, n:] > 0).all() and (D[40:n, n:] <= 10).all()
    assert not D[:40, n:].any() and not D[n:].any()
    assert np.all(e.d[:n] == 0) and e.d[n:].sum() == pytest.approx(1) and (e.d[n:] > 0).all()
    assert e.spectral_radius == pytest.approx(np.max(np.abs(np.linalg.eigvals(D))))
    assert e.names()[0] == "ind0" and e.names()[40] == "fin0" and e.names()[-1] == "profile5"


def test_nonzero_count_matches_the_scale_claim_formula():
    n_ind, n_fin, k, P = 300, 30, 50, 20
    e = random_economy(n_ind, n_fin, k, P, rng=np.random.default_rng(0))
    n = n_ind + n_fin
    expected = n + sum(min(k, n - 1 - i) for i in range(n)) + n_fin * P
    assert e.A.nnz == expected


def test_cyclic_variant_has_cycles_and_radius():
    e = _seed(cyclic=True)
    D = e.A.toarray()
    n = 50
    assert not np.array_equal(D, np.triu(D)) and not np.array_equal(D, np.tril(D))
    off = D[:n, :n] - np.diag(np.diag(D)[:n])
    np.testing.assert_array_equal((off > 0).sum(axis=1), 8)  # k inputs drawn from all goods
    np.testing.assert_allclose(D[:n, :n].sum(axis=0), 0.7)  # columns of the goods block
    rho = np.max(np.abs(np.linalg.eigvals(D)))
    assert rho == pytest.approx(0.7, abs=1e-12) and e.spectral_radius == 0.7


def test_same_seed_same_economy_and_different_seed_differs():
    for cyclic in (False, True):
        a = random_economy(200, 20, 30, 10, cyclic=cyclic, rng=np.random.default_rng(11))
        b = random_economy(200, 20, 30, 10, cyclic=cyclic, rng=np.random.default_rng(11))
        c = random_economy(200, 20, 30, 10, cyclic=cyclic, rng=np.random.default_rng(12))
        assert (a.A != b.A).nnz == 0 and np.array_equal(a.d, b.d)
        assert (a.A != c.A).nnz > 0


def test_inputs_are_drawn_without_replacement_across_chunks():
    # more rows than one generation chunk, and wide and narrow sampling ranges
    e = random_economy(2500, 100, 60, 5, rng=np.random.default_rng(1))
    rows = np.diff(e.A.indptr)[:2600]
    n = 2600
    expected = 1 + np.minimum(60, n - 1 - np.arange(n)) + np.where(np.arange(n) >= 2500, 5, 0)
    np.testing.assert_array_equal(rows, expected)
    e.A.check_format(full_check=True)  # sorted, in range
    assert e.A.has_canonical_format


def test_solvable_and_productive():
    for cyclic in (False, True):
        e = random_economy(1000, 100, 30, 20, cyclic=cyclic, rng=np.random.default_rng(2))
        sol = solve_io(e.A, e.d)
        assert sol.converged and (sol.x >= 0).all()
        assert sol.method == ("krylov" if cyclic else "triangular")
        np.testing.assert_allclose(sol.x[-20:], e.d[-20:])  # profile rows: x = d


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((-1, 10, 5), "n_industrial"),
        ((10, 0, 5), "n_final"),
        ((10, 10, 2.5), "inputs_per_good"),
        ((10, 10, 5, 0), "n_profiles"),
    ],
)
def test_bad_sizes(args, match):
    with pytest.raises(InvalidInputError, match=match):
        random_economy(*args, rng=np.random.default_rng(0))


def test_bad_rng_and_radius():
    with pytest.raises(InvalidInputError, match="Generator"):
        random_economy(10, 5, 3, rng=0)
    with pytest.raises(InvalidInputError, match="spectral_radius"):
        random_economy(10, 5, 3, cyclic=True, rng=np.random.default_rng(0), spectral_radius=1.2)


def test_tiny_economies():
    e = random_economy(0, 1, 5, 2, rng=np.random.default_rng(0))
    assert e.A.shape == (3, 3) and e.A.nnz == 1 + 2
    e = random_economy(3, 2, 0, 2, cyclic=True, rng=np.random.default_rng(0))
    assert np.isnan(e.spectral_radius)  # no off-diagonal inputs: columns cannot be scaled


def test_cache_round_trip(tmp_path):
    a = cached_random_economy(100, 10, 12, 5, cyclic=True, seed=4, cache_dir=tmp_path)
    files = list(tmp_path.glob("*.npz"))
    assert len(files) == 1 and not list(tmp_path.glob("*.tmp"))
    b = cached_random_economy(100, 10, 12, 5, cyclic=True, seed=4, cache_dir=tmp_path)
    assert (a.A != b.A).nnz == 0 and np.array_equal(a.d, b.d) and b.cyclic and b.spectral_radius == a.spectral_radius
    direct = random_economy(100, 10, 12, 5, cyclic=True, rng=np.random.default_rng(4))
    assert (direct.A != b.A).nnz == 0
    files[0].write_bytes(b"not an npz")  # a corrupt cache file is regenerated
    c = cached_random_economy(100, 10, 12, 5, cyclic=True, seed=4, cache_dir=tmp_path)
    assert (c.A != a.A).nnz == 0
    assert isinstance(cached_random_economy(20, 5, 3, 2, cache_dir=None).A, sp.csr_matrix)
