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
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
from innatura.planner.errors import InvalidInputError
from innatura.scenarios.limits import check_fits

if TYPE_CHECKING:  # pragma: no cover
    from innatura.planner.curves import CurveStore

__all__ = ["EntryValues", "RandomEconomy", "random_curves", "random_economy"]

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


@dataclass(frozen=True)
class EntryValues:
    """The values a random economy's entries take (the published generator's).

    Attributes:
        value_scale: off-diagonal values are ``uniform(0, 1) * value_scale`` (seed-style).
        diagonal: value on the goods' diagonal.
        profile_scale: profile entries are ``uniform(0, 1) * profile_scale``.
    """

    value_scale: float = 0.001
    diagonal: float = 0.1
    profile_scale: float = 10.0


def random_economy(
    n_industrial: int,
    n_final: int,
    inputs_per_good: int,
    n_profiles: int = 200,
    *,
    cyclic: bool = False,
    rng: np.random.Generator,
    values: EntryValues = EntryValues(),
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
        values: the entries' scales and the diagonal (:class:`EntryValues`).
        spectral_radius: the cyclic variant's spectral radius (column sums of the goods block);
            must exceed ``values.diagonal`` and be below 1.
        progress: show a progress bar over row chunks.

    Returns:
        The economy; ``A`` is CSR float64 with sorted int32 indices.

    Raises:
        InvalidInputError: on negative or non-integer sizes, or a bad ``spectral_radius``.
    """
    _validate_sizes(n_industrial, n_final, inputs_per_good, n_profiles)
    if not isinstance(rng, np.random.Generator):
        raise InvalidInputError(f"random_economy: rng must be a numpy Generator, got {type(rng).__name__}")
    if cyclic and not (values.diagonal < spectral_radius < 1):
        raise InvalidInputError(
            f"random_economy: spectral_radius must lie in (diagonal={values.diagonal}, 1), got {spectral_radius}"
        )
    n = int(n_industrial + n_final)
    P = int(n_profiles)
    csr = _Rows.empty(n, int(n_industrial), P, int(min(inputs_per_good, n - 1)), cyclic)
    logger.info("generating %s economy: %d goods + %d profiles, %d nonzeros", "cyclic" if cyclic else "seed-style",
                n, P, csr.data.size)
    starts = range(0, n, _CHUNK_ROWS)
    if progress:
        from tqdm import tqdm

        starts = tqdm(starts, desc="generating", unit="chunk", total=(n + _CHUNK_ROWS - 1) // _CHUNK_ROWS)
    for r0 in starts:
        csr.fill(rng, r0, min(r0 + _CHUNK_ROWS, n), values)
    rho = float(values.diagonal)
    if cyclic:
        rho = _normalise_columns(csr.indices, csr.data, csr.indptr, n, values.diagonal, spectral_radius)
    A = sp.csr_matrix((csr.data, csr.indices, csr.indptr.astype(np.int32)), shape=(n + P, n + P))
    A.has_sorted_indices = True
    d = np.zeros(n + P)
    u = rng.random(P)
    d[n:] = u / u.sum()
    return RandomEconomy(A=A, d=d, n_industrial=int(n_industrial), n_final=int(n_final), n_profiles=P,
                         inputs_per_good=int(inputs_per_good), cyclic=bool(cyclic), spectral_radius=rho)


@dataclass(eq=False)
class _Rows:
    """The CSR arrays of a random economy being filled, chunk of rows by chunk of rows."""

    n: int
    P: int
    k: int
    cyclic: bool
    is_final: np.ndarray
    n_off: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray

    @classmethod
    def empty(cls, n: int, n_industrial: int, P: int, k: int, cyclic: bool) -> _Rows:
        """Row lengths laid out, entries not drawn yet."""
        i_all = np.arange(n, dtype=np.int64)
        n_off = np.full(n, k, dtype=np.int64) if cyclic else np.minimum(k, n - 1 - i_all)
        is_final = i_all >= n_industrial
        row_len = n_off + 1 + np.where(is_final, P, 0)
        indptr = np.zeros(n + P + 1, dtype=np.int64)
        np.cumsum(row_len, out=indptr[1 : n + 1])
        indptr[n + 1 :] = indptr[n]
        nnz = int(indptr[-1])
        if nnz >= np.iinfo(np.int32).max:
            raise InvalidInputError(f"random_economy: {nnz} nonzeros exceed the int32 index range")
        return cls(n, P, k, cyclic, is_final, n_off, indptr, np.empty(nnz, dtype=np.int32),
                   np.empty(nnz, dtype=np.float64))

    def fill(self, rng: np.random.Generator, r0: int, r1: int, values: EntryValues) -> None:
        """Draw the entries of rows ``r0 .. r1 - 1``: their inputs, then their profile columns."""
        rows = np.arange(r0, r1, dtype=np.int64)
        if self.cyclic:
            self._fill_cyclic(rng, rows, values)
        else:
            self._fill_seed_style(rng, rows, values)
        fin = rows[self.is_final[r0:r1]]
        if len(fin):
            ends = self.indptr[fin + 1]
            pos = (ends - self.P)[:, None] + np.arange(self.P)[None, :]
            self.indices[pos] = np.arange(self.n, self.n + self.P, dtype=np.int32)[None, :]
            self.data[pos] = rng.random((len(fin), self.P)) * values.profile_scale

    def _fill_cyclic(self, rng: np.random.Generator, rows: np.ndarray, values: EntryValues) -> None:
        n, k, c = self.n, self.k, rows.size
        offs = _distinct_sorted(rng, np.full(c, n - 1, dtype=np.int64), k)
        cols = offs + (offs >= rows[:, None])  # skip the diagonal, stays sorted
        diag_pos = (cols < rows[:, None]).sum(axis=1)
        block_cols = np.empty((c, k + 1), dtype=np.int32)
        pos = np.arange(k)[None, :] + (np.arange(k)[None, :] >= diag_pos[:, None])
        np.put_along_axis(block_cols, pos, cols.astype(np.int32), axis=1)
        block_cols[np.arange(c), diag_pos] = rows
        vals = rng.random((c, k + 1)) * values.value_scale
        vals[np.arange(c), diag_pos] = values.diagonal
        _scatter_rows(self.indices, self.data, self.indptr, rows, block_cols, vals)

    def _fill_seed_style(self, rng: np.random.Generator, rows: np.ndarray, values: EntryValues) -> None:
        n, k = self.n, self.k
        full = self.n_off[rows] == k
        if full.any():
            fr = rows[full]
            offs = _distinct_sorted(rng, n - 1 - fr, k)
            block_cols = np.empty((len(fr), k + 1), dtype=np.int32)
            block_cols[:, 0] = fr
            block_cols[:, 1:] = offs + fr[:, None] + 1
            vals = rng.random((len(fr), k + 1)) * values.value_scale
            vals[:, 0] = values.diagonal
            _scatter_rows(self.indices, self.data, self.indptr, fr, block_cols, vals)
        for r in rows[~full]:  # the last < k rows take every later good
            a = self.indptr[r]
            m = n - r
            self.indices[a : a + m] = np.arange(r, n, dtype=np.int32)
            self.data[a : a + m] = rng.random(m) * values.value_scale
            self.data[a] = values.diagonal


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


def random_curves(
    economy: RandomEconomy,
    x_ref: np.ndarray,
    share: float,
    *,
    rng: np.random.Generator,
    units: int = 2,
) -> CurveStore:
    """Stacked power-law curves on a random share of the goods block's cells, calibrated so that
    every curve's coefficient at the output ``x_ref`` equals the constant it replaces.

    Each goods-row entry of ``economy.A`` becomes a curve with probability ``share`` (entries in
    profile columns, and cells whose column good has no output at ``x_ref``, stay constant).
    With ``units=2`` the first unit makes up to ``u x_ref`` (``u ~ U(0.3, 0.9)``) with input use
    ``s q^e1`` (``e1 ~ U(1, 1.2)``), the second everything beyond with ``s q^e2``
    (``e2 ~ U(1, 1.4)``: rising marginal use), ``s`` such that ``f(x_ref) = a``; with
    ``units=1`` one power law ``a x_ref^(1 - e) q^e``, ``e ~ U(1, 1.3)``. Exponents below 1
    (economies of scale) are left out on purpose: their coefficient is unbounded at zero output,
    where a solver starting from ``x = d`` first evaluates them. No curve object is built: the
    result is a :class:`~planner.curves.CurveStore` of arrays (about 110 bytes a cell).

    Args:
        economy: the economy whose cells become curves.
        x_ref: the output the curves are calibrated at, ``(N,)`` (e.g. the linear solution).
        share: probability of each goods-row entry to become a curve, in ``[0, 1]``.
        rng: the only source of randomness.
        units: stacked units per curve, 1 or 2.
    """
    from innatura.planner.curves import CurveStore

    if not 0.0 <= share <= 1.0 or units not in (1, 2):
        raise InvalidInputError(
            f"random_curves: share must be in [0, 1] and units 1 or 2, got {share!r}, {units!r}"
        )
    A, n = economy.A, economy.n_industrial + economy.n_final
    end = int(A.indptr[n])  # entries of the goods rows
    pos = _bernoulli_positions(rng, end, share)
    cols = A.indices[pos].astype(np.int64)
    x = np.asarray(x_ref, dtype=float)
    keep = (cols < n) & (x[np.minimum(cols, x.size - 1)] > 0)
    pos, cols = pos[keep], cols[keep]
    rows = np.searchsorted(A.indptr, pos, side="right").astype(np.int64) - 1
    a, xr = A.data[pos], x[cols]
    K = pos.size
    if units == 1:
        e = rng.uniform(1.0, 1.3, K)
        return CurveStore.from_power_units(rows, cols, np.arange(K), np.full(K, np.inf), a * xr ** (1.0 - e), e)
    c1 = rng.uniform(0.3, 0.9, K) * xr
    e1, e2 = rng.uniform(1.0, 1.2, K), rng.uniform(1.0, 1.4, K)
    scale = a * xr / (c1**e1 + (xr - c1) ** e2)  # G(x_ref) = a x_ref
    unit_cell = np.repeat(np.arange(K), 2)
    capacity = np.column_stack([c1, np.full(K, np.inf)]).ravel()
    return CurveStore.from_power_units(rows, cols, unit_cell, capacity, np.repeat(scale, 2),
                                       np.column_stack([e1, e2]).ravel())


def _bernoulli_positions(rng: np.random.Generator, count: int, share: float) -> np.ndarray:
    """The positions ``< count`` that a Bernoulli(``share``) draw per position selects, sorted,
    from geometric gaps (memory proportional to the positions drawn, not to ``count``)."""
    if share <= 0.0 or count == 0:
        return np.zeros(0, dtype=np.int64)
    if share >= 1.0:
        return np.arange(count, dtype=np.int64)
    out = []
    last = -1
    while last < count:
        gaps = rng.geometric(share, size=max(1024, int(1.1 * share * (count - last)) + 64))
        pos = last + np.cumsum(gaps)
        out.append(pos[pos < count])
        last = int(pos[-1])
    return np.concatenate(out).astype(np.int64)
