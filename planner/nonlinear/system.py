"""The square system ``(I - F(x)) x = d`` of the nonlinear solvers, held as arrays.

:class:`CurveSystem` keeps ``F`` as one CSR matrix whose curve cells are rewritten in place,
with the coefficients ``f(x)`` to evaluate ``F(x) x`` (OLIN-EP Eq. 3) or with the marginal input
use ``f(x) + f'(x) x`` for the Jacobian ``I - F(x) - F'(x) diag(x)`` of Newton's method; the
curve cells are evaluated all at once by a :class:`~planner.curves.CurveStore`. No step copies
the matrix.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from innatura.planner.curves import CurveMatrix, CurveStore
from innatura.planner.economy import CurveCell, Economy
from innatura.planner.errors import InvalidInputError, NonProductiveError
from innatura.planner.leontief import check_productive as _leontief_check_productive
from innatura.planner.leontief import validate_coefficients
from innatura.planner.leontief.norms import norm
from innatura.planner.leontief.result import Matrix
from innatura.planner.leontief.structure import diagonal, triangular_kind
from innatura.planner.parallel_product import product_of, resolve_threads

__all__ = ["CurveSystem", "IOSystem", "check_productive", "economy_system", "prepare_system", "system_labels"]

logger = logging.getLogger(__name__)


class IOSystem(NamedTuple):
    """A square IO system: constant coefficients, curve cells and final demand."""

    coefficients: sp.csr_matrix
    curves: tuple[CurveCell, ...]
    demand: np.ndarray


def economy_system(economy: Economy) -> IOSystem:
    """The full square system of an economy: goods then profiles (OLIN-EP Table 1).

    ``A_full = [[A, B], [0, 0]]`` with ``A`` the goods' constant coefficients and ``B`` the
    bundles (profile columns); curve cells keep their indices (goods come first); ``d`` is
    zero on goods and the population on the profile rows.

    Shapes:
        returns ``coefficients (n+m, n+m)``, ``demand (n+m,)``.
    """
    n, m = economy.n_goods, economy.n_profiles
    A = sp.bmat(
        [[economy.coefficients, sp.csr_matrix(economy.bundles)], [sp.csr_matrix((m, n)), sp.csr_matrix((m, m))]],
        format="csr",
    )
    d = np.concatenate([np.zeros(n), economy.population])
    return IOSystem(A, economy.curves, d)


def system_labels(economy: Economy) -> tuple[str, ...]:
    """Row/column names of :func:`economy_system`: the goods, then ``"profile:<name>"``."""
    return tuple(economy.goods) + tuple(f"profile:{p}" for p in economy.profiles)


def check_productive(F: Matrix, names: Sequence[str] | None = None, *, where: str = "",
                     known: dict | None = None) -> None:
    """Raise :class:`NonProductiveError` unless ``rho(F) < 1`` (``F`` at some iterate).

    Uses :func:`planner.leontief.check_productive`, which names the goods of every strongly
    connected block whose spectral radius is ``>= 1``; ``where`` is added to the message.

    Args:
        F, names, where: as above.
        known: ``F`` is a :class:`CurveSystem`'s working matrix (validated when the system was
            built, its curve cells checked when written), with what is known of it for
            :func:`planner.leontief.check_productive` (``diag``, ``kind``); None validates ``F``.
    """
    try:
        if known is None:
            _leontief_check_productive(validate_coefficients(F, names), names)
        else:
            _leontief_check_productive(F, names, hints=dict(known))
    except NonProductiveError as exc:
        raise NonProductiveError(
            f"F(x){where}: {exc}", goods=exc.goods, spectral_radius=exc.spectral_radius
        ) from exc


class CurveSystem:
    """``(I - F(x)) x = d`` with ``F`` in one CSR matrix whose curve cells are rewritten in place.

    Args:
        coefficients: constant coefficients ``(N, N)`` (entries at curve cells are ignored).
        curves: the curve cells, or a :class:`~planner.curves.CurveStore` of them.
        d: final demand ``(N,)``, finite and non-negative.
        names: row names for error messages.
        threads: threads of the sparse products (:mod:`~planner.parallel_product`; default
            ``$INNATURA_THREADS`` or the usable cores).

    Attributes:
        matrix: the working matrix: ``F(x)`` after :meth:`residual`, the curve cells' marginal
            input use after :meth:`linearise` (then ``I - matrix`` is the Jacobian).
        store: the curve cells.
        products: sparse products with ``matrix`` so far.
        threads: threads of the sparse products.
        product: what multiplies like ``matrix`` (``product @ x``): its
            :class:`~planner.parallel_product.RowBlocked` product over those threads where it is
            CSR (the same to the bit; it reads the curve cells as the matrix holds them at each
            call), else the matrix.
    """

    def __init__(self, coefficients: Matrix, curves: Sequence[CurveCell] | CurveStore, d: np.ndarray,
                 names: Sequence[str] | None, threads: int | None = None) -> None:
        cm = CurveMatrix(coefficients, curves)
        self.matrix, self.store, self._pos = cm.base, cm.store, cm.positions
        self.threads = resolve_threads(threads)
        self.product = product_of(self.matrix, self.threads)
        self.shape = cm.shape
        self.names = None if names is None else tuple(names)
        self.d = d
        self.d_norm = max(norm(d), np.finfo(float).tiny)
        self.products = 0
        #: the iterate whose coefficients the working matrix holds (None: something else); the
        #: solvers never change an iterate in place
        self._holds: np.ndarray | None = None
        #: the working matrix's diagonal outside the curve cells, its triangular pattern and
        #: the curve cells on the diagonal, found once (:meth:`diagonal`); the pattern stays
        self._diag: tuple[np.ndarray, str | None, np.ndarray] | None = None

    @property
    def n_curves(self) -> int:
        return self.store.n_cells

    @property
    def positions(self) -> np.ndarray:
        """Index of each curve cell in ``matrix.data``."""
        return self._pos

    def _check(self, values: np.ndarray, x: np.ndarray, what: str, nonneg: bool = True) -> None:
        bad = ~np.isfinite(values) | ((values < 0) if nonneg else False)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            r, c = int(self.store.rows[k]), int(self.store.cols[k])
            raise InvalidInputError(f"curves: cell ({r}, {c}) gives {what} {values[k]!r} at x={x[c]!r}")

    def _write(self, values: np.ndarray, x: np.ndarray, what: str, nonneg: bool = True) -> None:
        self._check(values, x, what, nonneg)
        self.matrix.data[self._pos] = values
        self._holds = None

    def evaluate(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The curve cells' coefficients ``f(x)`` and marginal input use ``f(x) + f'(x) x``,
        checked, from one evaluation of the curves; the working matrix is left as it is."""
        f, m = self.store.coefficients_and_marginal_use(x)
        self._check(f, x, "coefficient")
        self._check(m, x, "marginal input use", nonneg=False)  # a coefficient falling steeply: allowed
        return f, m

    def residual_change(self, x: np.ndarray, delta: np.ndarray, evaluated: tuple[np.ndarray, np.ndarray],
                        f_new: np.ndarray) -> np.ndarray:
        """``G(x + delta) - G(x) - J(x) delta`` without a product with the matrix.

        The constant cells are linear, so only the curve cells contribute: each adds to its row
        the remainder of the first-order expansion of its input use ``g(x) = f(x) x``,
        ``g(x_c) + g'(x_c) delta_c - g(x_c + delta_c)``, from the coefficients ``f`` and marginal
        use ``g'`` at ``x`` (``evaluated``, :meth:`evaluate`) and the coefficients ``f_new`` at
        ``x + delta``.
        """
        f, m = evaluated
        if not self.n_curves:
            return np.zeros(x.size)
        c = self.store.cols
        xc, dc = x[c], delta[c]
        rem = f * xc + m * dc - f_new * (xc + dc)
        return np.bincount(self.store.rows, rem, minlength=x.size)

    def coefficients_at(self, x: np.ndarray) -> sp.csr_matrix:
        """``F(x)`` in the working matrix (valid until the next :meth:`linearise`)."""
        if self.n_curves and self._holds is not x:
            self._write(self.store.coefficients(x), x, "coefficient")
            self._holds = x
        return self.matrix

    def residual(self, x: np.ndarray, f: np.ndarray | None = None) -> tuple[np.ndarray, float]:
        """``G(x) = x - F(x) x - d`` and its relative norm ``||G|| / ||d||`` (``f``: the curve
        cells' coefficients at ``x`` when already evaluated)."""
        if f is not None and self.n_curves:
            self._write(f, x, "coefficient")
            self._holds = x
        F = self.matrix if f is not None else self.coefficients_at(x)
        G = x - (self.product if F is self.matrix else F) @ x - self.d
        self.products += 1
        return G, norm(G) / self.d_norm

    def linearise(self, x: np.ndarray, m: np.ndarray | None = None) -> sp.csr_matrix:
        """The curve cells' marginal input use at ``x`` (``m`` when already evaluated) in the
        working matrix, which is then ``F(x) + F'(x) diag(x)``: the Jacobian of ``G`` is ``I``
        minus it."""
        if m is not None and self.n_curves:
            self.matrix.data[self._pos] = m
            self._holds = None
        elif self.n_curves:
            # a coefficient falling steeply with output has a negative marginal use: allowed
            self._write(self.store.marginal_use(x), x, "marginal input use", nonneg=False)
        return self.matrix

    def _structure(self) -> tuple[np.ndarray, str | None, np.ndarray]:
        if self._diag is None:
            M = self.matrix
            on_diag = np.flatnonzero(self.store.rows == self.store.cols)
            self._diag = (diagonal(M), triangular_kind(M), on_diag)
        return self._diag

    def diagonal(self) -> np.ndarray:
        """The working matrix's diagonal as it holds now: the diagonal is found once (one scan
        of the matrix), the curve cells on it re-read from the matrix at every call."""
        base, _, on_diag = self._structure()
        out = base.copy()
        if on_diag.size:
            out[self.store.rows[on_diag]] = self.matrix.data[self._pos[on_diag]]
        return out

    def check_solution(self, x: np.ndarray) -> None:
        """Raise :class:`NonProductiveError` unless ``F(x)`` is productive (its diagonal and
        pattern as :meth:`diagonal` knows them: no scan of the matrix for them)."""
        F = self.coefficients_at(x)
        known = {"diag": self.diagonal(), "kind": self._structure()[1]}
        check_productive(F, self.names, where=" at the solution", known=known)


def prepare_system(system: Economy | tuple[Matrix, Sequence[CurveCell] | CurveStore], d: np.ndarray | None,
                   names: Sequence[str] | None, threads: int | None = None) -> CurveSystem:
    """Check a system (an :class:`Economy` or a pair ``(coefficients, curves)``), its demand and
    row names, and hold it as a :class:`CurveSystem` (its products on ``threads`` threads)."""
    curves: Sequence[CurveCell] | CurveStore
    if isinstance(system, Economy):
        A, curves, d_sys = economy_system(system)
        names = system_labels(system) if names is None else names
        d = d_sys if d is None else d
    else:
        try:
            A, curves = system
        except (TypeError, ValueError):
            raise InvalidInputError(
                "system: expected an Economy or a pair (constant coefficients, curve cells or a CurveStore)"
            ) from None
        if d is None:
            raise InvalidInputError("d: final demand is required when the system is not an Economy")
    shape = getattr(A, "shape", None) or np.shape(A)
    if names is not None:
        names = tuple(str(v) for v in names)
        if len(shape) == 2 and len(names) != shape[0]:
            raise InvalidInputError(f"names: {len(names)} names for {shape[0]} rows")
    cs = CurveSystem(validate_coefficients(A, names), curves, np.asarray(d, dtype=float), names, threads)
    if cs.d.shape != (cs.shape[0],):
        raise InvalidInputError(f"d: shape {cs.d.shape}, expected {(cs.shape[0],)}")
    if not np.all(np.isfinite(cs.d)) or (cs.d < 0).any():
        raise InvalidInputError("d: final demand must be finite and non-negative")
    return cs
