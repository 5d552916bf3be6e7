"""Misreporting strategies of citizens: what demand factor a citizen reports each night.

A citizen's *demand factor* is its reported need over its profile's bundle (1 when honest);
the planner sums the factors of a profile's citizens in a region into the profile's reported
demand there (docs/model.md, "The bounded daily plan"). Execution and the metrics always use
the TRUE needs: a strategy changes what the planner is told, never what citizens need.

| strategy | report | parameters |
|---|---|---|
| :class:`Inflate` | ``factor`` (> 1): claims more than it needs | ``factor`` |
| :class:`Deflate` | ``factor`` (< 1): claims less (modesty, or distrust of the planner) | ``factor`` |
| :class:`Noise` | mean-one log-normal draw: careless or guessed reports | ``sd`` |
| :class:`Hoard` | ``factor`` after a night it was short-changed, else honest | ``factor``, ``threshold`` |

Honest citizens use :class:`~abm.adversarial.base.Honest`. Every strategy answers for all the
citizens that use it at once; randomness comes only from the model's generator (``ctx.rng``).
In text: ``"inflate(1.5)"``, ``"noise(sd=0.2)"``, ``"hoard(2.0, threshold=0.9)"``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from innatura.abm.adversarial.base import Strategy, check_positive
from innatura.abm.reporting import StrategyContext

__all__ = ["Deflate", "Hoard", "Inflate", "Noise"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Inflate(Strategy):
    """Claim ``factor`` times one's need, every night.

    Args:
        factor: reported over true need, ``> 1`` (default 1.5). Per citizen via ``ctx.param``.
    """

    factor: float = 1.5
    name = "inflate"
    kind = "citizen"
    primary = "factor"

    def __post_init__(self) -> None:
        check_positive("Inflate", "factor", self.factor, low=1.0)

    def report(self, ctx: StrategyContext) -> np.ndarray:
        return np.asarray(ctx.param, dtype=float).copy()


@dataclass(frozen=True)
class Deflate(Strategy):
    """Claim ``factor`` times one's need, every night, with ``factor < 1``.

    Args:
        factor: reported over true need, in ``(0, 1)`` (default 0.7).
    """

    factor: float = 0.7
    name = "deflate"
    kind = "citizen"
    primary = "factor"

    def __post_init__(self) -> None:
        check_positive("Deflate", "factor", self.factor, high=1.0 - 1e-12)

    def report(self, ctx: StrategyContext) -> np.ndarray:
        return np.asarray(ctx.param, dtype=float).copy()


@dataclass(frozen=True)
class Noise(Strategy):
    """Report a fresh mean-one log-normal multiple of one's need each night:
    ``exp(sd * z - sd**2 / 2)``, ``z ~ N(0, 1)`` from the model's generator. Unbiased on
    average, but every single report is wrong.

    Args:
        sd: standard deviation of the log-factor, ``> 0`` (default 0.3).
    """

    sd: float = 0.3
    name = "noise"
    kind = "citizen"
    primary = "sd"

    def __post_init__(self) -> None:
        check_positive("Noise", "sd", self.sd, high=5.0)

    def report(self, ctx: StrategyContext) -> np.ndarray:
        s = np.asarray(ctx.param, dtype=float)
        return np.exp(s * ctx.rng.standard_normal(ctx.index.size) - 0.5 * s * s)


@dataclass(frozen=True)
class Hoard(Strategy):
    """Strategic hoarding: after a night on which a citizen received less than ``threshold`` of
    its need, it claims ``factor`` times its need, to stock up against the next shortage;
    after a night of plenty it reports honestly. The first night (nothing received yet) it is
    honest. Hoarding thus strikes exactly when goods are scarce, and deepens the shortage of
    the others.

    Args:
        factor: claim during a shortage, ``> 1`` (default 2.0). Per citizen via ``ctx.param``.
        threshold: received share of need below which a night counts as short (default 0.999).
    """

    factor: float = 2.0
    threshold: float = 0.999
    name = "hoard"
    kind = "citizen"
    primary = "factor"

    def __post_init__(self) -> None:
        check_positive("Hoard", "factor", self.factor, low=1.0)
        check_positive("Hoard", "threshold", self.threshold, high=1.0)

    def report(self, ctx: StrategyContext) -> np.ndarray:
        k = ctx.index.size
        if ctx.day <= 1 or ctx.evidence is None:
            return np.ones(k)
        received = np.asarray(ctx.evidence.citizen_received, dtype=float)[ctx.index]
        return np.where(received < self.threshold, np.asarray(ctx.param, dtype=float), 1.0)

