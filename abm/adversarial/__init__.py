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
from innatura.abm.adversarial.experiment import (
    STRATEGIES,
    build_model,
    make_config,
    misreporting_configs,
    run_misreporting,
)
from innatura.abm.adversarial.unit_strategies import (
    UNIT_STRATEGY_TYPES,
    Collude,
    OverstateCapacity,
    Ratchet,
    collude_for,
)

__all__ = [
    "CITIZEN_STRATEGY_TYPES",
    "DEFENCE_TYPES",
    "STRATEGIES",
    "UNIT_STRATEGY_TYPES",
    "Audit",
    "BeliefUpdate",
    "BoundDefence",
    "Collude",
    "Deflate",
    "Detection",
    "Hoard",
    "ICPenalty",
    "Inflate",
    "Noise",
    "OverstateCapacity",
    "Ratchet",
    "ReportRecorder",
    "RobustAggregation",
    "Strategy",
    "attach_defences",
    "build_model",
    "collude_for",
    "detection_scores",
    "make_config",
    "misreporting_configs",
    "register",
    "run_misreporting",
    "truthful_welfare",
]
