"""Adversarial reporting: misreporting strategies (static and adaptive), the planner's defences,
detection metrics, and the run function of misreporting studies (``innatura experiment run``).

* :mod:`.base`: what strategies and defences share (one name, one text form), :class:`Honest`.
* :mod:`.citizen_strategies`: :class:`Inflate`, :class:`Deflate`, :class:`Noise`, :class:`Hoard`.
* :mod:`.unit_strategies`: :class:`OverstateInputs`, :class:`Ratchet`, :class:`OverstateCapacity`,
  :class:`Collude`.
* :mod:`.adaptive`: :class:`AdaptiveInflate`, :class:`AdaptiveInputs`: citizens and units that
  learn their factor from their payoff (:class:`FactorBandit`).
* :mod:`.defences`: :class:`Audit`, :class:`RobustAggregation`, :class:`BeliefUpdate`,
  :class:`ICPenalty`, bound to a model by :meth:`Defence.bind`.
* :mod:`.vocabulary`: the tables of names and :func:`parse_strategy`, :func:`parse_defences`.
* :mod:`.detection`: who misreported, precision and recall of the flags, welfare loss.
* :mod:`.experiment`: :func:`run_misreporting` (picklable, for :func:`abm.sweep.run_sweep`);
  studies of it are :mod:`abm.study`.

A model holds one strategy per agent (``citizen.strategy``, ``unit.strategy``) and the
defences it was built with; neither touches the day loop.
"""

from innatura.abm.adversarial.adaptive import Adaptive, AdaptiveInflate, AdaptiveInputs, FactorBandit
from innatura.abm.adversarial.base import Honest, Strategy
from innatura.abm.adversarial.citizen_strategies import Deflate, Hoard, Inflate, Noise
from innatura.abm.adversarial.defences import (
    Audit,
    BeliefUpdate,
    BoundDefence,
    Defence,
    ICPenalty,
    RobustAggregation,
    attach_defences,
)
from innatura.abm.adversarial.detection import Detection, ReportRecorder, detection_scores, truthful_welfare
from innatura.abm.adversarial.experiment import (
    build_model,
    make_config,
    misreporting_configs,
    one_sided_config,
    run_misreporting,
)
from innatura.abm.adversarial.unit_strategies import Collude, OverstateCapacity, OverstateInputs, Ratchet
from innatura.abm.adversarial.vocabulary import (
    CITIZEN_STRATEGIES,
    DEFENCES,
    STRATEGIES,
    UNIT_STRATEGIES,
    parse_defence,
    parse_defences,
    parse_strategy,
)

__all__ = [
    "CITIZEN_STRATEGIES",
    "DEFENCES",
    "STRATEGIES",
    "UNIT_STRATEGIES",
    "Adaptive",
    "AdaptiveInflate",
    "AdaptiveInputs",
    "Audit",
    "BeliefUpdate",
    "BoundDefence",
    "Collude",
    "Defence",
    "Deflate",
    "Detection",
    "FactorBandit",
    "Hoard",
    "Honest",
    "ICPenalty",
    "Inflate",
    "Noise",
    "OverstateCapacity",
    "OverstateInputs",
    "Ratchet",
    "ReportRecorder",
    "RobustAggregation",
    "Strategy",
    "attach_defences",
    "build_model",
    "detection_scores",
    "make_config",
    "misreporting_configs",
    "one_sided_config",
    "parse_defence",
    "parse_defences",
    "parse_strategy",
    "run_misreporting",
    "truthful_welfare",
]
