"""The learned planner against the hand-made defences: one scenario, one misreporting strategy, several seeds.

For every seed, the same draw of misreporting units (``share`` of them) is simulated under
each arm (:data:`ARMS`):

- ``honest``: the drawn units report honestly, OLIN-EP;
- ``no defence``: the drawn units play ``strategy``, OLIN-EP plans on their reports;
- one arm per defence (``audit``, ``robust``, ``belief``, ``ic``): OLIN-EP behind it;
- ``learned``: the learned planner (:class:`~abm.planning.learned_io.LearnedIOMethod`) of a
  checkpoint: type inference, corrected reports and its policy's investment share and priorities
  when the policy guard kept the policy (else the run's share and equal priorities: then it
  plans as ``inferred``; ``policy_kept`` in the rows);
- ``inferred``: the same without the policy (type inference and corrected reports alone);
- ``oracle``: the plan on the units' true curves (:class:`~abm.planning.learned_io.OracleMethod`).

The arms of a seed share their random streams (:func:`build_arm`): the same citizens,
misreporting units, losses and learning noise, so that the difference of two arms on one seed
is the effect of the arm, and the study's statistics are PAIRED differences per seed: the
``humanity_loss`` against the honest run and the ``gain`` over no defence. Each run gives its
humanity (mean over days of OLIN-EP Eq. 5 on what citizens received), its plan error (mean
relative gap between planned and executed production) and the precision and recall of the
units it flagged as misreporting (the defences' flags on any night; the learned planner's flags
of its last night; :func:`abm.adversarial.detection.detection_scores`). :func:`summarise` gives
per arm the mean, standard deviation and standard error over seeds, and the share of the
no-defence loss each arm recovers: ``1 - mean loss(arm) / mean loss(no defence)``.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from innatura.planner.errors import InvalidInputError

__all__ = ["ARMS", "AUDIT_STREAM", "DEFENCE_ARMS", "StudySetting", "build_arm", "run_arm", "run_study",
           "scenario_spec", "summarise"]

logger = logging.getLogger(__name__)

#: the defences the study runs, each as one arm.
DEFENCE_ARMS = ("audit", "robust", "belief", "ic")
#: every arm, in table order.
ARMS = ("honest", "no defence", *DEFENCE_ARMS, "learned", "inferred", "oracle")
#: the key of the audit arm's own random stream (with the seed).
AUDIT_STREAM = 0xA0D1


@dataclass(frozen=True)
class StudySetting:
    """What the arms of a study share.

    Attributes:
        scenario: a scenario name or file, with builder parameters after a colon
            (``us-2022:returns_to_scale=0.9``).
        strategy: the misreporting units' strategy (``overstate_inputs(2.0)``, ``ratchet(3.0)``).
        share: the share of units drawn to misreport.
        days: days per run.
        model: the learned planner's checkpoint (``None``: no learned arms).
        audit_probability: audit probability per unit and night of the audit arm.
        single_region: merge the regions into one (the plan without regional friction).
    """

    scenario: str
    strategy: str = "overstate_inputs(2.0)"
    share: float = 0.3
    days: int = 30
    model: str | None = None
    audit_probability: float = 0.3
    single_region: bool = False


def _planner(arm: str, model: str | None) -> tuple[str, dict[str, Any], str]:
    """``(planner, planner options, defence)`` of ``arm``."""
    if arm in DEFENCE_ARMS:
        return "olin", {}, arm
    if arm in ("learned", "inferred"):
        if model is None:
            raise InvalidInputError(f"learned-vs-defences: the {arm} arm needs a checkpoint (--model DIR)")
        return "learned", {"model": model, **({"policy": False} if arm == "inferred" else {})}, "none"
    if arm == "oracle":
        return "oracle", {}, "none"
    if arm in ("honest", "no defence"):
        return "olin", {}, "none"
    raise InvalidInputError(f"learned-vs-defences: arm {arm!r} is unknown; arms: {', '.join(ARMS)}")


@functools.lru_cache(maxsize=8)
def scenario_spec(scenario: str) -> Any:
    """The scenario ``scenario`` names: a name or a file, with builder parameters after a colon
    (:func:`abm.learning.dataset.load_scenario`); cached by its text."""
    from innatura.abm.learning.dataset import load_scenario
    from innatura.abm.model import load_spec

    return load_spec(load_scenario(scenario))


def build_arm(arm: str, setting: StudySetting, seed: int) -> tuple[Any, Any, tuple[Any, ...]]:
    """The model of ``arm`` on ``seed``, its report recorder and its bound defences.

    Every arm of a seed draws the same citizens, misreporting units and losses: the model's
    generator is seeded by ``seed`` alone, the honest arm draws the same misreporting units (who
    then report honestly), and the audit arm's audits draw from a generator of their own (seeded
    by ``seed``), so that they do not shift the model's stream.
    """
    from innatura.abm.adversarial.defences import AuditRun
    from innatura.abm.adversarial.detection import ReportRecorder
    from innatura.abm.adversarial.experiment import make_defences
    from innatura.abm.model import PlanningEconomy

    planner, options, defence = _planner(arm, setting.model)
    model = PlanningEconomy(scenario_spec(setting.scenario), rng=seed, planner=planner, days=setting.days,
                            misreport_share=setting.share, planner_options=options, collect_agents=False,
                            defences=make_defences(defence, setting.audit_probability),
                            unit_strategy="honest" if arm == "honest" else setting.strategy,
                            single_region=setting.single_region)
    bound = tuple(model.defence_chain)
    for b in bound:
        if isinstance(b, AuditRun):
            b.rng = np.random.default_rng([int(seed), AUDIT_STREAM])
    recorder = ReportRecorder(model)
    model.defence_chain.insert(0, recorder)
    return model, recorder, bound


def run_arm(arm: str, setting: StudySetting, seed: int) -> dict[str, Any]:
    """One run of the study: its arm, seed, humanity, plan error, detection, seconds and the
    end state of its model's generator (``stream``: equal across the arms of a seed when they
    drew the same random numbers)."""
    from innatura.abm.adversarial.detection import detection_scores, welfare

    start = time.perf_counter()
    model_, recorder, bound = build_arm(arm, setting, seed)
    for _ in range(setting.days):
        model_.step()
    flagged = np.zeros(model_.layout.n_units, dtype=bool)
    for b in bound:
        flagged |= b.flagged_units
    method_flags = getattr(model_.central_planner.method, "flagged_units", None)
    if method_flags is not None and np.size(method_flags) == flagged.size:
        flagged |= np.asarray(method_flags, dtype=bool)
    w = welfare(model_.model_frame())
    det = detection_scores(flagged, recorder.units)
    kept = getattr(getattr(model_.central_planner.method, "impl", None), "policy_kept", None)
    stream = int(model_.rng.bit_generator.state["state"]["state"]) % 1_000_000_007
    return {"arm": arm, "seed": int(seed), "humanity": w.humanity, "plan_error": w.plan_error,
            "misreporters": det.misreporters, "flagged": det.flagged, "precision": det.precision,
            "recall": det.recall, "stream": stream, "seconds": time.perf_counter() - start,
            "policy_kept": float("nan") if arm != "learned" or kept is None else float(bool(kept))}


def run_study(setting: StudySetting, seeds: Sequence[int], arms: Sequence[str] = ARMS,
              progress: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """Every arm on every seed (see the module); rows of :func:`run_arm` with the paired
    differences against the same seed's honest run (``humanity_loss``, always run) and
    no-defence run (``gain``, when run), and ``same_stream`` (the run drew the same random
    numbers as the honest run)."""
    rows = []
    for seed in seeds:
        honest = run_arm("honest", setting, seed)
        none = run_arm("no defence", setting, seed) if "no defence" in arms else None
        for arm in arms:
            row = {"honest": honest, "no defence": none}.get(arm) or run_arm(arm, setting, seed)
            row = {**row, "scenario": setting.scenario, "strategy": setting.strategy, "share": float(setting.share),
                   "humanity_loss": honest["humanity"] - row["humanity"],
                   "gain": row["humanity"] - none["humanity"] if none is not None else float("nan"),
                   "same_stream": row["stream"] == honest["stream"]}
            rows.append(row)
            if progress is not None:
                progress(row)
    return rows


def _stat(values: Sequence[float]) -> tuple[float, float, float]:
    """Mean, standard deviation and standard error of the finite ``values``."""
    v = np.asarray([x for x in values if np.isfinite(x)], dtype=float)
    if v.size == 0:
        return float("nan"), float("nan"), float("nan")
    sd = float(v.std(ddof=1)) if v.size > 1 else 0.0
    return float(v.mean()), sd, sd / float(np.sqrt(v.size))


def summarise(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (scenario, strategy, arm): mean, standard deviation (``_sd``) and standard error
    (``_se``) over seeds of humanity, the paired humanity loss against the honest run, the
    paired gain over no defence, plan error, precision, recall and seconds; the share of the
    no-defence loss recovered, ``1 - mean loss(arm) / mean loss(no defence)``; and
    ``same_stream``, the share of seeds whose run drew the honest run's random numbers; and
    ``policy_kept``, the share of seeds whose learned planner planned with its policy (the
    guard kept it; NaN for the other arms)."""
    out = []
    keys = dict.fromkeys((r.get("scenario", ""), r["strategy"]) for r in rows)
    for scenario, strategy in keys:
        mine = [r for r in rows if r.get("scenario", "") == scenario and r["strategy"] == strategy]
        none_loss = _stat([r["humanity_loss"] for r in mine if r["arm"] == "no defence"])[0]
        for arm in dict.fromkeys(r["arm"] for r in mine):
            sel = [r for r in mine if r["arm"] == arm]
            row: dict[str, Any] = {"scenario": scenario, "strategy": strategy, "arm": arm, "seeds": len(sel)}
            for key in ("humanity", "humanity_loss", "gain", "plan_error", "precision", "recall", "seconds"):
                row[key], row[f"{key}_sd"], row[f"{key}_se"] = _stat([r.get(key, float("nan")) for r in sel])
            row["recovered"] = (1.0 - row["humanity_loss"] / none_loss
                                if np.isfinite(none_loss) and none_loss > 0 else float("nan"))
            row["same_stream"] = float(np.mean([bool(r.get("same_stream", True)) for r in sel]))
            row["policy_kept"] = _stat([r.get("policy_kept", float("nan")) for r in sel])[0]
            out.append(row)
    return out
