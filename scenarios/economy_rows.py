"""The CSR arrays of :func:`~scenarios.generators.random_economy`, drawn chunk of rows by chunk
of rows (memory proportional to the economy, no temporary of its size).

Layout and the published generator's values: :mod:`scenarios.generators`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from innatura.planner.errors import InvalidInputError

if TYPE_CHECKING:  # pragma: no cover
    from innatura.scenarios.generators import EntryValues

__all__ = ["CHUNK_ROWS", "CsrRows", "distinct_sorted", "normalise_columns"]

#: rows generated per chunk (fixed, so the same seed gives the same matrix on every machine)
CHUNK_ROWS = 1024


def distinct_sorted(rng: np.random.Generator, ranges: np.ndarray, k: int) -> np.ndarray:
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


@dataclass(eq=False)
class CsrRows:
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
    def empty(cls, n: int, n_industrial: int, P: int, k: int, cyclic: bool) -> CsrRows:
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
        offs = distinct_sorted(rng, np.full(c, n - 1, dtype=np.int64), k)
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
            offs = distinct_sorted(rng, n - 1 - fr, k)
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


def normalise_columns(
    indices: np.ndarray, data: np.ndarray, indptr: np.ndarray, n: int, diagonal: float, target: float
) -> float:
    """Rescale the goods block's off-diagonal values so every goods column sums to ``target``.

    Works chunk by chunk (no temporary of the size of ``A``). Returns the spectral radius of
    the goods block: ``target`` when every column has an off-diagonal entry, else NaN (then it
    is at most ``target``).
    """
    colsum = np.zeros(n)
    step = CHUNK_ROWS * 4
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
