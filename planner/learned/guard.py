"""The policy guard: a trained policy is kept only if it plans at least as well as the baseline.

The baseline is the planner the policy replaces: the run's own investment share
(``policy.base_investment``) and equal priorities for every region. :func:`guard_policy` runs
both, the policy's deterministic (mean) action and the baseline's, on the same held-out
episodes of a :class:`~planner.learned.pg.PlanningEnvironment` (seeds from
:data:`GUARD_SEED_BASE` on, never a seed :func:`~planner.learned.pg.train_policy` trains on),
and compares the mean humanity per day of the two, paired per seed. The policy is kept when
the mean paired difference (policy minus baseline) is at least ``-tolerance`` (0 unless told
otherwise: at least as good); otherwise a planner falls back to the baseline.
:class:`GuardDecision` records the evidence; :meth:`GuardDecision.to_dict` /
:meth:`GuardDecision.from_dict` carry it through a checkpoint's ``config.json``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from innatura.planner.errors import InvalidInputError
from innatura.planner.learned.pg import (
    DEFAULT_GUARD_SEEDS,
    PlanAction,
    PlanningEnvironment,
    PolicyTrainConfig,
    PriorityPolicy,
)

__all__ = ["DEFAULT_GUARD_SEEDS", "GUARD_SEED_BASE", "GuardDecision", "baseline_action", "episode_humanity",
           "guard_policy", "guard_seeds"]

logger = logging.getLogger(__name__)

#: the first environment seed of the guard's episodes (training's are ``seed * 1_000_003 + k``
#: for ``k < updates * episodes_per_update``; :func:`guard_seeds` skips any that collide).
GUARD_SEED_BASE = 500_000


@dataclass(frozen=True)
class GuardDecision:
    """What the guard measured and decided.

    Attributes:
        kept: the policy plans; ``False``: the baseline plans instead.
        seeds: the environment seeds of the held-out episodes.
        policy_humanity: mean humanity per day of the policy's episode, per seed.
        baseline_humanity: the same for the baseline (run's investment share, equal priorities).
        difference: mean over seeds of policy minus baseline.
        difference_se: its standard error (0 for one seed).
        tolerance: the policy is kept when ``difference >= -tolerance``.
    """

    kept: bool
    seeds: tuple[int, ...]
    policy_humanity: tuple[float, ...]
    baseline_humanity: tuple[float, ...]
    difference: float
    difference_se: float
    tolerance: float = 0.0

    @property
    def verdict(self) -> str:
        """One line for logs and tables."""
        what = "kept the policy" if self.kept else "rejected the policy, the baseline plans"
        return (f"guard {what}: humanity per day {np.mean(self.policy_humanity):.4f} (policy) vs "
                f"{np.mean(self.baseline_humanity):.4f} (baseline), difference {self.difference:+.4f} ± "
                f"{self.difference_se:.4f} over {len(self.seeds)} held-out seeds")

    def to_dict(self) -> dict[str, Any]:
        """JSON-able data (:meth:`from_dict` reads them back)."""
        data = asdict(self)
        data.update(seeds=list(self.seeds), policy_humanity=list(self.policy_humanity),
                    baseline_humanity=list(self.baseline_humanity))
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "guard") -> GuardDecision:
        """A decision from :meth:`to_dict`'s data.

        Raises:
            InvalidInputError: naming ``where`` and the field, when a field is missing or malformed.
        """
        if not isinstance(data, Mapping):
            raise InvalidInputError(f"{where}: not a table")
        missing = [k for k in ("kept", "seeds", "policy_humanity", "baseline_humanity", "difference",
                               "difference_se") if k not in data]
        if missing:
            raise InvalidInputError(f"{where}: field {missing[0]!r} missing")
        if not isinstance(data["kept"], bool):
            raise InvalidInputError(f"{where}: field 'kept' = {data['kept']!r} must be true or false")
        try:
            out = cls(kept=data["kept"], seeds=tuple(int(s) for s in data["seeds"]),
                      policy_humanity=tuple(float(h) for h in data["policy_humanity"]),
                      baseline_humanity=tuple(float(h) for h in data["baseline_humanity"]),
                      difference=float(data["difference"]), difference_se=float(data["difference_se"]),
                      tolerance=float(data.get("tolerance", 0.0)))
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(f"{where}: {exc}") from exc
        if len(out.policy_humanity) != len(out.seeds) or len(out.baseline_humanity) != len(out.seeds):
            raise InvalidInputError(f"{where}: {len(out.seeds)} seeds but {len(out.policy_humanity)} policy and "
                                    f"{len(out.baseline_humanity)} baseline humanities")
        return out


def baseline_action(policy: PriorityPolicy) -> PlanAction:
    """The baseline's action: the run's investment share and equal priorities."""
    R = policy.n_regions
    return PlanAction(float(policy.base_investment), np.full(R, 1.0 / R))


def episode_humanity(env: PlanningEnvironment, act: Callable[[np.ndarray], PlanAction], seed: int,
                     max_days: int = 1000) -> float:
    """Mean humanity per day of one episode of ``env`` (reset with ``seed``) under ``act``."""
    obs = env.reset(int(seed))
    total, days = 0.0, 0
    for _ in range(max_days):
        tr = env.step(act(obs))
        total += float(tr.humanity)
        days += 1
        obs = tr.observation
        if tr.done:
            break
    return total / days


def guard_seeds(n: int, config: PolicyTrainConfig | None = None) -> tuple[int, ...]:
    """``n`` environment seeds from :data:`GUARD_SEED_BASE` on, none of them one that
    :func:`~planner.learned.pg.train_policy` with ``config`` trains on."""
    if int(n) < 1:
        raise InvalidInputError(f"guard: seeds = {n!r} must be >= 1")
    train: range = range(0)
    if config is not None:
        first = config.seed * 1_000_003
        train = range(first, first + config.updates * config.episodes_per_update)
    out: list[int] = []
    s = GUARD_SEED_BASE
    while len(out) < int(n):
        if s not in train:
            out.append(s)
        s += 1
    return tuple(out)


def guard_policy(env: PlanningEnvironment, policy: PriorityPolicy, seeds: Sequence[int], tolerance: float = 0.0,
                 max_days: int = 1000) -> GuardDecision:
    """Run ``policy`` and the baseline on the episodes ``seeds`` of ``env`` and decide (see the module).

    Args:
        env: the environment the policy was trained in (its episodes for these seeds are held out).
        policy: the trained policy.
        seeds: environment seeds (:func:`guard_seeds`).
        tolerance: how much worse than the baseline, in mean humanity per day, a kept policy
            may be (>= 0).
        max_days: bound on an episode's length.
    """
    if not (tolerance >= 0 and math.isfinite(tolerance)):
        raise InvalidInputError(f"guard: tolerance = {tolerance!r} must be finite and >= 0")
    if len(seeds) < 1:
        raise InvalidInputError("guard: at least one held-out seed")
    base = baseline_action(policy)
    mine = [episode_humanity(env, policy.act, s, max_days) for s in seeds]
    theirs = [episode_humanity(env, lambda obs: base, s, max_days) for s in seeds]
    diff = np.asarray(mine) - np.asarray(theirs)
    se = float(diff.std(ddof=1) / math.sqrt(diff.size)) if diff.size > 1 else 0.0
    decision = GuardDecision(kept=bool(diff.mean() >= -tolerance), seeds=tuple(int(s) for s in seeds),
                             policy_humanity=tuple(float(h) for h in mine),
                             baseline_humanity=tuple(float(h) for h in theirs),
                             difference=float(diff.mean()), difference_se=se, tolerance=float(tolerance))
    logger.info("%s", decision.verdict)
    return decision
