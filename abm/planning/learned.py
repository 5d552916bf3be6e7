"""The learned planner as a planning method of the agent model (``planner="learned"``).

:class:`LearnedMethod` reads the checkpoint's kind and plans with what it holds:

- a checkpoint of ``innatura train learned --scenario S`` (any economy):
  :class:`~abm.planning.learned_io.LearnedIOMethod`, the run's input-output plan on reports
  de-biased by type inference, with a learned investment share and region priorities;
- a checkpoint of ``innatura train learned`` (the five-regions economy of the learned-planner
  paper): :class:`FiveRegionsMethod`, below.

:class:`FiveRegionsMethod` turns the :class:`~abm.planning.base.PlanningInputs` of a five-regions-style scenario (see
``scenarios.builders.five_regions``: a common stock good, a capital good, one goods unit per
region whose labour curve carries the region's productivity) into the policy's inputs:

- implied productivity ``p_r = log q - beta log k0 - (1 - beta) log L_r(q)`` at half the unit's
  reported capacity, where ``L_r`` is the region's REPORTED labour curve (the curve bakes in
  the scenario's ``k0``); so a unit that overstates its inputs looks less productive;
- the audit feature: the agent model has no independent audit, so it is set to ``p_r / alpha``
  (the report-implied log type), and the aggregate over-reporting feature to 0;
- capital per region and the national goods stock; the step within the training horizon is
  ``(day - 1) mod horizon`` (the planner re-plans in episodes of the horizon it was trained on).

The policy's plan (labour shares, consumption and investment shares) becomes unit targets
(goods unit of region ``r``: the output its reported curve gives for ``l_r`` times the region's
labour; capital unit: the investment ``x_r``) and the allocation of the goods to each region's
profile, out of the stock plus planned output. The agent model has no logistic regrowth of the
stock; everything else (execution with TRUE curves, shortfalls, transport) is the model's.

The policy plans the regions itself (labour, consumption and investment per region), so it
ignores the night's regional problem (``inputs.regional``): with ``RunSettings.plan =
"regional"`` its targets and allocation are executed as they are, and execution's transport
moves the goods between regions.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from innatura.abm.planning.base import PlanDecision, PlanningInputs, check_state
from innatura.planner.curves import StackedCurve
from innatura.planner.errors import InvalidInputError

if TYPE_CHECKING:  # pragma: no cover
    from innatura.planner.curves import InputFunction

__all__ = ["FiveRegionsMethod", "LearnedMethod"]

logger = logging.getLogger(__name__)


class LearnedMethod:
    """The trained planner a checkpoint holds, behind the agent model's planner interface.

    Args:
        model: directory of a checkpoint (``model.pt`` + ``config.json``).
        goods: the common stock good (five-regions checkpoints).
        capital: the capital good (five-regions checkpoints).
        plan: the planning method that makes the plan (checkpoints of any economy; default OLIN-EP).
        debias: how type inference corrects the reports (checkpoints of any economy; default
            ``"quantile"``, :class:`~abm.planning.learned_io.LearnedIOMethod`).
        quantile: the quantile of ``debias="quantile"`` (``None``: 0.8,
            :data:`planner.learned.debias.CAUTIOUS_QUANTILE`).
        correct: which reports are corrected: ``"flagged"`` (the units flagged tonight) or
            ``"all"`` (checkpoints of any economy).
        policy: plan with the checkpoint's policy (checkpoints of any economy); ``False``: the
            run's investment share and equal priorities (type inference and the corrected plan
            alone, an ablation).

    Attributes:
        impl: the method that plans (:class:`FiveRegionsMethod` or
            :class:`~abm.planning.learned_io.LearnedIOMethod`).
    """

    name = "learned"

    def __init__(self, model: str | PathLike[str], goods: str = "goods", capital: str = "capital",
                 plan: str = "olin", debias: str = "quantile", correct: str = "flagged", policy: bool = True,
                 quantile: float | None = None) -> None:
        from innatura.abm.planning.learned_io import LearnedIOMethod
        from innatura.planner.learned.checkpoint import POLICY_KIND, checkpoint_kind

        self.impl: FiveRegionsMethod | LearnedIOMethod
        if checkpoint_kind(Path(model)) == POLICY_KIND:
            self.impl = LearnedIOMethod(model, plan=plan, debias=debias, correct=correct, quantile=quantile)
            if not policy:
                self.impl.policy = None
        else:
            self.impl = FiveRegionsMethod(model, goods, capital)

    @property
    def flagged_units(self) -> np.ndarray:
        """Units flagged as misreporting by the latest night (none for five-regions checkpoints)."""
        return getattr(self.impl, "flagged_units", np.zeros(0, dtype=bool))

    def bind(self, model: Any) -> None:
        """Read ``model`` (the central planner calls this; see :class:`~abm.planning.learned_io.DebiasedPlan`)."""
        if hasattr(self.impl, "bind"):
            self.impl.bind(model)

    def plan(self, inputs: PlanningInputs) -> PlanDecision:
        return self.impl.plan(inputs)

    def state_dict(self) -> dict[str, Any]:
        """The memory of the method that plans."""
        return self.impl.state_dict()

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` gave (:class:`InvalidInputError` when malformed)."""
        self.impl.load_state_dict(state)


class FiveRegionsMethod:
    """A trained VAE/GNN/policy planner of the five-regions economy (see the module).

    Args:
        model: directory of a checkpoint (``model.pt`` + ``config.json``).
        goods: name of the common stock good.
        capital: name of the capital good.
    """

    name = "learned"

    def __init__(self, model: str | PathLike[str], goods: str = "goods", capital: str = "capital") -> None:
        from innatura.planner.learned.checkpoint import CONFIG_FILE, MODEL_FILE, load_checkpoint

        self.policy, self.config = load_checkpoint(Path(model))
        self.goods, self.capital = goods, capital
        self._history: list[np.ndarray] = []
        digest = hashlib.sha256()
        for name in (CONFIG_FILE, MODEL_FILE):
            digest.update((Path(model) / name).read_bytes())
        #: SHA-256 of the trained planner's files: a resumed run checks it has the same planner.
        self.weights_sha256 = digest.hexdigest()

    # -- memory, for checkpoints -------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The features seen so far ``(nights + history, regions, 3)`` and the hash of the
        trained planner's files (a run resumes only with the planner it was saved with)."""
        n = self.config.economy.n_regions
        history = np.stack(self._history) if self._history else np.zeros((0, n, 3))
        return {"history": history, "weights_sha256": self.weights_sha256}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` gave.

        Raises:
            InvalidInputError: the state is malformed, or was saved with other trained weights.
        """
        check_state(self.name, state, {"history", "weights_sha256"})
        history = state["history"]
        n = self.config.economy.n_regions
        if not (isinstance(history, np.ndarray) and history.dtype.kind == "f" and history.ndim == 3
                and history.shape[1:] == (n, 3) and np.all(np.isfinite(history))):
            shape = getattr(history, "shape", type(history).__name__)
            raise InvalidInputError(f"planner 'learned': state 'history': expected finite floats of shape "
                                    f"(nights, {n}, 3), got {shape}")
        if state["weights_sha256"] != self.weights_sha256:
            raise InvalidInputError("planner 'learned': the trained planner's files (--model) are not the ones "
                                    "the run was saved with (their SHA-256 differs); resume with the same planner")
        self._history = [np.array(h, dtype=float) for h in history]

    # -- reading the reports -----------------------------------------------------------------
    def _indices(self, inputs: PlanningInputs) -> tuple[int, int]:
        names = inputs.economy.goods
        for name in (self.goods, self.capital):
            if name not in names:
                raise InvalidInputError(f"learned planner: the scenario has no good {name!r} (goods: {list(names)})")
        return names.index(self.goods), names.index(self.capital)

    def _region_curves(self, inputs: PlanningInputs, g: int) -> list[tuple[InputFunction, float, int]]:
        """Per region: (reported labour function of its goods unit, its capacity, labour good)."""
        n_regions = inputs.regional_stocks.shape[0]
        units = np.flatnonzero(inputs.unit_good == g)
        found: dict[int, tuple[InputFunction, float, int]] = {}
        for cell in inputs.economy.curves:
            if cell.col != g:
                continue
            if not isinstance(cell.curve, StackedCurve):
                raise InvalidInputError(f"learned planner: curve cell ({cell.row}, {cell.col}) is not a stack of "
                                        "units' reported curves")
            funcs = cell.curve.input_functions
            if len(funcs) != units.size:
                raise InvalidInputError(f"learned planner: curve cell ({cell.row}, {cell.col}) stacks {len(funcs)} "
                                        f"units, the scenario has {units.size} units of {self.goods!r}")
            for k, f in enumerate(funcs):
                if float(f(1.0)) > 0:
                    r = int(inputs.unit_region[units[k]])
                    found[r] = (f, float(cell.curve.capacities[k]), int(cell.row))
        missing = sorted(set(range(n_regions)) - set(found))
        if missing:
            raise InvalidInputError(f"learned planner: regions {missing} have no goods unit with a labour curve")
        return [found[r] for r in range(n_regions)]

    def _features(self, curves: list[tuple[InputFunction, float, int]]) -> np.ndarray:
        eco = self.config.economy
        out = np.zeros((len(curves), 3))
        for r, (f, cap, _) in enumerate(curves):
            q = 0.5 * cap
            labour = max(float(f(q)), 1e-12)
            p = math.log(q) - eco.beta * math.log(eco.initial_capital) - (1 - eco.beta) * math.log(labour)
            out[r] = (p, p / eco.alpha, 0.0)
        return out

    @staticmethod
    def _output_for_labour(f: InputFunction, cap: float, labour: float) -> float:
        """Largest ``q`` in ``[0, cap]`` with ``f(q) <= labour`` (bisection; ``f`` increasing)."""
        if float(f(cap)) <= labour:
            return cap
        lo, hi = 0.0, cap
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if float(f(mid)) <= labour else (lo, mid)
        return lo

    # -- the night ---------------------------------------------------------------------------
    def plan(self, inputs: PlanningInputs) -> PlanDecision:
        import torch
        from innatura.planner.learned.policy import PlannerInput

        eco = self.config.economy
        g, kc = self._indices(inputs)
        n_regions = inputs.regional_stocks.shape[0]
        if n_regions != eco.n_regions:
            raise InvalidInputError(f"learned planner: trained for {eco.n_regions} regions, "
                                    f"the scenario has {n_regions}")
        curves = self._region_curves(inputs, g)
        feats = self._features(curves)
        if not self._history:
            self._history = [feats] * self.config.observation.history
        self._history.append(feats)
        hist = torch.tensor(np.stack(self._history, axis=1)[None], dtype=torch.float32)
        capital = torch.tensor(np.maximum(inputs.regional_stocks[:, kc], 1e-6)[None], dtype=torch.float32)
        stock = float(inputs.stocks[g])
        t = (inputs.day - 1) % eco.horizon
        d = self.policy.plan(PlannerInput(hist, capital, torch.tensor([stock], dtype=torch.float32), t))
        share_c, share_x, lab = (d.share_c[0].double().numpy(), d.share_x[0].double().numpy(),
                                 d.labour[0].double().numpy())

        n, m = inputs.economy.bundles.shape
        q = np.array([self._output_for_labour(f, cap, float(lab[r]) * float(inputs.labour_supply[row]))
                      for r, (f, cap, row) in enumerate(curves)])
        available = stock + q.sum()
        cons, inv = available * share_c, available * share_x
        production = np.zeros(n)
        production[g], production[kc] = q.sum(), inv.sum()
        allocation = np.zeros((n, m))
        home = np.argmax(inputs.regional_demand, axis=1)  # the profile living in each region
        np.add.at(allocation[g], home, cons)
        targets = np.zeros(inputs.unit_good.size)
        for u, (good, region) in enumerate(zip(inputs.unit_good.tolist(), inputs.unit_region.tolist(), strict=True)):
            if good == g:
                targets[u] = q[region]
            elif good == kc:
                targets[u] = inv[region]
        need = inputs.economy.bundles[g] * inputs.economy.population
        fulfilment = np.divide(allocation[g], need, out=np.ones(m), where=need > 0)
        return PlanDecision(
            production=production, allocation=allocation, fulfilment=fulfilment,
            planned_humanity=float(np.min(fulfilment)) if m else 1.0, unit_targets=targets,
            info={"planner": "learned", "labour": lab.tolist(), "consumption": cons.tolist(),
                  "investment": inv.tolist(), "episode_step": t},
        )
