"""De-biasing: turn inferred types into corrections of the reported input curves.

A unit's log-scale ``s`` is ``log(true use / reported use)`` of its learned inputs; multiplying
its reported curve by ``exp(s)`` gives its true curve near its reference output. From the
posterior of ``s`` (:class:`~planner.learned.type_posterior.TypePosterior`, a mixture of the
honest and the misreporting case), :func:`corrected_scales` gives one factor per unit:

- ``"location"`` (default): ``exp(location s)``, the mean of the more probable case
  (:attr:`~planner.learned.type_posterior.TypePosterior.location`): a unit more likely honest
  than not is corrected by what it revealed, a likely liar gets its report undone by its
  misreporting case's estimate; no hedging between the two cases;
- ``"median"``: ``exp(median s)`` of the mixture (it moves an honest-looking unit by its share
  of doubt);
- ``"mean"``: the posterior mean of the factor, ``E[exp(s)]`` (the expected true use over the
  reported one: unbiased for total input use, but it shifts every unit by its share of doubt);
- ``"quantile"``: ``exp(q-quantile of s)`` (``q > 0.5``: a cautious planner that provisions
  for more input use than the median).

Why the learned planner corrects by a quantile (``"quantile"`` at :data:`CAUTIOUS_QUANTILE`):
the two errors of a correction do not cost the same. A unit whose corrected curve says LESS
than it truly uses is allotted too little; an execution that rations every allotment of a
short good alike (as the agent model's does) cuts its output, which cuts the units that need
its good, around the economy's input cycles; with thin stocks one such unit can stop a whole
day. A unit corrected to MORE than it uses leaves some inputs unused. Under the pinball
loss with a cost ``a`` per unit of under-provision and ``b`` per unit of over-provision the
best estimate is the ``a / (a + b)`` quantile of the posterior, so a planner that counts a
shortfall four times as costly as a surplus corrects by the 0.8 quantile of the log-scale:
a likely liar gets its misreporting case's estimate plus a margin of its uncertainty, and a
unit whose case is uncertain is shrunk towards its report (for a unit that overstates, whose
misreporting case lies below its honest one, the mixture's upper quantile lies between the
two cases' estimates, nearer the honest one the less probable the lie).

With ``min_probability``, units whose misreport probability is at most that keep their report
(factor 1): only suspected liars are corrected, and honest learning error is left to the units'
own refits. The planning method multiplies each unit's reported curve (its input factor) by
the factor before the input-output plan; tonight's factors come from the last night of a
posterior computed with tonight's reports.
"""

from __future__ import annotations

import logging

import numpy as np
from innatura.planner.errors import InvalidInputError
from innatura.planner.learned.type_posterior import TypePosterior

__all__ = ["CAUTIOUS_QUANTILE", "METHODS", "corrected_scales"]

logger = logging.getLogger(__name__)

METHODS = ("location", "median", "mean", "quantile")
#: the quantile the learned planner corrects by (see the module): a shortfall of a unit's
#: inputs counted four times as costly as a surplus.
CAUTIOUS_QUANTILE = 0.8


def corrected_scales(posterior: TypePosterior, night: int = -1, method: str = "location", quantile: float = 0.5,
                     min_probability: float | None = None, bounds: tuple[float, float] = (0.05, 20.0)) -> np.ndarray:
    """The factor to multiply each unit's reported curve by on ``night``, ``(U,)``.

    Args:
        posterior: type inference's posterior of a run.
        night: the night (an index of its first axis; ``-1``: the last, tonight).
        method: ``"location"``, ``"median"``, ``"mean"`` or ``"quantile"`` (see the module).
        quantile: ``q`` of ``"quantile"``, in ``(0, 1)``.
        min_probability: correct only units whose misreport probability exceeds it.
        bounds: the factors are clipped to these.

    Raises:
        InvalidInputError: an unknown method, a quantile outside ``(0, 1)``, or a night out of range.
    """
    if method not in METHODS:
        raise InvalidInputError(f"corrected_scales: method = {method!r}; methods: {', '.join(METHODS)}")
    if not 0 < quantile < 1:
        raise InvalidInputError(f"corrected_scales: quantile = {quantile!r} must lie in (0, 1)")
    T = posterior.p_misreport.shape[0]
    if not -T <= night < T:
        raise InvalidInputError(f"corrected_scales: night = {night} outside the posterior's {T} nights")
    tonight = TypePosterior(p_misreport=posterior.p_misreport[night][None], means=posterior.means[night][None],
                            sds=posterior.sds[night][None], unit_ids=posterior.unit_ids)
    if method == "location":
        factor = np.exp(tonight.location[0])
    elif method == "mean":
        # E[exp(s)] of each Gaussian component is exp(mu + sd^2 / 2)
        factor = (tonight.weights * np.exp(tonight.means + 0.5 * tonight.sds ** 2)).sum(-1)[0]
    else:
        factor = np.exp(tonight.quantile(0.5 if method == "median" else quantile)[0])
    factor = np.clip(factor, *bounds)
    if min_probability is not None:
        factor = np.where(posterior.p_misreport[night] > min_probability, factor, 1.0)
    return factor
