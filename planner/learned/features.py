"""Inputs of type inference from unit histories: causal, scale-free features per unit and night.

The posterior for night ``t`` may use what was known when night ``t``'s reports were in:
tonight's reported curve, capacity and audits, and what the execution of nights ``< t``
revealed. :func:`featurize` builds, for every night, :data:`FEATURES`:

- ``curve_change``: ``log`` of tonight's reported use at the reference output over last
  night's (a refit, a creeping factor);
- ``explained``: ``log`` of the inputs drawn yesterday over what tonight's curve says they
  were (0 for an honest unit that refit on its observation, ``-log factor`` for a liar), and
  ``has_explained`` (yesterday revealed something);
- ``revealed``: yesterday's drawn inputs over yesterday's curve at yesterday's output;
- ``output_vs_ref``: ``log`` of yesterday's output over tonight's reference output;
- ``shortfall``: ``log`` of yesterday's output over its target;
- ``labour_slack``, ``stock_cover`` (``log1p``): yesterday's region;
- ``capacity_vs_ref``: ``log`` of the reported capacity over the reference output;
- ``audited``, ``caught``: tonight's audits; ``has_audit``: the run has audits;
- ``last_explained``: the latest ``explained`` so far, ``since_explained``: how long ago
  (scaled to ``[0, 1]``, 1 when never);
- ``night``: ``log1p(t) / log(32)``.

Logs are clipped to ``[-CLIP, CLIP]``. :func:`revealed_estimate` is the plain estimator these
make possible (the latest ``explained``, 0 when nothing was revealed): the baseline that type
inference is compared with. :func:`degrade` hides some units' execution records and adds
metering noise, for the cases where a unit's own history says little.
"""

from __future__ import annotations

import logging
import math

import numpy as np
from innatura.planner.errors import InvalidInputError
from innatura.planner.learned.histories import FIELDS, UnitHistories

__all__ = ["CLIP", "FEATURES", "OBSERVED_SHARE", "degrade", "explained", "featurize", "revealed_estimate",
           "revelations"]

logger = logging.getLogger(__name__)

#: bound on every log-ratio feature and on the inferred log-scale's training target.
CLIP = 3.0
#: an output counts as a revelation when it is above this share of the reference output.
OBSERVED_SHARE = 1e-6
FEATURES = ("curve_change", "explained", "has_explained", "revealed", "output_vs_ref", "shortfall", "labour_slack",
            "stock_cover", "capacity_vs_ref", "audited", "caught", "has_audit", "last_explained", "since_explained",
            "night")
_HORIZON = math.log(32.0)


def _log_ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``clip(log(num / den))`` where both are finite and positive, NaN elsewhere."""
    ok = np.isfinite(num) & np.isfinite(den) & (num > 0) & (den > 0)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=ok)
    np.log(out, out=out, where=ok)
    return np.clip(out, -CLIP, CLIP)


def _shift(a: np.ndarray) -> np.ndarray:
    """Night ``t`` gets night ``t - 1``'s row (NaN on the first night)."""
    out = np.full_like(a, np.nan, dtype=float)
    out[1:] = a[:-1]
    return out


def revelations(h: UnitHistories) -> np.ndarray:
    """Nights whose execution revealed the unit's true use, ``(T, U)`` bool: it produced more
    than :data:`OBSERVED_SHARE` of its reference output, and the drawn and reported use are positive."""
    out, q_ref = h.column("output"), h.column("q_ref")
    with np.errstate(invalid="ignore"):
        return h.observed & (out > OBSERVED_SHARE * np.where(np.isfinite(q_ref), q_ref, 0.0))


def explained(h: UnitHistories) -> np.ndarray:
    """``log(drawn yesterday / tonight's curve at yesterday's output)``, ``(T, U)`` (NaN where
    yesterday revealed nothing)."""
    seen = _shift(revelations(h).astype(float)) > 0
    value = _log_ratio(_shift(h.column("drawn")), h.column("reported_prev_output"))
    return np.where(seen, value, np.nan)


def _carry(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The latest finite value of ``x`` so far and the nights since (``inf`` when none), ``(T, U)``."""
    last = np.zeros(x.shape)
    age = np.full(x.shape, np.inf)
    value, since = np.zeros(x.shape[1]), np.full(x.shape[1], np.inf)
    for t in range(x.shape[0]):
        hit = np.isfinite(x[t])
        value = np.where(hit, x[t], value)
        since = np.where(hit, 0.0, since + 1.0)
        last[t], age[t] = value, since
    return last, age


def featurize(h: UnitHistories) -> np.ndarray:
    """The inputs of type inference, ``(T, U, len(FEATURES))`` float32 (see the module).

    Shapes:
        h with ``T`` nights and ``U`` units -> ``(T, U, len(FEATURES))``.
    """
    col = h.column
    T, U = h.nights, h.units
    seen = _shift(revelations(h).astype(float)) > 0
    exp_ = explained(h)
    last, age = _carry(exp_)
    out_prev, target_prev = _shift(col("output")), _shift(col("target"))
    q_ref = col("q_ref")
    feats = {
        "curve_change": _log_ratio(col("reported_ref"), col("reported_prev_ref")),
        "explained": exp_,
        "has_explained": np.isfinite(exp_).astype(float),
        "revealed": np.where(seen, _log_ratio(_shift(col("drawn")), _shift(col("reported_use_output"))), np.nan),
        "output_vs_ref": np.where(seen, _log_ratio(out_prev, q_ref), np.nan),
        "shortfall": np.minimum(_log_ratio(out_prev, target_prev), 0.0),
        "labour_slack": _shift(col("labour_slack")),
        "stock_cover": np.clip(np.log1p(np.maximum(_shift(col("stock_cover")), 0.0)), 0.0, 2 * CLIP),
        "capacity_vs_ref": np.where(np.isinf(col("reported_capacity")), CLIP,
                                    _log_ratio(col("reported_capacity"), q_ref)),
        "audited": col("audited"),
        "caught": col("caught"),
        "has_audit": np.full((T, U), float(h.has_audit)),
        "last_explained": last,
        "since_explained": np.where(np.isinf(age), 1.0, np.minimum(np.log1p(age) / _HORIZON, 1.0)),
        "night": np.broadcast_to((np.log1p(np.arange(T)) / _HORIZON)[:, None], (T, U)),
    }
    x = np.stack([feats[f] for f in FEATURES], axis=-1)
    return np.nan_to_num(x, nan=0.0, posinf=CLIP, neginf=-CLIP).astype(np.float32)


def revealed_estimate(h: UnitHistories) -> np.ndarray:
    """The plain estimate of each night's log-scale: the latest ``explained`` so far (0 when the
    unit revealed nothing yet), ``(T, U)``."""
    last, _ = _carry(explained(h))
    return last


def degrade(h: UnitHistories, rng: np.random.Generator, hide_share: float = 0.0, noise_sd: float = 0.0,
            hide_after: int = 0) -> UnitHistories:
    """A copy of ``h`` whose execution records say less: for a share ``hide_share`` of the
    units (drawn from ``rng``) output, drawn and reported use at the output are lost after
    night ``hide_after`` (0: all nights), and every drawn use carries multiplicative metering noise
    ``exp(noise_sd * N(0, 1))``. Truth is unchanged.

    Raises:
        InvalidInputError: a share outside ``[0, 1]`` or a negative noise level.
    """
    if not 0.0 <= hide_share <= 1.0 or noise_sd < 0 or hide_after < 0:
        raise InvalidInputError(f"degrade: hide_share = {hide_share!r} in [0, 1], noise_sd = {noise_sd!r} >= 0, "
                                f"hide_after = {hide_after!r} >= 0")
    v = h.values.copy()
    hidden = rng.random(h.units) < hide_share
    noise = np.exp(noise_sd * rng.standard_normal((h.nights, h.units)))
    drawn = FIELDS.index("drawn")
    v[:, :, drawn] *= noise
    for name in ("output", "drawn", "reported_use_output"):
        v[hide_after:, hidden, FIELDS.index(name)] = np.nan
    return h.with_values(v)
