"""OLIN-EP Fig. 3's plan as the authors' code computes it: the 8 x 8 matrix, the Vorpal Pick
curve, the three fixed-point solves of ``(I - A(x)) x = d / mu`` (Eq. 3 scaled) and the
smallest ``mu`` whose plan fits the opening stocks (see :mod:`innatura.planner.olin_paper`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "BOOKED",
    "CITIZENS",
    "CURVE_CELL",
    "EXCESS_TOLERANCE",
    "FIXED_POINT_SOLVES",
    "GOODS",
    "LOSS_FACTOR",
    "LOSS_PROBABILITY",
    "MU_BOUNDS",
    "N_GOODS",
    "OPENING_STOCKS",
    "PROFILES",
    "SYSTEM",
    "THRESHOLD",
    "paper_matrix",
    "paper_plan",
    "smallest_mu",
    "vorpal_curve",
]

#: the six goods, in the code's row order (index 0 Lucloelium, 1 Vorpal Pick +1).
GOODS = ("Lucloelium", "Vorpal Pick +1", "T-ring", "Lb(Lucloelium)", "Lb(Vorpal Pick +1)", "Lb(T-ring)")
#: the two profile columns (rows 6 and 7 of the system).
PROFILES = ("Profile 0", "Profile 1")
#: citizens on each profile: the final demand on the profile rows.
CITIZENS = (800.0, 500.0)
#: opening stocks of the six goods (Table 1); only the first two ever change.
OPENING_STOCKS = (2.0, 5.0, 100000.0, 100000.0, 700000.0, 700000.0)
#: bounds of the scalar ``mu`` (the demand divisor).
MU_BOUNDS = (1.0, 1e4)
#: total excess of output over the opening stocks that the code's search still accepts.
EXCESS_TOLERANCE = 1e-5
#: fixed-point solves of ``(I - A(x)) x = d / mu`` for the curve.
FIXED_POINT_SOLVES = 3
#: per-tick probability that the booked stocks are hit by a loss (Fig. 3b).
LOSS_PROBABILITY = 0.1
#: what a loss leaves of both booked stocks.
LOSS_FACTOR = 0.8
#: the run stops once humanity exceeds this.
THRESHOLD = 0.999

#: goods in the system (its last two rows are the profiles)
N_GOODS = len(GOODS)
#: the one cell with a curve: Vorpal Pick +1 per Vorpal Pick +1
CURVE_CELL = (1, 1)
#: the two booked stocks: Lucloelium, Vorpal Pick +1
BOOKED = (0, 1)
_LOG_TOL = 1e-10  # width of the final bracket on log(mu)
_SECTIONS = 7  # interior points per round of the multi-point bisection

# Orders 1..1999 and the code's Vorpal Pick use per pick at each: factory 1 takes orders up to
# 500 (3 picks per 1000), factory 2 the next 500 (5 per 1000), factory 3 the rest (1 per 1000).
_ORDERS = np.arange(1.0, 2000.0)
_PICKS_PER_PICK = (3.0 * np.minimum(_ORDERS, 500.0) + 5.0 * np.clip(_ORDERS - 500.0, 0.0, 500.0)
                   + np.maximum(_ORDERS - 1000.0, 0.0)) / 1000.0 / _ORDERS


def vorpal_curve(output) -> np.ndarray:  # noqa: ANN001
    """Vorpal Pick +1 needed per Vorpal Pick +1 at total output ``q`` (the code's ``f_11``).

    The code fits an interpolating linear spline (degree 1, no smoothing) through the per-unit
    use of the three stacked factories at the integer orders 1..1999 (OLIN-EP Fig. 2b) and
    evaluates it anywhere, extrapolating the end segments linearly. This is that spline:
    0.003 up to 500 picks, ``0.005 - 1/q`` up to 1000, ``0.001 + 3/q`` beyond.

    Args:
        output: total Vorpal Pick output ``q``, any shape.

    Returns:
        the coefficient, same shape as ``output``.
    """
    q = np.asarray(output, dtype=float)
    b = _PICKS_PER_PICK
    low = b[0] + (q - _ORDERS[0]) * (b[1] - b[0])
    high = b[-1] + (q - _ORDERS[-1]) * (b[-1] - b[-2])
    return np.where(q < _ORDERS[0], low, np.where(q > _ORDERS[-1], high, np.interp(q, _ORDERS, b)))


def paper_matrix() -> tuple[np.ndarray, np.ndarray]:
    """The code's 8 x 8 Selviaria system: constant coefficients ``A`` and final demand ``d``.

    Rows and columns: :data:`GOODS` then :data:`PROFILES`. The curve cell ``(1, 1)`` holds 0
    here; :func:`vorpal_curve` fills it during a solve.

    Returns:
        ``(A, d)``, shapes ``(8, 8)`` and ``(8,)``.
    """
    A = np.zeros((N_GOODS + 2, N_GOODS + 2))
    A[0, :3] = (0.001, 0.07, 1.0)  # Lucloelium per Lucloelium, Vorpal Pick, T-ring
    A[1, 0] = 0.5  # Vorpal Pick per Lucloelium
    A[3, 0], A[4, 1], A[5, 2] = 0.001, 0.012, 0.001  # labour on its own good
    A[0, 6:] = (3.0, 2.0)  # Lucloelium per citizen of each profile
    A[2, 6:] = (0.1, 0.2)  # T-ring per citizen
    d = np.zeros(N_GOODS + 2)
    d[N_GOODS:] = CITIZENS
    return A, d


@dataclass(frozen=True)
class _RankOne:
    """``(I - A - c e_1 e_1^T)^{-1} d`` for any ``c`` by Sherman-Morrison on one inverse."""

    A: np.ndarray
    z: np.ndarray  # (I - A)^{-1} d
    w: np.ndarray  # (I - A)^{-1} e_r, r the curve cell's row

    @classmethod
    def build(cls) -> _RankOne:
        A, d = paper_matrix()
        inv = np.linalg.inv(np.eye(len(d)) - A)
        return cls(A, inv @ d, inv[:, CURVE_CELL[0]])

    def gain(self, c: np.ndarray) -> np.ndarray:
        """Sherman-Morrison weight of ``w`` in the solution for curve value ``c``."""
        k = CURVE_CELL[1]
        return c * self.z[k] / (1.0 - c * self.w[k])

    def solve(self, scale: np.ndarray, c: np.ndarray) -> np.ndarray:
        """``x`` with ``(I - A - c e_r e_k^T) x = scale d``; shapes ``(...)`` -> ``(..., 8)``."""
        return scale[..., None] * (self.z + self.gain(c)[..., None] * self.w)

    def solve_at(self, scale: np.ndarray, c: np.ndarray, i: int) -> np.ndarray:
        """Entry ``i`` of :meth:`solve` alone, shape ``(...)``."""
        return scale * (self.z[i] + self.gain(c) * self.w[i])

    def scale_bounds(self, stocks: np.ndarray, c_range: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
        """Scales below which every plan with ``c`` in ``c_range`` fits ``stocks`` ``(R, 6)``, and
        above which none fits even with the excess tolerance; both ``(R,)``."""
        v_lo, v_hi = (self.solve(np.ones(1), np.array([c]))[0, :N_GOODS] for c in c_range)
        with np.errstate(divide="ignore"):
            fits = np.min(np.where(v_hi > 0, stocks / v_hi, np.inf), axis=1)
            fails = np.min(np.where(v_lo > 0, (stocks + EXCESS_TOLERANCE) / v_lo, np.inf), axis=1)
        return fits, fails


SYSTEM = _RankOne.build()


def paper_plan(scale) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
    """The code's plan for demand ``scale * d``: three fixed-point solves for the curve.

    Starts from ``x = scale d + 0.001``; each solve sets the curve cell to
    ``vorpal_curve(x_1)`` at the current iterate and solves ``(I - A(x)) x = scale d``.

    Args:
        scale: ``1 / mu``, any shape ``S``.

    Returns:
        ``(x, c)``: the plan, shape ``S + (8,)``, and the curve value of the last solve, ``S``.
    """
    t = np.asarray(scale, dtype=float)
    x1 = np.full(t.shape, 0.001)  # the code starts from scale d + 0.001, and d_1 = 0
    for _ in range(FIXED_POINT_SOLVES - 1):
        x1 = SYSTEM.solve_at(t, vorpal_curve(x1), CURVE_CELL[1])
    c = vorpal_curve(x1)
    return SYSTEM.solve(t, c), c


def _feasible(scale: np.ndarray, stocks: np.ndarray) -> np.ndarray:
    """Whether the plan at ``scale`` ``(R, K)`` stays within ``stocks`` ``(R, 6)``."""
    x, _ = paper_plan(scale)
    excess = np.maximum(x[..., :N_GOODS] - stocks[:, None, :], 0.0).sum(axis=-1)
    return excess <= EXCESS_TOLERANCE


def smallest_mu(stocks) -> np.ndarray:  # noqa: ANN001
    """The smallest ``mu`` in :data:`MU_BOUNDS` whose plan keeps every good within its stock.

    "Within" is the code's test: the output's total excess over the six opening stocks is at
    most :data:`EXCESS_TOLERANCE`. ``mu`` is 1 if the full plan fits, the upper bound if not
    even that plan fits (the code then books it anyway), and otherwise the feasible end of a
    bracket ``(infeasible, feasible]`` on ``log mu`` narrowed below ``1e-10`` by rounds of
    seven interior points. The bracket starts from the plan's near-proportionality to
    ``1 / mu``: with the curve anywhere between 0 and its maximum, the scales that surely fit
    and surely fail bound the answer (and the search falls back to the whole range if a
    starting end does not fit).

    Args:
        stocks: opening stocks of the six goods, ``(R, 6)``.

    Returns:
        ``mu`` per run, ``(R,)``.
    """
    stocks = np.atleast_2d(np.asarray(stocks, dtype=float))
    lo_b, hi_b = math.log(MU_BOUNDS[0]), math.log(MU_BOUNDS[1])
    fits = _feasible(np.full((len(stocks), 1), 1.0 / MU_BOUNDS[0]), stocks)[:, 0]
    capped = ~_feasible(np.full((len(stocks), 1), 1.0 / MU_BOUNDS[1]), stocks)[:, 0]
    surely_fits, surely_fails = SYSTEM.scale_bounds(stocks, (0.0, float(_PICKS_PER_PICK.max())))
    with np.errstate(divide="ignore"):
        lo = np.clip(-np.log(surely_fails), lo_b, hi_b)
        hi = np.clip(-np.log(surely_fits), lo_b, hi_b)
    open_ = ~fits & ~capped
    bad = open_ & ~_feasible(np.exp(-hi)[:, None], stocks)[:, 0]
    lo[bad], hi[bad] = lo_b, hi_b
    steps = np.arange(1, _SECTIONS + 1) / (_SECTIONS + 1)
    while open_.any():
        idx = np.flatnonzero(open_)
        grid = lo[idx, None] + (hi[idx] - lo[idx])[:, None] * steps
        ok = _feasible(np.exp(-grid), stocks[idx])
        first = np.where(ok.any(axis=1), ok.argmax(axis=1), _SECTIONS)
        rows = np.arange(len(idx))
        hi[idx] = np.where(first < _SECTIONS, grid[rows, np.minimum(first, _SECTIONS - 1)], hi[idx])
        lo[idx] = np.where(first > 0, grid[rows, np.maximum(first - 1, 0)], lo[idx])
        open_[idx] = hi[idx] - lo[idx] > _LOG_TOL
    return np.where(fits, MU_BOUNDS[0], np.where(capped, MU_BOUNDS[1], np.exp(hi)))
