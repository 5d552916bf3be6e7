"""The learned planner against the hand-made defences: one scenario, one misreporting strategy, several seeds.

For every seed, the same draw of misreporting units (``share`` of them) is simulated under
each arm (:data:`ARMS`):

- ``honest``: everyone reports honestly (the same draw, so the random streams align), OLIN-EP;
- ``no defence``: the drawn units play ``strategy``, OLIN-EP plans on their reports;
- one arm per defence (``audit``, ``robust``, ``belief``, ``ic``): OLIN-EP behind it;
- ``learned``: the learned planner (:class:`~abm.planning.learned_io.LearnedIOMethod`) of a
  checkpoint;
- ``oracle``: the plan on the units' true curves (:class:`~abm.planning.learned_io.OracleMethod`).

Each run gives its humanity (mean over days of OLIN-EP Eq. 5 on what citizens received), its
humanity loss against the honest run of the same seed, its plan error (mean relative gap between
planned and executed production) and the precision and recall of the units it flagged as
misreporting (the defences' flags on any night; the learned planner's flags of its last night;
:func:`abm.adversarial.detection.detection_scores`). :func:`summarise` gives per arm the mean
and standard deviation over seeds, and the share of the no-defence loss each arm recovers:
``1 - mean loss(arm) / mean loss(no defence)``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from innatura.planner.errors import InvalidInputError

__all__ = ["ARMS", "DEFENCE_ARMS", "run_arm", "run_study", "summarise"]

logger = logging.getLogger(__name__)

#: the defences the study runs, each as one arm.
DEFENCE_ARMS = ("audit", "robust", "belief", "ic")
#: every arm, in table order.
ARMS = ("honest", "no defence", *DEFENCE_ARMS, "learned", "oracle")


def _config(arm: str, scenario: str, strategy: str, share: float, days: int, seed: int, model: str | None,
            audit_probability: float) -> dict[str, Any]:
    from innatura.abm.adversarial.experiment import canonical_defence, make_config

    planner, options, defence, chosen = "olin", "", "none", strategy
    if arm == "honest":
        chosen = "honest"
    elif arm in DEFENCE_ARMS:
        defence = arm
    elif arm == "learned":
        if model is None:
            raise InvalidInputError("learned-vs-defences: the learned arm needs a checkpoint (--model DIR)")
        planner, options = "learned", f"model={model}"
    elif arm == "oracle":
        planner = "oracle"
    elif arm != "no defence":
        raise InvalidInputError(f"learned-vs-defences: arm {arm!r} is unknown; arms: {', '.join(ARMS)}")
    return make_config(scenario=scenario, planner=planner, planner_options=options, unit_strategy=chosen,
                       share=share, defence=canonical_defence(defence, audit_probability), days=days, seed=seed)


def run_arm(arm: str, scenario: str, strategy: str, share: float, days: int, seed: int, model: str | None = None,
            audit_probability: float = 0.3) -> dict[str, Any]:
    """One run of the study: its arm, seed, humanity, plan error, detection and seconds."""
    from innatura.abm.adversarial.detection import detection_scores, welfare
    from innatura.abm.adversarial.experiment import build_model

    start = time.perf_counter()
    model_, recorder, bound = build_model(_config(arm, scenario, strategy, share, days, seed, model,
                                                  audit_probability))
    for _ in range(days):
        model_.step()
    flagged = np.zeros(model_.layout.n_units, dtype=bool)
    for b in bound:
        flagged |= b.flagged_units
    method_flags = getattr(model_.central_planner.method, "flagged_units", None)
    if method_flags is not None and np.size(method_flags) == flagged.size:
        flagged |= np.asarray(method_flags, dtype=bool)
    w = welfare(model_.model_frame())
    det = detection_scores(flagged, recorder.units)
    return {"arm": arm, "seed": int(seed), "humanity": w.humanity, "plan_error": w.plan_error,
            "misreporters": det.misreporters, "flagged": det.flagged, "precision": det.precision,
            "recall": det.recall, "seconds": time.perf_counter() - start}


def run_study(scenario: str, strategy: str, share: float, seeds: Sequence[int], days: int, model: str | None,
              arms: Sequence[str] = ARMS, audit_probability: float = 0.3,
              progress: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """Every arm on every seed (see the module); rows of :func:`run_arm` with ``humanity_loss``
    against the honest run of the same seed (which is always run)."""
    rows = []
    for seed in seeds:
        honest = run_arm("honest", scenario, strategy, share, days, seed, model, audit_probability)
        for arm in arms:
            row = honest if arm == "honest" else run_arm(arm, scenario, strategy, share, days, seed, model,
                                                         audit_probability)
            row = {**row, "strategy": strategy, "share": float(share),
                   "humanity_loss": honest["humanity"] - row["humanity"]}
            rows.append(row)
            if progress is not None:
                progress(row)
    return rows


def _stat(values: Sequence[float]) -> tuple[float, float]:
    v = np.asarray([x for x in values if np.isfinite(x)], dtype=float)
    if v.size == 0:
        return float("nan"), float("nan")
    return float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else 0.0


def summarise(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (strategy, arm): mean and standard deviation over seeds of humanity, humanity loss,
    plan error, precision and recall, and the share of the no-defence loss recovered."""
    out = []
    for strategy in dict.fromkeys(r["strategy"] for r in rows):
        mine = [r for r in rows if r["strategy"] == strategy]
        none_loss = _stat([r["humanity_loss"] for r in mine if r["arm"] == "no defence"])[0]
        for arm in dict.fromkeys(r["arm"] for r in mine):
            sel = [r for r in mine if r["arm"] == arm]
            row: dict[str, Any] = {"strategy": strategy, "arm": arm, "seeds": len(sel)}
            for key in ("humanity", "humanity_loss", "plan_error", "precision", "recall", "seconds"):
                row[key], row[f"{key}_sd"] = _stat([r[key] for r in sel])
            row["recovered"] = (1.0 - row["humanity_loss"] / none_loss
                                if np.isfinite(none_loss) and none_loss > 0 else float("nan"))
            out.append(row)
    return out
