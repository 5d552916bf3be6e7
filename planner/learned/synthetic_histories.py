"""Synthetic unit histories with known truth (tests, quick experiments; no agent model).

A stylised version of what the agent model records (:mod:`planner.learned.histories`): each
unit has a true input curve ``g(q) = a q^b`` and reports ``f_t(q) = factor_t g(q) exp(-e_t)``,
where ``factor_t`` is its strategy's (1 when honest; a constant for ``overstate``, a ramp over
five nights for ``ratchet``, one factor per region for ``collude``) and ``e_t`` its learning
error, which shrinks by ``learn_rate`` on every night it produces (its refit on what execution
revealed). So the truth is ``log_scale_t = e_t - log factor_t``. Each night a unit gets a target
around its operating point (none with probability ``idle``), falls short sometimes, and its
drawn inputs carry metering noise.
"""

from __future__ import annotations

import logging

import numpy as np
from innatura.planner.errors import InvalidInputError
from innatura.planner.learned.histories import FIELDS, UnitHistories

__all__ = ["STRATEGIES", "synthetic_histories"]

logger = logging.getLogger(__name__)

STRATEGIES = ("honest", "overstate_inputs", "ratchet", "collude")
_RAMP = 5


def _graph(region: np.ndarray, good: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Supplier links between random goods, plus same-region and same-good pairs."""
    U = region.size
    parts = []
    uses = rng.integers(good.max() + 1, size=U)  # each unit uses one other good
    sup = np.array([(a, b) for b in range(U) for a in np.flatnonzero(good == uses[b]) if a != b], dtype=np.int64)
    sup = sup.T if sup.size else np.zeros((2, 0), dtype=np.int64)
    parts = [sup, sup[::-1]]
    for groups in (region, good):
        a, b = np.meshgrid(np.arange(U), np.arange(U), indexing="ij")
        keep = (groups[a] == groups[b]) & (a != b)
        parts.append(np.stack([a[keep], b[keep]]))
    kind = np.concatenate([np.full(p.shape[1], k, dtype=np.int64) for k, p in enumerate(parts)])
    return np.concatenate(parts, axis=1), kind


def _factors(strategy: np.ndarray, base: np.ndarray, region: np.ndarray, t: int) -> np.ndarray:
    """Each unit's input factor on night ``t`` (0-based)."""
    f = np.ones(strategy.size)
    f = np.where(strategy == 1, base, f)
    f = np.where(strategy == 2, 1.0 + min(1.0, (t + 1) / _RAMP) * (base - 1.0), f)
    colluders = strategy == 3
    if colluders.any():
        mean = np.bincount(region[colluders], base[colluders], minlength=region.max() + 1)
        count = np.bincount(region[colluders], minlength=region.max() + 1)
        shared = np.divide(mean, count, out=np.ones_like(mean), where=count > 0)
        f = np.where(colluders, shared[region], f)
    return f


def synthetic_histories(units: int = 40, nights: int = 15, seed: int = 0, share: float = 0.3,
                        factor_range: tuple[float, float] = (1.05, 1.8), learning_error: float = 0.3,
                        learn_rate: float = 0.3, idle: float = 0.15, noise_sd: float = 0.02,
                        regions: int = 5) -> UnitHistories:
    """One run of synthetic histories (see the module); everything drawn from ``seed``.

    Args:
        units, nights, regions: sizes.
        share: probability a unit misreports (its strategy then uniform over the three).
        factor_range: a liar's factor, uniform in it.
        learning_error: sd of the initial log learning error.
        learn_rate: share of the learning error left after a night of production.
        idle: probability of no target on a night.
        noise_sd: metering noise on the drawn inputs (log sd).
    """
    if units < 2 or nights < 1 or regions < 1 or not 0 <= share <= 1 or not 0 <= idle < 1:
        raise InvalidInputError(f"synthetic_histories: units = {units} >= 2, nights = {nights} >= 1, regions >= 1, "
                                f"share = {share} and idle = {idle} in [0, 1)")
    rng = np.random.default_rng(seed)
    region = rng.integers(regions, size=units)
    good = rng.integers(max(units // 3, 2), size=units)
    a, b = np.exp(rng.normal(0.0, 1.0, units)), rng.uniform(0.8, 1.5, units)
    strategy = np.where(rng.random(units) < share, rng.integers(1, 4, size=units), 0)
    base = rng.uniform(*factor_range, units)
    err = rng.normal(0.0, learning_error, units)
    q0 = np.exp(rng.normal(3.0, 1.0, units))
    cap = q0 * rng.uniform(1.5, 3.0, units)
    q_ref, last_out = q0.copy(), np.zeros(units)
    prev: np.ndarray | None = None  # last night's reported-over-true scale
    values, truth = np.full((nights, units, len(FIELDS)), np.nan), np.zeros((nights, units))
    col = {f: k for k, f in enumerate(FIELDS)}
    for t in range(nights):
        factor = _factors(strategy, base, region, t)
        scale = factor * np.exp(-err)  # reported over true, tonight

        def rep(q: np.ndarray, s: np.ndarray = scale) -> np.ndarray:
            return np.where(q > 0, s * a * np.maximum(q, 0.0) ** b, np.nan)

        target = np.where(rng.random(units) < idle, 0.0, q0 * np.exp(rng.normal(0.0, 0.2, units)))
        output = target * np.where(rng.random(units) < 0.1, rng.uniform(0.5, 1.0, units), 1.0)
        drawn = a * output ** b * np.exp(noise_sd * rng.standard_normal(units))
        row = {"q_ref": q_ref, "reported_ref": rep(q_ref), "reported_prev_ref": rep(q_ref, prev) if prev is not None
               else np.full(units, np.nan), "reported_prev_output": rep(last_out), "reported_capacity": cap,
               "audited": np.zeros(units), "caught": np.zeros(units), "target": target, "reported_use": rep(target),
               "output": output, "drawn": np.where(output > 0, drawn, 0.0), "reported_use_output": rep(output),
               "labour_slack": rng.uniform(0, 1, units), "stock_cover": rng.uniform(0, 3, units)}
        for f, v in row.items():
            values[t, :, col[f]] = v
        truth[t] = err - np.log(factor)
        prev = scale
        err = np.where(output > 0, learn_rate * err, err)
        last_out = output
        q_ref = np.where(target > 0, target, q_ref)
    edges, kind = _graph(region, good, rng)
    return UnitHistories(values=values, log_scale=truth, misreport=strategy > 0, strategy=strategy.astype(np.int64),
                         strategy_names=STRATEGIES, unit_ids=np.arange(units, dtype=np.int64),
                         region=region.astype(np.int64), good=good.astype(np.int64), edges=edges, edge_kind=kind,
                         meta={"scenario": "synthetic", "seed": seed, "share": share})
