"""Random seed-style economies for benchmarks and tests (OLIN-EP Section 5, "Scale").

The OLIN-EP papers time ``(I - A) x = d`` on random economies with ``n_industrial`` industrial
goods, ``n_final`` final goods and 200 consumption-profile columns, each good needing
``inputs_per_good`` other goods. :func:`random_economy` builds them the way the published
generator does; ``cyclic=True`` gives a variant with cycles, as real input-output tables
have, so that a solver cannot rely on triangularity.

Layout of the square matrix ``A`` (CSR, float64, int32 indices), size ``n + P`` with
``n = n_industrial + n_final`` goods and ``P = n_profiles`` profiles:

* goods ``0 .. n_industrial-1`` are industrial, ``n_industrial .. n-1`` final, then the
  ``P`` profile columns;
* row ``i`` of a good holds the amounts of good ``i`` that other goods need per unit
  (input-output convention: column ``j`` is what one unit of ``j`` needs);
* **seed-style** (``cyclic=False``): row ``i`` has ``inputs_per_good`` entries in columns drawn
  without replacement from the goods *after* ``i`` (all of them when fewer are left), values
  ``uniform(0, 1) * value_scale``, and ``diagonal`` (0.1) on the diagonal, so ``A`` is upper
  triangular and its spectral radius is exactly ``diagonal``;
* **cyclic** (``cyclic=True``): row ``i`` draws its ``inputs_per_good`` columns from *all* other
  goods; the off-diagonal values (uniform draws) are rescaled column by column so that every
  goods column of the goods block sums to ``spectral_radius`` (0.7, ``diagonal`` included).
  Then ``1^T A_gg = 0.7 * 1^T`` with a positive left eigenvector, so by Perron-Frobenius the
  spectral radius of the goods block (and of ``A``) is exactly 0.7 (lower if a column drew no
  off-diagonal entry, which only happens in tiny economies);
* every final-good row has an entry ``uniform(0, 1) * profile_scale`` (10) in every profile
  column; profile rows are empty;
* ``d`` is zero on goods and a random vector over profiles normalised to sum 1.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from innatura.planner.errors import InvalidInputError
from innatura.scenarios.limits import check_fits

__all__ = ["RandomEconomy", "random_economy"]

logger = logging.getLogger(__name__)

#: rows generated per chunk (fixed, so the same seed gives the same matrix on every machine)
_CHUNK_ROWS = 1024


@dataclass(frozen=True, eq=False)
class RandomEconomy:
    """A generated economy: ``(I - A) x = d`` over goods and profiles.

    Attributes:
        A: technical coefficients, CSR float64 with int32 indices, shape ``(n + P, n + P)``.
        d: final demand, shape ``(n + P,)``: zero on goods, sums to 1 over profiles.
        n_industrial: industrial goods (indices ``0 .. n_industrial - 1``).
        n_final: final goods (the next ``n_final`` indices).
        n_profiles: profile columns (the last ``n_profiles`` indices).
        inputs_per_good: off-diagonal entries drawn per good row.
        cyclic: whether inputs were drawn from all goods (not triangular).
        spectral_radius: the spectral radius of ``A`` by construction (exact for seed-style;
            exact for cyclic unless a goods column drew no off-diagonal entry).
    """

    A: sp.csr_matrix
    d: np.ndarray
    n_industrial: int
    n_final: int
    n_profiles: int
    inputs_per_good: int
    cyclic: bool
    spectral_radius: float

    @property
    def n_goods(self) -> int:
        """Industrial plus final goods."""
        return self.n_industrial + self.n_final

    @property
    def size(self) -> int:
        """Rows (and columns) of ``A``: goods plus profiles."""
        return self.n_goods + self.n_profiles

    def names(self) -> tuple[str, ...]:
        """Names of the rows: ``ind0..``, ``fin0..``, ``profile0..``."""
        return (
            tuple(f"ind{i}" for i in range(self.n_industrial))
            + tuple(f"fin{i}" for i in range(self.n_final))
            + tuple(f"profile{i}" for i in range(self.n_profiles))
        )


def _distinct_sorted(rng: np.random.Generator, ranges: np.ndarray, k: int) -> np.ndarray:
    """Draw ``k`` distinct integers from ``[0, ranges[r])`` for every row ``r``, sorted per row.

    Uniform over ``k``-subsets. Rows with ``ranges < 2k`` use random keys and a partition
    (exact, at most ``2k`` keys a row); the others draw with replacement and redraw the
    duplicates until none are left (each round keeps at most half of them).

    Returns:
        int32 array of shape ``(len(ranges), k)``.
    """
    rows = len(ranges)
    out = np.empty((rows, k), dtype=np.int32)
    if rows == 0 or k == 0:
        return out
    narrow = ranges < 2 * k
    if narrow.any():
        rr = ranges[narrow]
        width = int(rr.max())
        keys = rng.random((len(rr), width))
        keys[np.arange(width)[None, :] >= rr[:, None]] = np.inf
        pick = np.argpartition(keys, k - 1, axis=1)[:, :k] if k < width else np.argsort(keys, axis=1)[:, :k]
        out[narrow] = np.sort(pick, axis=1)
    wide = ~narrow
    if wide.any():
        rr = ranges[wide].astype(np.float64)[:, None]
        vals = np.floor(rng.random((len(rr), k)) * rr).astype(np.int32)
        vals.sort(axis=1)
        while True:
            dup = np.zeros(vals.shape, dtype=bool)
            dup[:, 1:] = vals[:, 1:] == vals[:, :-1]
            n_dup = int(dup.sum())
            if n_dup == 0:
                break
            rdup = np.nonzero(dup.any(axis=1))[0]
            sub = vals[rdup]
            sdup = dup[rdup]
            rows_of = np.nonzero(sdup)[0]
            sub[sdup] = np.floor(rng.random(n_dup) * rr[rdup][rows_of, 0]).astype(np.int32)
            sub.sort(axis=1)
            vals[rdup] = sub
        out[wide] = vals
    return out


def _validate_sizes(n_industrial: int, n_final: int, inputs_per_good: int, n_profiles: int) -> None:
    for name, value, low in (
        ("n_industrial", n_industrial, 0),
        ("n_final", n_final, 1),
        ("inputs_per_good", inputs_per_good, 0),
        ("n_profiles", n_profiles, 1),
    ):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
            raise InvalidInputError(f"random_economy: {name} must be an integer >= {low}, got {value!r}")
    n, k, P = int(n_industrial + n_final), int(min(inputs_per_good, n_industrial + n_final - 1)), int(n_profiles)
    # int32 indices + float64 values per nonzero, the index pointer, a copy while it is built
    check_fits(2.0 * (12.0 * (float(n) * (k + 1) + float(n_final) * P) + 8.0 * (n + P)),
               f"an economy of {n} goods with {k} inputs each and {P} profiles", "random_economy")


def random_economy(
    n_industrial: int,
    n_final: int,
    inputs_per_good: int,
    n_profiles: int = 200,
    *,
    cyclic: bool = False,
    rng: np.random.Generator,
    value_scale: float = 0.001,
    diagonal: float = 0.1,
    profile_scale: float = 10.0,
    spectral_radius: float = 0.7,
    progress: bool = False,
) -> RandomEconomy:
    """Generate a random OLIN-EP economy (OLIN-EP Section 5; see the module docstring).

    Args:
        n_industrial: industrial goods (not needed by the profiles).
        n_final: final goods (needed by every profile).
        inputs_per_good: off-diagonal inputs per good row (fewer for the last seed-style rows,
            which have fewer later goods to draw from).
        n_profiles: consumption-profile columns.
        cyclic: draw inputs from all goods (cycles) instead of the later ones (triangular).
        rng: the only source of randomness; the same seed gives the same economy.
        value_scale: off-diagonal values are ``uniform(0, 1) * value_scale`` (seed-style).
        diagonal: value on the goods' diagonal.
        profile_scale: profile entries are ``uniform(0, 1) * profile_scale``.
        spectral_radius: the cyclic variant's spectral radius (column sums of the goods block);
            must exceed ``diagonal`` and be below 1.
        progress: show a progress bar over row chunks.

    Returns:
        The economy; ``A`` is CSR float64 with sorted int32 indices.

    Raises:
        InvalidInputError: on negative or non-integer sizes, or a bad ``spectral_radius``.
    """
    _validate_sizes(n_industrial, n_final, inputs_per_good, n_profiles)
    if not isinstance(rng, np.random.Generator):
        raise InvalidInputError(f"random_economy: rng must be a numpy Generator, got {type(rng).__name__}")
    if cyclic and not (diagonal < spectral_radius < 1):
        raise InvalidInputError(
            f"random_economy: spectral_radius must lie in (diagonal={diagonal}, 1), got {spectral_radius}"
        )
    n = int(n_industrial + n_final)
    P = int(n_profiles)
    N = n + P
    k = int(min(inputs_per_good, n - 1))
    i_all = np.arange(n, dtype=np.int64)
    if cyclic:
        n_off = np.full(n, k, dtype=np.int64)
    else:
        n_off = np.minimum(k, n - 1 - i_all)
    is_final = i_all >= n_industrial
    row_len = n_off + 1 + np.where(is_final, P, 0)
    indptr = np.zeros(N + 1, dtype=np.int64)
    np.cumsum(row_len, out=indptr[1 : n + 1])
    indptr[n + 1 :] = indptr[n]
    nnz = int(indptr[-1])
    if nnz >= np.iinfo(np.int32).max:
        raise InvalidInputError(f"random_economy: {nnz} nonzeros exceed the int32 index range")
    indices = np.empty(nnz, dtype=np.int32)
    data = np.empty(nnz, dtype=np.float64)
    logger.info("generating %s economy: %d goods + %d profiles, %d nonzeros", "cyclic" if cyclic else "seed-style",
                n, P, nnz)

    starts = range(0, n, _CHUNK_ROWS)
    if progress:
        from tqdm import tqdm

        starts = tqdm(starts, desc="generating", unit="chunk", total=(n + _CHUNK_ROWS - 1) // _CHUNK_ROWS)
    for r0 in starts:
        r1 = min(r0 + _CHUNK_ROWS, n)
        rows = i_all[r0:r1]
        c = r1 - r0
        if cyclic:
            offs = _distinct_sorted(rng, np.full(c, n - 1, dtype=np.int64), k)
            cols = offs + (offs >= rows[:, None])  # skip the diagonal, stays sorted
            diag_pos = (cols < rows[:, None]).sum(axis=1)
            block_cols = np.empty((c, k + 1), dtype=np.int32)
            pos = np.arange(k)[None, :] + (np.arange(k)[None, :] >= diag_pos[:, None])
            np.put_along_axis(block_cols, pos, cols.astype(np.int32), axis=1)
            block_cols[np.arange(c), diag_pos] = rows
            vals = rng.random((c, k + 1)) * value_scale
            vals[np.arange(c), diag_pos] = diagonal
            _scatter_rows(indices, data, indptr, rows, block_cols, vals)
        else:
            full = n_off[r0:r1] == k
            if full.any():
                fr = rows[full]
                offs = _distinct_sorted(rng, n - 1 - fr, k)
                block_cols = np.empty((len(fr), k + 1), dtype=np.int32)
                block_cols[:, 0] = fr
                block_cols[:, 1:] = offs + fr[:, None] + 1
                vals = rng.random((len(fr), k + 1)) * value_scale
                vals[:, 0] = diagonal
                _scatter_rows(indices, data, indptr, fr, block_cols, vals)
            for r in rows[~full]:  # the last < k rows take every later good
                a = indptr[r]
                m = n - r
                indices[a : a + m] = np.arange(r, n, dtype=np.int32)
                data[a : a + m] = rng.random(m) * value_scale
                data[a] = diagonal
        fin = rows[is_final[r0:r1]]
        if len(fin):
            ends = indptr[fin + 1]
            pos = (ends - P)[:, None] + np.arange(P)[None, :]
            indices[pos] = np.arange(n, N, dtype=np.int32)[None, :]
            data[pos] = rng.random((len(fin), P)) * profile_scale

    rho = float(diagonal)
    if cyclic:
        rho = _normalise_columns(indices, data, indptr, n, diagonal, spectral_radius)
    A = sp.csr_matrix((data, indices, indptr.astype(np.int32)), shape=(N, N))
    A.has_sorted_indices = True
    d = np.zeros(N)
    u = rng.random(P)
    d[n:] = u / u.sum()
    return RandomEconomy(
        A=A,
        d=d,
        n_industrial=int(n_industrial),
        n_final=int(n_final),
        n_profiles=P,
        inputs_per_good=int(inputs_per_good),
        cyclic=bool(cyclic),
        spectral_radius=rho,
    )


def _normalise_columns(
    indices: np.ndarray, data: np.ndarray, indptr: np.ndarray, n: int, diagonal: float, target: float
) -> float:
    """Rescale the goods block's off-diagonal values so every goods column sums to ``target``.

    Works chunk by chunk (no temporary of the size of ``A``). Returns the spectral radius of
    the goods block: ``target`` when every column has an off-diagonal entry, else NaN (then it
    is at most ``target``).
    """
    colsum = np.zeros(n)
    step = _CHUNK_ROWS * 4
    for r0 in range(0, n, step):
        seg = slice(int(indptr[r0]), int(indptr[min(r0 + step, n)]))
        idx = indices[seg]
        m = idx < n
        colsum += np.bincount(idx[m], weights=data[seg][m], minlength=n)
    colsum -= diagonal
    has_off = colsum > 0
    scale = np.divide(target - diagonal, colsum, out=np.ones(n), where=has_off)
    for r0 in range(0, n, step):
        r1 = min(r0 + step, n)
        seg = slice(int(indptr[r0]), int(indptr[r1]))
        idx = indices[seg]
        vals = data[seg]
        m = idx < n
        vals[m] *= scale[idx[m]]
        rows = np.arange(r0, r1)
        starts = indptr[r0:r1] - indptr[r0]
        ends = indptr[r0 + 1 : r1 + 1] - indptr[r0]
        # the diagonal entry of each row: its position among the row's sorted columns
        for_rows = np.repeat(rows, ends - starts)
        vals[idx == for_rows] = diagonal
    return float(target) if bool(has_off.all()) else float("nan")


def _scatter_rows(
    indices: np.ndarray, data: np.ndarray, indptr: np.ndarray, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray
) -> None:
    """Write equal-length row blocks ``cols``/``vals`` at the start of ``rows`` in CSR arrays."""
    pos = indptr[rows][:, None] + np.arange(cols.shape[1])[None, :]
    indices[pos] = cols
    data[pos] = vals
