"""Krylov methods (GMRES, BiCGSTAB) with Jacobi preconditioning for ``(I - A) x = d``."""

from __future__ import annotations

import logging
import math

import numpy as np
import scipy.sparse as sp
from innatura.planner.errors import InvalidInputError
from innatura.planner.leontief.norms import norm
from innatura.planner.leontief.result import Matrix, MethodOutput
from innatura.planner.leontief.structure import diagonal
from scipy.sparse.linalg import LinearOperator, bicgstab

__all__ = ["KRYLOV_SOLVERS", "gmres_jacobi", "solve_krylov"]

logger = logging.getLogger(__name__)

KRYLOV_SOLVERS = ("gmres", "bicgstab")


def _diag(A: Matrix) -> np.ndarray:
    return diagonal(A) if sp.issparse(A) else np.diag(A).copy()


def gmres_jacobi(
    A: Matrix, b: np.ndarray, x0: np.ndarray, dinv: np.ndarray, *, tol: float, restart: int, maxiter: int
) -> tuple[np.ndarray, int, float, bool]:
    """Restarted GMRES for ``(I - A) x = b``, right-preconditioned by ``diag(dinv)``.

    Right preconditioning keeps the minimised residual the true residual of ``(I - A) x = b``,
    so ``tol`` means ``||b - (I - A) x|| <= tol ||b||`` directly. Orthogonalisation is classical
    Gram-Schmidt applied twice (as stable as modified Gram-Schmidt, two passes over the basis
    instead of ``j``); the true residual is recomputed at every restart.

    Returns:
        ``(x, products with A, true residual norm ||b - (I - A) x||, converged)``.
    """
    n = b.shape[0]
    target = tol * norm(b)
    x = np.array(x0, dtype=np.float64)
    r = b - x + A @ x
    beta = norm(r)
    products = 1
    m = max(1, min(restart, n))
    V = np.empty((m + 1, n))
    for _ in range(maxiter):
        if beta <= target:
            return x, products, beta, True
        H = np.zeros((m + 1, m))
        cs, sn = np.zeros(m), np.zeros(m)
        g = np.zeros(m + 1)
        g[0] = beta
        np.multiply(r, 1.0 / beta, out=V[0])
        k = 0
        for j in range(m):
            z = dinv * V[j]
            w = z - A @ z
            products += 1
            Vj = V[: j + 1]
            h = np.einsum("ij,j->i", Vj, w)
            w -= np.einsum("ij,i->j", Vj, h)
            h2 = np.einsum("ij,j->i", Vj, w)
            w -= np.einsum("ij,i->j", Vj, h2)
            h += h2
            hn = norm(w)
            H[: j + 1, j] = h
            H[j + 1, j] = hn
            for i in range(j):  # previous Givens rotations
                a, c = H[i, j], H[i + 1, j]
                H[i, j], H[i + 1, j] = cs[i] * a + sn[i] * c, -sn[i] * a + cs[i] * c
            denom = math.hypot(H[j, j], H[j + 1, j])
            if denom == 0.0:
                k = j
                break
            cs[j], sn[j] = H[j, j] / denom, H[j + 1, j] / denom
            H[j, j], H[j + 1, j] = denom, 0.0
            g[j + 1] = -sn[j] * g[j]
            g[j] *= cs[j]
            k = j + 1
            if abs(g[j + 1]) <= target or hn == 0.0:
                break
            np.multiply(w, 1.0 / hn, out=V[j + 1])
        if k == 0:
            break
        y = np.zeros(k)
        for i in range(k - 1, -1, -1):  # back substitution with the k x k triangle
            y[i] = (g[i] - H[i, i + 1 : k] @ y[i + 1 :]) / H[i, i]
        x += dinv * np.einsum("i,ij->j", y, V[:k])
        r = b - x + A @ x
        beta = norm(r)
        products += 1
    return x, products, beta, bool(beta <= target)


def solve_krylov(
    A: Matrix,
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
        solver: ``"gmres"`` (:func:`gmres_jacobi`, restarted every ``restart`` iterations) or
            ``"bicgstab"`` (scipy's).
        restart: GMRES restart length.
        maxiter: GMRES restart cycles (default 50), or BiCGSTAB iterations (default 1000).

    Returns:
        ``MethodOutput``; ``iterations`` counts products with ``A`` for GMRES (residual checks
        included) and iterations (two products each) for BiCGSTAB, summed over columns.

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
    cols = d[:, None] if d.ndim == 1 else d
    out = np.empty(cols.shape)
    total = 0
    ok = True
    worst: float | None = 0.0
    for c in range(cols.shape[1]):
        b = np.ascontiguousarray(cols[:, c])
        x0 = dinv * b
        if solver == "gmres":
            x, count, rnorm, conv = gmres_jacobi(A, b, x0, dinv, tol=tol, restart=restart, maxiter=maxiter)
            bnorm = norm(b)
            rel = rnorm / bnorm if bnorm > 0 else rnorm
            worst = None if worst is None else max(worst, rel)
        else:
            op = LinearOperator((n, n), matvec=lambda v: v.ravel() - A @ v.ravel(), dtype=np.float64)
            M = LinearOperator((n, n), matvec=lambda v: dinv * v.ravel(), dtype=np.float64)
            counter = [0]

            def tick(_x: np.ndarray, counter: list[int] = counter) -> None:
                counter[0] += 1

            x, info = bicgstab(op, b, x0=x0, rtol=tol, atol=0.0, maxiter=maxiter, M=M, callback=tick)
            count, conv = counter[0], info == 0
            worst = None
            if info != 0:
                logger.info("bicgstab stopped with info=%d after %d iterations", info, count)
        ok &= conv
        total += count
        out[:, c] = x
    return MethodOutput(out[:, 0] if d.ndim == 1 else out, total, bool(ok), worst)
