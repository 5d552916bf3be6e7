"""Misreporting strategies of production units: the input factor and capacity factor they report.

A unit reports its input curves (fitted from its own queries, :mod:`abm.active_learning`)
times an *input factor* and its capacity times a *capacity factor*, both 1 when honest.
Execution always uses the TRUE technology and the TRUE input use at the executed output
(docs/model.md, "Execution"): a strategy changes what the planner is told, never how goods
are made.

| strategy | report | parameters |
|---|---|---|
| :class:`OverstateInputs` | inputs times ``factor``, every night: understates productivity | ``factor`` |
| :class:`Ratchet` | inputs times a factor creeping up to ``factor``, for slack targets | ``factor``, ``ramp_days`` |
| :class:`OverstateCapacity` | capacity times ``factor``: claims orders it is not built for | ``factor`` |
| :class:`Collude` | inputs times a factor shared by a region's colluders, as bold as the region's cover | ``factor`` |

Honest units use :class:`~abm.adversarial.base.Honest`. In text: ``"overstate_inputs(1.3)"``,
``"ratchet(1.3, ramp_days=5)"``, ``"overstate_capacity(2.0)"``, ``"collude(1.5)"``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from innatura.abm.adversarial.base import Strategy, check_positive, check_whole
from innatura.abm.reporting import StrategyContext
from innatura.planner.errors import InvalidInputError

__all__ = ["Collude", "OverstateCapacity", "OverstateInputs", "Ratchet"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OverstateInputs(Strategy):
    """Report inputs ``factor`` times what the unit knows it needs, every night (a unit that
    looks less productive than it is is planned slacker targets). ``factor < 1`` understates
    its inputs instead. Capacity is reported honestly.

    Args:
        factor: reported over known input use, ``> 0`` (default 1.3). Per unit via ``ctx.param``.
    """

    factor: float = 1.3
    name = "overstate_inputs"
    kind = "unit"
    primary = "factor"

    def __post_init__(self) -> None:
        check_positive("OverstateInputs", "factor", self.factor)

    def report(self, ctx: StrategyContext) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(ctx.param, dtype=float).copy(), np.ones(ctx.index.size)


@dataclass(frozen=True)
class Ratchet(Strategy):
    """Understate productivity (the ratchet effect): report inputs ``f(day)`` times what the unit
    knows it needs, with ``f`` rising linearly from 1 on the first night to ``factor`` on night
    ``ramp_days`` and staying there. A unit that looks less productive is planned a lower,
    slacker target for the same inputs, and a slow creep is harder to tell from learning error
    than a jump. Capacity is reported honestly.

    Args:
        factor: final input factor, ``> 1`` (default 1.5). Per unit via ``ctx.param``.
        ramp_days: nights to reach ``factor``, ``>= 1`` (1: at once; default 5).
    """

    factor: float = 1.5
    ramp_days: int = 5
    name = "ratchet"
    kind = "unit"
    primary = "factor"

    def __post_init__(self) -> None:
        check_positive("Ratchet", "factor", self.factor, low=1.0)
        check_whole("Ratchet", "ramp_days", self.ramp_days, 1)

    def report(self, ctx: StrategyContext) -> tuple[np.ndarray, np.ndarray]:
        k = ctx.index.size
        w = min(1.0, ctx.day / self.ramp_days)
        return 1.0 + w * (np.asarray(ctx.param, dtype=float) - 1.0), np.ones(k)


@dataclass(frozen=True)
class OverstateCapacity(Strategy):
    """Claim ``factor`` times one's true capacity, so that the planner dispatches more orders
    to the unit (it stacks units by reported capacity). ``factor < 1`` understates it instead.
    Inputs are reported honestly.

    Args:
        factor: reported over true capacity, ``> 0`` (default 2.0). Per unit via ``ctx.param``.
    """

    factor: float = 2.0
    name = "overstate_capacity"
    kind = "unit"
    primary = "factor"

    def __post_init__(self) -> None:
        check_positive("OverstateCapacity", "factor", self.factor)

    def report(self, ctx: StrategyContext) -> tuple[np.ndarray, np.ndarray]:
        return np.ones(ctx.index.size), np.asarray(ctx.param, dtype=float).copy()


@dataclass(frozen=True)
class Collude(Strategy):
    """Collusion within a region: the colluding units of a region agree on ONE input factor, so
    that none of them stands out from the others, and they lie as boldly as their region's
    cover allows: ``1 + (f_r - 1) * c_r``, where ``f_r`` is the mean ``param`` of the region's
    colluders and ``c_r`` the share of the region's reporting units that collude. A lone
    colluder among honest neighbours shades its report a little; a captured region overstates
    its inputs by the full ``factor``. Units that report no curve (``ctx.regions`` is ``-1``:
    implicit workshops, constant technologies) give no cover and report honestly.

    Args:
        factor: input factor of a fully captured region, ``> 1`` (default 1.5). Per unit via
            ``ctx.param``.
    """

    factor: float = 1.5
    name = "collude"
    kind = "unit"
    primary = "factor"

    def __post_init__(self) -> None:
        check_positive("Collude", "factor", self.factor, low=1.0)

    def report(self, ctx: StrategyContext) -> tuple[np.ndarray, np.ndarray]:
        k = ctx.index.size
        if ctx.regions is None:
            raise InvalidInputError("Collude: the context names no regions (the model gives them)")
        reg = np.asarray(ctx.regions, dtype=np.int64)
        R = max(int(reg.max()) + 1, 1) if reg.size else 1
        mine = reg[ctx.index]
        valid = mine >= 0
        members = np.bincount(reg[reg >= 0], minlength=R).astype(float)
        colluders = np.bincount(mine[valid], minlength=R).astype(float)
        mean_f = np.divide(np.bincount(mine[valid], np.asarray(ctx.param, dtype=float)[valid], minlength=R),
                           colluders, out=np.ones(R), where=colluders > 0)
        cover = np.divide(colluders, members, out=np.zeros(R), where=members > 0)
        region_factor = 1.0 + (mean_f - 1.0) * cover
        out = np.where(valid, region_factor[np.maximum(mine, 0)], 1.0)
        return out, np.ones(k)
