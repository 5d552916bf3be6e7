"""The regional plan of one night: a frozen result that execution can follow directly.

Both methods of :func:`innatura.planner.regional.plan_regional` end here: from each unit's
production, each region's fulfilment per profile and the shipments of every good along every
edge in the morning and in the evening, :func:`assemble_plan` derives the stocks, input use,
labour, edge loads and transport losses of the plan (``docs/model.md``, "The regional plan"),
with the reported curves evaluated at the targets themselves.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Required, TypedDict, Unpack

import numpy as np
from innatura.planner.regional.problem import RegionalProblem

__all__ = ["PlanInfo", "RegionalPlan", "Valuations", "assemble_plan", "flows", "pipeline_targets"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Valuations:
    """Kantorovich's objectively determined valuations of the night's resources.

    Each array is the derivative of the consumption stage's max-min fulfilment ``t*`` with
    respect to one bound of the problem (the LP's duals at its first objective): how much
    the fulfilment guaranteed to every region and profile rises per extra unit of the
    resource, ``0`` where the bound does not bind. They say what holds each region back.

    Attributes:
        fulfilment: ``t*``, the max-min fulfilment itself.
        stock: per opening stock, ``(R, n)``.
        labour: per unit of labour supply, ``(R, n)`` (non-zero on labour goods only).
        edge: per unit of edge capacity, ``(D,)``.
        capacity: per unit of unit capacity, ``(U,)``.
        profile_weight: the max-min's weights on the region-profile pairs, ``(R, m)``: positive
            on the pairs held at the minimum, summing to 1 when ``t* < 1``.
    """

    fulfilment: float
    stock: np.ndarray
    labour: np.ndarray
    edge: np.ndarray
    capacity: np.ndarray
    profile_weight: np.ndarray


@dataclass(frozen=True, eq=False)
class RegionalPlan:
    """The night's regional plan (``docs/model.md``, "The regional plan").

    Timing: ``morning_shipments`` leave from the opening stocks before production and arrive
    (less the edge's loss) in time for it; units produce with the stock on hand in their region
    (``morning_stocks``) and their region's output of the day; ``evening_shipments`` leave after
    production and arrive in time for the evening's deliveries and the closing stock.

    Attributes:
        unit_targets: each unit's planned output, ``(U,)``: consumption plus investment stage.
        unit_consumption: the consumption stage's part of it, ``(U,)``.
        fulfilment: share of its bundle each region gives each profile, ``(R, m)``
            (``1`` for pairs with no need).
        delivered: deliveries per region and good, ``(R, n)``.
        allocation: deliveries per good and profile, all regions together, ``(n, m)``.
        production: output per region and good, ``(R, n)``.
        inputs_used: final goods used up as inputs, ``(R, n)``.
        capital_required: capital needed in stock, ``(R, n)`` (industrial goods).
        labour_used: labour needed, ``(R, n)`` (labour goods).
        morning_shipments, evening_shipments: units of good ``i`` sent along edge ``e``,
            ``(D, n)`` (before the edge's loss).
        edge_load: units each edge carries, all goods, all shipments, ``(D,)``.
        transport_lost: units of each good lost on the way, ``(n,)``.
        phase_shipments: with the ``"layers"`` timing, units of good ``i`` sent along edge ``e``
            between layers ``k`` and ``k + 1`` (phase ``k``), ``(L - 1, D, n)``; ``None`` otherwise.
        morning_stocks: stock on hand for production after the morning shipments, ``(R, n)``.
        closing_expected: closing stock after the evening's deliveries, ``(R, n)``.
        planned_humanity: the smallest fulfilment over region-profile pairs with a need
            (Eq. 5 of a plan that gives each pair a share of its bundle).
        safety_share: ``tau``, the share of the closing targets the investment stage keeps.
        method: ``"lp"`` or ``"decomposed"``.
        status: ``"optimal"``, ``"slp-not-converged"`` (the successive LPs stopped on a point
            that the curves overdraw), or the decomposed method's ``"decomposed"``.
        national_fulfilment: the max-min fulfilment of the same night with all regions pooled
            into one (no transport, labour and capital shared), by the same method: what the
            regions cost (for ``lp`` an upper bound of ``planned_humanity``); equal to it when
            that is 1.
        valuations: the :class:`Valuations` of the max-min (``lp`` only), or ``None``.
        bottleneck: the constraint that stopped the max-min (``decomposed``), e.g.
            ``"labour Lb0 @ north"``; empty when nothing did (``t* = 1``) or unknown.
        lp_iterations: simplex iterations of all LPs; slp_iterations: successive-LP
            iterations (``lp``) or feasibility evaluations (``decomposed``).
        warm: what the next night's plan may start from (``decomposed``: the shares its
            searches found), plain numbers; empty for ``lp``.
    """

    unit_targets: np.ndarray
    unit_consumption: np.ndarray
    fulfilment: np.ndarray
    delivered: np.ndarray
    allocation: np.ndarray
    production: np.ndarray
    inputs_used: np.ndarray
    capital_required: np.ndarray
    labour_used: np.ndarray
    morning_shipments: np.ndarray
    evening_shipments: np.ndarray
    edge_load: np.ndarray
    transport_lost: np.ndarray
    morning_stocks: np.ndarray
    closing_expected: np.ndarray
    planned_humanity: float
    safety_share: float
    method: str
    status: str
    national_fulfilment: float
    valuations: Valuations | None = None
    bottleneck: str = ""
    lp_iterations: int = 0
    slp_iterations: int = 0
    warm: dict[str, float] | None = None
    phase_shipments: np.ndarray | None = None

    @property
    def unit_investment(self) -> np.ndarray:
        """The investment stage's part of each unit's target, ``(U,)``."""
        return self.unit_targets - self.unit_consumption


class PlanInfo(TypedDict, total=False):
    """What a method tells :func:`assemble_plan` about its plan: the :class:`RegionalPlan`
    fields of the same names (``method``, ``status`` and ``national_fulfilment`` required)."""

    method: Required[str]
    status: Required[str]
    national_fulfilment: Required[float]
    valuations: Valuations | None
    bottleneck: str
    lp_iterations: int
    slp_iterations: int
    warm: dict[str, float] | None


def flows(problem: RegionalProblem, shipments: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Departures and arrivals (after the edges' losses) per region and good of ``shipments`` ``(D, n)``."""
    R, n = problem.n_regions, problem.n_goods
    out = np.zeros((R, n))
    arrive = np.zeros((R, n))
    if problem.n_edges:
        np.add.at(out, problem.edge_src, shipments)
        np.add.at(arrive, problem.edge_dst, shipments * problem.keep)
    return out, arrive


def pipeline_targets(problem: RegionalProblem, x: np.ndarray) -> np.ndarray:
    """What each region's units at outputs ``x`` take of final goods beyond the region's own
    output of them, ``(R, n)``: the inputs that must be on hand there tomorrow morning if
    tomorrow repeats today (another region's output cannot arrive before the evening)."""
    p = problem
    R, n = p.n_regions, p.n_goods
    made = np.bincount(p.unit_region * n + p.unit_good, x, minlength=R * n).reshape(R, n)
    use = p.inputs.use(x, p.unit_region, R, n)
    return np.where(p.final[None, :], np.maximum(use - made, 0.0), 0.0)


def assemble_plan(problem: RegionalProblem, x: np.ndarray, x_consumption: np.ndarray, fulfilment: np.ndarray,
                  shipments: tuple[np.ndarray, np.ndarray], safety_share: float,
                  phases: np.ndarray | None = None, **info: Unpack[PlanInfo]) -> RegionalPlan:
    """The :class:`RegionalPlan` of unit outputs ``x``, fulfilment ``(R, m)`` and the morning and
    evening ``shipments`` ``(D, n)`` (and the phase shipments ``phases`` ``(L - 1, D, n)`` of the
    ``"layers"`` timing, ``None`` for none); ``info`` (:class:`PlanInfo`) fills ``method``, ``status``,
    ``national_fulfilment`` and the optional fields."""
    p = problem
    R, n = p.n_regions, p.n_goods
    x = np.maximum(np.asarray(x, dtype=float), 0.0)
    c = np.where(p.active, np.clip(fulfilment, 0.0, 1.0), 1.0)
    morning, evening = (np.maximum(np.asarray(s, dtype=float), 0.0) for s in shipments)
    production = np.bincount(p.unit_region * n + p.unit_good, x, minlength=R * n).reshape(R, n)
    use = p.inputs.use(x, p.unit_region, R, n)
    delivered = p.need(c)
    out_m, in_m = flows(p, morning)
    out_e, in_e = flows(p, evening)
    day = evening
    if phases is not None:
        phases = np.maximum(np.asarray(phases, dtype=float), 0.0)
        day = evening + phases.sum(axis=0)
        out_e, in_e = flows(p, day)
    morning_stocks = p.stocks + in_m - out_m
    consumed = p.final[None, :]
    closing = morning_stocks + production - np.where(consumed, use, 0.0) + in_e - out_e - delivered
    closing = np.where(p.labour_mask[None, :], 0.0, np.maximum(closing, 0.0))
    lost = (morning + day) * p.edge_loss
    w = p.demand * c  # (R, m)
    act = c[p.active]
    return RegionalPlan(
        unit_targets=x, unit_consumption=np.minimum(np.maximum(x_consumption, 0.0), x), fulfilment=c,
        delivered=delivered, allocation=p.bundles * w.sum(axis=0)[None, :], production=production,
        inputs_used=np.where(consumed, use, 0.0), capital_required=np.where(p.industrial[None, :], use, 0.0),
        labour_used=np.where(p.labour_mask[None, :], use, 0.0), morning_shipments=morning,
        evening_shipments=evening, edge_load=(morning + day).sum(axis=1), transport_lost=lost.sum(axis=0),
        morning_stocks=np.where(p.labour_mask[None, :], 0.0, morning_stocks), closing_expected=closing,
        planned_humanity=float(act.min()) if act.size else 1.0, safety_share=float(safety_share),
        phase_shipments=phases, **info,
    )
