"""What citizens received against their TRUE needs, and what misreporting won or lost that day
(docs/model.md, "Welfare under misreporting").

A region hands out its share of a profile's allocation to the profile's citizens in proportion
to their (defended) demand factors (:meth:`abm.agents.Citizen.consume`), so a citizen who
claimed more receives more, possibly more than it needs. Goods beyond a citizen's need feed
nobody: the metrics here count each citizen's receipt of each good only up to its need
(:func:`excess_receipts`), so that lying cannot raise humanity (OLIN-EP Eq. 5) or fulfilment.

:func:`misreport_metrics` gives the day's columns of ``model.csv`` about misreporting:

* ``truthful_fulfilment``: mean over the citizens who reported truthfully tonight of the
  share of their need received (capped at 1);
* ``liars_gain``: mean share of need received by the citizens who misreported tonight, minus
  the same for the truthful (uncapped; ``nan`` when nobody lied);
* ``unit_slack``: inputs the plan allotted the units beyond their TRUE use at their targets,
  over that true use;
* ``misreporters``: citizens and units whose report tonight departed from the truth;
* ``detection_precision``: share of tonight's flagged agents who misreported tonight (``nan``:
  nobody flagged);
* ``detection_recall``: share of tonight's misreporters flagged tonight (``nan``: nobody
  misreported).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from innatura.abm.day import DayOutcome
    from innatura.abm.layout import Layout
    from innatura.abm.model import PlanningEconomy
    from innatura.abm.reporting import NightReports

__all__ = [
    "MISREPORT_COLUMNS",
    "REPORT_EPS",
    "Excess",
    "excess_receipts",
    "misreport_metrics",
    "misreported",
    "unit_slack",
]

logger = logging.getLogger(__name__)

#: the day's misreporting columns of ``model.csv``, in order.
MISREPORT_COLUMNS = ("truthful_fulfilment", "liars_gain", "unit_slack", "misreporters", "detection_precision",
                     "detection_recall")
#: a factor further than this from 1 (relative, for capacities) is a misreport.
REPORT_EPS = 1e-9


@dataclass(frozen=True, eq=False)
class Excess:
    """Goods handed to citizens beyond their TRUE needs on one day.

    Attributes:
        by_profile: units of each good received beyond need by each profile's citizens, all
            regions together, ``(n, m)``.
        by_region: the same per region, all profiles together, ``(R, n)``.
    """

    by_profile: np.ndarray
    by_region: np.ndarray


def excess_receipts(layout: Layout, allocation: np.ndarray, weights: np.ndarray, ratio: np.ndarray,
                    factors: np.ndarray) -> Excess:
    """What each citizen received of each good beyond its need, summed by profile and by region.

    Citizen ``c`` of profile ``p`` in region ``r`` receives ``b_ip x_rpi f_c`` of good ``i``,
    where ``x_rpi = ratio_ri a_ip / (b_ip W_p)`` (the region's delivered ratio, the plan's
    allocation ``a`` over the profile's reported demand ``W_p``) and ``f_c`` its demand factor;
    its excess is ``b_ip max(0, x_rpi f_c - 1)``. Only the citizens for whom some good exceeds
    need are expanded (none in an honest run whose plan stays within needs).

    Args:
        layout: the economy (bundles, citizens' regions and profiles).
        allocation: the plan's goods per profile, ``(n, m)``.
        weights: reported demand weights per region and profile, ``(R, m)``.
        ratio: delivered share of each region's allocation of each good, ``(R, n)``.
        factors: each citizen's (defended) demand factor, ``(C,)``.
    """
    B = layout.economy.bundles
    n, m = B.shape
    R = weights.shape[0]
    by_profile, by_region = np.zeros((n, m)), np.zeros((R, n))
    pi, gi = np.nonzero(B.T)  # (profile, good) pairs of the bundles, sorted by profile
    if pi.size == 0 or layout.n_citizens == 0:
        return Excess(by_profile, by_region)
    W = weights.sum(axis=0)
    denom = B[gi, pi] * W[pi]
    per_w = np.divide(allocation[gi, pi], denom, out=np.zeros(pi.size), where=denom > 0)
    x = ratio[:, gi] * per_w[None, :]  # (R, nnz)
    starts = np.flatnonzero(np.r_[True, pi[1:] != pi[:-1]])
    xmax = np.zeros((R, m))
    xmax[:, pi[starts]] = np.maximum.reduceat(x, starts, axis=1)
    f = np.asarray(factors, dtype=float)
    cr, cp = layout.citizen_region, layout.citizen_profile
    over = np.flatnonzero(f * xmax[cr, cp] > 1.0)
    if over.size == 0:
        return Excess(by_profile, by_region)
    counts = np.diff(np.r_[starts, pi.size])
    first = np.zeros(m, dtype=np.int64)
    size = np.zeros(m, dtype=np.int64)
    first[pi[starts]], size[pi[starts]] = starts, counts
    k = size[cp[over]]
    citizen = np.repeat(over, k)
    offset = np.arange(k.sum()) - np.repeat(np.cumsum(k) - k, k)
    pair = first[cp[citizen]] + offset  # the (profile, good) pair of each expanded entry
    region = cr[citizen]
    extra = B[gi[pair], pi[pair]] * np.maximum(x[region, pair] * f[citizen] - 1.0, 0.0)
    np.add.at(by_profile, (gi[pair], pi[pair]), extra)
    np.add.at(by_region, (region, gi[pair]), extra)
    return Excess(by_profile, by_region)


def misreported(reports: NightReports, layout: Layout, eps: float = REPORT_EPS) -> tuple[np.ndarray, np.ndarray]:
    """Who misreported tonight: ``(citizens (C,), units (U,))`` boolean masks.

    A citizen whose demand factor (before defences) departs from 1 by more than ``eps``, or
    whose report was invalid; a unit whose input factor departs from 1 (when it reports a
    curve) or whose reported capacity departs from its true capacity (when bounded), or
    whose report was invalid.
    """
    raw = reports.before_defences
    bad_c, bad_u = raw.flagged()
    liars_c = (np.abs(np.asarray(raw.citizen_factor, dtype=float) - 1.0) > eps) | bad_c
    curve = np.zeros(layout.n_units, dtype=bool)
    curve[layout.true_inputs.unit[layout.entry_curve]] = True
    curve &= ~layout.unit_implicit
    cap = np.asarray(layout.unit_capacity, dtype=float)
    finite = np.isfinite(cap) & ~layout.unit_implicit
    cap_off = np.zeros(cap.size, dtype=bool)
    reported = np.asarray(raw.unit_capacity, dtype=float)
    cap_off[finite] = np.abs(reported[finite] - cap[finite]) > eps * np.maximum(cap[finite], 1.0)
    inp_off = (np.abs(np.asarray(raw.unit_input_factor, dtype=float) - 1.0) > eps) & curve
    return liars_c, inp_off | cap_off | bad_u


def unit_slack(layout: Layout, allotted: np.ndarray, targets: np.ndarray) -> float:
    """Inputs allotted beyond TRUE use: ``sum_e max(0, allotted_e - g_e(target))`` over
    ``sum_e g_e(target)``, over every (unit, input) entry of the units (0 when nothing is used).

    Args:
        layout: the economy (the units' TRUE input functions).
        allotted: the plan's input use per entry, ``(E,)`` (``NightPlan.unit_inputs``).
        targets: the plan's targets, ``(U,)``.
    """
    true_use = layout.true_inputs.use(np.asarray(targets, dtype=float))
    total = float(true_use.sum())
    extra = float(np.maximum(np.asarray(allotted, dtype=float) - true_use, 0.0).sum())
    return extra / total if total > 0 else 0.0


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if values.size else float("nan")


def misreport_metrics(model: PlanningEconomy, out: DayOutcome, allotted: np.ndarray | None) -> dict[str, float]:
    """The day's :data:`MISREPORT_COLUMNS` (see the module docstring).

    Args:
        model: the model, after the day was observed (``state.citizen_received`` is today's).
        out: the day's outcome.
        allotted: the plan's input use per (unit, input) entry, ``(E,)``; ``None``: no slack.
    """
    lay, st = model.layout, model.state
    planned = out.targets if out.planned_targets is None else out.planned_targets
    liars_c, liars_u = misreported(out.reports, lay)
    got = np.asarray(st.citizen_received, dtype=float)
    truthful = ~liars_c
    flagged_c, flagged_u = out.reports.flagged()
    liars = np.r_[liars_c, liars_u]
    flagged = np.r_[flagged_c, flagged_u]
    hits = int((liars & flagged).sum())
    nf, nl = int(flagged.sum()), int(liars.sum())
    gain = _mean(got[liars_c]) - _mean(got[truthful]) if liars_c.any() else float("nan")
    return {
        "truthful_fulfilment": _mean(np.minimum(got[truthful], 1.0)),
        "liars_gain": gain,
        "unit_slack": unit_slack(lay, allotted, planned) if allotted is not None else float("nan"),
        "misreporters": float(nl),
        "detection_precision": hits / nf if nf else float("nan"),
        "detection_recall": hits / nl if nl else float("nan"),
    }
