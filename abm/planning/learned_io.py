"""The learned planner of any economy, and the oracle that knows the true curves.

Both plan the night with the run's input-output plan (``plan``: a planning method of
:data:`abm.planning.METHODS`, OLIN-EP's ``"olin"`` unless told otherwise) on DE-BIASED reports:
each curve-reporting unit's reported input curve is multiplied by a factor ``c_u`` before the
plan (:meth:`abm.reported_curves.ReportedCurves.scaled_cells`).

* :class:`LearnedIOMethod` (``planner="learned"`` with a checkpoint of ``innatura train learned
  --scenario S``): each night it records the units' histories
  (:class:`~abm.learning.histories.HistoryRecorder`), runs type inference on them
  (:class:`~planner.learned.inference.TypeInference`); a unit whose misreport probability
  exceeds ``threshold`` tonight is flagged (:attr:`flagged_units`), and each flagged unit's
  report is corrected by the 0.8 quantile of the posterior of its true input-use scale
  (:func:`planner.learned.debias.corrected_scales`; a shortfall of inputs costs more than a
  surplus, see :mod:`planner.learned.debias`). Units not flagged keep their reports
  (``correct="all"`` corrects every unit).
  Its policy (:class:`~planner.learned.pg.PriorityPolicy`) then decides what the plan takes as
  given: the investment share ``sigma`` and per-region priorities ``w_r`` (summing to 1). The
  plan serves the reported demand of region ``r`` weighted by ``R w_r`` (uniform priorities:
  the reports as they are); goods still reach regions as the reports say. The policy observes
  :func:`abm.learning.observe.observation`. A checkpoint whose policy the guard rejected
  (:mod:`planner.learned.guard`) plans without it: the run's investment share and equal
  priorities (:attr:`LearnedIOMethod.policy_kept`).
* :class:`OracleMethod` (``planner="oracle"``): corrects each report by the unit's TRUE scale
  tonight (its true input use over its report at its reference output) and keeps the run's
  investment share and demand: the plan that knows the true curves, the study's upper line.

A method needs its model (the histories, the reports' samples): the central planner calls
:meth:`DebiasedPlan.bind` when it is built.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import replace
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from innatura.abm.planning.base import PlanDecision, PlanningInputs, check_state
from innatura.planner.errors import InvalidInputError

if TYPE_CHECKING:  # pragma: no cover
    from innatura.abm.learning.histories import HistoryRecorder
    from innatura.abm.model import PlanningEconomy
    from innatura.planner.learned.inference import TypeInference
    from innatura.planner.learned.pg import PlanAction, PriorityPolicy

__all__ = ["DebiasedPlan", "LearnedIOMethod", "OracleMethod"]

logger = logging.getLogger(__name__)


class DebiasedPlan:
    """The run's plan on corrected reports, with a policy's investment share and priorities.

    Subclasses say how reports are corrected (:meth:`scales`). Without a policy and an
    :attr:`action`, the investment share is the run's and every region has the same priority.

    Args:
        plan: the planning method that makes the plan (a name of :data:`abm.planning.METHODS`).
        plan_options: its options.

    Attributes:
        action: set by a training environment: tonight's action, instead of the policy's.
        flagged_units: units flagged as misreporting by the latest night, ``(U,)``.
    """

    name = "debiased"

    def __init__(self, plan: str = "olin", plan_options: Mapping[str, Any] | None = None) -> None:
        from innatura.abm.planning import make_method

        if plan in ("learned", "oracle"):
            raise InvalidInputError(f"planner {self.name!r}: plan = {plan!r}: the plan must be an input-output "
                                    "planning method such as 'olin'")
        self.plan_name = plan
        self.inner = make_method(plan, **dict(plan_options or {}))
        self.policy: PriorityPolicy | None = None
        self.horizon = 1
        self.action: PlanAction | None = None
        self.model: PlanningEconomy | None = None
        self.recorder: HistoryRecorder | None = None
        self.flagged_units = np.zeros(0, dtype=bool)
        self._started = False
        self._night: tuple[int, np.ndarray, float, np.ndarray] | None = None

    # -- binding -----------------------------------------------------------------------------
    def bind(self, model: PlanningEconomy) -> None:
        """Read ``model`` from now on (its central planner calls this when it is built, before
        the model's state exists: the histories start on first use)."""
        self.model = model
        self.recorder = None
        self._started = False
        self.flagged_units = np.zeros(model.layout.n_units, dtype=bool)
        self._night = None

    def _bound(self) -> PlanningEconomy:
        """The model, with the units' histories started."""
        from innatura.abm.learning.histories import HistoryRecorder, curve_units

        if self.model is None:
            raise InvalidInputError(f"planner {self.name!r} reads its model: bind(model) first (the central "
                                    "planner of a PlanningEconomy does)")
        if not self._started:
            self.recorder = HistoryRecorder(self.model) if curve_units(self.model).size else None
            self._started = True
        return self.model

    # -- what the subclasses decide ----------------------------------------------------------
    def scales(self) -> np.ndarray:
        """Tonight's correction of each recorded unit's report, ``(units recorded,)``."""
        raise NotImplementedError

    def _action(self, inputs: PlanningInputs) -> tuple[float, np.ndarray]:
        from innatura.abm.learning.observe import observation

        R = inputs.regional_stocks.shape[0]
        action = self.action
        if action is None and self.policy is not None:
            if self.policy.n_regions != R:
                raise InvalidInputError(f"planner {self.name!r}: the policy was trained on an economy of "
                                        f"{self.policy.n_regions} regions, this one has {R} (train one on this "
                                        "scenario: innatura train learned --scenario S)")
            action = self.policy.act(observation(self._bound(), self.horizon))
        if action is None:
            return float(inputs.investment_share), np.full(R, 1.0 / R)
        priorities = np.asarray(action.priorities, dtype=float)
        if priorities.shape != (R,):
            raise InvalidInputError(f"planner {self.name!r}: the policy sets {priorities.size} region priorities, "
                                    f"the economy has {R} regions (trained on another scenario?)")
        return float(action.investment_share), priorities

    def _tonight(self, inputs: PlanningInputs) -> tuple[np.ndarray, float, np.ndarray]:
        """Per model unit the correction, the investment share and the priorities (once a night:
        the night may be re-planned with other capacities)."""
        model = self._bound()
        if self._night is None or self._night[0] != inputs.day:
            scale = np.ones(model.layout.n_units)
            if self.recorder is not None:
                scale[self.recorder.units] = self.scales()
            sigma, priorities = self._action(inputs)
            self._night = (inputs.day, scale, sigma, priorities)
        return self._night[1], self._night[2], self._night[3]

    # -- the night ---------------------------------------------------------------------------
    def plan(self, inputs: PlanningInputs) -> PlanDecision:
        model = self._bound()
        scale, sigma, priorities = self._tonight(inputs)
        economy = inputs.economy
        corrected = not np.all(scale == 1.0)
        if corrected:
            economy = replace(economy, curves=model.curves.scaled_cells(model.state, inputs.unit_capacity, scale))
        demand = np.asarray(inputs.regional_demand, dtype=float)
        if np.ptp(priorities) > 0:
            demand = demand * (priorities.size * priorities)[:, None]
            economy = replace(economy, population=demand.sum(axis=0))
        decision = self.inner.plan(replace(inputs, economy=economy, investment_share=sigma, regional_demand=demand))
        if corrected and decision.unit_targets is None and decision.unit_inputs is None:
            decision = replace(decision, unit_inputs=self._allotted(inputs, decision, scale))
        info = {**decision.info, "planner": self.name, "plan": self.plan_name, "investment_share": sigma,
                "priorities": priorities.tolist(), "corrected_units": int(np.sum(np.abs(np.log(scale)) > 1e-3)),
                "flagged_units": int(self.flagged_units.sum())}
        return replace(decision, info=info)

    def _allotted(self, inputs: PlanningInputs, decision: PlanDecision, scale: np.ndarray) -> np.ndarray:
        """The inputs the plan allots each (unit, input) entry: the CORRECTED reports at the
        targets the central planner will dispatch (:func:`abm.planning.dispatch.dispatch_targets`)."""
        from innatura.abm.planning.dispatch import dispatch_targets

        model = self._bound()
        lay = model.layout
        targets = dispatch_targets(decision.production, lay.unit_good, inputs.unit_capacity, lay.unit_stack,
                                   lay.unit_pooled, lay.pool_share)
        use = model.curves.planned_use(lay.true_inputs, model.state, np.asarray(targets, dtype=float))
        for u, entries in model.curves.learned.items():
            if entries.size and scale[u] != 1.0:
                use[entries] *= scale[u]
        return use

    # -- memory, for run checkpoints ---------------------------------------------------------
    def _memory(self) -> dict[str, Any]:
        self._bound()
        return {"inner": self.inner.state_dict() if hasattr(self.inner, "state_dict") else {},
                "recorder": self.recorder.state_dict() if self.recorder is not None else {},
                "flagged": self.flagged_units.copy()}

    def _restore(self, state: Mapping[str, Any]) -> None:
        self._bound()
        if hasattr(self.inner, "load_state_dict"):
            self.inner.load_state_dict(state["inner"])
        if self.recorder is not None:
            self.recorder.load_state_dict(dict(state["recorder"]))
        flagged = np.asarray(state["flagged"], dtype=bool)
        if flagged.shape != self.flagged_units.shape:
            raise InvalidInputError(f"planner {self.name!r}: state 'flagged' has {flagged.size} units, the model "
                                    f"{self.flagged_units.size}")
        self.flagged_units = flagged.copy()
        self._night = None


class OracleMethod(DebiasedPlan):
    """The run's plan on the units' TRUE curves near their operating points (see the module).

    Args:
        plan: the planning method that makes the plan.
        plan_options: its options.
    """

    name = "oracle"

    def __init__(self, plan: str = "olin", **plan_options: Any) -> None:
        super().__init__(plan, plan_options)

    def scales(self) -> np.ndarray:
        """The true scale of each recorded unit tonight (1 where it is not defined)."""
        if self.recorder is None:
            raise InvalidInputError("oracle: no unit reports a curve")
        truth = self.recorder.sync()["log_scale"]
        return np.where(np.isfinite(truth), np.exp(np.nan_to_num(truth)), 1.0)

    def state_dict(self) -> dict[str, Any]:
        """The plan's memory and the units' histories (the oracle reads their truth)."""
        return self._memory()

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` gave (:class:`InvalidInputError` when malformed)."""
        check_state(self.name, state, {"inner", "recorder", "flagged"})
        self._restore(state)


class LearnedIOMethod(DebiasedPlan):
    """Type inference, de-biased reports and a learned policy (see the module).

    Args:
        model: a checkpoint of ``innatura train learned --scenario S``
            (:func:`planner.learned.checkpoint.load_policy`); or ``None`` with ``policy`` /
            ``inference`` given (training).
        plan: the planning method that makes the plan.
        plan_options: its options.
        debias: ``"quantile"`` (default), ``"location"``, ``"median"`` or ``"mean"``
            (:func:`planner.learned.debias.corrected_scales`).
        quantile: the quantile of ``"quantile"``, in ``(0, 1)`` (default
            :data:`planner.learned.debias.CAUTIOUS_QUANTILE`).
        correct: ``"flagged"`` (the units flagged tonight) or ``"all"``.
        threshold: misreport probability above which a unit is flagged.
        policy: the policy, when ``model`` is ``None``.
        inference: the type inference, when ``model`` is ``None``.
        horizon: the policy's horizon in days, when ``model`` is ``None``.
    """

    name = "learned"

    def __init__(self, model: str | PathLike[str] | None = None, plan: str = "olin",
                 plan_options: Mapping[str, Any] | None = None, debias: str = "quantile", threshold: float = 0.5,
                 policy: PriorityPolicy | None = None, inference: TypeInference | None = None,
                 horizon: int = 1, correct: str = "flagged", quantile: float | None = None) -> None:
        from innatura.planner.learned.debias import CAUTIOUS_QUANTILE
        from innatura.planner.learned.debias import METHODS as DEBIAS

        super().__init__(plan, plan_options)
        if debias not in DEBIAS:
            raise InvalidInputError(f"planner 'learned': debias = {debias!r}; known: {', '.join(DEBIAS)}")
        if not 0.0 < float(threshold) < 1.0:
            raise InvalidInputError(f"planner 'learned': threshold = {threshold!r} must lie in (0, 1)")
        if correct not in ("flagged", "all"):
            raise InvalidInputError(f"planner 'learned': correct = {correct!r}; known: flagged, all")
        q = CAUTIOUS_QUANTILE if quantile is None else float(quantile)
        if not 0.0 < q < 1.0:
            raise InvalidInputError(f"planner 'learned': quantile = {quantile!r} must lie in (0, 1)")
        self.debias, self.threshold, self.correct, self.quantile = debias, float(threshold), correct, q
        self.policy, self.inference, self.horizon = policy, inference, max(1, int(horizon))
        self.weights_sha256 = ""
        #: the checkpoint's policy plans (``False``: the guard rejected it, the baseline plans).
        self.policy_kept = True
        if model is not None:
            self._load(Path(model))

    def _load(self, directory: Path) -> None:
        from innatura.planner.learned.checkpoint import CONFIG_FILE, MODEL_FILE, load_policy

        saved = load_policy(directory)
        self.policy, self.inference = saved.policy, saved.inference
        self.policy_kept = saved.policy_kept
        if not saved.policy_kept:
            logger.info("%s: the policy guard rejected the policy; planning with the run's investment share and "
                        "equal priorities", directory)
            self.policy = None
        self.horizon = max(1, int(saved.extra.get("days", 1)))
        digest = hashlib.sha256()
        for name in (CONFIG_FILE, MODEL_FILE):
            digest.update((directory / name).read_bytes())
        #: SHA-256 of the checkpoint's files: a resumed run checks it has the same planner.
        self.weights_sha256 = digest.hexdigest()

    def scales(self) -> np.ndarray:
        """The posterior correction of each recorded unit tonight; flags the likely liars."""
        from innatura.planner.learned.debias import corrected_scales

        recorder = self.recorder
        if recorder is None or self.inference is None:
            return np.ones(0 if recorder is None else recorder.units.size)
        recorder.sync()
        post = self.inference.posterior(recorder.histories(include_tonight=True))
        self.flagged_units[:] = False
        self.flagged_units[recorder.units] = post.p_misreport[-1] > self.threshold
        return corrected_scales(post, -1, method=self.debias, quantile=self.quantile,
                                min_probability=self.threshold if self.correct == "flagged" else None)

    def state_dict(self) -> dict[str, Any]:
        """The plan's memory, the units' histories, tonight's flags and the checkpoint's hash."""
        return {**self._memory(), "weights_sha256": self.weights_sha256}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` gave.

        Raises:
            InvalidInputError: the state is malformed, or was saved with another checkpoint.
        """
        check_state(self.name, state, {"inner", "recorder", "flagged", "weights_sha256"})
        if state["weights_sha256"] != self.weights_sha256:
            raise InvalidInputError("planner 'learned': the trained planner's files (--model) are not the ones "
                                    "the run was saved with (their SHA-256 differs); resume with the same planner")
        self._restore(state)
