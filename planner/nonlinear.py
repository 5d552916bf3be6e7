"""The nonlinear input-output system ``(I - F(x)) x = d`` (OLIN-EP Eq. 3).

Coefficients may be curves ``f_ij(x_j)`` of the column good's output (Eq. 4). Two solvers:

- ``"fixed-point"``: Lahiri's recursion as the paper uses it, each step a *linear* Leontief
  solve with the coefficients frozen at the current iterate, damped:
  ``x <- (1 - w) x + w (I - F(x))^{-1} d``.
- ``"newton-krylov"``: Newton's method on ``G(x) = (I - F(x)) x - d`` with the Jacobian
  ``J = I - F(x) - F'(x) diag(x)`` (``F'`` the elementwise derivative of the curve cells;
  the paper's gradient of the MSE, Section 3.2), each step solved by Jacobi-preconditioned
  GMRES on the sparse Jacobian, with a backtracking line search on ``||G||``.

Both work on the full square system of goods *and* profiles, as the paper does: profile
columns are the bundles and ``d`` is the population on the profile rows
(:func:`economy_system`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from innatura.planner.curves import CurveMatrix
from innatura.planner.economy import CurveCell, Economy
from innatura.planner.errors import ConvergenceError, InvalidInputError, NonProductiveError
from innatura.planner.leontief import check_productive as _leontief_check_productive
from innatura.planner.leontief import solve_io, validate_coefficients

__all__ = [
    "CurveMatrix",
    "IOSystem",
    "NonlinearIOSolution",
    "check_productive",
    "economy_system",
    "solve_nonlinear_io",
    "system_labels",
]

logger = logging.getLogger(__name__)

METHODS = ("fixed-point", "newton-krylov")


class IOSystem(NamedTuple):
    """A square IO system: constant coefficients, curve cells and final demand."""

    coefficients: sp.csr_matrix
    curves: tuple[CurveCell, ...]
    demand: np.ndarray


@dataclass(frozen=True)
class NonlinearIOSolution:
    """Result of :func:`solve_nonlinear_io`.

    Attributes:
        x: activity levels, shape ``(N,)`` (goods first, then profiles for an economy system).
        method: the method that ran.
        iterations: outer iterations performed (fixed-point steps or Newton steps).
        residual: final relative residual ``||(I - F(x)) x - d|| / ||d||``.
        residual_history: relative residual at every iterate, starting point included.
        converged: whether ``residual <= tol``.
        linear_solves: linear systems solved (Leontief solves or GMRES calls).
    """

    x: np.ndarray
    method: str
    iterations: int
    residual: float
    residual_history: tuple[float, ...]
    converged: bool
    linear_solves: int = 0


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


def check_productive(F: sp.spmatrix, names: Sequence[str] | None = None, *, where: str = "") -> None:
    """Raise :class:`NonProductiveError` unless ``rho(F) < 1`` (``F`` at some iterate).

    Uses :func:`planner.leontief.check_productive`, which names the goods of every strongly
    connected block whose spectral radius is ``>= 1``; ``where`` is added to the message.
    """
    try:
        _leontief_check_productive(validate_coefficients(F, names), names)
    except NonProductiveError as exc:
        raise NonProductiveError(
            f"F(x){where}: {exc}", goods=exc.goods, spectral_radius=exc.spectral_radius
        ) from exc


def _prepare(system, d, names) -> tuple[CurveMatrix, np.ndarray, tuple[str, ...] | None]:
    if isinstance(system, Economy):
        A, curves, d_sys = economy_system(system)
        names = system_labels(system) if names is None else names
        d = d_sys if d is None else d
    else:
        try:
            A, curves = system
        except (TypeError, ValueError):
            raise InvalidInputError(
                "system: expected an Economy or a pair (constant coefficients, curve cells)"
            ) from None
        if d is None:
            raise InvalidInputError("d: final demand is required when the system is not an Economy")
    cm = CurveMatrix(A, curves)
    d = np.asarray(d, dtype=float)
    if d.shape != (cm.shape[0],):
        raise InvalidInputError(f"d: shape {d.shape}, expected {(cm.shape[0],)}")
    if not np.all(np.isfinite(d)) or (d < 0).any():
        raise InvalidInputError("d: final demand must be finite and non-negative")
    if names is not None and len(names) != cm.shape[0]:
        raise InvalidInputError(f"names: {len(names)} names for {cm.shape[0]} rows")
    return cm, d, (tuple(names) if names is not None else None)


def _linear_solve(F: sp.csr_matrix, d: np.ndarray, names, k: int) -> np.ndarray:
    """One Leontief solve with the coefficients frozen at iterate ``k`` (productivity checked)."""
    try:
        sol = solve_io(F, d, names=names)
    except NonProductiveError as exc:
        raise NonProductiveError(
            f"F(x) at iterate {k}: {exc}", goods=exc.goods, spectral_radius=exc.spectral_radius
        ) from exc
    return np.asarray(sol.x, dtype=float)


def _relres(cm: CurveMatrix, x: np.ndarray, d: np.ndarray, dn: float) -> tuple[sp.csr_matrix, np.ndarray, float]:
    F = cm.at(x)
    G = x - F @ x - d
    return F, G, float(np.linalg.norm(G) / dn)


def _diverging(hist: list[float]) -> bool:
    r = hist[-1]
    if not np.isfinite(r):
        return True
    if len(hist) < 6:
        return False
    last = hist[-6:]
    return all(b > a for a, b in zip(last, last[1:])) and r > 1e3 * min(hist)


def solve_nonlinear_io(
    system,
    d: np.ndarray | None = None,
    method: str | None = None,
    *,
    x0: np.ndarray | None = None,
    tol: float = 1e-10,
    max_iter: int = 200,
    damping: float = 1.0,
    names: Sequence[str] | None = None,
    raise_on_failure: bool = True,
) -> NonlinearIOSolution:
    """Solve ``(I - F(x)) x = d`` (OLIN-EP Eq. 3) with coefficient curves ``F`` (Eq. 4).

    Args:
        system: an :class:`~planner.economy.Economy` (solved as its full goods + profiles
            system, :func:`economy_system`) or a pair ``(A_const, curve_cells)``.
        d: final demand, shape ``(N,)``; defaults to the economy's populations.
        method: ``"fixed-point"`` (damped Lahiri recursion of linear solves),
            ``"newton-krylov"``, or ``None``: one linear solve when there are no curves,
            Newton-Krylov otherwise.
        x0: starting point; default ``d`` for the fixed point, one fixed-point step from
            ``d`` for Newton.
        tol: target relative residual ``||(I - F(x)) x - d|| / ||d||``.
        max_iter: outer iterations allowed.
        damping: fixed-point weight ``w`` in ``(0, 1]``.
        names: row names for error messages (taken from the economy when one is given).
        raise_on_failure: raise :class:`ConvergenceError` when ``tol`` is not reached;
            otherwise return the last iterate with ``converged=False``.

    Returns:
        :class:`NonlinearIOSolution`.

    Raises:
        NonProductiveError: ``F(x)`` at an iterate (or at the solution) is not productive.
        ConvergenceError: the residual grows (divergence) or ``max_iter`` is reached.
        InvalidInputError: malformed arguments.
    """
    cm, d, names = _prepare(system, d, names)
    if method is None:
        method = "newton-krylov" if cm.curves else "fixed-point"
    if method not in METHODS:
        raise InvalidInputError(f"method: {method!r}; expected one of {METHODS} or None")
    if not (0 < damping <= 1):
        raise InvalidInputError(f"damping: must be in (0, 1], got {damping!r}")
    if not (tol > 0) or max_iter < 1:
        raise InvalidInputError(f"tol and max_iter must be positive, got tol={tol!r}, max_iter={max_iter!r}")
    dn = max(float(np.linalg.norm(d)), np.finfo(float).tiny)
    if x0 is not None:
        x0 = np.asarray(x0, dtype=float)
        if x0.shape != d.shape or not np.all(np.isfinite(x0)):
            raise InvalidInputError(f"x0: expected {d.shape[0]} finite values")
    if method == "fixed-point":
        sol = _fixed_point(cm, d, dn, x0, tol, max_iter, damping, names)
    else:
        sol = _newton_krylov(cm, d, dn, x0, tol, max_iter, names)
    if sol.converged:
        check_productive(cm.at(sol.x), names, where=" at the solution")
    elif raise_on_failure:
        raise ConvergenceError(
            f"{sol.method}: relative residual {sol.residual:.3e} > tol {tol:.1e} after {sol.iterations} iterations",
            iterations=sol.iterations,
            residual=sol.residual,
        )
    logger.debug("%s: %d iterations, residual %.3e", sol.method, sol.iterations, sol.residual)
    return sol


def _fixed_point(cm, d, dn, x0, tol, max_iter, w, names) -> NonlinearIOSolution:
    x = d.copy() if x0 is None else x0.copy()
    hist: list[float] = []
    solves = 0
    for k in range(max_iter + 1):
        F, _, r = _relres(cm, x, d, dn)
        hist.append(r)
        if r <= tol:
            return NonlinearIOSolution(x, "fixed-point", k, r, tuple(hist), True, solves)
        if _diverging(hist):
            raise ConvergenceError(
                f"fixed-point: diverging, relative residual {r:.3e} after {k} iterations "
                f"(started at {hist[0]:.3e}); try damping < 1 or method='newton-krylov'",
                iterations=k,
                residual=r,
            )
        if k == max_iter:
            break
        y = _linear_solve(F, d, names, k)
        solves += 1
        x = y if w == 1.0 else (1.0 - w) * x + w * y
    return NonlinearIOSolution(x, "fixed-point", max_iter, hist[-1], tuple(hist), False, solves)


def _newton_krylov(cm, d, dn, x0, tol, max_iter, names) -> NonlinearIOSolution:
    N = d.shape[0]
    solves = 0
    if x0 is None:
        x = _linear_solve(cm.at(d), d, names, 0)
        solves += 1
    else:
        x = x0.copy()
    eye = sp.identity(N, format="csr")
    F, G, r = _relres(cm, x, d, dn)
    hist = [r]
    for k in range(max_iter):
        if r <= tol:
            return NonlinearIOSolution(x, "newton-krylov", k, r, tuple(hist), True, solves)
        J = (eye - F - cm.jacobian_term(x)).tocsr()
        diag = J.diagonal()
        diag = np.where(np.abs(diag) > 1e-300, diag, 1.0)
        M = spla.LinearOperator((N, N), matvec=lambda v, s=diag: v / s, dtype=float)
        eta = min(0.1, max(r, 1e-13))
        delta, info = spla.gmres(J, -G, rtol=eta, atol=0.0, restart=min(N, 50), maxiter=max(10, N), M=M)
        solves += 1
        if not np.all(np.isfinite(delta)):
            raise ConvergenceError(f"newton-krylov: GMRES failed at iteration {k}", iterations=k, residual=r)
        alpha, accepted = 1.0, False
        for _ in range(40):
            x_try = x + alpha * delta
            F_try, G_try, r_try = _relres(cm, x_try, d, dn)
            if np.isfinite(r_try) and r_try <= (1.0 - 1e-4 * alpha) * r:
                accepted = True
                break
            alpha *= 0.5
        if not accepted:
            if r <= 10 * tol and info == 0:
                break  # stagnated at rounding level just above tol: report honestly below
            raise ConvergenceError(
                f"newton-krylov: line search failed at iteration {k} (relative residual {r:.3e}); "
                "the Jacobian may be singular or the curves non-smooth; try method='fixed-point'",
                iterations=k,
                residual=r,
            )
        x, F, G, r = x_try, F_try, G_try, r_try
        hist.append(r)
    converged = r <= tol
    return NonlinearIOSolution(x, "newton-krylov", len(hist) - 1, r, tuple(hist), converged, solves)
