"""The pieces of a type-inference study: a held-out split, degraded records, a full train-and-evaluate.

:func:`split_holdout` holds out the runs of the largest seed; :func:`degrade_runs` degrades
every run the same way (:func:`planner.learned.features.degrade`) and says which units lost
their records; :func:`train_and_evaluate` trains on one set and evaluates on the other, on all
units and on the degraded ones.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from innatura.planner.learned.features import degrade
from innatura.planner.learned.histories import HistoryDataset, UnitHistories
from innatura.planner.learned.infer_eval import InferenceMetrics, evaluate
from innatura.planner.learned.infer_train import InferenceResult, train_inference
from innatura.planner.learned.inference import FLAG_THRESHOLD, InferenceConfig

__all__ = ["StudyResult", "degrade_runs", "split_holdout", "train_and_evaluate"]

logger = logging.getLogger(__name__)


def split_holdout(ds: HistoryDataset) -> tuple[HistoryDataset, HistoryDataset]:
    """``(train, held out)``: the runs of the largest seed are held out when there are several
    seeds; else nothing is."""
    seeds = [r.meta.get("seed") for r in ds.runs]
    known = sorted({s for s in seeds if s is not None})
    if len(known) < 2:
        return ds, ds.select([False] * len(ds))
    last = known[-1]
    return ds.select([s != last for s in seeds]), ds.select([s == last for s in seeds])


def degrade_runs(runs: Sequence[UnitHistories], hide_share: float, noise_sd: float, seed: int
                 ) -> tuple[list[UnitHistories], list[np.ndarray]]:
    """Every run degraded (each with its own generator from ``seed``), and per run the units
    whose execution records were hidden, ``(U,)`` bool."""
    out, hidden = [], []
    for k, h in enumerate(runs):
        d = degrade(h, np.random.default_rng([seed, k]), hide_share, noise_sd)
        out.append(d)
        hidden.append(np.all(np.isnan(d.column("output")), axis=0) & ~np.all(np.isnan(h.column("output")), axis=0))
    return out, hidden


@dataclass(frozen=True)
class StudyResult:
    """A trained model and its figures on the held-out runs: on all units, and (when records
    were degraded) on the units that lost theirs; ``seconds`` of training."""

    trained: InferenceResult
    metrics: InferenceMetrics | None
    hidden_metrics: InferenceMetrics | None
    seconds: float


def train_and_evaluate(train: Sequence[UnitHistories], test: Sequence[UnitHistories], config: InferenceConfig,
                       device: str = "auto", hide_share: float = 0.0, noise_sd: float = 0.0,
                       threshold: float = FLAG_THRESHOLD,
                       progress: Callable[[int, dict[str, float]], None] | None = None) -> StudyResult:
    """Degrade both sets alike (if asked), train on ``train``, evaluate on ``test``."""
    if hide_share > 0 or noise_sd > 0:
        train, _ = degrade_runs(train, hide_share, noise_sd, config.seed)
        test, hidden = degrade_runs(test, hide_share, noise_sd, config.seed + 1)
    else:
        hidden = []
    start = time.perf_counter()
    trained = train_inference(train, config, device=device, progress=progress)
    seconds = time.perf_counter() - start
    model = trained.model.cpu()
    metrics = evaluate(model, test, threshold=threshold) if test else None
    hidden_metrics = None
    if hidden and any(m.any() for m in hidden):
        hidden_metrics = evaluate(model, test, threshold=threshold, units=hidden)
    return StudyResult(trained=trained, metrics=metrics, hidden_metrics=hidden_metrics, seconds=seconds)
