"""The nonlinear input-output system ``(I - F(x)) x = d`` (OLIN-EP Eq. 3).

Coefficients may be curves ``f_ij(x_j)`` of the column good's output (Eq. 4). Front door:
:func:`solve_nonlinear_io` with ``method=``. One module per method:

- :mod:`.newton` (``"newton-krylov"``): inexact Newton's method on
  ``G(x) = (I - F(x)) x - d`` with the Jacobian ``J = I - F(x) - F'(x) diag(x)`` assembled in
  place and GMRES to forcing tolerances, with a backtracking line search.
- :mod:`.fixed_point` (``"fixed-point"``): Lahiri's recursion as the paper uses it, each step a
  *linear* Leontief solve with the coefficients frozen at the current iterate, damped.

Both work on the full square system of goods *and* profiles, as the paper does: profile
columns are the bundles and ``d`` is the population on the profile rows
(:func:`~.system.economy_system`). The curve cells are evaluated all at once from arrays
(:class:`~planner.curves.CurveStore`); :mod:`.system` holds the system.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
from innatura.planner.curves import CurveMatrix, CurveStore
from innatura.planner.economy import CurveCell, Economy
from innatura.planner.errors import ConvergenceError, InvalidInputError
from innatura.planner.leontief.result import Matrix
from innatura.planner.nonlinear.fixed_point import fixed_point
from innatura.planner.nonlinear.newton import newton_krylov
from innatura.planner.nonlinear.result import NonlinearIOSolution
from innatura.planner.nonlinear.system import (
    CurveSystem,
    IOSystem,
    check_productive,
    economy_system,
    prepare_system,
    system_labels,
)

__all__ = [
    "METHODS",
    "CurveMatrix",
    "CurveSystem",
    "IOSystem",
    "NonlinearIOSolution",
    "check_productive",
    "economy_system",
    "solve_nonlinear_io",
    "system_labels",
]

logger = logging.getLogger(__name__)

#: the method names :func:`solve_nonlinear_io` accepts
METHODS: tuple[str, ...] = ("fixed-point", "newton-krylov")


def _check_arguments(method: str | None, tol: float, max_iter: int, damping: float) -> None:
    if method is not None and method not in METHODS:
        raise InvalidInputError(f"method: {method!r}; expected one of {METHODS} or None")
    if not (0 < damping <= 1):
        raise InvalidInputError(f"damping: must be in (0, 1], got {damping!r}")
    if not (tol > 0) or max_iter < 1:
        raise InvalidInputError(f"tol and max_iter must be positive, got tol={tol!r}, max_iter={max_iter!r}")


def solve_nonlinear_io(
    system: Economy | tuple[Matrix, Sequence[CurveCell] | CurveStore],
    d: np.ndarray | None = None,
    method: str | None = None,
    *,
    x0: np.ndarray | None = None,
    tol: float = 1e-10,
    max_iter: int = 200,
    damping: float = 1.0,
    names: Sequence[str] | None = None,
    raise_on_failure: bool = True,
    threads: int | None = None,
) -> NonlinearIOSolution:
    """Solve ``(I - F(x)) x = d`` (OLIN-EP Eq. 3) with coefficient curves ``F`` (Eq. 4).

    Args:
        system: an :class:`~planner.economy.Economy` (solved as its full goods + profiles
            system, :func:`economy_system`) or a pair ``(A_const, curves)``: constant
            coefficients and the curve cells, or a :class:`~planner.curves.CurveStore` of them
            (for instance built from arrays with :meth:`~planner.curves.CurveStore.from_power_units`).
        d: final demand, shape ``(N,)``; defaults to the economy's populations.
        method: ``"newton-krylov"``, ``"fixed-point"`` (damped Lahiri recursion of linear
            solves), or ``None``: one linear solve when there are no curves, Newton-Krylov
            otherwise (several times faster than the recursion on large economies, and it
            converges where the recursion oscillates).
        x0: starting point; default ``d`` (Newton's first step is then a Leontief solve at
            ``F(d)``).
        tol: target relative residual ``||(I - F(x)) x - d|| / ||d||``.
        max_iter: outer iterations allowed.
        damping: fixed-point weight ``w`` in ``(0, 1]``.
        names: row names for error messages (taken from the economy when one is given).
        raise_on_failure: raise :class:`ConvergenceError` when ``tol`` is not reached;
            otherwise return the last iterate with ``converged=False``.
        threads: threads of the sparse products (:mod:`~planner.parallel_product`: row blocks,
            the same result to the bit; default ``$INNATURA_THREADS`` or the usable cores).

    Returns:
        :class:`NonlinearIOSolution`.

    Raises:
        NonProductiveError: ``F(x)`` at an iterate (fixed point) or at the solution is not
            productive; the error names the goods.
        ConvergenceError: the residual grows (divergence) or ``max_iter`` is reached.
        InvalidInputError: malformed arguments, or a curve gives a negative or non-finite
            coefficient.
    """
    _check_arguments(method, tol, max_iter, damping)
    cs = prepare_system(system, d, names, threads)
    if method is None:
        method = "newton-krylov" if cs.n_curves else "fixed-point"
    if x0 is not None:
        x0 = np.asarray(x0, dtype=float)
        if x0.shape != cs.d.shape or not np.all(np.isfinite(x0)):
            raise InvalidInputError(f"x0: expected {cs.d.shape[0]} finite values")
    if method == "fixed-point":
        sol = fixed_point(cs, x0, tol, max_iter, damping)
    else:
        sol = newton_krylov(cs, x0, tol, max_iter)
    if sol.converged:
        cs.check_solution(sol.x)
    elif raise_on_failure:
        raise ConvergenceError(
            f"{sol.method}: relative residual {sol.residual:.3e} > tol {tol:.1e} after {sol.iterations} iterations",
            iterations=sol.iterations,
            residual=sol.residual,
        )
    logger.debug("%s: %d iterations, residual %.3e", sol.method, sol.iterations, sol.residual)
    return sol
