"""The planning problem's static structure as arrays: goods, coefficients, curves, profiles.

:class:`Economy` is what every OLIN-EP routine in :mod:`planner` takes. It is built by
``scenarios`` from a scenario file (or by hand, or from an IO table) and holds no agent
state. See ``docs/model.md`` for the meaning of each field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, NamedTuple, Protocol, runtime_checkable

import numpy as np
import scipy.sparse as sp
from innatura.planner.errors import InvalidInputError

__all__ = ["CoefficientCurve", "CurveCell", "Economy", "GoodKind"]

GoodKind = Literal["final", "industrial", "labour"]
_KINDS: tuple[str, ...] = ("final", "industrial", "labour")


@runtime_checkable
class CoefficientCurve(Protocol):
    """A coefficient that varies with the output of its column's good (OLIN-EP Eq. 4).

    ``curve(x)`` is the input needed per unit of output at output level ``x`` (vectorised over
    ``x``); ``curve.derivative(x)`` is its derivative with respect to ``x``.
    """

    def __call__(self, x: np.ndarray | float) -> np.ndarray | float: ...

    def derivative(self, x: np.ndarray | float) -> np.ndarray | float: ...


class CurveCell(NamedTuple):
    """A nonlinear cell of ``F(x)``: input ``row`` per unit of good ``col``, a function of ``x[col]``."""

    row: int
    col: int
    curve: CoefficientCurve


@dataclass(frozen=True, eq=False)
class Economy:
    """An OLIN-EP economy: goods, their coefficients and the consumption profiles.

    Attributes:
        goods: names of the ``n`` goods, in matrix order.
        kinds: kind of each good: ``"final"``, ``"industrial"`` or ``"labour"``.
        coefficients: constant technical coefficients, shape ``(n, n)``; entry ``(i, j)`` is
            the input of good ``i`` per unit of good ``j``. Stored as CSR.
        curves: the cells whose coefficient is a curve ``f_ij(x_j)``; they replace the
            constant entry at ``(row, col)``.
        profiles: names of the ``m`` consumption profiles.
        bundles: per-citizen daily need of each good for each profile, shape ``(n, m)``;
            non-zero on final goods only.
        population: citizens on each profile, shape ``(m,)``.
        externality_weights: externality per unit of output of each good, shape ``(n,)``
            (OLIN-EP Eq. 6).

    Shapes:
        ``n = len(goods)``, ``m = len(profiles)``.
    """

    goods: tuple[str, ...]
    kinds: tuple[str, ...]
    coefficients: sp.csr_matrix
    profiles: tuple[str, ...]
    bundles: np.ndarray
    population: np.ndarray
    curves: tuple[CurveCell, ...] = ()
    externality_weights: np.ndarray = field(default=None)  # type: ignore[arg-type]

    def __post_init__(self) -> None:
        n, m = len(self.goods), len(self.profiles)
        if len(set(self.goods)) != n:
            raise InvalidInputError(f"goods: duplicate names in {list(self.goods)!r}")
        if len(self.kinds) != n:
            raise InvalidInputError(f"kinds: {len(self.kinds)} kinds for {n} goods")
        bad = [k for k in self.kinds if k not in _KINDS]
        if bad:
            raise InvalidInputError(f"kinds: unknown kind {bad[0]!r}; expected one of {_KINDS}")
        A = sp.csr_matrix(self.coefficients, dtype=float)
        if A.shape != (n, n):
            raise InvalidInputError(f"coefficients: shape {A.shape}, expected {(n, n)}")
        if A.nnz and (not np.all(np.isfinite(A.data)) or A.data.min() < 0):
            raise InvalidInputError("coefficients: entries must be finite and non-negative")
        object.__setattr__(self, "coefficients", A)
        B = np.asarray(self.bundles, dtype=float)
        if B.shape != (n, m):
            raise InvalidInputError(f"bundles: shape {B.shape}, expected {(n, m)}")
        if not np.all(np.isfinite(B)) or (B < 0).any():
            raise InvalidInputError("bundles: entries must be finite and non-negative")
        object.__setattr__(self, "bundles", B)
        pop = np.asarray(self.population, dtype=float)
        if pop.shape != (m,) or not np.all(np.isfinite(pop)) or (pop < 0).any():
            raise InvalidInputError(f"population: expected {m} finite non-negative counts, got {pop!r}")
        object.__setattr__(self, "population", pop)
        w = np.zeros(n) if self.externality_weights is None else np.asarray(self.externality_weights, float)
        if w.shape != (n,) or not np.all(np.isfinite(w)):
            raise InvalidInputError(f"externality_weights: expected {n} finite values")
        object.__setattr__(self, "externality_weights", w)
        for cell in self.curves:
            if not (0 <= cell.row < n and 0 <= cell.col < n):
                raise InvalidInputError(f"curves: cell ({cell.row}, {cell.col}) outside {n} goods")
        object.__setattr__(self, "curves", tuple(CurveCell(*c) for c in self.curves))

    # -- sizes and masks -------------------------------------------------------------------
    @property
    def n_goods(self) -> int:
        return len(self.goods)

    @property
    def n_profiles(self) -> int:
        return len(self.profiles)

    def mask(self, kind: GoodKind) -> np.ndarray:
        """Boolean mask over goods of the given kind."""
        return np.array([k == kind for k in self.kinds], dtype=bool)

    def index(self, good: str) -> int:
        """Position of ``good`` in matrix order; ``KeyError`` naming the known goods otherwise."""
        try:
            return self.goods.index(good)
        except ValueError:
            raise KeyError(f"unknown good {good!r}; known goods: {list(self.goods)}") from None

    # -- coefficients ----------------------------------------------------------------------
    def coefficients_at(self, x: np.ndarray) -> sp.csr_matrix:
        """``F(x)``: the constant coefficients with every curve cell evaluated at ``x[col]``."""
        x = np.asarray(x, dtype=float)
        if not self.curves:
            return self.coefficients
        A = self.coefficients.tolil(copy=True)
        for row, col, curve in self.curves:
            A[row, col] = float(curve(x[col]))
        return A.tocsr()

    def demand(self) -> np.ndarray:
        """Total daily need of each good by all citizens, ``bundles @ population``, shape ``(n,)``."""
        return self.bundles @ self.population
