"""OLIN-EP Fig. 3's dynamics as the authors' code books them: a plan per tick, the booked
(not conserved) stocks and the loss events (see :mod:`innatura.planner.olin_paper`).

Shapes: ``R`` runs (one per noise generator), ``T`` ticks (``max_ticks``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from innatura.planner.errors import InvalidInputError
from innatura.planner.olin_paper.plan import (
    BOOKED,
    CURVE_CELL,
    LOSS_FACTOR,
    LOSS_PROBABILITY,
    N_GOODS,
    OPENING_STOCKS,
    SYSTEM,
    THRESHOLD,
    paper_plan,
    smallest_mu,
)

__all__ = ["PaperDynamics", "paper_dynamics"]

logger = logging.getLogger(__name__)


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
    used = x @ SYSTEM.A.T  # inputs used and consumption, per good (constant cells)
    used[:, CURVE_CELL[0]] += c * x[:, CURVE_CELL[1]]
    conserved = (x - used)[:, BOOKED]  # production - inputs used - consumption
    return booked, booked - conserved


def _simulate(sigma: float, runs: int, pattern: np.ndarray | None, max_ticks: int, threshold: float,
              on_tick: Callable[[int], None] | None
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The tick loop of :func:`paper_dynamics`: humanity, opening stocks, output, losses, first
    tick and ledger gap, in the order of :class:`PaperDynamics`' fields."""
    stocks = np.tile(np.asarray(OPENING_STOCKS), (runs, 1))
    hum = np.full((runs, max_ticks), np.nan)
    opening = np.full((runs, max_ticks, 2), np.nan)
    output = np.full((runs, max_ticks, N_GOODS), np.nan)
    lost = np.zeros((runs, max_ticks), dtype=bool)
    first = np.full(runs, -1)
    gap = np.zeros((runs, 2))
    active = np.arange(runs)
    for tick in range(max_ticks):
        mu = smallest_mu(stocks[active])
        x, c = paper_plan(1.0 / mu)
        hum[active, tick] = 1.0 / mu
        opening[active, tick] = stocks[active][:, BOOKED]
        output[active, tick] = x[:, :N_GOODS]
        booked, tick_gap = _book(sigma, x, c)
        stocks[active[:, None], BOOKED] += booked
        gap[active] += tick_gap
        if pattern is not None:
            hit = active[pattern[active, tick]]
            stocks[hit[:, None], BOOKED] *= LOSS_FACTOR
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
