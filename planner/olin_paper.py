"""OLIN-EP Fig. 3 as the authors' public code computes it: the *paper's dynamics*.

This module reproduces, as pure numerics, the simulation behind Fig. 3 of *Open Loop In
Natura Economic Planning* (the alien village Selviaria under investment shares 0.51 to
0.60). It is a labelled reproduction of a published computation, beside innatura's own
model, and it **does not conserve goods**: the stocks are booked by the paper's rule, not by
a stock-flow balance, so it is exempt from the invariants of ``docs/model.md`` and must not
be read as a simulation of an economy that could exist. ``docs/fig3.md`` sets it beside the
conserving agent model.

The computation, as the code has it:

* **Matrix.** 8 x 8: six goods (Lucloelium, Vorpal Pick +1, T-ring and their three labour
  rows) and two profile columns; final demand is zero on the goods and 800 / 500 (citizens)
  on the profile rows. Column ``j`` says what one unit of ``j`` needs (Table 1): Lucloelium
  (0.001, 0.07, 1) over Lucloelium, Vorpal Pick, T-ring; Vorpal Pick 0.5 per Lucloelium;
  labour 0.001 / 0.012 / 0.001 on its own good; the profiles (3, 0.1) and (2, 0.2) of
  (Lucloelium, T-ring) per citizen.
* **Curve.** One coefficient curve, Vorpal Pick per Vorpal Pick (:func:`vorpal_curve`),
  written to Vorpal Pick's own cell ``(1, 1)``. The code fits two curves but writes both to
  that cell, the Vorpal one last, so the Lucloelium curve is never used and Lucloelium per
  Vorpal Pick stays the constant 0.07.
* **Plan** (Eq. 3 scaled): ``x = (I - A(x))^{-1} d / mu``, with three fixed-point solves
  for the curve from ``d / mu + 0.001``, and ``mu`` in ``[1, 1e4]`` the smallest value whose
  plan keeps every good's output within its own opening stock (total excess at most
  :data:`EXCESS_TOLERANCE`). Humanity (Eq. 5) of that plan is ``1 / mu``: both profiles get
  the share ``1 / mu`` of their bundles. The investment share plays no part in the plan.
* **Booking** after each tick: the Vorpal Pick stock grows by the whole output ``x_1``; the
  Lucloelium stock by ``sigma x_0 - (1 - sigma) x_0 = (2 sigma - 1) x_0``. Inputs used and
  consumption are never subtracted, T-ring and labour are never drawn down. Under the plan's
  own balance ``(I - A) x = 0`` on the goods, a conserving ledger would leave every stock
  where it was (the opening stock bounds output like a capacity); :attr:`PaperDynamics.ledger_gap`
  records, per run, how far the booked stocks run ahead of that ledger.
* **Noise** (Fig. 3b): with probability 0.1 per tick both booked stocks are multiplied by
  0.8 after booking. The run stops once humanity exceeds 0.999.

With ``sigma`` = 0.51 the Lucloelium bound binds on every tick but the last, so the stock
follows ``s <- 2 sigma s`` from 2 and the first tick above 0.999 is
``ceil(ln(0.999 X / 2) / ln(2 sigma))`` with ``X`` = 3714.05 the full Lucloelium requirement:
381, 192, 79, 42 for 0.51, 0.52, 0.55, 0.60, the published figure. Under noise the log
stock drifts by ``ln(2 sigma) + 0.1 ln 0.8`` a tick, negative for ``sigma < 0.5113``: 0.51
collapses.

Two numerical choices differ from the code without changing what it computes: each of the
three solves is exact by a rank-one (Sherman-Morrison) update of one precomputed inverse
(only cell ``(1, 1)`` varies), and ``mu`` is found by a bounded multi-point bisection on
``log mu`` to ``1e-10`` instead of the code's bounded Brent search on a penalty whose
minimum is the same boundary (tolerance ``1e-5`` in ``mu``). Humanity agrees with the
published series to a relative ``1e-5``.

Shapes: ``R`` runs (one per noise generator), ``T`` ticks (``max_ticks``), ``N = 8``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from innatura.planner.errors import InvalidInputError

__all__ = [
    "CITIZENS",
    "EXCESS_TOLERANCE",
    "FIXED_POINT_SOLVES",
    "GOODS",
    "LOSS_FACTOR",
    "LOSS_PROBABILITY",
    "MU_BOUNDS",
    "OPENING_STOCKS",
    "PROFILES",
    "THRESHOLD",
    "PaperDynamics",
    "paper_dynamics",
    "paper_matrix",
    "paper_plan",
    "smallest_mu",
    "vorpal_curve",
]

logger = logging.getLogger(__name__)

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

_N_GOODS = len(GOODS)
_CURVE_CELL = (1, 1)
_BOOKED = (0, 1)  # Lucloelium, Vorpal Pick +1
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
    A = np.zeros((_N_GOODS + 2, _N_GOODS + 2))
    A[0, :3] = (0.001, 0.07, 1.0)  # Lucloelium per Lucloelium, Vorpal Pick, T-ring
    A[1, 0] = 0.5  # Vorpal Pick per Lucloelium
    A[3, 0], A[4, 1], A[5, 2] = 0.001, 0.012, 0.001  # labour on its own good
    A[0, 6:] = (3.0, 2.0)  # Lucloelium per citizen of each profile
    A[2, 6:] = (0.1, 0.2)  # T-ring per citizen
    d = np.zeros(_N_GOODS + 2)
    d[_N_GOODS:] = CITIZENS
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
        return cls(A, inv @ d, inv[:, _CURVE_CELL[0]])

    def gain(self, c: np.ndarray) -> np.ndarray:
        """Sherman-Morrison weight of ``w`` in the solution for curve value ``c``."""
        k = _CURVE_CELL[1]
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
        v_lo, v_hi = (self.solve(np.ones(1), np.array([c]))[0, :_N_GOODS] for c in c_range)
        with np.errstate(divide="ignore"):
            fits = np.min(np.where(v_hi > 0, stocks / v_hi, np.inf), axis=1)
            fails = np.min(np.where(v_lo > 0, (stocks + EXCESS_TOLERANCE) / v_lo, np.inf), axis=1)
        return fits, fails


_SYSTEM = _RankOne.build()


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
        x1 = _SYSTEM.solve_at(t, vorpal_curve(x1), _CURVE_CELL[1])
    c = vorpal_curve(x1)
    return _SYSTEM.solve(t, c), c


def _feasible(scale: np.ndarray, stocks: np.ndarray) -> np.ndarray:
    """Whether the plan at ``scale`` ``(R, K)`` stays within ``stocks`` ``(R, 6)``."""
    x, _ = paper_plan(scale)
    excess = np.maximum(x[..., :_N_GOODS] - stocks[:, None, :], 0.0).sum(axis=-1)
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
    surely_fits, surely_fails = _SYSTEM.scale_bounds(stocks, (0.0, float(_PICKS_PER_PICK.max())))
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


@dataclass(frozen=True)
class PaperDynamics:
    """The paper's dynamics for one investment share: R runs of up to T ticks.

    **Goods are not conserved** (see the module doc): these series are a reproduction of the
    published computation, exempt from the model's invariants.

    Attributes:
        investment_share: ``sigma``.
        humanity: ``1 / mu`` per run and tick, ``(R, T)``; NaN after the run stopped.
        stocks: opening (booked) Lucloelium and Vorpal Pick stocks, ``(R, T, 2)``; NaN after.
        output: the plan's output of the six goods, ``(R, T, 6)``; NaN after.
        losses: whether the loss struck after that tick's booking, ``(R, T)``.
        first_tick: first tick (from 0, as the published data) whose humanity exceeds
            ``threshold``, ``(R,)``; -1 if none within T ticks.
        ledger_gap: booked minus conserved change of the Lucloelium and Vorpal Pick stocks,
            summed over the run, ``(R, 2)``; zero for a booking that conserved goods.
        threshold: the stopping level of humanity.
    """

    investment_share: float
    humanity: np.ndarray
    stocks: np.ndarray
    output: np.ndarray
    losses: np.ndarray
    first_tick: np.ndarray
    ledger_gap: np.ndarray
    threshold: float = THRESHOLD

    #: this booking does not conserve goods.
    conserves_goods = False

    @property
    def reached(self) -> np.ndarray:
        """Whether each run exceeded the threshold within the horizon, ``(R,)``."""
        return self.first_tick >= 0


def _check(investment_share: float, max_ticks: int, threshold: float) -> None:
    if not (math.isfinite(investment_share) and 0.0 <= investment_share <= 1.0):
        raise InvalidInputError(f"investment_share: a share in [0, 1], got {investment_share!r}")
    if max_ticks < 1:
        raise InvalidInputError(f"max_ticks: must be >= 1, got {max_ticks!r}")
    if not (math.isfinite(threshold) and 0.0 < threshold <= 1.0):
        raise InvalidInputError(f"threshold: a humanity level in (0, 1], got {threshold!r}")


def _loss_pattern(rngs, losses, max_ticks: int) -> tuple[int, np.ndarray | None]:  # noqa: ANN001
    """Runs and which ticks end in a loss, ``(R, T)`` bool (``None``: no noise)."""
    if rngs is not None and losses is not None:
        raise InvalidInputError("rngs and losses: give one source of losses, not both")
    if losses is not None:
        pattern = np.atleast_2d(np.asarray(losses))
        if pattern.dtype != bool or pattern.ndim != 2 or pattern.shape[1] != max_ticks:
            raise InvalidInputError(f"losses: a boolean array of shape (runs, {max_ticks}), "
                                    f"got {pattern.dtype} {pattern.shape}")
        return len(pattern), pattern
    if rngs is None:
        return 1, None
    gens = [rngs] if isinstance(rngs, np.random.Generator) else list(rngs)
    if not gens or not all(isinstance(g, np.random.Generator) for g in gens):
        raise InvalidInputError("rngs: a numpy Generator or a non-empty sequence of them")
    return len(gens), np.stack([g.random(max_ticks) for g in gens]) < LOSS_PROBABILITY


def _book(sigma: float, x: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The code's booking of one tick and the gap to a conserving ledger, both ``(n, 2)``."""
    booked = np.stack([(2.0 * sigma - 1.0) * x[:, 0], x[:, 1]], axis=1)
    used = x @ _SYSTEM.A.T  # inputs used and consumption, per good (constant cells)
    used[:, _CURVE_CELL[0]] += c * x[:, _CURVE_CELL[1]]
    conserved = (x - used)[:, _BOOKED]  # production - inputs used - consumption
    return booked, booked - conserved


def _simulate(sigma: float, runs: int, pattern: np.ndarray | None, max_ticks: int, threshold: float,
              on_tick: Callable[[int], None] | None
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The tick loop of :func:`paper_dynamics`: humanity, opening stocks, output, losses, first
    tick and ledger gap, in the order of :class:`PaperDynamics`' fields."""
    stocks = np.tile(np.asarray(OPENING_STOCKS), (runs, 1))
    hum = np.full((runs, max_ticks), np.nan)
    opening = np.full((runs, max_ticks, 2), np.nan)
    output = np.full((runs, max_ticks, _N_GOODS), np.nan)
    lost = np.zeros((runs, max_ticks), dtype=bool)
    first = np.full(runs, -1)
    gap = np.zeros((runs, 2))
    active = np.arange(runs)
    for tick in range(max_ticks):
        mu = smallest_mu(stocks[active])
        x, c = paper_plan(1.0 / mu)
        hum[active, tick] = 1.0 / mu
        opening[active, tick] = stocks[active][:, _BOOKED]
        output[active, tick] = x[:, :_N_GOODS]
        booked, tick_gap = _book(sigma, x, c)
        stocks[active[:, None], _BOOKED] += booked
        gap[active] += tick_gap
        if pattern is not None:
            hit = active[pattern[active, tick]]
            stocks[hit[:, None], _BOOKED] *= LOSS_FACTOR
            lost[hit, tick] = True
        done = 1.0 / mu > threshold
        first[active[done]] = tick
        active = active[~done]
        if on_tick is not None:
            on_tick(tick)
        if active.size == 0:
            break
    return hum, opening, output, lost, first, gap


def paper_dynamics(
    investment_share: float,
    rngs: np.random.Generator | Sequence[np.random.Generator] | None = None,
    *,
    losses: np.ndarray | None = None,
    max_ticks: int = 1000,
    threshold: float = THRESHOLD,
    on_tick: Callable[[int], None] | None = None,
) -> PaperDynamics:
    """Run the paper's Fig. 3 dynamics (module doc); **this booking does not conserve goods**.

    Every tick: plan (:func:`smallest_mu`, :func:`paper_plan`), record humanity ``1 / mu``,
    book (Vorpal Pick ``+x_1``, Lucloelium ``+(2 sigma - 1) x_0``), then, with noise, a loss
    (probability :data:`LOSS_PROBABILITY`, both stocks times :data:`LOSS_FACTOR`). A run stops
    once humanity exceeds ``threshold``. Runs are computed together, vectorised.

    Args:
        investment_share: ``sigma`` in [0, 1].
        rngs: ``None`` for one run without noise; a numpy Generator for one noisy run; a
            sequence of Generators for one noisy run each. Each gives ``max_ticks`` uniforms
            up front; the ``t``-th, if below :data:`LOSS_PROBABILITY`, makes tick ``t`` end in
            a loss.
        losses: instead of ``rngs``, the ticks that end in a loss, boolean ``(R, T)`` or
            ``(T,)``: replays a recorded pattern, such as a published run's.
        max_ticks: horizon ``T`` (the paper: 1000).
        threshold: stop once humanity exceeds this (the paper: 0.999).
        on_tick: called with the tick index after every tick (progress bars).

    Returns:
        :class:`PaperDynamics`.

    Raises:
        InvalidInputError: a share outside [0, 1], ``max_ticks < 1``, a threshold outside
            (0, 1], ``rngs`` not Generators, or a malformed ``losses``.
    """
    _check(investment_share, max_ticks, threshold)
    runs, pattern = _loss_pattern(rngs, losses, max_ticks)
    hum, opening, output, lost, first, gap = _simulate(float(investment_share), runs, pattern, max_ticks,
                                                       float(threshold), on_tick)
    logger.debug("paper dynamics sigma=%s: %d of %d runs above %s", investment_share, int((first >= 0).sum()),
                 runs, threshold)
    return PaperDynamics(investment_share=float(investment_share), humanity=hum, stocks=opening, output=output,
                         losses=lost, first_tick=first, ledger_gap=gap, threshold=float(threshold))
