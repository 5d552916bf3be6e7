"""Adversarial reporting: misreporting strategies, the planner's defences, detection metrics,
and the run function of the misreporting sweep (``innatura experiment misreporting``).

* :mod:`.citizen_strategies`: :class:`Inflate`, :class:`Deflate`, :class:`Noise`, :class:`Hoard`.
* :mod:`.unit_strategies`: :class:`Ratchet`, :class:`OverstateCapacity`, :class:`Collude`.
* :mod:`.defences`: :class:`Audit`, :class:`RobustAggregation`, :class:`BeliefUpdate`,
  :class:`ICPenalty`, bound to a model by :func:`attach_defences`.
* :mod:`.detection`: who misreported, precision and recall of the flags, welfare loss.
* :mod:`.experiment`: :func:`run_misreporting` (picklable, for :func:`abm.sweep.run_sweep`).
* :mod:`.report`: the sweep's summary table and heatmaps.

Strategies plug into the model's reporting tables (:mod:`abm.reporting`) and defences into its
defence chain; neither touches the day loop.
"""

from innatura.abm.adversarial.base import Strategy, register
from innatura.abm.adversarial.citizen_strategies import CITIZEN_STRATEGY_TYPES, Deflate, Hoard, Inflate, Noise
from innatura.abm.adversarial.defences import (
    DEFENCE_TYPES,
    Audit,
    BeliefUpdate,
    BoundDefence,
    ICPenalty,
    RobustAggregation,
    attach_defences,
)
from innatura.abm.adversarial.detection import Detection, ReportRecorder, detection_scores, truthful_welfare
from innatura.abm.adversarial.experiment import STRATEGIES, build_model, make_config, misreporting_configs, run_misreporting
from innatura.abm.adversarial.unit_strategies import UNIT_STRATEGY_TYPES, Collude, OverstateCapacity, Ratchet, collude_for

__all__ = [
    "Strategy", "register",
    "Inflate", "Deflate", "Noise", "Hoard", "CITIZEN_STRATEGY_TYPES",
    "Ratchet", "OverstateCapacity", "Collude", "collude_for", "UNIT_STRATEGY_TYPES",
    "Audit", "RobustAggregation", "BeliefUpdate", "ICPenalty", "BoundDefence", "DEFENCE_TYPES", "attach_defences",
    "Detection", "ReportRecorder", "detection_scores", "truthful_welfare",
    "STRATEGIES", "make_config", "misreporting_configs", "build_model", "run_misreporting",
]
