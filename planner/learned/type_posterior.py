"""The inferred types of a run's units: a two-component posterior per unit and night.

For each unit and night, type inference gives the probability ``p`` that the unit misreports
and, for each case, a Gaussian over its log-scale (the log of its true input use over its
reported use): ``q(s) = (1 - p) N(s; mu_0, sd_0^2) + p N(s; mu_1, sd_1^2)``. Point summaries:
the mixture's mean and standard deviation, its quantiles (:meth:`TypePosterior.quantile`, by
bisection on the mixture's distribution function), its median, central intervals, and its
:attr:`~TypePosterior.location`: the mean of the more probable case (the estimate of the case
the unit most likely is, not a blend of the two: an honest-looking unit keeps what it revealed,
a likely liar gets its misreporting case's estimate).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from innatura.planner.errors import InvalidInputError
from scipy.special import ndtr, ndtri

__all__ = ["TypePosterior"]

logger = logging.getLogger(__name__)

#: bisection steps of :meth:`TypePosterior.quantile` (the bracket shrinks by ``2^-60``).
BISECTION_STEPS = 60


@dataclass(frozen=True, eq=False)
class TypePosterior:
    """The inferred types of a run's units, per night.

    Shapes: ``T`` nights, ``U`` units; component 0 is honest, 1 misreporting.

    Attributes:
        p_misreport: probability that the unit misreports, ``(T, U)``.
        means, sds: the log-scale's Gaussian in each case, ``(T, U, 2)``.
        unit_ids: each unit's index in the agent model, ``(U,)``.
    """

    p_misreport: np.ndarray
    means: np.ndarray
    sds: np.ndarray
    unit_ids: np.ndarray

    def __post_init__(self) -> None:
        shape = np.shape(self.p_misreport)
        if len(shape) != 2 or np.shape(self.means) != (*shape, 2) or np.shape(self.sds) != (*shape, 2):
            raise InvalidInputError(f"TypePosterior: p_misreport (T, U), means and sds (T, U, 2); got {shape}, "
                                    f"{np.shape(self.means)}, {np.shape(self.sds)}")

    @property
    def weights(self) -> np.ndarray:
        """``(1 - p, p)``, ``(T, U, 2)``."""
        p = self.p_misreport
        return np.stack([1.0 - p, p], axis=-1)

    @property
    def mean(self) -> np.ndarray:
        """The mixture's mean of the log-scale, ``(T, U)``."""
        return (self.weights * self.means).sum(-1)

    @property
    def sd(self) -> np.ndarray:
        """The mixture's standard deviation of the log-scale, ``(T, U)``."""
        second = (self.weights * (self.sds ** 2 + self.means ** 2)).sum(-1)
        return np.sqrt(np.maximum(second - self.mean ** 2, 0.0))

    def cdf(self, s: np.ndarray) -> np.ndarray:
        """``P(log-scale <= s)``, ``s`` of shape ``(T, U)``."""
        z = (np.asarray(s)[..., None] - self.means) / self.sds
        return (self.weights * ndtr(z)).sum(-1)

    def quantile(self, q: float) -> np.ndarray:
        """The ``q`` quantile of the log-scale, ``(T, U)``.

        Raises:
            InvalidInputError: ``q`` outside ``(0, 1)``.
        """
        if not 0 < q < 1:
            raise InvalidInputError(f"TypePosterior.quantile: q = {q!r} must lie in (0, 1)")
        z = float(ndtri(q))
        lo = (self.means - 8 * self.sds).min(-1) + min(z, 0) * self.sds.max(-1)
        hi = (self.means + 8 * self.sds).max(-1) + max(z, 0) * self.sds.max(-1)
        for _ in range(BISECTION_STEPS):
            mid = 0.5 * (lo + hi)
            below = self.cdf(mid) < q
            lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
        return 0.5 * (lo + hi)

    @property
    def median(self) -> np.ndarray:
        """The mixture's median of the log-scale, ``(T, U)``."""
        return self.quantile(0.5)

    @property
    def location(self) -> np.ndarray:
        """The mean of the more probable component (honest when ``p <= 0.5``), ``(T, U)``."""
        return np.where(self.p_misreport > 0.5, self.means[..., 1], self.means[..., 0])

    def interval(self, level: float) -> tuple[np.ndarray, np.ndarray]:
        """The central ``level`` interval of the log-scale, ``(low, high)``, each ``(T, U)``."""
        if not 0 < level < 1:
            raise InvalidInputError(f"TypePosterior.interval: level = {level!r} must lie in (0, 1)")
        return self.quantile(0.5 - level / 2), self.quantile(0.5 + level / 2)

    def flagged(self, threshold: float) -> np.ndarray:
        """Units whose misreport probability exceeds ``threshold``, ``(T, U)`` bool."""
        return self.p_misreport > threshold
