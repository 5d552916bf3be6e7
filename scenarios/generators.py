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
from innatura.scenarios.economy_rows import CHUNK_ROWS, CsrRows, normalise_columns
from innatura.scenarios.limits import check_fits

if TYPE_CHECKING:  # pragma: no cover
    from innatura.planner.curves import CurveStore

__all__ = ["EntryValues", "RandomEconomy", "random_curves", "random_economy"]

logger = logging.getLogger(__name__)


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
    csr = CsrRows.empty(n, int(n_industrial), P, int(min(inputs_per_good, n - 1)), cyclic)
    logger.info("generating %s economy: %d goods + %d profiles, %d nonzeros", "cyclic" if cyclic else "seed-style",
                n, P, csr.data.size)
    starts = range(0, n, CHUNK_ROWS)
    if progress:
        from tqdm import tqdm

        starts = tqdm(starts, desc="generating", unit="chunk", total=(n + CHUNK_ROWS - 1) // CHUNK_ROWS)
    for r0 in starts:
        csr.fill(rng, r0, min(r0 + CHUNK_ROWS, n), values)
    rho = float(values.diagonal)
    if cyclic:
        rho = normalise_columns(csr.indices, csr.data, csr.indptr, n, values.diagonal, spectral_radius)
    A = sp.csr_matrix((csr.data, csr.indices, csr.indptr.astype(np.int32)), shape=(n + P, n + P))
    A.has_sorted_indices = True
    d = np.zeros(n + P)
    u = rng.random(P)
    d[n:] = u / u.sum()
    return RandomEconomy(A=A, d=d, n_industrial=int(n_industrial), n_final=int(n_final), n_profiles=P,
                         inputs_per_good=int(inputs_per_good), cyclic=bool(cyclic), spectral_radius=rho)


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
