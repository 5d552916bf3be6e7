"""Learned planner under incomplete information (source model 2, DESIGN.md "Five regions").

A VAE infers region types theta from noisy, possibly misreported observations, a GNN over the
region graph mixes regional information, and a stochastic policy outputs consumption,
investment and labour per region; it is trained by REINFORCE with a learned baseline and the
combined loss of IC, IR, Ostrom, resource and VAE terms. Needs the ``learn`` extra
(torch, torch_geometric); ``import planner`` does not import this package.

    from planner.learned import LearnedPlannerConfig, train, save_checkpoint
    result = train(LearnedPlannerConfig())
"""

from planner.learned.ablation import MODELS, markdown_table, run_ablation, summarise
from planner.learned.baselines import BudgetRule, EqualSplit, FullInformationOracle, GreedyOnReports, calibrate_budget_rule
from planner.learned.checkpoint import load_checkpoint, save_checkpoint
from planner.learned.config import (
    BASE_WEIGHTS,
    CONSTRAINED_WEIGHTS,
    EconomyConfig,
    LearnedPlannerConfig,
    LossWeights,
    ModelConfig,
    ObservationConfig,
    TrainConfig,
)
from planner.learned.env import EconomyState, initial_state
from planner.learned.policy import Decision, PlannerInput, PlannerPolicy
from planner.learned.rollout import Episode, EpisodeMetrics, simulate
from planner.learned.train import TrainResult, train

__all__ = [
    "BASE_WEIGHTS",
    "CONSTRAINED_WEIGHTS",
    "MODELS",
    "BudgetRule",
    "Decision",
    "EconomyConfig",
    "EconomyState",
    "Episode",
    "EpisodeMetrics",
    "EqualSplit",
    "FullInformationOracle",
    "GreedyOnReports",
    "LearnedPlannerConfig",
    "LossWeights",
    "ModelConfig",
    "ObservationConfig",
    "PlannerInput",
    "PlannerPolicy",
    "TrainConfig",
    "TrainResult",
    "calibrate_budget_rule",
    "initial_state",
    "load_checkpoint",
    "markdown_table",
    "run_ablation",
    "save_checkpoint",
    "simulate",
    "summarise",
    "train",
]
