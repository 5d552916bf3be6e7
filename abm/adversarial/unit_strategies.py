"""Misreporting strategies of production units: the input factor and capacity factor they report.

A unit reports its input curves (fitted from its own queries, :mod:`abm.active_learning`)
times an *input factor* and its capacity times a *capacity factor*, both 1 when honest.
Execution always uses the TRUE technology and the TRUE input use at the executed output
(docs/model.md, "Execution"): a strategy changes what the planner is told, never how goods
are made.

| strategy | report | parameters |
|---|---|---|
| :class:`Ratchet` | inputs times a factor creeping from 1 to ``factor``: understates productivity to win slack targets | ``factor``, ``ramp_days`` |
| :class:`OverstateCapacity` | capacity times ``factor``: claims orders it is not built for | ``factor`` |
| :class:`Collude` | inputs times a factor shared by a region's colluders, as bold as the region's cover | ``factor``, ``regions`` |
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from innatura.abm.adversarial.base import Strategy, check_positive
from innatura.abm.reporting import StrategyContext
from innatura.planner.errors import InvalidInputError

__all__ = ["UNIT_STRATEGY_TYPES", "Collude", "OverstateCapacity", "Ratchet", "collude_for"]

logger = logging.getLogger(__name__)


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
        if int(self.ramp_days) != self.ramp_days or self.ramp_days < 1:
            raise InvalidInputError(f"Ratchet: ramp_days must be an integer >= 1, got {self.ramp_days!r}")

    def __call__(self, ctx: StrategyContext) -> tuple[np.ndarray, np.ndarray]:
        k = ctx.index.size
        w = min(1.0, ctx.day / self.ramp_days)
        return 1.0 + w * (np.asarray(ctx.param, dtype=float) - 1.0), np.ones(k)


@dataclass(frozen=True)
class OverstateCapacity(Strategy):
    """Claim ``factor`` times one's true capacity, so that the planner dispatches more orders
    to the unit (it stacks units by reported capacity). Inputs are reported honestly.

    Args:
        factor: reported over true capacity, ``> 1`` (default 2.0). Per unit via ``ctx.param``.
    """

    factor: float = 2.0
    name = "overstate_capacity"
    kind = "unit"
    primary = "factor"

    def __post_init__(self) -> None:
        check_positive("OverstateCapacity", "factor", self.factor, low=1.0)

    def __call__(self, ctx: StrategyContext) -> tuple[np.ndarray, np.ndarray]:
        return np.ones(ctx.index.size), np.asarray(ctx.param, dtype=float).copy()


@dataclass(frozen=True)
class Collude(Strategy):
    """Collusion within a region: the colluding units of a region agree on ONE input factor, so
    that none of them stands out from the others, and they lie as boldly as their region's
    cover allows: ``1 + (f_r - 1) * c_r``, where ``f_r`` is the mean ``param`` of the region's
    colluders and ``c_r`` the share of the region's reporting units that collude. A lone
    colluder among honest neighbours shades its report a little; a captured region overstates
    its inputs by the full ``factor``.

    Args:
        factor: input factor of a fully captured region, ``> 1`` (default 1.5). Per unit via
            ``ctx.param``.
        regions: region of every unit of the model, ``(U,)`` (from its layout; see
            :func:`collude_for`). Units with region ``-1`` do not report curves and give no cover.
    """

    factor: float = 1.5
    regions: tuple[int, ...] = ()
    name = "collude"
    kind = "unit"
    primary = "factor"

    def __post_init__(self) -> None:
        check_positive("Collude", "factor", self.factor, low=1.0)
        if not self.regions:
            raise InvalidInputError("Collude: regions must name the region of every unit (use collude_for(layout))")

    def __call__(self, ctx: StrategyContext) -> tuple[np.ndarray, np.ndarray]:
        reg = np.asarray(self.regions, dtype=np.int64)
        if ctx.index.size and ctx.index.max() >= reg.size:
            raise InvalidInputError(f"Collude: regions names {reg.size} units, but unit {ctx.index.max()} reports")
        R = max(int(reg.max()) + 1, 1)
        mine = reg[ctx.index]
        valid = mine >= 0
        members = np.bincount(reg[reg >= 0], minlength=R).astype(float)
        colluders = np.bincount(mine[valid], minlength=R).astype(float)
        mean_f = np.divide(np.bincount(mine[valid], np.asarray(ctx.param, dtype=float)[valid], minlength=R),
                           colluders, out=np.ones(R), where=colluders > 0)
        cover = np.divide(colluders, members, out=np.zeros(R), where=members > 0)
        region_factor = 1.0 + (mean_f - 1.0) * cover
        out = np.where(valid, region_factor[np.maximum(mine, 0)], 1.0)
        return out, np.ones(ctx.index.size)


def collude_for(layout, factor: float = 1.5) -> Collude:  # noqa: ANN001
    """A :class:`Collude` strategy for the units of ``layout`` (an :class:`abm.layout.Layout`):
    units that report no curve (implicit workshops, constant technologies) give no cover."""
    has_curve = np.zeros(layout.n_units, dtype=bool)
    has_curve[layout.true_inputs.unit[layout.entry_curve]] = True
    reporting = has_curve & ~layout.unit_implicit
    regions = np.where(reporting, layout.unit_region, -1)
    return Collude(factor=factor, regions=tuple(int(r) for r in regions))


#: unit strategy name -> its class.
UNIT_STRATEGY_TYPES: dict[str, type[Strategy]] = {c.name: c for c in (Ratchet, OverstateCapacity, Collude)}
