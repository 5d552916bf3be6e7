"""Who a report is compared with: citizens on the same profile in the same region, units that
report a curve making the same good (the peer groups of the robust and IC defences and of the
detection metrics)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from innatura.abm.layout import Layout
    from innatura.abm.reporting import NightReports

__all__ = ["Peers", "within_peer_groups"]


@dataclass(frozen=True, eq=False)
class Peers:
    """Who is compared with whom, from a model's layout.

    Attributes:
        citizen_group: region * profiles + profile of every citizen, ``(C,)``.
        unit_reports_curve: units whose input factor means something (they report a curve), ``(U,)``.
        unit_group: good of every unit, ``(U,)``.
        true_capacity: every unit's TRUE capacity (for audits), ``(U,)``.
        unit_reports: units that report at all (not implicit workshops), ``(U,)``.
    """

    citizen_group: np.ndarray
    unit_reports_curve: np.ndarray
    unit_group: np.ndarray
    true_capacity: np.ndarray
    unit_reports: np.ndarray

    @classmethod
    def of(cls, layout: Layout) -> Peers:
        m = layout.population.shape[1]
        curve = np.zeros(layout.n_units, dtype=bool)
        curve[layout.true_inputs.unit[layout.entry_curve]] = True
        return cls(citizen_group=layout.citizen_region * m + layout.citizen_profile,
                   unit_reports_curve=curve & ~layout.unit_implicit, unit_group=np.asarray(layout.unit_good),
                   true_capacity=np.asarray(layout.unit_capacity, dtype=float), unit_reports=~layout.unit_implicit)


def within_peer_groups(peers: Peers, reports: NightReports,
                        transform: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
                        ) -> tuple[np.ndarray, ...]:
    """Apply ``transform(values, groups) -> (values, flags)`` to the reports, peer group by group.

    Citizens' demand factors are judged within their citizen groups; units' input factors
    within their unit groups, for the units that report curves. Capacities pass unchanged.

    Returns:
        ``(citizen factors, unit input factors, unit capacities, citizen flags, unit flags)``.
    """
    c_fac, fc = transform(np.asarray(reports.citizen_factor, dtype=float), peers.citizen_group)
    u_fac = np.asarray(reports.unit_input_factor, dtype=float).copy()
    fu = np.zeros(u_fac.size, dtype=bool)
    idx = np.flatnonzero(peers.unit_reports_curve)
    if idx.size:
        _, grp = np.unique(peers.unit_group[idx], return_inverse=True)
        u_fac[idx], fu[idx] = transform(u_fac[idx], grp)
    return c_fac, u_fac, np.asarray(reports.unit_capacity, dtype=float), fc, fu
