"""Result types of the Leontief solvers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple, TypeAlias

import numpy as np

__all__ = ["IOSolution", "Matrix", "MethodOutput"]

#: a coefficient matrix: a dense ``np.ndarray`` or any scipy.sparse matrix (the methods take
#: CSR); scipy.sparse has no type stubs, so to a type checker this is ``Any``
Matrix: TypeAlias = Any


@dataclass(frozen=True, eq=False)
class IOSolution:
    """The production vector solving ``(I - A) x = d`` and how it was found.

    Attributes:
        x: production, shape ``(n,)`` (or ``(n, k)`` for ``k`` right-hand sides).
        method: the method that produced ``x`` (``"direct"``, ``"triangular"``, ``"krylov"``,
            ``"neumann"``).
        iterations: iterations of the method (1 for the direct and triangular methods).
        residual: relative residual ``||(I - A) x - d|| / ||d||`` (2-norm; the largest over
            columns for several right-hand sides; the absolute residual when ``d = 0``).
        converged: whether ``residual <= tol``.
        seconds: wall time of the whole call, validation and checks included.
        attempts: the methods tried, in order (more than one when a fallback was needed).
    """

    x: np.ndarray
    method: str
    iterations: int
    residual: float
    converged: bool
    seconds: float
    attempts: tuple[str, ...] = ()


class MethodOutput(NamedTuple):
    """What one method returns to the front door (internal).

    ``residual`` is the relative residual of ``x`` when the method computed it explicitly as
    ``||d - (I - A) x|| / ||d||`` (the front door then does not compute it again), else None.
    """

    x: np.ndarray
    iterations: int
    converged: bool
    residual: float | None = None
