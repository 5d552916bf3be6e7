"""Learned planner under incomplete information (docs/model.md, "The five-regions economy").

A VAE infers region types theta from noisy, possibly misreported observations, a GNN over the
region graph mixes regional information, and a stochastic policy outputs consumption,
investment and labour per region; it is trained by REINFORCE with a learned baseline and the
combined loss of IC, IR, Ostrom, resource and VAE terms. Needs the ``learn`` extra
(torch, torch_geometric); ``import planner`` does not import this package.

For any economy the package also holds type inference of production units
(:mod:`.inference`: a unit-type VAE, :mod:`.unit_vae`, and a relational GNN over the units'
graph, :mod:`.unit_gnn`; trained by :mod:`.infer_train`, judged by :mod:`.infer_eval`), the
correction of reports it gives (:mod:`.debias`) and a policy over the investment share and
region priorities trained by policy gradient in any environment (:mod:`.pg`).

    from innatura.planner.learned import LearnedPlannerConfig, train, save_checkpoint
    result = train(LearnedPlannerConfig())
"""

from innatura.planner.learned.ablation import MODELS, markdown_table, run_ablation, summarise
from innatura.planner.learned.baselines import (
    BudgetRule,
    EqualSplit,
    FullInformationOracle,
    GreedyOnReports,
    calibrate_budget_rule,
)
from innatura.planner.learned.checkpoint import load_checkpoint, save_checkpoint
from innatura.planner.learned.config import (
    BASE_WEIGHTS,
    CONSTRAINED_WEIGHTS,
    EconomyConfig,
    LearnedPlannerConfig,
    LossWeights,
    ModelConfig,
    ObservationConfig,
    TrainConfig,
)
from innatura.planner.learned.env import EconomyState, initial_state
from innatura.planner.learned.policy import Decision, PlannerInput, PlannerPolicy
from innatura.planner.learned.rollout import Episode, EpisodeMetrics, simulate
from innatura.planner.learned.train import TrainResult, train

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
