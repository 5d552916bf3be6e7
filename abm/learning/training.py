"""Training the learned planner of any economy: type inference, then the policy, on the agent model.

:func:`train_learned_planner` runs both stages for one scenario:

1. **Type inference** (unless given): unit histories of the scenario under the mixes
   ``inference_mixes`` (:func:`abm.learning.dataset.generate_dataset`), on model seeds from
   :data:`TRAIN_SEED_BASE` on, trained with :func:`planner.learned.infer_train.train_inference`.
   A scenario whose units all have public technology has nothing to infer: no inference.
2. **The policy**: REINFORCE (:func:`planner.learned.pg.train_policy`) in
   :class:`~abm.learning.environment.AgentModelEnvironment`, episodes of ``days`` days with
   ``misreport_share`` of the units playing ``unit_strategy``, on model seeds from
   :data:`TRAIN_SEED_BASE` on; its investment share stays within ``investment_range`` of the
   run's (:class:`~planner.learned.pg.PriorityPolicy`).
3. **The guard** (:func:`planner.learned.guard.guard_policy`; ``guard_seeds=0``: none): the
   trained policy and the baseline it replaces (the run's investment share, equal priorities;
   both on the de-biased plan) on ``guard_seeds`` held-out episodes of the same environment;
   the policy is kept only if it is at least as good, else the planner plans with the baseline.

Model seeds below :data:`TRAIN_SEED_BASE` are never used in training, so studies that evaluate
on seeds ``0, 1, ...`` evaluate on held-out runs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from innatura.abm.learning.environment import AgentModelEnvironment
from innatura.planner.errors import InvalidInputError

__all__ = [
    "DEFAULT_EPISODES_PER_UPDATE",
    "DEFAULT_UPDATES",
    "TRAIN_SEED_BASE",
    "LearnedTraining",
    "default_policy_config",
    "train_inference_for",
    "train_learned_planner",
]

logger = logging.getLogger(__name__)

#: the first model seed training uses.
TRAIN_SEED_BASE = 100_000
#: policy-gradient updates, and episodes per update, unless told otherwise (a few CPU minutes on
#: archipelago).
DEFAULT_UPDATES = 12
DEFAULT_EPISODES_PER_UPDATE = 4


def default_policy_config(**changes: Any) -> Any:
    """The policy-gradient settings of :func:`train_learned_planner` unless told otherwise
    (:data:`DEFAULT_UPDATES` updates of :data:`DEFAULT_EPISODES_PER_UPDATE` episodes), with ``changes``."""
    from innatura.planner.learned.pg import PolicyTrainConfig

    settings = {"updates": DEFAULT_UPDATES, "episodes_per_update": DEFAULT_EPISODES_PER_UPDATE, **changes}
    return PolicyTrainConfig(**settings)


@dataclass(frozen=True)
class LearnedTraining:
    """What :func:`train_learned_planner` trained.

    Attributes:
        policy: the trained :class:`~planner.learned.pg.PolicyTrainResult` (policy, config, log).
        inference: the type inference it plans with (``None``: nothing to infer).
        extra: JSON-able description (scenario, days, misreporting, seconds of each stage, device).
        guard: the guard's :class:`~planner.learned.guard.GuardDecision` (``None``: no guard ran).
    """

    policy: Any
    inference: Any
    extra: dict[str, Any]
    guard: Any = None


def train_inference_for(scenario: str, days: int, seeds: int = 2, mixes: Sequence[str] = ("honest", "overstate",
                        "ratchet", "varied"), steps: int = 150, seed: int = 0, device: str = "auto",
                        progress: Callable[[str], None] | None = None) -> Any:
    """Type inference trained on simulated histories of ``scenario`` (``None`` when no unit of
    it reports a curve)."""
    from innatura.abm.learning.dataset import generate_dataset, load_scenario
    from innatura.abm.learning.histories import curve_units
    from innatura.abm.model import PlanningEconomy
    from innatura.planner.learned.infer_train import train_inference
    from innatura.planner.learned.inference import InferenceConfig

    if curve_units(PlanningEconomy(load_scenario(scenario), rng=0, days=1, collect_agents=False)).size == 0:
        logger.info("%s: every unit's technology is public; no type inference", scenario)
        return None
    ds = generate_dataset([scenario], [TRAIN_SEED_BASE + seed * 100 + k for k in range(seeds)], list(mixes), days,
                          progress=progress)
    cfg = InferenceConfig(hidden=16, gnn_layers=1, steps=steps, seed=seed)
    return train_inference(list(ds.runs), cfg, device=device).model.cpu().eval()


def train_learned_planner(scenario: str, *, days: int = 15, misreport_share: float = 0.3,
                          unit_strategy: str = "overstate_inputs(2.0)", config: Any = None, inference: Any = "train",
                          inference_steps: int = 150, device: str = "auto", plan: str = "olin",
                          progress: Callable[[str, int, dict[str, float]], None] | None = None) -> LearnedTraining:
    """Train type inference (``inference="train"``; or pass a trained one, or ``None``) and the
    policy (``config``: a :class:`~planner.learned.pg.PolicyTrainConfig`, default
    :func:`default_policy_config`; its ``base_investment`` is set to the scenario's investment
    share; its ``guard_seeds`` and ``guard_tolerance`` set the guard) on ``scenario``.

    Args:
        progress: called as ``progress(stage, step, row)``: ``("histories", k, {})`` after each
            simulated run, ``("policy", update, row)`` after each policy update, ``("guard", k,
            {})`` after each of the guard's episodes.
    """
    from innatura.planner.learned.guard import guard_policy
    from innatura.planner.learned.guard import guard_seeds as guard_seeds_for
    from innatura.planner.learned.pg import train_policy

    if int(days) < 1:
        raise InvalidInputError(f"train learned: days = {days!r} must be >= 1")
    start = time.perf_counter()
    if isinstance(inference, str):
        if inference != "train":
            raise InvalidInputError(f"train learned: inference = {inference!r}; 'train', a model or None")
        seed = 0 if config is None else int(config.seed)
        count = iter(range(1_000_000))
        tick = None if progress is None else (lambda name: progress("histories", next(count), {}))
        inference = train_inference_for(scenario, days, steps=inference_steps, seed=seed, device=device,
                                        progress=tick)
    inference_seconds = time.perf_counter() - start
    from innatura.abm.learning.dataset import load_scenario

    env = AgentModelEnvironment(load_scenario(scenario), days=days, misreport_share=misreport_share,
                                unit_strategy=unit_strategy, inference=inference, plan=plan,
                                seed_offset=TRAIN_SEED_BASE)
    cfg = replace(config or default_policy_config(), base_investment=min(max(env.base_investment, 1e-3), 1 - 1e-3),
                  max_days=days)
    start = time.perf_counter()
    tick_policy = None if progress is None else (lambda i, row: progress("policy", i, row))
    result = train_policy(env, cfg, progress=tick_policy)
    policy_seconds = time.perf_counter() - start
    guard = None
    if cfg.guard_seeds > 0:
        start = time.perf_counter()
        guard = guard_policy(_Ticking(env, None if progress is None else (lambda k: progress("guard", k, {}))),
                             result.policy, guard_seeds_for(cfg.guard_seeds, cfg), cfg.guard_tolerance, days)
        logger.info("%s: %s", scenario, guard.verdict)
    extra = {"scenario": str(scenario), "days": int(days), "misreport_share": float(misreport_share),
             "unit_strategy": str(unit_strategy), "plan": plan, "inference_seconds": inference_seconds,
             "policy_seconds": policy_seconds, "device": str(device),
             "n_regions": env.n_regions, "train_seed_base": TRAIN_SEED_BASE,
             "guard_seconds": 0.0 if guard is None else time.perf_counter() - start}
    return LearnedTraining(policy=result, inference=inference, extra=extra, guard=guard)


class _Ticking:
    """An environment that reports each finished episode (the guard's progress)."""

    def __init__(self, env: AgentModelEnvironment, tick: Callable[[int], None] | None) -> None:
        self.env, self.tick, self.count = env, tick, 0
        self.n_regions, self.observation_size = env.n_regions, env.observation_size

    def reset(self, seed: int) -> Any:
        return self.env.reset(seed)

    def step(self, action: Any) -> Any:
        tr = self.env.step(action)
        if tr.done and self.tick is not None:
            self.tick(self.count)
            self.count += 1
        return tr
