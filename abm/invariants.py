"""The invariants every simulated day must satisfy (docs/model.md, "Execution and the invariants").

* no stock is ever negative;
* final and industrial goods are conserved, per good over all regions:
  ``opening + production = consumption + inputs used + losses + closing`` to 1e-9 relative;
* labour used never exceeds the day's supply (per region and labour good).

Determinism (same seed, same results) is a property of the whole run and is tested, not
checked daily. In strict mode a violation raises :class:`InvariantError`; otherwise it is
logged and counted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from innatura.planner.errors import InnaturaError

if TYPE_CHECKING:  # pragma: no cover
    from innatura.abm.day import DayOutcome
    from innatura.abm.layout import Layout

__all__ = ["InvariantError", "Violation", "check_day"]

logger = logging.getLogger(__name__)

#: relative tolerance of the conservation check.
RTOL = 1e-9


class InvariantError(InnaturaError):
    """A day broke an invariant of the model (strict mode).

    Attributes:
        violations: what was broken, each naming the good or region and the amounts.
    """

    def __init__(self, message: str, violations: tuple[Violation, ...] = ()):
        super().__init__(message)
        self.violations = violations


@dataclass(frozen=True)
class Violation:
    """One broken invariant: ``kind`` (``negative``, ``conservation``, ``labour``), where, by how much."""

    kind: str
    where: str
    amount: float

    def __str__(self) -> str:
        return f"{self.kind} at {self.where}: {self.amount:.3g}"


def check_day(layout: Layout, out: DayOutcome, day: int, strict: bool = False) -> tuple[Violation, ...]:
    """Check a :class:`abm.day.DayOutcome`; return the violations (raise in strict mode).

    Args:
        layout: the model's :class:`abm.layout.Layout` (goods, kinds, labour supply).
        out: the day's outcome.
        day: the day number, for messages.
        strict: raise :class:`InvariantError` on any violation.
    """
    goods, regions = layout.goods, layout.regions
    found: list[Violation] = []
    neg = np.argwhere(out.closing < 0)
    for r, g in neg[:5]:
        found.append(Violation("negative", f"{goods[g]} in {regions[r]}", float(out.closing[r, g])))
    stock = ~layout.labour_mask
    lhs = out.opening.sum(axis=0) + out.produced
    used = np.where(layout.industrial, 0.0, out.production.used.sum(axis=0))
    losses = out.output_lost + out.stock_lost.sum(axis=0) + out.transport_lost
    rhs = out.delivery.delivered.sum(axis=0) + used + losses + out.closing.sum(axis=0)
    gap = np.abs(lhs - rhs)
    bad = np.flatnonzero(stock & (gap > RTOL * np.maximum(np.maximum(lhs, rhs), 1.0)))
    for g in bad[:5]:
        found.append(Violation("conservation", goods[g], float(lhs[g] - rhs[g])))
    lab = out.production.used[:, layout.labour_mask]
    supply = layout.labour_supply[:, layout.labour_mask]
    over = np.argwhere(lab > supply * (1 + RTOL) + 1e-12)
    lab_goods = np.flatnonzero(layout.labour_mask)
    for r, k in over[:5]:
        found.append(Violation("labour", f"{goods[lab_goods[k]]} in {regions[r]}", float(lab[r, k] - supply[r, k])))
    if found:
        msg = f"day {day}: {len(found)} invariant violation(s): " + "; ".join(map(str, found))
        if strict:
            raise InvariantError(msg, tuple(found))
        logger.warning(msg)
    return tuple(found)
