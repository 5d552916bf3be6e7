"""What the learned planning policy observes of a model between days, and what a day gave each region.

The observation is built from what the planner knows after a day, before the next night's
reports (so that training, which steps the model, and planning, which runs inside the night,
see the same thing, and a resumed run sees what the original saw): per region, the share of the
reported demand (its citizens' last demand factors summed; ``R share - 1``)
and the share of their need its citizens received yesterday (capped at 1); then the day in the
policy's horizon (``(day mod horizon) / horizon``) and yesterday's humanity. Its size is
``2 R + 2``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from innatura.abm.model import PlanningEconomy

__all__ = ["observation", "observation_size", "region_utility"]

logger = logging.getLogger(__name__)


def observation_size(n_regions: int) -> int:
    """The size of :func:`observation` for ``n_regions`` regions."""
    return 2 * int(n_regions) + 2


def region_utility(model: PlanningEconomy) -> np.ndarray:
    """Per region, the mean over its citizens of ``min(received share, 1)`` yesterday, ``(R,)``
    (1 in a region without citizens, 0 before the first day)."""
    lay, st = model.layout, model.state
    R = lay.n_regions
    if st.day == 0 or st.citizen_received is None:
        return np.zeros(R)
    got = np.bincount(lay.citizen_region, np.minimum(st.citizen_received, 1.0), minlength=R)
    count = np.bincount(lay.citizen_region, minlength=R)
    return np.divide(got, count, out=np.ones(R), where=count > 0)


def observation(model: PlanningEconomy, horizon: int) -> np.ndarray:
    """The policy's observation of ``model`` now (see the module), ``(2 R + 2,)``."""
    lay = model.layout
    R = lay.n_regions
    demand = np.bincount(lay.citizen_region, np.asarray(model.state.citizen_factor, dtype=float), minlength=R)
    total = demand.sum()
    share = R * demand / total - 1.0 if total > 0 else np.zeros(R)
    day = model.state.day
    humanity = float(model.metrics.get("humanity", 0.0)) if day > 0 else 0.0
    return np.concatenate([share, region_utility(model), [(day % horizon) / horizon, humanity]])
