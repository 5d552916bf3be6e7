"""Detection metrics and welfare loss of a misreporting run.

* Who misreported (the ground truth) is recorded from the raw, validated reports before any
  defence touches them (:class:`ReportRecorder`, installed first by
  :func:`abm.adversarial.experiment.build_model`): a citizen whose demand factor, or a unit whose
  input factor (when it reports a curve) or capacity (when finite) departed from the honest
  report by more than ``eps`` on any night.
* Who was flagged: the union of what the defences flagged on any night.
* :func:`detection_scores`: precision ``TP / flagged`` and recall ``TP / misreporters``
  (``nan`` where the denominator is zero).
* :func:`truthful_welfare`: the headline welfare, what the truthful citizens received, against
  the honest run with the same seed (:mod:`abm.adversarial.experiment` runs it);
  :func:`welfare` and :func:`welfare_loss`: economy-wide measures (humanity, unmet demand).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from innatura.abm.adversarial.peers import Peers
from innatura.abm.reporting import Evidence, NightReports

__all__ = ["Detection", "ReportRecorder", "Welfare", "detection_scores", "truthful_welfare", "welfare", "welfare_loss"]

logger = logging.getLogger(__name__)


class ReportRecorder:
    """A pass-through defence that records who misreported (raw reports against honesty).

    Attributes:
        citizens, units: agents that misreported on some night, ``(C,)`` / ``(U,)``.
        misreports_citizens, misreports_units: nights each agent misreported.
    """

    def __init__(self, model: Any, eps: float = 1e-9) -> None:
        self.peers = Peers.of(model.layout)
        self.eps = float(eps)
        self.misreports_citizens = np.zeros(model.layout.n_citizens, dtype=np.int64)
        self.misreports_units = np.zeros(model.layout.n_units, dtype=np.int64)

    def __call__(self, reports: NightReports, evidence: Evidence) -> NightReports:
        p, eps = self.peers, self.eps
        self.misreports_citizens += np.abs(np.asarray(reports.citizen_factor) - 1.0) > eps
        cap = p.true_capacity
        finite = np.isfinite(cap)
        cap_off = np.zeros(cap.size, dtype=bool)
        reported = np.asarray(reports.unit_capacity)[finite]
        cap_off[finite] = np.abs(reported - cap[finite]) > eps * np.maximum(cap[finite], 1.0)
        inp_off = (np.abs(np.asarray(reports.unit_input_factor) - 1.0) > eps) & p.unit_reports_curve
        self.misreports_units += inp_off | cap_off
        return reports

    @property
    def citizens(self) -> np.ndarray:
        return self.misreports_citizens > 0

    @property
    def units(self) -> np.ndarray:
        return self.misreports_units > 0


@dataclass(frozen=True)
class Detection:
    """Flagged misreporters against the truth. ``precision``/``recall`` are ``nan`` when
    nothing was flagged / nobody misreported."""

    misreporters: int
    flagged: int
    true_positives: int
    precision: float
    recall: float

    def as_dict(self, prefix: str = "") -> dict[str, float]:
        return {f"{prefix}{k}": v for k, v in asdict(self).items()}


def detection_scores(flagged: np.ndarray, truth: np.ndarray) -> Detection:
    """Precision and recall of ``flagged`` against ``truth`` (boolean masks of one shape)."""
    f = np.asarray(flagged, dtype=bool)
    t = np.asarray(truth, dtype=bool)
    tp = int((f & t).sum())
    nf, nt = int(f.sum()), int(t.sum())
    return Detection(misreporters=nt, flagged=nf, true_positives=tp,
                     precision=tp / nf if nf else float("nan"), recall=tp / nt if nt else float("nan"))


@dataclass(frozen=True)
class Welfare:
    """Welfare of a run, from its daily model frame (docs/model.md "Collected data").

    Attributes:
        humanity: mean over days of Eq. 5 on what citizens received (the headline welfare).
        min_fulfilment: mean over days of the smallest share of a profile's bundle delivered.
        unmet_demand: units of final goods needed but not delivered, summed over days.
        final_humanity: humanity on the last day.
        externalities: cumulative externalities at the end (Eq. 6).
        plan_error: mean relative gap between planned and executed production.
    """

    humanity: float
    min_fulfilment: float
    unmet_demand: float
    final_humanity: float
    externalities: float
    plan_error: float

    def as_dict(self, prefix: str = "") -> dict[str, float]:
        return {f"{prefix}{k}": float(v) for k, v in asdict(self).items()}


def welfare(frame: pd.DataFrame) -> Welfare:
    """The :class:`Welfare` of a run from its model frame (one row per day)."""
    return Welfare(
        humanity=float(frame["humanity"].mean()), min_fulfilment=float(frame["min_fulfilment"].mean()),
        unmet_demand=float(frame["unmet_demand"].sum()), final_humanity=float(frame["humanity"].iloc[-1]),
        externalities=float(frame["externalities"].iloc[-1]), plan_error=float(frame["plan_error"].mean()),
    )


def welfare_loss(run: Welfare, honest: Welfare) -> dict[str, float]:
    """Economy-wide losses against the honest run (positive = worse): ``humanity_loss`` (mean
    humanity lost), ``extra_unmet_demand``, ``fulfilment_loss`` (mean min fulfilment lost)."""
    return {
        "humanity_loss": honest.humanity - run.humanity,
        "extra_unmet_demand": run.unmet_demand - honest.unmet_demand,
        "fulfilment_loss": honest.min_fulfilment - run.min_fulfilment,
    }


def truthful_welfare(received: np.ndarray, honest_received: np.ndarray, truthful: np.ndarray) -> dict[str, float]:
    """Welfare of the citizens who reported truthfully, in this run and in the honest run.

    Humanity (Eq. 5) is a profile-level measure: it cannot see that a profile's inflators take
    what its truthful members lack. The headline welfare of a misreporting run is therefore
    ``welfare``: the mean, over the citizens who never misreported and over days, of the share of
    their need they received (capped at 1); ``honest_welfare`` is the same citizens' mean in the
    honest run with the same seed, and ``welfare_loss = honest_welfare - welfare``
    (``welfare_loss_rel`` over ``honest_welfare``).

    Args:
        received: per citizen, mean over days of ``min(received share, 1)``, ``(C,)``.
        honest_received: the same in the honest run with the same seed, ``(C,)``.
        truthful: citizens who never misreported, ``(C,)``.
    """
    t = np.asarray(truthful, dtype=bool)
    if not t.any():
        nan = float("nan")
        return {"welfare": nan, "honest_welfare": nan, "welfare_loss": nan, "welfare_loss_rel": nan}
    w, h = float(np.mean(received[t])), float(np.mean(honest_received[t]))
    return {"welfare": w, "honest_welfare": h, "welfare_loss": h - w,
            "welfare_loss_rel": (h - w) / h if h > 0 else float("nan")}
