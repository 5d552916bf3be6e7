"""The ablation of the paper's results table: base model, + IC/IR/Ostrom, and three baselines.

For each seed: train the base model (``BASE_WEIGHTS``) and the constrained model
(``CONSTRAINED_WEIGHTS``) with that seed, calibrate the baselines' budget rule on economies
drawn from it, then evaluate all five planners on the same held-out economies (same types,
misreporters, report noise and shocks). Metrics are averaged over the evaluation economies;
the table reports their mean and sample standard deviation over seeds.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import torch
from innatura.planner.learned.baselines import EqualSplit, FullInformationOracle, GreedyOnReports, calibrate_budget_rule
from innatura.planner.learned.config import BASE_WEIGHTS, CONSTRAINED_WEIGHTS, LearnedPlannerConfig
from innatura.planner.learned.rollout import EpisodeMetrics, Planner, simulate
from innatura.planner.learned.train import train

__all__ = ["METRICS", "MODELS", "AblationRow", "markdown_table", "run_ablation", "summarise"]

logger = logging.getLogger(__name__)

#: Row labels, in table order.
MODELS = ("Base Model", "+ IC, IR, Ostrom", "Equal split", "Greedy on reports", "Full-information oracle")
#: Metric columns (each also gets ``<name>_std``).
METRICS = ("utility", "ic_penalty", "allocation_variance", "ir_violation", "resource_penalty", "final_stock")


@dataclass(frozen=True)
class AblationRow:
    """One planner's metrics for one seed."""

    model: str
    seed: int
    metrics: EpisodeMetrics


def run_ablation(
    config: LearnedPlannerConfig,
    seeds: int = 3,
    misreport_share: float = 0.3,
    eval_batch: int = 128,
    oracle_steps: int = 300,
    progress: Callable[[str], None] | None = None,
) -> list[AblationRow]:
    """Train and evaluate every model for seeds ``0..seeds-1``.

    Args:
        config: base configuration (its weights are replaced by the two ablation settings,
            its seed by each ablation seed; ``observation.misreport_share`` by ``misreport_share``).
        progress: called with a short label after each finished unit of work.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _run(config, seeds, misreport_share, eval_batch, oracle_steps, progress)
    finally:
        torch.set_num_threads(threads)


def _run(config, seeds, misreport_share, eval_batch, oracle_steps, progress) -> list[AblationRow]:  # noqa: ANN001
    obs = replace(config.observation, misreport_share=misreport_share)
    eco = config.economy
    rows: list[AblationRow] = []
    for seed in range(seeds):
        planners: dict[str, Planner] = {}
        for label, weights in ((MODELS[0], BASE_WEIGHTS), (MODELS[1], CONSTRAINED_WEIGHTS)):
            weights = replace(weights, vae=config.weights.vae, resource=config.weights.resource,
                              policy=config.weights.policy)
            cfg = replace(config, observation=obs, weights=weights, train=replace(config.train, seed=seed))
            planners[label] = train(cfg).policy
            if progress:
                progress(f"seed {seed}: trained {label}")
        rule = calibrate_budget_rule(eco, obs, torch.Generator().manual_seed(1_000 + seed),
                                     resource_weight=config.weights.resource)
        planners[MODELS[2]] = EqualSplit(eco, rule)
        planners[MODELS[3]] = GreedyOnReports(eco, rule)
        planners[MODELS[4]] = FullInformationOracle(eco, steps=oracle_steps, rule=rule,
                                                    resource_weight=config.weights.resource)
        for label in MODELS:
            gen = torch.Generator().manual_seed(100_000 + seed)
            ep = simulate(planners[label], eco, obs, eval_batch, gen)
            rows.append(AblationRow(model=label, seed=seed, metrics=ep.metrics))
        if progress:
            progress(f"seed {seed}: evaluated")
    return rows


def summarise(rows: list[AblationRow]) -> list[dict[str, float | str | int]]:
    """Mean and sample standard deviation (0 for one seed) over seeds, per model, in table order."""
    out = []
    for model in MODELS:
        mine = [r for r in rows if r.model == model]
        if not mine:
            continue
        rec: dict[str, float | str | int] = {"model": model, "seeds": len(mine)}
        for m in METRICS:
            vals = [float(getattr(r.metrics, m)) for r in mine]
            mean = sum(vals) / len(vals)
            var = sum((v - mean) ** 2 for v in vals) / (len(vals) - 1) if len(vals) > 1 else 0.0
            rec[m], rec[f"{m}_std"] = mean, math.sqrt(var)
        out.append(rec)
    return out


def markdown_table(summary: list[dict[str, float | str | int]]) -> str:
    """The paper's table layout (Model | Final Utility | IC Penalty | Variance (Allocations)), mean ± std."""
    lines = [
        "| Model | Final Utility | IC Penalty | Variance (Allocations) |",
        "|---|---|---|---|",
    ]
    for rec in summary:
        cells = [f"{rec[m]:.4f} ± {rec[m + '_std']:.4f}" for m in ("utility", "ic_penalty", "allocation_variance")]
        lines.append(f"| {rec['model']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
