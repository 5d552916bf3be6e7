"""A day's running totals and the regional plan's shipments followed through its shifts
(docs/model.md, "Following the plan"; :func:`abm.day.execute`).

:class:`Workday` holds what the shifts of one day change (stocks, labour, output, edge loads).
The plan's morning shipments leave from the opening stocks (:func:`morning`), its day shipments
as far as the stock on hand allows before each further shift and after the loss events
(:func:`send_later`), and a layered plan's phase shipments join them before the first shift of
their layer (:func:`phase_shifts`, :func:`release`); execution's own transport moves what the
plan did not foresee (:func:`unforeseen`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from innatura.abm.agents import Region
from innatura.abm.planning import PlanDecision
from innatura.abm.transport import follow_shipments

if TYPE_CHECKING:  # pragma: no cover
    from innatura.abm.model import PlanningEconomy

__all__ = ["Workday", "follow", "follows", "morning", "phase_shifts", "release", "send_later", "unforeseen"]

logger = logging.getLogger(__name__)


@dataclass(eq=False)
class Workday:
    """The running totals of a day's shifts (mutable, local to :func:`abm.day.execute`)."""

    targets: np.ndarray
    full: np.ndarray
    entitled: np.ndarray
    stocks: np.ndarray
    labour: np.ndarray
    done: np.ndarray
    used: np.ndarray
    output_lost: np.ndarray
    transport_lost: np.ndarray
    edge_left: np.ndarray
    edge_load: np.ndarray
    later: np.ndarray | None = None  # (D, n) a regional plan's day shipments not yet sent
    phases: list[tuple[int, np.ndarray]] | None = None  # a layered plan's phase shipments not yet due: (shift, (D, n))
    edge_followed: np.ndarray | None = None
    shipped_goods: np.ndarray | None = None


def release(work: Workday, shift: int) -> None:
    """Add the phase shipments due by ``shift`` (0-based) to the day shipments to send."""
    if not work.phases or work.later is None:
        return
    while work.phases and work.phases[0][0] <= shift:
        work.later = work.later + work.phases.pop(0)[1]


def phase_shifts(layers: int, shifts: int) -> np.ndarray:
    """The shift (0-based) before which phase ``k = 1 .. layers - 1`` of a layered plan leaves:
    layer ``l`` is the block of shifts from ``floor((l - 1) shifts / layers)``, so phase ``k``
    leaves before shift ``floor(k shifts / layers)`` (at least the second shift: the first
    follows the morning shipments), ``(layers - 1,)``."""
    k = np.arange(1, layers)
    return np.maximum((k * shifts) // layers, 1)


def follows(decision: PlanDecision) -> bool:
    """Whether the plan says what to ship (a regional plan)."""
    return decision.morning_shipments is not None or decision.evening_shipments is not None


def follow(model: PlanningEconomy, work: Workday, shipments: np.ndarray, protect: np.ndarray | None) -> np.ndarray:
    """Carry out the plan's ``shipments`` ``(D, n)`` from the stocks on hand (in place); returns
    what each edge carried of each good."""
    lay = model.layout
    res = follow_shipments(work.stocks, shipments, lay.edge_src, lay.edge_dst, lay.edge_loss, work.edge_left,
                           protect)
    work.stocks = res.stocks
    work.edge_left = np.maximum(work.edge_left - res.load, 0.0)
    work.edge_load += res.load
    work.edge_followed += res.load
    work.shipped_goods += res.carried
    work.transport_lost += res.lost
    return res.carried


def morning(model: PlanningEconomy, work: Workday, decision: PlanDecision) -> None:
    """The plan's morning shipments; its day (evening) shipments wait in ``work.later``, and a
    layered plan's phase shipments in ``work.phases`` until their shift
    (:func:`phase_shifts`)."""
    lay = model.layout
    D, n = lay.edge_src.size, work.stocks.shape[1]
    work.edge_followed = np.zeros(D)
    work.shipped_goods = np.zeros((D, n))
    later = decision.evening_shipments
    work.later = np.zeros((D, n)) if later is None else np.maximum(np.asarray(later, dtype=float), 0.0)
    if decision.morning_shipments is not None and D:
        follow(model, work, decision.morning_shipments, None)
    phases = decision.phase_shipments
    if phases is not None and D:
        phases = np.maximum(np.asarray(phases, dtype=float), 0.0)
        due = phase_shifts(phases.shape[0] + 1, model.settings.shifts)
        work.phases = [(int(due[k]), phases[k]) for k in range(phases.shape[0])]


def send_later(model: PlanningEconomy, work: Workday, owed: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Send what is on hand of the plan's day shipments (keeping ``keep`` ``(R, n)`` and the part
    of what a region owes that no planned arrival covers); returns the planned departures
    still to go, per region and good."""
    lay = model.layout
    R, n = work.stocks.shape
    arriving = np.zeros((R, n))
    departing = np.zeros((R, n))
    later = work.later
    if later is not None and lay.edge_src.size and later.any():
        np.add.at(arriving, lay.edge_dst, later * (1.0 - lay.edge_loss))
        later = np.maximum(later - follow(model, work, later, keep + np.maximum(owed - arriving, 0.0)), 0.0)
        np.add.at(departing, lay.edge_src, later)
        work.later = later
    return departing


def unforeseen(model: PlanningEconomy, work: Workday, spare: np.ndarray, short: np.ndarray) -> np.ndarray:
    """Execution's transport on what a regional plan did not foresee: ``spare`` ``(R, n)`` (part
    of the stocks) towards ``short``; returns the stocks after it."""
    moved = Region.ship(model, np.maximum(spare, 0.0), np.maximum(short, 0.0), work.edge_left)
    work.edge_left = np.maximum(work.edge_left - moved.load, 0.0)
    work.edge_load += moved.load
    work.transport_lost += moved.lost
    return np.maximum(work.stocks - moved.sent + moved.received, 0.0)
