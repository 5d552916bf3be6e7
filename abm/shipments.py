"""The day's shipments on the region graph, per directed edge and good, as read-only arrays.

A regional plan ships goods along the directed edges ``e = edge_src[e] -> edge_dst[e]`` of the
region graph (docs/model.md, "The regional plan"): its morning and day shipments are what it
*planned*; execution sends what the stocks on hand allow of them (*executed*, before the
edge's loss), and execution's transport moves what the plan did not foresee on top. Every edge
*carried* the sum of both. :func:`day_shipments` reads the three out of a day's
:class:`~abm.day.DayOutcome`; :attr:`abm.model.PlanningEconomy.last_shipments` gives the last
day's. The region map of the browser view and the run's ``shipments.png`` draw them.

Per good, execution's own transport is not split by edge (it moves goods along shortest paths
and records each edge's load of all goods): ``executed`` per good is what the plan's shipments
carried, and ``carried`` (all goods) includes the rest.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from innatura.abm.day import DayOutcome

__all__ = ["EdgeShipments", "day_shipments"]

logger = logging.getLogger(__name__)


def _frozen(values: np.ndarray | None) -> np.ndarray | None:
    """A read-only float copy of ``values`` (``None`` stays ``None``)."""
    if values is None:
        return None
    out = np.array(values, dtype=float, copy=True)
    out.flags.writeable = False
    return out


@dataclass(frozen=True, eq=False)
class EdgeShipments:
    """One day's shipments along each directed edge (read-only arrays).

    Attributes:
        planned: units of each good the night's plan shipped along each edge (morning and day
            shipments), ``(D, n)``; ``None`` for a plan without shipments (the national plan).
        executed: of them, the units of each good execution sent (before the edge's loss),
            ``(D, n)``; ``None`` as ``planned``.
        carried: units of all goods each edge carried in all, the plan's shipments and
            execution's transport of what the plan did not foresee, ``(D,)``.
    """

    planned: np.ndarray | None
    executed: np.ndarray | None
    carried: np.ndarray

    @property
    def n_edges(self) -> int:
        """The number of directed edges ``D``."""
        return int(self.carried.size)

    def of_good(self, good: int | None = None) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Planned and executed units per edge ``(D,)``, of one ``good`` (an index) or of all
        goods (``None``). All goods together, executed is everything the edges carried;
        for one good it is what the plan's shipments carried of it (``None`` without a
        regional plan, whose transport is not kept per good)."""
        if good is None:
            planned = None if self.planned is None else self.planned.sum(axis=1)
            return planned, self.carried.copy()
        if self.planned is None or self.executed is None:
            return None, None
        return self.planned[:, good].copy(), self.executed[:, good].copy()

    def goods_by_volume(self) -> np.ndarray:
        """Indices of the goods planned or executed on some edge, the largest volume first."""
        if self.planned is None or self.executed is None:
            return np.zeros(0, dtype=np.int64)
        volume = self.planned.sum(axis=0) + self.executed.sum(axis=0)
        moved = np.flatnonzero(volume > 0)
        return moved[np.argsort(-volume[moved], kind="stable")]


def day_shipments(outcome: DayOutcome, n_edges: int) -> EdgeShipments:
    """The shipments of the day ``outcome`` on a graph of ``n_edges`` directed edges."""
    d = outcome.decision
    parts = [np.asarray(s, dtype=float) for s in (d.morning_shipments, d.evening_shipments) if s is not None]
    if d.phase_shipments is not None:
        parts.append(np.asarray(d.phase_shipments, dtype=float).sum(axis=0))
    planned = sum(parts[1:], parts[0]) if parts else None  # as ``planned`` of edges.parquet
    executed = outcome.shipped_goods if planned is not None else None
    if planned is not None and executed is None:
        executed = np.zeros_like(planned)
    carried = np.zeros(n_edges) if outcome.edge_load is None else np.array(outcome.edge_load, dtype=float)
    carried.flags.writeable = False
    return EdgeShipments(_frozen(planned), _frozen(executed), carried)
