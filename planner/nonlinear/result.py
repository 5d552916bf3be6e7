"""The result of the nonlinear IO solvers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["NonlinearIOSolution"]


@dataclass(frozen=True)
class NonlinearIOSolution:
    """Result of :func:`planner.nonlinear.solve_nonlinear_io`.

    Attributes:
        x: activity levels, shape ``(N,)`` (goods first, then profiles for an economy system).
        method: the method that ran.
        iterations: outer iterations performed (fixed-point steps or Newton steps).
        residual: final relative residual ``||(I - F(x)) x - d|| / ||d||``.
        residual_history: relative residual at every iterate, starting point included.
        converged: whether ``residual <= tol``.
        linear_solves: linear systems solved (Leontief solves or GMRES calls).
        products: sparse products with the ``N x N`` matrix (residuals, Krylov iterations).
    """

    x: np.ndarray
    method: str
    iterations: int
    residual: float
    residual_history: tuple[float, ...]
    converged: bool
    linear_solves: int = 0
    products: int = 0
