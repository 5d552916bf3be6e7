"""Evaluation of type inference on held-out runs: ranking, calibration, detection.

Over every unit-night from night ``from_night`` on (1-based; the first night has seen no
execution yet) whose truth is defined, with the truth clipped like the training target:

- ``spearman``: rank correlation of the posterior median with the true log-scale, and
  ``spearman_last`` over units on each run's last night; ``mae``: mean absolute error of the
  median (the mixture's mean hedges between honest and misreporting; its median does not);
- ``location_spearman``, ``location_mae``: the same for the posterior location (the mean of the
  more probable case, :attr:`~planner.learned.type_posterior.TypePosterior.location`, the
  estimate the learned planner corrects a flagged unit's report by);
- ``baseline_spearman``, ``baseline_mae``: the same for the plain revealed estimate
  (:func:`planner.learned.features.revealed_estimate`);
- ``coverage50``, ``coverage90``: shares of the truth inside the central 50% / 90% intervals of
  the posterior mixture (calibrated: 0.5 and 0.9);
- ``reliability``: the misreport probability in ten bins, with the observed share of liars
  per bin, and ``ece``, their count-weighted mean absolute gap;
- ``auc``: area under the ROC curve of the misreport probability;
- ``fpr``, ``tpr``: shares of honest / misreporting unit-nights flagged at ``threshold``;
- ``subsets``: the log-scale figures on the unit-nights where yesterday revealed the unit's use
  (``revealed``; there the revealed estimate is exact up to learning error) or not
  (``unrevealed``), and on honest and misreporting units.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from innatura.planner.errors import InvalidInputError
from innatura.planner.learned.features import CLIP, explained, revealed_estimate
from innatura.planner.learned.histories import UnitHistories
from innatura.planner.learned.inference import FLAG_THRESHOLD, TypeInference
from innatura.planner.learned.type_posterior import TypePosterior
from scipy.stats import rankdata, spearmanr

__all__ = ["InferenceMetrics", "ScaleFigures", "evaluate", "metrics_from", "roc_auc"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScaleFigures:
    """Figures of the inferred log-scale on a set of unit-nights (see the module)."""

    pairs: int
    spearman: float
    mae: float
    baseline_spearman: float
    baseline_mae: float
    coverage50: float
    coverage90: float


@dataclass(frozen=True)
class InferenceMetrics:
    """Figures of type inference on a set of runs (see the module). ``subsets`` holds the
    log-scale figures on the unit-nights where yesterday's execution revealed the unit's use
    (``revealed``) or did not (``unrevealed``), of honest and of misreporting units."""

    pairs: int
    spearman: float
    spearman_last: float
    mae: float
    location_spearman: float
    location_mae: float
    baseline_spearman: float
    baseline_mae: float
    coverage50: float
    coverage90: float
    auc: float
    ece: float
    fpr: float
    tpr: float
    threshold: float
    reliability: tuple[tuple[float, float, int], ...]
    subsets: Mapping[str, ScaleFigures]

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: getattr(self, k) for k in self.__dataclass_fields__
                               if k not in ("reliability", "subsets")}
        out["reliability"] = [list(b) for b in self.reliability]
        out["subsets"] = {k: dataclasses.asdict(v) for k, v in self.subsets.items()}
        return out


def roc_auc(score: np.ndarray, label: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties averaged); NaN with one class only."""
    label = np.asarray(label, dtype=bool)
    pos, neg = int(label.sum()), int((~label).sum())
    if pos == 0 or neg == 0:
        return float("nan")
    ranks = rankdata(score)
    return float((ranks[label].sum() - pos * (pos + 1) / 2) / (pos * neg))


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    if a.size < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(spearmanr(a, b)[0])


def _reliability(p: np.ndarray, liar: np.ndarray, bins: int = 10) -> tuple[tuple[tuple[float, float, int], ...], float]:
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    rows, gap = [], 0.0
    for k in range(bins):
        sel = which == k
        if sel.any():
            mp, freq = float(p[sel].mean()), float(liar[sel].mean())
            rows.append((mp, freq, int(sel.sum())))
            gap += sel.sum() * abs(mp - freq)
    return tuple(rows), float(gap / max(p.size, 1))


def _scale_figures(c: Mapping[str, np.ndarray], sel: np.ndarray) -> ScaleFigures:
    y, mid, base = c["y"][sel], c["mid"][sel], c["base"][sel]
    if y.size == 0:
        nan = float("nan")
        return ScaleFigures(0, nan, nan, nan, nan, nan, nan)
    in50 = (c["lo50"][sel] <= y) & (y <= c["hi50"][sel])
    in90 = (c["lo90"][sel] <= y) & (y <= c["hi90"][sel])
    return ScaleFigures(pairs=int(y.size), spearman=_spearman(mid, y), mae=float(np.abs(mid - y).mean()),
                        baseline_spearman=_spearman(base, y), baseline_mae=float(np.abs(base - y).mean()),
                        coverage50=float(in50.mean()), coverage90=float(in90.mean()))


def _pairs(runs: Sequence[UnitHistories], posteriors: Sequence[TypePosterior], from_night: int,
           units: Sequence[np.ndarray] | None) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """The counted unit-nights' columns, and each run's last-night medians and truths."""
    names = ("y", "mid", "lo50", "hi50", "lo90", "hi90", "p", "liar", "base", "revealed", "loc")
    cols: dict[str, list[np.ndarray]] = {k: [] for k in names}
    last_mid, last_y = [], []
    for k, (h, post) in enumerate(zip(runs, posteriors, strict=True)):
        keep = h.labelled.copy()
        keep[: max(from_night - 1, 0)] = False
        if units is not None:
            keep &= np.asarray(units[k], dtype=bool)[None, :]
        y = np.clip(h.log_scale, -CLIP, CLIP)
        mid = post.median
        (lo50, hi50), (lo90, hi90) = post.interval(0.5), post.interval(0.9)
        arrays = (y, mid, lo50, hi50, lo90, hi90, post.p_misreport, np.broadcast_to(h.misreport[None, :], y.shape),
                  revealed_estimate(h), np.isfinite(explained(h)), post.location)
        for name, arr in zip(names, arrays, strict=True):
            cols[name].append(arr[keep])
        last_mid.append(mid[-1][keep[-1]])
        last_y.append(y[-1][keep[-1]])
    c = {k: np.concatenate(v) if v else np.zeros(0) for k, v in cols.items()}
    return c, np.concatenate(last_mid) if last_mid else np.zeros(0), np.concatenate(last_y) if last_y else np.zeros(0)


def metrics_from(runs: Sequence[UnitHistories], posteriors: Sequence[TypePosterior], from_night: int = 2,
                 threshold: float = FLAG_THRESHOLD, units: Sequence[np.ndarray] | None = None) -> InferenceMetrics:
    """The figures of ``posteriors`` (one per run) against the runs' truth.

    Args:
        from_night: first night (1-based) counted.
        threshold: the flagging threshold on the misreport probability.
        units: per run, a ``(U,)`` mask of the units counted (default: all).

    Raises:
        InvalidInputError: no labelled unit-night is counted.
    """
    c, last_mid, last_y = _pairs(runs, posteriors, from_night, units)
    if c["y"].size == 0:
        raise InvalidInputError(f"evaluate: no labelled unit-night from night {from_night} on")
    p, liar, rev = c["p"], c["liar"].astype(bool), c["revealed"].astype(bool)
    whole = _scale_figures(c, np.ones(p.size, dtype=bool))
    subsets = {name: _scale_figures(c, m) for name, m in
               (("revealed", rev), ("unrevealed", ~rev), ("honest", ~liar), ("misreporting", liar))}
    rel, ece = _reliability(p, liar)
    flagged = p > threshold
    return InferenceMetrics(
        pairs=whole.pairs, spearman=whole.spearman, spearman_last=_spearman(last_mid, last_y), mae=whole.mae,
        location_spearman=_spearman(c["loc"], c["y"]), location_mae=float(np.abs(c["loc"] - c["y"]).mean()),
        baseline_spearman=whole.baseline_spearman, baseline_mae=whole.baseline_mae, coverage50=whole.coverage50,
        coverage90=whole.coverage90, auc=roc_auc(p, liar), ece=ece,
        fpr=float(flagged[~liar].mean()) if (~liar).any() else float("nan"),
        tpr=float(flagged[liar].mean()) if liar.any() else float("nan"), threshold=float(threshold),
        reliability=rel, subsets=subsets,
    )


def evaluate(model: TypeInference, runs: Sequence[UnitHistories], from_night: int = 2,
             threshold: float = FLAG_THRESHOLD, units: Sequence[np.ndarray] | None = None) -> InferenceMetrics:
    """The figures of ``model`` on ``runs`` (see :func:`metrics_from`)."""
    return metrics_from(runs, [model.posterior(h) for h in runs], from_night, threshold, units)
