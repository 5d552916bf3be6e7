"""Krylov methods (GMRES, BiCGSTAB) with Jacobi preconditioning for ``(I - A) x = d``."""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, bicgstab, gmres

from planner.errors import InvalidInputError
from planner.leontief.result import MethodOutput
from planner.leontief.structure import diagonal

__all__ = ["solve_krylov", "KRYLOV_SOLVERS"]

logger = logging.getLogger(__name__)

KRYLOV_SOLVERS = ("gmres", "bicgstab")


def _diag(A) -> np.ndarray:
    return diagonal(A) if sp.issparse(A) else np.diag(A).copy()


def solve_krylov(
    A,
    d: np.ndarray,
    *,
    tol: float = 1e-10,
    solver: str = "gmres",
    restart: int = 30,
    maxiter: int | None = None,
) -> MethodOutput:
    """Solve ``(I - A) x = d`` with a Jacobi-preconditioned Krylov method.

    ``I - A`` is applied matrix-free (``v - A @ v``: one sparse product per iteration, no copy
    of ``A``). The preconditioner is ``diag(I - A)^{-1}``, and the iteration starts from its
    Jacobi step ``x_0 = diag(I - A)^{-1} d``. Starting from ``x_0 = 0`` would make BiCGSTAB
    break down exactly on OLIN-EP economies, where ``d`` is non-zero only on profile rows; from
    ``x_0`` the profile rows (empty rows of ``A``) are already exact.

    Args:
        A: coefficient matrix (dense or sparse).
        d: right-hand side, ``(n,)`` or ``(n, k)`` (columns solved one after another).
        tol: relative residual ``||(I - A) x - d|| / ||d||`` to reach.
        solver: ``"gmres"`` (restarted every ``restart`` iterations) or ``"bicgstab"``.
        restart: GMRES restart length.
        maxiter: GMRES restart cycles (default 50), or BiCGSTAB iterations (default 1000).

    Returns:
        ``MethodOutput``; ``iterations`` counts inner iterations (one product with ``A`` each
        for GMRES, two for BiCGSTAB), summed over columns.

    Raises:
        InvalidInputError: on an unknown ``solver`` or a diagonal coefficient equal to 1.
    """
    if solver not in KRYLOV_SOLVERS:
        raise InvalidInputError(f"solver: unknown Krylov solver {solver!r}; valid: {', '.join(KRYLOV_SOLVERS)}")
    n = A.shape[0]
    dinv_src = 1.0 - _diag(A)
    if np.any(dinv_src == 0):
        i = int(np.nonzero(dinv_src == 0)[0][0])
        raise InvalidInputError(f"A: I - A is singular: the diagonal coefficient A[{i}, {i}] equals 1")
    dinv = 1.0 / dinv_src
    if maxiter is None:
        maxiter = 50 if solver == "gmres" else 1000

    def matvec(v: np.ndarray) -> np.ndarray:
        v = v.ravel()
        return v - A @ v

    op = LinearOperator((n, n), matvec=matvec, dtype=np.float64)
    M = LinearOperator((n, n), matvec=lambda v: dinv * v.ravel(), dtype=np.float64)
    cols = d[:, None] if d.ndim == 1 else d
    out = np.empty(cols.shape)
    total = 0
    ok = True
    for c in range(cols.shape[1]):
        b = np.ascontiguousarray(cols[:, c])
        count = [0]

        def tick(_arg, count=count) -> None:
            count[0] += 1

        x0 = dinv * b
        if solver == "gmres":
            x, info = gmres(
                op, b, x0=x0, rtol=tol, atol=0.0, restart=restart, maxiter=maxiter, M=M,
                callback=tick, callback_type="pr_norm",
            )
        else:
            x, info = bicgstab(op, b, x0=x0, rtol=tol, atol=0.0, maxiter=maxiter, M=M, callback=tick)
        if info != 0:
            logger.info("%s stopped with info=%d after %d iterations", solver, info, count[0])
        ok &= info == 0
        total += count[0]
        out[:, c] = x
    return MethodOutput(out[:, 0] if d.ndim == 1 else out, total, bool(ok))
