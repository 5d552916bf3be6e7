"""Robust aggregation of reports within peer groups: medians, trimmed means, MAD outlier flags.

A planner that receives one report per agent (a citizen's demand factor, a production unit's
input factor) may compare each report with its *peers*: the agents that should report alike
(citizens on the same consumption profile in the same region, units making the same good).
A minority of misreporters moves a peer group's mean but hardly its median, and a report far
from its group's median in units of the group's median absolute deviation (MAD) is an outlier.

Every function works on all groups at once: ``values`` ``(k,)`` and an integer group label per
value ``groups`` ``(k,)``; results per group are arrays ``(G,)`` with ``nan`` for empty groups.
No Python loop runs over groups or values (one ``lexsort`` and a few ``bincount`` calls).

    >>> import numpy as np
    >>> group_median(np.array([1.0, 5.0, 2.0, 7.0]), np.array([0, 0, 1, 1]))
    array([3. , 4.5])
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from innatura.planner.errors import InvalidInputError

__all__ = [
    "MAD_SCALE",
    "GroupSummary",
    "group_mad",
    "group_median",
    "group_trimmed_mean",
    "mad_outliers",
    "robust_location",
    "summarise_groups",
]

logger = logging.getLogger(__name__)

#: ``1 / Phi^{-1}(3/4)``: scales the MAD into a consistent estimate of a normal sigma.
MAD_SCALE = 1.482602218505602

_METHODS = ("median", "trimmed", "mean")


def _check(values: np.ndarray, groups: np.ndarray, n_groups: int | None) -> tuple[np.ndarray, np.ndarray, int]:
    v = np.asarray(values, dtype=float)
    g = np.asarray(groups)
    if v.ndim != 1 or g.shape != v.shape:
        raise InvalidInputError(f"robust aggregation: values {v.shape} and groups {g.shape} must be 1-D of one length")
    if not np.all(np.isfinite(v)):
        raise InvalidInputError("robust aggregation: values must be finite (validate reports first)")
    if g.size and (not np.issubdtype(g.dtype, np.integer) or g.min() < 0):
        raise InvalidInputError("robust aggregation: groups must be non-negative integer labels")
    g = g.astype(np.int64)
    G = int(g.max()) + 1 if g.size else 0
    if n_groups is not None:
        if n_groups < G:
            raise InvalidInputError(f"robust aggregation: n_groups={n_groups} but a label is {G - 1}")
        G = int(n_groups)
    return v, g, G


def _sorted(v: np.ndarray, g: np.ndarray, G: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Values sorted by (group, value), group sizes, group starts, and each sorted value's rank."""
    order = np.lexsort((v, g))
    vs = v[order]
    count = np.bincount(g, minlength=G)
    start = np.cumsum(count) - count
    rank = np.arange(v.size) - start[g[order]]
    return vs, count, start, rank


def group_median(values: np.ndarray, groups: np.ndarray, n_groups: int | None = None) -> np.ndarray:
    """Median of the values of each group (mean of the two middle values for even sizes).

    Args:
        values: one value per agent, ``(k,)``, finite.
        groups: group label per agent, ``(k,)``, integers in ``[0, G)``.
        n_groups: ``G``; default ``max(groups) + 1``.

    Returns:
        ``(G,)``; ``nan`` for empty groups.
    """
    v, g, G = _check(values, groups, n_groups)
    vs, count, start, _ = _sorted(v, g, G)
    out = np.full(G, np.nan)
    has = count > 0
    lo = start[has] + (count[has] - 1) // 2
    hi = start[has] + count[has] // 2
    out[has] = 0.5 * (vs[lo] + vs[hi])
    return out


def group_trimmed_mean(values: np.ndarray, groups: np.ndarray, trim: float = 0.1,
                       n_groups: int | None = None) -> np.ndarray:
    """Mean of each group after cutting ``floor(trim * size)`` values from each end.

    The same convention as :func:`scipy.stats.trim_mean` (``proportiontocut=trim``), per group.

    Args:
        values, groups, n_groups: as in :func:`group_median`.
        trim: share cut from each end, in ``[0, 0.5)``.

    Returns:
        ``(G,)``; ``nan`` for empty groups.
    """
    if not 0.0 <= trim < 0.5:
        raise InvalidInputError(f"trimmed mean: trim must be in [0, 0.5), got {trim!r}")
    v, g, G = _check(values, groups, n_groups)
    vs, count, _, rank = _sorted(v, g, G)
    cut = np.floor(trim * count).astype(np.int64)
    gs = np.repeat(np.arange(G), count)
    keep = (rank >= cut[gs]) & (rank < count[gs] - cut[gs])
    total = np.bincount(gs[keep], vs[keep], minlength=G)
    kept = count - 2 * cut
    return np.divide(total, kept, out=np.full(G, np.nan), where=kept > 0)


def group_mad(values: np.ndarray, groups: np.ndarray, n_groups: int | None = None,
              scale: float = 1.0) -> np.ndarray:
    """Median absolute deviation from the group median, times ``scale`` (:data:`MAD_SCALE` for a
    normal-consistent sigma), as :func:`scipy.stats.median_abs_deviation` per group.

    Returns:
        ``(G,)``; ``nan`` for empty groups.
    """
    v, g, G = _check(values, groups, n_groups)
    med = group_median(v, g, G)
    dev = np.abs(v - med[g]) if v.size else v
    return scale * group_median(dev, g, G)


def robust_location(values: np.ndarray, groups: np.ndarray, method: str = "median", trim: float = 0.1,
                    n_groups: int | None = None) -> np.ndarray:
    """Location of each group's values by ``method``: ``"median"``, ``"trimmed"`` (trimmed mean,
    cutting ``trim`` from each end) or ``"mean"`` (the non-robust reference).

    Returns:
        ``(G,)``; ``nan`` for empty groups.
    """
    if method == "median":
        return group_median(values, groups, n_groups)
    if method == "trimmed":
        return group_trimmed_mean(values, groups, trim, n_groups)
    if method == "mean":
        v, g, G = _check(values, groups, n_groups)
        count = np.bincount(g, minlength=G)
        return np.divide(np.bincount(g, v, minlength=G), count, out=np.full(G, np.nan), where=count > 0)
    raise InvalidInputError(f"robust location: method {method!r} is unknown; known: {list(_METHODS)}")


def mad_outliers(values: np.ndarray, groups: np.ndarray, threshold: float = 3.0, scale: float = MAD_SCALE,
                 atol: float = 1e-9, min_size: int = 3) -> np.ndarray:
    """Flag values farther than ``threshold`` scaled MADs from their group's median.

    A value is an outlier when ``|v - median_g| > threshold * scale * MAD_g + atol``; where a
    group's MAD is zero (a majority reports exactly alike), any value off the median by more
    than ``atol`` is one. Groups smaller than ``min_size`` have no peers to judge by: nothing in
    them is flagged.

    Args:
        values, groups: as in :func:`group_median`.
        threshold: in scaled MADs, ``> 0``.
        scale: MAD scale (:data:`MAD_SCALE`: the threshold reads as normal sigmas).
        atol: absolute slack, so that rounding never flags an honest report.
        min_size: smallest group that is judged.

    Returns:
        Boolean mask ``(k,)``.
    """
    if not threshold > 0:
        raise InvalidInputError(f"MAD outliers: threshold must be > 0, got {threshold!r}")
    v, g, G = _check(values, groups, None)
    if v.size == 0:
        return np.zeros(0, dtype=bool)
    med = group_median(v, g, G)
    mad = group_mad(v, g, G, scale)
    size = np.bincount(g, minlength=G)
    return (np.abs(v - med[g]) > threshold * mad[g] + atol) & (size[g] >= min_size)


@dataclass(frozen=True, eq=False)
class GroupSummary:
    """Robust summary of every peer group.

    Attributes:
        size: values per group ``(G,)``; median, trimmed_mean, mad (scaled by ``MAD_SCALE``):
            ``(G,)``; outliers: mask over the values ``(k,)``.
    """

    size: np.ndarray
    median: np.ndarray
    trimmed_mean: np.ndarray
    mad: np.ndarray
    outliers: np.ndarray


def summarise_groups(values: np.ndarray, groups: np.ndarray, trim: float = 0.1, threshold: float = 3.0,
                     n_groups: int | None = None) -> GroupSummary:
    """All of the above at once, for reports and diagnostics."""
    v, g, G = _check(values, groups, n_groups)
    return GroupSummary(
        size=np.bincount(g, minlength=G), median=group_median(v, g, G),
        trimmed_mean=group_trimmed_mean(v, g, trim, G), mad=group_mad(v, g, G, MAD_SCALE),
        outliers=mad_outliers(v, g, threshold),
    )
