"""Krylov methods (GMRES, BiCGSTAB) with Jacobi preconditioning for ``(I - A) x = d``.

GMRES's preconditioner may take more terms of the Jacobi splitting's Neumann series
(:func:`gmres_jacobi`'s ``terms``), and its residual is formed from the products it made (the
Arnoldi relation), with a direct product only where that residual lies within rounding of the
target. Gram-Schmidt runs on one BLAS thread.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from innatura.planner.errors import InvalidInputError
from innatura.planner.leontief.core import CoreProduct, core_product
from innatura.planner.leontief.norms import norm
from innatura.planner.leontief.result import Matrix, MethodOutput
from innatura.planner.leontief.structure import diagonal
from innatura.planner.parallel_product import RowBlocked, product_of
from scipy.sparse.linalg import LinearOperator, bicgstab
from threadpoolctl import ThreadpoolController

__all__ = ["KRYLOV_SOLVERS", "GMRESResult", "gmres_jacobi", "solve_krylov"]

logger = logging.getLogger(__name__)

KRYLOV_SOLVERS = ("gmres", "bicgstab")


#: an Arnoldi step is orthogonalised a second time when the first pass of classical Gram-Schmidt
#: left less than this share of the new vector's norm (the criterion of Daniel, Gragg, Kaufman
#: and Stewart, 1976). Looser thresholds read the basis less often but cost orthogonality:
#: measured on 1.1M cyclic goods, 1e-2 or 1e-6 took 22 products to reach 1e-10 where this one
#: takes 19 (on 110k goods all took 18)
REORTHOGONALISE = 2.0**-0.5


#: the residual formed from GMRES's own products (no further product) decides convergence
#: only when it lies below the target by this many times its rounding (:func:`_rounding`);
#: closer to the target one product evaluates ``b - (I - A) x`` directly
ROUNDING_SAFETY = 1.0


def _diag(A: Matrix) -> np.ndarray:
    return diagonal(A) if sp.issparse(A) else np.diag(A).copy()


class _Arnoldi:
    """The basis, Hessenberg matrix and Givens rotations of one GMRES cycle."""

    def __init__(self, m: int, n: int, flexible: bool = False) -> None:
        self.V = np.empty((m + 1, n))
        #: the preconditioned directions ``z_j`` where they are not ``dinv * V[j]``
        self.Z = np.empty((m, n)) if flexible else None
        self.H = np.zeros((m + 1, m))
        self.R = np.zeros((m + 1, m))  # H before the rotations: (I - A) Z = V R (Arnoldi relation)
        self.cs, self.sn = np.zeros(m), np.zeros(m)
        self.g = np.zeros(m + 1)

    def start(self, r: np.ndarray, beta: float) -> None:
        self.H[:] = 0.0
        self.R[:] = 0.0
        self.g[:] = 0.0
        self.g[0] = beta
        np.multiply(r, 1.0 / beta, out=self.V[0])

    def step(self, j: int, w: np.ndarray) -> float:
        """Orthogonalise ``w`` against the basis, update the rotations; returns ``|g[j + 1]|``,
        the residual norm of the minimiser over ``j + 1`` directions (0 on a lucky breakdown,
        where the space holds the solution), or -1 when the direction adds nothing at all."""
        V, H, cs, sn, g = self.V, self.H, self.cs, self.sn, self.g
        Vj = V[: j + 1]
        h = Vj @ w  # BLAS matrix-vector products: on one thread 1.6x faster than einsum on a million goods
        w -= h @ Vj
        hn = norm(w)
        if hn < REORTHOGONALISE * math.sqrt(float(h @ h) + hn * hn):  # ||w|| before the pass, without one
            h2 = Vj @ w
            w -= h2 @ Vj
            h += h2
            hn = norm(w)
        H[: j + 1, j] = h
        H[j + 1, j] = hn
        self.R[: j + 2, j] = H[: j + 2, j]
        for i in range(j):  # previous Givens rotations
            a, c = H[i, j], H[i + 1, j]
            H[i, j], H[i + 1, j] = cs[i] * a + sn[i] * c, -sn[i] * a + cs[i] * c
        denom = math.hypot(H[j, j], H[j + 1, j])
        if denom == 0.0:
            return -1.0
        cs[j], sn[j] = H[j, j] / denom, H[j + 1, j] / denom
        H[j, j], H[j + 1, j] = denom, 0.0
        g[j + 1] = -sn[j] * g[j]
        g[j] *= cs[j]
        if hn > 0.0:
            np.multiply(w, 1.0 / hn, out=V[j + 1])
        return abs(g[j + 1]) if hn > 0.0 else 0.0

    def update(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """``(V[:k].T y, y)`` for the least-squares solution ``y`` of the first ``k`` directions."""
        H, g = self.H, self.g
        y = np.zeros(k)
        for i in range(k - 1, -1, -1):  # back substitution with the k x k triangle
            y[i] = (g[i] - H[i, i + 1 : k] @ y[i + 1 :]) / H[i, i]
        return y @ self.V[:k], y

    def residual(self, k: int, y: np.ndarray, beta: float) -> np.ndarray:
        """The residual after the update ``y``: ``r - (I - A) Z y = V (beta e_1 - R y)``.

        The products ``(I - A) z_j`` equal ``V R[:, j]`` to rounding whatever the basis's
        orthogonality (Gram-Schmidt only splits each product into components), so this is the
        residual of the products GMRES made, without a further product.
        """
        t = -(self.R[: k + 1, :k] @ y)
        t[0] += beta
        rows = k + 1 if self.R[k, k - 1] != 0.0 else k  # no basis vector k after a breakdown
        return t[:rows] @ self.V[:rows]


class GMRESResult(NamedTuple):
    """What :func:`gmres_jacobi` returns."""

    x: np.ndarray
    #: products with ``A``
    products: int
    #: ``||b - (I - A) x||`` (or the last cycle's estimate, see ``true_residual``)
    residual_norm: float
    converged: bool
    #: ``b - (I - A) x``, or None where only the estimate was asked for
    residual: np.ndarray | None


def gmres_jacobi(
    A: Matrix | RowBlocked, b: np.ndarray, x0: np.ndarray | None, dinv: np.ndarray, *, tol: float, restart: int,
    maxiter: int,
    true_residual: bool = True, terms: int = 1, core: CoreProduct | None = None,
) -> GMRESResult:
    """Restarted GMRES for ``(I - A) x = b``, right-preconditioned by ``diag(dinv)``.

    Right preconditioning keeps the minimised residual the true residual of ``(I - A) x = b``,
    so ``tol`` means ``||b - (I - A) x|| <= tol ||b||`` directly. Orthogonalisation is
    classical Gram-Schmidt, applied a second time only where the first pass cancelled most of
    the vector (:data:`REORTHOGONALISE`), with BLAS limited to one thread for the call (the
    process's setting is restored after it).

    Args:
        A, b: the system; ``A`` may be a :class:`~planner.parallel_product.RowBlocked` product
            (its products in threads, equal to the plain ones to the bit).
        x0: starting point; ``None`` starts from 0 (no product for the first residual).
        dinv: the preconditioner's diagonal.
        tol: relative residual to reach.
        restart, maxiter: directions per cycle, cycles.
        terms: terms of the Jacobi splitting's Neumann series in the preconditioner,
            ``(I + N + ... + N^(terms - 1)) diag(dinv)`` with ``N = I - diag(dinv) (I - A)``
            (each term one more product per direction; 1 is plain Jacobi). More terms do not
            cut the products, as GMRES's own polynomial is the better one, but they cut the
            directions, whose Gram-Schmidt costs grow with the square of their number.
        true_residual: form the residual ``b - (I - A) x`` at the end of every cycle from the
            products already made (:meth:`_Arnoldi.residual`: one pass over the basis, no
            further product) and decide convergence on it; otherwise the last cycle's
            estimate ``|g_k|`` is returned and the residual vector is not formed.
        core: the products over the goods something uses (:func:`~planner.leontief.core.core_product`
            of ``A``): the goods nothing uses are set exactly first (``x_i = dinv_i b_i``), the
            directions are zero on them, and every product of a direction skips their
            columns; the first residual's reads only the rows with entries in their columns
            where the start is zero on the other goods
            (:meth:`~planner.leontief.core.CoreProduct.tail`). The residual that decides
            convergence near the target is ``b - x + A @ x`` with a full product, summed as
            :func:`~planner.leontief.relative_residual` sums it: where a row's terms cancel
            (amounts of 1e9 in a good whose demand is 1e-3), evaluations in another order
            differ by an ulp of the production, far above the target, and GMRES, restarted
            from the residual it is judged by, settles where that residual is met.

    Returns:
        A :class:`GMRESResult`.
    """
    with _blas().limit(limits=1, user_api="blas"):
        return _gmres(A, b, x0, dinv, tol=tol, restart=restart, maxiter=maxiter, true_residual=true_residual,
                      terms=terms, core=core)


@functools.cache
def _blas() -> ThreadpoolController:
    """The process's BLAS thread pools. Gram-Schmidt runs on one thread: its products of the
    basis with a vector are too short for a second thread to pay, and on a busy machine its
    waiting costs more (measured on 110k cyclic goods under a load of 5: the solve took 22
    products' time on one thread, 44 on two; on 1.1M goods 21.8 and 23.8)."""
    return ThreadpoolController()


def _gmres(
    A: Matrix | RowBlocked, b: np.ndarray, x0: np.ndarray | None, dinv: np.ndarray, *, tol: float, restart: int,
    maxiter: int,
    true_residual: bool, terms: int, core: CoreProduct | None,
) -> GMRESResult:
    """:func:`gmres_jacobi`'s cycles."""
    n = b.shape[0]
    target = tol * norm(b)
    x = np.zeros(n) if x0 is None else np.array(x0, dtype=np.float64)
    product: Callable[[np.ndarray], np.ndarray] = A.__matmul__ if core is None else core
    if core is not None:  # the goods nothing uses: exact at once; the directions leave them alone
        x[core.free] = dinv[core.free] * b[core.free]
        dinv = np.where(core.free, 0.0, dinv)
    start = x0 is not None or (core is not None and bool(x.any()))
    if not start:
        r = b.copy()
    elif core is not None and not x[: core.start].any():  # set on the goods nothing uses only
        r = b - x + core.tail(x)
    else:
        r = b - x + A @ x
    products = int(start)
    beta = norm(r)
    m = max(1, min(restart, n))
    arnoldi = _Arnoldi(m, n, flexible=terms > 1)
    for _ in range(maxiter):
        if beta <= target:
            break
        arnoldi.start(r, beta)
        k, estimate, t = 0, beta, terms
        for j in range(m):
            z = _precondition(product, arnoldi.V[j], dinv, t)
            if arnoldi.Z is not None:
                arnoldi.Z[j] = z
            previous, estimate = estimate, arnoldi.step(j, z - product(z))
            products += t
            if estimate < 0.0:  # the direction adds nothing: solve with the ones before
                break
            k = j + 1
            if estimate <= target:
                break
            # a last direction of one product where that product is predicted to reach the target
            t = 1 if estimate * (estimate / previous) ** (1.0 / t) <= target else terms
        if k == 0:
            break
        step, y = arnoldi.update(k)
        x += dinv * step if arnoldi.Z is None else y @ arnoldi.Z[:k]
        if not true_residual and estimate <= target:
            return GMRESResult(x, products, estimate, True, None)
        r = arnoldi.residual(k, y, beta)
        beta = norm(r)
        if beta <= target < beta + _rounding(A, x):  # too close to call: a full product decides
            r = b - x + A @ x
            products += 1
            beta = norm(r)
    return GMRESResult(x, products, beta, bool(beta <= target), r)


def _precondition(product: Callable[[np.ndarray], np.ndarray], v: np.ndarray, dinv: np.ndarray,
                  terms: int) -> np.ndarray:
    """``(I + N + ... + N^(terms - 1)) diag(dinv) v`` with ``N = I - diag(dinv) (I - A)``, by
    Horner's rule: ``u <- z + N u`` from ``u = z = dinv v`` (``terms - 1`` products ``A @ u``)."""
    z = dinv * v
    u = z
    for _ in range(terms - 1):
        u = z + u - dinv * (u - product(u))
    return u


def _rounding(A: Matrix | RowBlocked, x: np.ndarray) -> float:
    """How far the residual from the Arnoldi relation may lie from ``b - x + A @ x`` evaluated
    directly: both round the products, each row's sum of ``k`` terms of size about ``|x|``
    to about ``sqrt(k) eps ||x||`` (measured: 4e-12 ``||d||`` on 110k cyclic goods whose
    production is 9000 ``||d||``; this bound gives 3.2e-11 there)."""
    if isinstance(A, RowBlocked):
        A = A.A
    k = int(np.diff(A.indptr).max(initial=1)) if sp.issparse(A) else A.shape[1]
    return ROUNDING_SAFETY * np.finfo(np.float64).eps * math.sqrt(max(k, 1)) * norm(x)


def solve_krylov(
    A: Matrix,
    d: np.ndarray,
    *,
    tol: float = 1e-10,
    solver: str = "gmres",
    restart: int = 30,
    maxiter: int | None = None,
    diagonal: np.ndarray | None = None,
    terms: int = 2,
    core: bool = True,
    uses: np.ndarray | None = None,
) -> MethodOutput:
    """Solve ``(I - A) x = d`` with a Jacobi-preconditioned Krylov method.

    ``I - A`` is applied matrix-free (``v - A @ v``: one sparse product per iteration, no copy
    of ``A``). The preconditioner is ``diag(I - A)^{-1}``, and the iteration starts from its
    Jacobi step ``x_0 = diag(I - A)^{-1} d``. Starting from ``x_0 = 0`` would make BiCGSTAB
    break down exactly on OLIN-EP economies, where ``d`` is non-zero only on profile rows; from
    ``x_0`` the profile rows (empty rows of ``A``) are already exact. GMRES from 0 needs as
    many products but one more direction: on a million goods its orthogonalisation against the
    longer basis costs more than the first residual's product.

    The sparse products run in row blocks over threads (:mod:`~planner.parallel_product`; the
    same result to the bit): ``$INNATURA_THREADS`` or the usable cores, or the threads of a
    :class:`~planner.parallel_product.RowBlocked` ``A``.

    Args:
        A: coefficient matrix (dense or sparse), or the :class:`~planner.parallel_product.RowBlocked`
            product of a CSR matrix (:func:`~planner.parallel_product.row_blocked` with ``threads``).
        d: right-hand side, ``(n,)`` or ``(n, k)`` (columns solved one after another).
        tol: relative residual ``||(I - A) x - d|| / ||d||`` to reach.
        solver: ``"gmres"`` (:func:`gmres_jacobi`, restarted every ``restart`` iterations) or
            ``"bicgstab"`` (scipy's).
        restart: GMRES restart length.
        maxiter: GMRES restart cycles (default 50), or BiCGSTAB iterations (default 1000).
        diagonal: the diagonal of ``A`` when the caller knows it already.
        terms: GMRES's preconditioner, ``terms`` terms of the Jacobi splitting's Neumann
            series (:func:`gmres_jacobi`). Measured on cyclic economies: with 2 the same
            products as with 1 (11 on 5.7k goods, 19 on 1.1M) in half the directions, so
            Gram-Schmidt, which grows with their square, costs about a third.
        core: GMRES's products skip the columns of the goods nothing uses where that pays
            (:func:`~planner.leontief.core.core_product`; measured on 1.1M cyclic goods, whose
            profile columns hold a quarter of the entries: the solve in 18.9 matvec-times instead of
            27.3, medians of three interleaved rounds in one process).
        uses: the rows of ``A`` with an off-diagonal entry, when the caller knows them.

    Returns:
        ``MethodOutput``; ``iterations`` counts products with ``A`` for GMRES (residual checks
        included) and iterations (two products each) for BiCGSTAB, summed over columns.

    Raises:
        InvalidInputError: on an unknown ``solver`` or a diagonal coefficient equal to 1.
    """
    if solver not in KRYLOV_SOLVERS:
        raise InvalidInputError(f"solver: unknown Krylov solver {solver!r}; valid: {', '.join(KRYLOV_SOLVERS)}")
    if isinstance(terms, bool) or not isinstance(terms, (int, np.integer)) or terms < 1:
        raise InvalidInputError(f"terms: expected a positive integer, got {terms!r}")
    if isinstance(A, RowBlocked):
        matvec, A = A, A.A
    else:
        matvec = product_of(A)
    n = A.shape[0]
    diag = _diag(A) if diagonal is None else diagonal
    dinv_src = 1.0 - diag
    if np.any(dinv_src == 0):
        i = int(np.nonzero(dinv_src == 0)[0][0])
        raise InvalidInputError(f"A: I - A is singular: the diagonal coefficient A[{i}, {i}] equals 1")
    dinv = 1.0 / dinv_src
    threads = matvec.threads if isinstance(matvec, RowBlocked) else 1
    core_op = core_product(A, diag, in_s=uses, threads=threads) if core and solver == "gmres" else None
    if maxiter is None:
        maxiter = 50 if solver == "gmres" else 1000
    cols = d[:, None] if d.ndim == 1 else d
    out = np.empty(cols.shape)
    total = 0
    ok = True
    worst: float | None = 0.0
    for c in range(cols.shape[1]):
        b = np.ascontiguousarray(cols[:, c])
        if solver == "gmres":
            x, count, rnorm, conv, _ = gmres_jacobi(matvec, b, dinv * b, dinv, tol=tol, restart=restart,
                                                    maxiter=maxiter, terms=int(terms), core=core_op)
            bnorm = norm(b)
            rel = rnorm / bnorm if bnorm > 0 else rnorm
            worst = None if worst is None else max(worst, rel)
        else:
            op = LinearOperator((n, n), matvec=lambda v: v.ravel() - matvec(v.ravel()), dtype=np.float64)
            M = LinearOperator((n, n), matvec=lambda v: dinv * v.ravel(), dtype=np.float64)
            counter = [0]

            def tick(_x: np.ndarray, counter: list[int] = counter) -> None:
                counter[0] += 1

            x, info = bicgstab(op, b, x0=dinv * b, rtol=tol, atol=0.0, maxiter=maxiter, M=M, callback=tick)
            count, conv = counter[0], info == 0
            worst = None
            if info != 0:
                logger.info("bicgstab stopped with info=%d after %d iterations", info, count)
        ok &= conv
        total += count
        out[:, c] = x
    return MethodOutput(out[:, 0] if d.ndim == 1 else out, total, bool(ok), worst)
