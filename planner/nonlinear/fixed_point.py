"""Lahiri's recursion for ``(I - F(x)) x = d`` (OLIN-EP Eq. 3), as the paper uses it.

Each step is a *linear* Leontief solve with the coefficients frozen at the current iterate,
damped: ``x <- (1 - w) x + w (I - F(x))^{-1} d``. Every step proves ``F(x)`` productive first
(:func:`planner.leontief.solve_io`), so an iteration that pushes a coefficient past what the
economy can bear stops with the goods responsible named.
"""

from __future__ import annotations

import logging
from itertools import pairwise

import numpy as np
from innatura.planner.errors import ConvergenceError, NonProductiveError
from innatura.planner.leontief import solve_io
from innatura.planner.nonlinear.result import NonlinearIOSolution
from innatura.planner.nonlinear.system import CurveSystem

__all__ = ["fixed_point", "is_diverging"]

logger = logging.getLogger(__name__)

#: the residual counts as diverging after this many increases in a row, once it is this many
#: times its smallest value so far
DIVERGING_RUN = 5
DIVERGING_FACTOR = 1e3


def is_diverging(history: list[float]) -> bool:
    """Whether a residual history diverges: not finite, or rising :data:`DIVERGING_RUN` times in
    a row to more than :data:`DIVERGING_FACTOR` times its best."""
    r = history[-1]
    if not np.isfinite(r):
        return True
    if len(history) <= DIVERGING_RUN:
        return False
    last = history[-(DIVERGING_RUN + 1) :]
    rising = all(b > a for a, b in pairwise(last))
    return rising and r > DIVERGING_FACTOR * min(history)


def fixed_point(cs: CurveSystem, x0: np.ndarray | None, tol: float, max_iter: int, w: float) -> NonlinearIOSolution:
    """Damped fixed point from ``x0`` (default ``d``) with weight ``w`` in ``(0, 1]``.

    Raises:
        NonProductiveError: ``F(x)`` at an iterate is not productive.
        ConvergenceError: the residual diverges.
    """
    x = cs.d.copy() if x0 is None else x0.copy()
    hist: list[float] = []
    solves = 0
    for k in range(max_iter + 1):
        _, r = cs.residual(x)  # leaves F(x) in the working matrix
        hist.append(r)
        if r <= tol:
            return NonlinearIOSolution(x, "fixed-point", k, r, tuple(hist), True, solves, cs.products)
        if is_diverging(hist):
            raise ConvergenceError(
                f"fixed-point: diverging, relative residual {r:.3e} after {k} iterations "
                f"(started at {hist[0]:.3e}); try damping < 1 or method='newton-krylov'",
                iterations=k,
                residual=r,
            )
        if k == max_iter:
            break
        try:
            sol = solve_io(cs.matrix, cs.d, names=cs.names, threads=cs.threads)
        except NonProductiveError as exc:
            raise NonProductiveError(
                f"F(x) at iterate {k}: {exc}", goods=exc.goods, spectral_radius=exc.spectral_radius
            ) from exc
        solves += 1
        cs.products += sol.iterations
        y = np.asarray(sol.x, dtype=float)
        x = y if w == 1.0 else (1.0 - w) * x + w * y
    return NonlinearIOSolution(x, "fixed-point", max_iter, hist[-1], tuple(hist), False, solves, cs.products)
