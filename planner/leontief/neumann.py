"""The Neumann (power) series ``x = d + A d + A^2 d + ...`` for ``(I - A) x = d``."""

from __future__ import annotations

import logging

import numpy as np
from innatura.planner.leontief.norms import column_norms
from innatura.planner.leontief.result import Matrix, MethodOutput

__all__ = ["solve_neumann"]

logger = logging.getLogger(__name__)


def solve_neumann(A: Matrix, d: np.ndarray, *, tol: float = 1e-10, maxiter: int = 10_000) -> MethodOutput:
    """Sum the Neumann series of the Leontief inverse, ``(I - A)^{-1} = sum_k A^k``.

    Iterates ``x_{k+1} = d + A x_k`` from ``x_0 = d``; the residual of ``x_k`` is
    ``x_{k+1} - x_k``, so the stopping test costs nothing extra and the returned ``x_k`` meets
    it. The error shrinks like ``rho(A)^k``: about ``log(tol) / log(rho)`` iterations (65 at
    ``rho = 0.7``, ``tol = 1e-10``).

    Args:
        A: coefficient matrix (dense or sparse), productive (``rho(A) < 1``) for convergence.
        d: right-hand side, ``(n,)`` or ``(n, k)``.
        tol: stop when ``||x_{k+1} - x_k|| <= tol * ||d||`` (every column).
        maxiter: the most terms summed.

    Returns:
        ``MethodOutput`` with ``converged=False`` when ``maxiter`` ran out or the series diverged.
    """
    norm_d = np.asarray(column_norms(d))
    target = tol * np.where(norm_d > 0, norm_d, 1.0)
    x = np.array(d, dtype=np.float64)
    for k in range(1, maxiter + 1):
        x_new = A @ x
        x_new += d
        step = np.asarray(column_norms(x_new - x))
        if np.all(step <= target):  # step is exactly the residual of x
            rel = np.where(norm_d > 0, step / np.where(norm_d > 0, norm_d, 1.0), step)
            return MethodOutput(x, k, True, float(np.max(rel)))
        x = x_new
        if not np.all(np.isfinite(step)):
            logger.warning("Neumann series diverged after %d terms", k)
            return MethodOutput(x, k, False)
    return MethodOutput(x, maxiter, False)
