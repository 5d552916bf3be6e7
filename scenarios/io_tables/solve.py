"""Solve a table's Leontief system ``(I - A) x = f`` and check it against its own gross output.

The solve and the spectral radius come from :mod:`planner.leontief`; this module adds what a
table knows: the table's own gross output to compare with. A table whose negative cells were
kept (``--negative-policy keep``) has a signed ``A``, outside Leontief theory's guarantees:
``planner.leontief.solve_io`` rejects it, so it is solved by the LU method alone
(``planner.leontief.direct``) and its spectral radius taken from its eigenvalues.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from innatura.planner.errors import InvalidInputError, NonProductiveError
from innatura.scenarios.io_tables.table import IOTable

if TYPE_CHECKING:  # pragma: no cover
    import scipy.sparse as sp

__all__ = ["TableSolution", "solve_table"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class TableSolution:
    """The solved table and its checks.

    Attributes:
        x: gross output solving ``(I - A) x = f``, shape ``(n,)``.
        method: the solver :func:`planner.leontief.solve_io` used.
        iterations: its iterations (0 for direct methods).
        residual: ``||(I - A) x - f|| / ||f||``.
        spectral_radius: spectral radius of ``A`` (``< 1``: the economy is productive).
        relative_error: ``||x - g||_2 / ||g||_2`` against the table's gross output ``g``.
        max_relative_error: ``max_i |x_i - g_i| / g_i`` over industries with ``g_i > 0``.
        seconds: wall time of the solve.
    """

    x: np.ndarray
    method: str
    iterations: int
    residual: float
    spectral_radius: float
    relative_error: float
    max_relative_error: float
    seconds: float

    def to_dict(self) -> dict:
        return {
            "method": self.method,
            "iterations": self.iterations,
            "residual": self.residual,
            "spectral_radius": self.spectral_radius,
            "relative_error": self.relative_error,
            "max_relative_error": self.max_relative_error,
            "solve_seconds": self.seconds,
        }


def _spectral_radius(A: sp.spmatrix) -> float:
    """Spectral radius of ``A``: :func:`planner.leontief.spectral_radius` for ``A >= 0``; for a
    signed ``A`` (negative cells kept) the largest eigenvalue modulus, from dense eigenvalues
    for ``n <= 3000`` and ARPACK otherwise."""
    if A.shape[0] == 0:
        return 0.0
    if not (A.nnz and A.data.min() < 0):
        from innatura.planner.leontief import spectral_radius

        return float(spectral_radius(A))
    if A.shape[0] <= 3000:
        return float(np.max(np.abs(np.linalg.eigvals(A.toarray()))))
    from scipy.sparse.linalg import eigs

    return float(np.max(np.abs(eigs(A, k=1, which="LM", return_eigenvectors=False))))


def _solve(A: sp.spmatrix, f: np.ndarray, method: str | None,
           names: tuple[str, ...] | None = None) -> tuple[np.ndarray, str, int]:
    """``(x, method, iterations)``. Non-negative ``A``: :func:`planner.leontief.solve_io`. A
    signed ``A`` (negative cells kept) is outside Leontief theory's guarantees and the front
    door rejects it; it is solved by the LU method alone (``planner.leontief.direct``)."""
    if A.nnz and A.data.min() < 0:
        if method not in (None, "direct"):
            raise InvalidInputError(f"method {method!r}: a table with negative cells (negative policy 'keep') "
                                    "is solved by the direct method only; use --negative-policy clip for others")
        from innatura.planner.leontief.direct import solve_direct

        out = solve_direct(A, f)
        return np.asarray(out.x, dtype=float), "direct (signed A)", int(out.iterations)
    from innatura.planner.leontief import solve_io

    sol = solve_io(A, f, method=method, names=names)
    return np.asarray(sol.x, dtype=float), str(sol.method), int(sol.iterations)


def solve_table(table: IOTable, method: str | None = None) -> TableSolution:
    """Solve ``(I - A) x = f`` for ``table`` (Leontief, Miller and Blair Eq. 2.11).

    Args:
        table: the loaded table (after its negative-value policy).
        method: solver name passed to :func:`planner.leontief.solve_io` (default: its choice).

    Returns:
        The :class:`TableSolution`.

    Raises:
        InvalidInputError: ``I - A`` is singular, or a solver that needs ``A >= 0`` was named
            for a table whose negative cells were kept.
    """
    start = time.perf_counter()
    try:
        x, used, iterations = _solve(table.A, table.f, method, names=table.industries)
    except NonProductiveError as exc:
        raise NonProductiveError(f"{table.source}: {exc}", goods=exc.goods,
                                 spectral_radius=exc.spectral_radius) from None
    except InvalidInputError as exc:
        raise InvalidInputError(f"{table.source}: {exc}") from None
    seconds = time.perf_counter() - start
    g = table.gross_output
    pos = g > 0
    max_rel = float(np.max(np.abs(x[pos] - g[pos]) / g[pos])) if pos.any() else 0.0
    f = table.f
    resid = float(np.linalg.norm(x - table.A @ x - f) / max(np.linalg.norm(f), np.finfo(float).tiny))
    rho = _spectral_radius(table.A)
    return TableSolution(
        x=x,
        method=used,
        iterations=iterations,
        residual=resid,
        spectral_radius=rho,
        relative_error=table.relative_error(x),
        max_relative_error=max_rel,
        seconds=seconds,
    )
