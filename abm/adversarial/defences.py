"""Defences the central planner can put between the reports and the plan.

A defence is a frozen dataclass of parameters (:class:`Defence`, with a name and a text form
such as ``"audit(probability=0.5)"``, :mod:`abm.adversarial.vocabulary`); :meth:`Defence.bind`
attaches it to ONE model and returns a :class:`BoundDefence`, a callable
``(reports, evidence) -> reports`` that the model
applies every night (:func:`abm.reporting.apply_defences`), with the model's generator as its
only source of randomness and with the memory a defence needs (probation, beliefs).
:func:`attach_defences` binds a list of defences to a model in order. Each bound defence keeps
which agents it ever flagged (:attr:`BoundDefence.flagged_citizens`, ``flagged_units``), for the
detection metrics of :mod:`abm.adversarial.detection`.

* :class:`Audit` (``"audit"``): inspects each agent with a probability a night; a caught liar is
  put on probation (``probability``, ``penalty``, ``penalty_days``, ``tolerance``).
* :class:`RobustAggregation` (``"robust"``): compares reports with their peers' (median,
  trimmed mean, MAD outliers) (``method``, ``threshold``, ``trim``).
* :class:`BeliefUpdate` (``"belief"``): corrects units' curves by their reported vs realised
  input use (``rate``, ``tolerance``).
* :class:`ICPenalty` (``"ic"``): discounts the part of a claim above the peer median, so that
  inflating stops paying (``strength``, ``tolerance``).

The model binds the defences it was built with (``PlanningEconomy(defences=("audit",))``) in
order. Peers (:class:`abm.adversarial.peers.Peers`): citizens on the same profile in the same
region; units that report a curve (scenario units with curve inputs) making the same good.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from innatura.abm.adversarial.base import Parameters, check_positive, check_whole
from innatura.abm.adversarial.peers import Peers, within_peer_groups
from innatura.abm.reporting import Evidence, NightReports
from innatura.planner.errors import InvalidInputError
from innatura.planner.robust import mad_outliers, robust_location

if TYPE_CHECKING:  # pragma: no cover
    pass

__all__ = [
    "Audit",
    "BeliefUpdate",
    "BoundDefence",
    "Defence",
    "ICPenalty",
    "RobustAggregation",
    "attach_defences",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Defence(Parameters):
    """Base of the defences: frozen parameters, a ``name``, and :meth:`bind`."""

    def bind(self, model: Any) -> BoundDefence:
        """This defence attached to ``model`` (its generator, its peers, fresh memory)."""
        raise NotImplementedError


class BoundDefence:
    """A defence attached to one model: ``(reports, evidence) -> reports``, with memory.

    Attributes:
        spec: the defence's parameters (the frozen dataclass it was bound from).
        flagged_citizens, flagged_units: agents flagged on any night so far.
        nights: nights seen.
    """

    def __init__(self, spec: Any, model: Any) -> None:
        self.spec = spec
        self.rng: np.random.Generator = model.rng
        self.peers = Peers.of(model.layout)
        self.flagged_citizens = np.zeros(model.layout.n_citizens, dtype=bool)
        self.flagged_units = np.zeros(model.layout.n_units, dtype=bool)
        self.nights = 0

    def __call__(self, reports: NightReports, evidence: Evidence) -> NightReports:
        self.nights += 1
        c_fac, u_fac, u_cap, fc, fu = self.defend(reports, evidence)
        self.flagged_citizens |= fc
        self.flagged_units |= fu
        before_c, before_u = reports.flagged()
        return replace(reports, citizen_factor=c_fac, unit_input_factor=u_fac, unit_capacity=u_cap,
                       flags=int(reports.flags + fc.sum() + fu.sum()), flagged_citizens=before_c | fc,
                       flagged_units=before_u | fu)

    def defend(self, reports: NightReports, evidence: Evidence) -> tuple[np.ndarray, ...]:
        """Return ``(citizen factors, unit input factors, unit capacities, citizens flagged tonight,
        units flagged tonight)``; the arrays passed in are never modified."""
        raise NotImplementedError

    #: attributes that make up the defence's memory (see :meth:`state_dict`).
    memory: tuple[str, ...] = ("flagged_citizens", "flagged_units", "nights")

    def state_dict(self) -> dict[str, Any]:
        """The defence's memory as plain data (arrays and numbers), for checkpoints."""
        return {k: getattr(self, k).copy() if isinstance(getattr(self, k), np.ndarray) else getattr(self, k)
                for k in self.memory}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the memory saved by :meth:`state_dict`."""
        for k in self.memory:
            value = state[k]
            setattr(self, k, np.array(value, dtype=getattr(self, k).dtype) if isinstance(getattr(self, k), np.ndarray)
                    else value)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.spec!r})"


def _deviates(factor: np.ndarray, tol: float) -> np.ndarray:
    return np.abs(np.log(np.maximum(factor, 1e-300))) > np.log1p(tol)


# -- audits -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Audit(Defence):
    """Random audits (an inspection of the agent's books against the truth).

    Each night every reporting unit and every citizen is audited independently with
    ``probability`` (draws from the model's generator). An audit reveals the truth: a unit's
    books (its own samples of its process, which its honest report is fitted to) and its true
    capacity; a citizen's true need. A report off the truth by more than ``tolerance``
    (relative) is caught: the agent is put on probation for the night and ``penalty_days``
    more, during which its reports are replaced by the audited truth, and a citizen's claim is
    cut by the fine ``penalty`` (it receives ``1 - penalty`` of its need's share).

    Args:
        probability: audit probability per agent and night, in ``[0, 1]`` (default 0.3).
        penalty: fine in kind on a caught citizen's claim, in ``[0, 1)`` (default 0.5).
        penalty_days: further nights of probation after a catch, ``>= 0`` (default 3).
        tolerance: relative deviation that counts as misreporting (default 0.02).
        citizens: audit the citizens (default True).
        units: audit the production units (default True).
    """

    probability: float = 0.3
    penalty: float = 0.5
    penalty_days: int = 3
    tolerance: float = 0.02
    citizens: bool = True
    units: bool = True
    name = "audit"

    def __post_init__(self) -> None:
        check_positive("Audit", "probability", self.probability, closed_low=True, high=1.0)
        check_positive("Audit", "penalty", self.penalty, closed_low=True, high=1.0 - 1e-12)
        check_positive("Audit", "tolerance", self.tolerance)
        check_whole("Audit", "penalty_days", self.penalty_days, 0)

    def bind(self, model: Any) -> AuditRun:
        return AuditRun(self, model)


class AuditRun(BoundDefence):
    """:class:`Audit` bound to a model. ``audited_units``/``caught_units`` (and ``_citizens``)
    count audits and catches per agent."""

    def __init__(self, spec: Audit, model: Any) -> None:
        super().__init__(spec, model)
        C, U = self.flagged_citizens.size, self.flagged_units.size
        self.probation_c = np.zeros(C, dtype=np.int64)
        self.probation_u = np.zeros(U, dtype=np.int64)
        self.audited_citizens = np.zeros(C, dtype=np.int64)
        self.caught_citizens = np.zeros(C, dtype=np.int64)
        self.audited_units = np.zeros(U, dtype=np.int64)
        self.caught_units = np.zeros(U, dtype=np.int64)

    memory = (*BoundDefence.memory, "probation_c", "probation_u", "audited_citizens", "caught_citizens",
              "audited_units", "caught_units")

    def defend(self, reports: NightReports, evidence: Evidence) -> tuple[np.ndarray, ...]:
        s, p = self.spec, self.peers
        C, U = self.flagged_citizens.size, self.flagged_units.size
        au = (self.rng.random(U) < s.probability) & p.unit_reports if s.units else np.zeros(U, dtype=bool)
        ac = self.rng.random(C) < s.probability if s.citizens else np.zeros(C, dtype=bool)
        true_cap = p.true_capacity
        finite = np.isfinite(true_cap)
        cap_ratio = np.divide(reports.unit_capacity, true_cap, out=np.ones(U), where=finite & (true_cap > 0))
        lie_u = (_deviates(reports.unit_input_factor, s.tolerance) & p.unit_reports_curve) | \
            (_deviates(cap_ratio, s.tolerance) & finite)
        lie_c = _deviates(reports.citizen_factor, s.tolerance)
        caught_u, caught_c = au & lie_u, ac & lie_c
        self.audited_units += au
        self.audited_citizens += ac
        self.caught_units += caught_u
        self.caught_citizens += caught_c
        self.probation_u = np.where(caught_u, s.penalty_days + 1, self.probation_u)
        self.probation_c = np.where(caught_c, s.penalty_days + 1, self.probation_c)
        on_u, on_c = self.probation_u > 0, self.probation_c > 0
        u_fac = np.where(on_u & p.unit_reports_curve, 1.0, reports.unit_input_factor)
        u_cap = np.where(on_u & finite, true_cap, reports.unit_capacity)
        c_fac = np.where(on_c, 1.0 - s.penalty, reports.citizen_factor)
        self.probation_u = np.maximum(self.probation_u - 1, 0)
        self.probation_c = np.maximum(self.probation_c - 1, 0)
        return c_fac, u_fac, u_cap, caught_c, caught_u


# -- robust aggregation -----------------------------------------------------------------------
@dataclass(frozen=True)
class RobustAggregation(Defence):
    """Aggregate each peer group's reports robustly (:mod:`planner.robust`).

    ``method="mad"``: a report farther than ``threshold`` scaled MADs from its peers' median is
    flagged and replaced by that median; the rest pass. ``"median"`` / ``"trimmed"``: every
    report of a group is replaced by the group's median / trimmed mean (so the group's total
    claim is its size times a robust location), and MAD outliers are flagged. Units are
    judged on their input factor only (capacities differ between peers by design).

    Args:
        method: ``"mad"``, ``"median"`` or ``"trimmed"`` (default ``"mad"``).
        threshold: MAD threshold in normal sigmas, ``> 0`` (default 3.0).
        trim: share cut from each end by ``"trimmed"`` (default 0.2).
        min_peers: smallest group that is judged (default 3).
    """

    method: str = "mad"
    threshold: float = 3.0
    trim: float = 0.2
    min_peers: int = 3
    name = "robust"

    def __post_init__(self) -> None:
        if self.method not in ("mad", "median", "trimmed"):
            raise InvalidInputError(
                f"RobustAggregation: method must be 'mad', 'median' or 'trimmed', got {self.method!r}")
        check_positive("RobustAggregation", "threshold", self.threshold)
        check_positive("RobustAggregation", "trim", self.trim, closed_low=True, high=0.5 - 1e-12)

    def bind(self, model: Any) -> RobustRun:
        return RobustRun(self, model)

    def aggregate(self, values: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(corrected values, flagged)`` for one kind of agent."""
        if values.size == 0:
            return values.copy(), np.zeros(0, dtype=bool)
        flagged = mad_outliers(values, groups, self.threshold, min_size=self.min_peers)
        size = np.bincount(groups)
        judged = size[groups] >= self.min_peers
        loc = robust_location(values, groups, "trimmed" if self.method == "trimmed" else "median", self.trim)
        if self.method == "mad":
            return np.where(flagged, loc[groups], values), flagged
        return np.where(judged, loc[groups], values), flagged


class RobustRun(BoundDefence):
    """:class:`RobustAggregation` bound to a model."""

    def defend(self, reports: NightReports, evidence: Evidence) -> tuple[np.ndarray, ...]:
        return within_peer_groups(self.peers, reports, self.spec.aggregate)


# -- belief updates from execution ------------------------------------------------------------
@dataclass(frozen=True)
class BeliefUpdate(Defence):
    """Belief updates from execution: the planner keeps a correction ``c_u`` of each unit's
    reported curves and, each night, moves it by the evidence of the last day, the unit's
    reported input use at the output it executed (with last night's correction) against its
    realised (true) input use: ``log c_u <- log c_u - rate * log(reported / realised)``.
    Tonight's input factor is the report times ``c_u``. A unit whose correction exceeds
    ``tolerance`` (relative) is flagged. Honest learning error is corrected too.

    Args:
        rate: weight of a night's evidence, in ``(0, 1]`` (default 0.5).
        tolerance: flagging threshold on the correction, above honest learning error (default 0.2).
    """

    rate: float = 0.5
    tolerance: float = 0.2
    name = "belief"

    def __post_init__(self) -> None:
        check_positive("BeliefUpdate", "rate", self.rate, high=1.0)
        check_positive("BeliefUpdate", "tolerance", self.tolerance)

    def bind(self, model: Any) -> BeliefRun:
        return BeliefRun(self, model)


class BeliefRun(BoundDefence):
    """:class:`BeliefUpdate` bound to a model; ``log_correction`` holds ``log c_u``."""

    def __init__(self, spec: BeliefUpdate, model: Any) -> None:
        super().__init__(spec, model)
        self.log_correction = np.zeros(self.flagged_units.size)

    memory = (*BoundDefence.memory, "log_correction")

    def defend(self, reports: NightReports, evidence: Evidence) -> tuple[np.ndarray, ...]:
        rep = np.asarray(evidence.unit_reported_use, dtype=float)
        real = np.asarray(evidence.unit_true_use, dtype=float)
        ok = self.peers.unit_reports_curve & (rep > 0) & (real > 0)
        gap = np.log(np.divide(rep, real, out=np.ones_like(rep), where=ok))
        self.log_correction = np.where(ok, self.log_correction - self.spec.rate * gap, self.log_correction)
        u_fac = np.asarray(reports.unit_input_factor, dtype=float) * np.exp(self.log_correction)
        fu = np.abs(self.log_correction) > np.log1p(self.spec.tolerance)
        return (np.asarray(reports.citizen_factor, dtype=float), u_fac, np.asarray(reports.unit_capacity, dtype=float),
                np.zeros(self.flagged_citizens.size, dtype=bool), fu)


# -- IC penalty -------------------------------------------------------------------------------
@dataclass(frozen=True)
class ICPenalty(Defence):
    """An incentive-compatibility penalty on claims: the part of a report above its peers'
    median is discounted by ``strength``: ``f - strength * max(0, f - median)``. With
    ``strength = 1`` no claim counts for more than the peer median, so inflating earns nothing
    (a report below the median is taken as it is: understating only hurts the reporter).
    Citizens are compared within their profile and region, curve-reporting units within their
    good. Reports more than ``tolerance`` above the median are flagged.

    Args:
        strength: share of the excess disregarded, in ``[0, 1]`` (default 1.0).
        tolerance: relative excess that is flagged (default 0.02).
    """

    strength: float = 1.0
    tolerance: float = 0.02
    name = "ic"

    def __post_init__(self) -> None:
        check_positive("ICPenalty", "strength", self.strength, closed_low=True, high=1.0)
        check_positive("ICPenalty", "tolerance", self.tolerance)

    def bind(self, model: Any) -> ICRun:
        return ICRun(self, model)

    def penalise(self, values: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if values.size == 0:
            return values.copy(), np.zeros(0, dtype=bool)
        med = robust_location(values, groups, "median")[groups]
        excess = np.maximum(values - med, 0.0)
        return values - self.strength * excess, excess > self.tolerance * med


class ICRun(BoundDefence):
    """:class:`ICPenalty` bound to a model."""

    def defend(self, reports: NightReports, evidence: Evidence) -> tuple[np.ndarray, ...]:
        return within_peer_groups(self.peers, reports, self.spec.penalise)


def attach_defences(model: Any, defences: list | tuple) -> tuple[BoundDefence, ...]:
    """Bind ``defences`` (defence objects or their text forms) to ``model`` and append them to
    its defence chain (:attr:`abm.model.PlanningEconomy.defence_chain`), after any it already
    has; returns the bound defences. A model built with ``defences=`` binds its own."""
    from innatura.abm.adversarial.vocabulary import parse_defences

    bound = tuple(d.bind(model) for d in parse_defences(list(defences)))
    model.defence_chain.extend(bound)
    return bound
