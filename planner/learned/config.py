"""Configuration of the learned planner: economy, observations, networks, loss weights, training.

Every configuration is a frozen dataclass that round-trips through JSON (``to_dict`` /
``from_dict``), so a checkpoint can store the exact setting it was trained under.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from innatura.planner.errors import InvalidInputError

__all__ = [
    "BASE_WEIGHTS",
    "CONSTRAINED_WEIGHTS",
    "EconomyConfig",
    "LearnedPlannerConfig",
    "LossWeights",
    "ModelConfig",
    "ObservationConfig",
    "TrainConfig",
]

logger = logging.getLogger(__name__)


def _check(cond: bool, name: str, field_: str, value: Any, why: str) -> None:
    if not cond:
        raise InvalidInputError(f"{name}.{field_} = {value!r}: {why}")


@dataclass(frozen=True)
class EconomyConfig:
    """The five-regions economy (docs/model.md "The five-regions economy"; paper Sec. "Economic Model Formulation").

    Attributes:
        populations: citizens per region; its length is the number of regions N.
        edges: undirected region-graph edges ``(i, j)``; empty means a chain 0-1-...-(N-1).
        alpha: exponent of productivity theta in output.
        beta: capital exponent (labour gets ``1 - beta``).
        delta: capital depreciation per step.
        a: linear cost of consumption in ``U(c, theta) = sqrt(c theta) - a c``.
        labour_disutility: psi in the per-capita cost ``psi l^2 / 2`` of working share ``l``
            (0 recovers the paper's utility; then ``l = 1`` is always optimal).
        shock_sd: step standard deviation of the random-walk shock Z.
        capacity: resource carrying capacity K.
        regrowth: logistic regrowth rate r.
        initial_stock: R0.
        initial_capital: k0 per region.
        theta_floor: theta_i ~ |N(0, 1)| + theta_floor.
        u_bar: reservation utility of individual rationality.
        horizon: steps per episode.
        discount: reward discount per step.
        resource_horizon: the multiple of g(R) in the resource penalty's bound R + h g(R).
    """

    populations: tuple[float, ...] = (100.0, 150.0, 120.0, 200.0, 180.0)
    edges: tuple[tuple[int, int], ...] = ()
    alpha: float = 0.3
    beta: float = 0.4
    delta: float = 0.05
    a: float = 0.01
    labour_disutility: float = 0.5
    shock_sd: float = 0.01
    capacity: float = 1000.0
    regrowth: float = 0.1
    initial_stock: float = 500.0
    initial_capital: float = 50.0
    theta_floor: float = 0.1
    u_bar: float = 0.0
    horizon: int = 10
    discount: float = 0.99
    resource_horizon: float = 10.0

    def __post_init__(self) -> None:
        n = "EconomyConfig"
        _check(len(self.populations) >= 2, n, "populations", self.populations, "need at least 2 regions")
        _check(all(p > 0 for p in self.populations), n, "populations", self.populations, "must be > 0")
        for i, j in self.edges:
            _check(0 <= i < self.n_regions and 0 <= j < self.n_regions and i != j, n, "edges", (i, j),
                   f"endpoints must be distinct regions in [0, {self.n_regions})")
        _check(self.alpha > 0, n, "alpha", self.alpha, "must be > 0")
        _check(0 < self.beta < 1, n, "beta", self.beta, "must lie in (0, 1)")
        _check(0 <= self.delta <= 1, n, "delta", self.delta, "must lie in [0, 1]")
        _check(self.a >= 0, n, "a", self.a, "must be >= 0")
        _check(self.labour_disutility >= 0, n, "labour_disutility", self.labour_disutility, "must be >= 0")
        _check(self.shock_sd >= 0, n, "shock_sd", self.shock_sd, "must be >= 0")
        _check(self.capacity > 0, n, "capacity", self.capacity, "must be > 0")
        _check(self.initial_stock >= 0, n, "initial_stock", self.initial_stock, "must be >= 0")
        _check(self.initial_capital > 0, n, "initial_capital", self.initial_capital, "must be > 0")
        _check(self.theta_floor > 0, n, "theta_floor", self.theta_floor, "must be > 0")
        _check(self.horizon >= 1, n, "horizon", self.horizon, "must be >= 1")
        _check(0 < self.discount <= 1, n, "discount", self.discount, "must lie in (0, 1]")

    @property
    def n_regions(self) -> int:
        return len(self.populations)

    @property
    def graph_edges(self) -> tuple[tuple[int, int], ...]:
        """The edges, defaulting to the chain graph of the paper's notebook."""
        if self.edges:
            return self.edges
        return tuple((i, i + 1) for i in range(self.n_regions - 1))


@dataclass(frozen=True)
class ObservationConfig:
    """How the planner observes the hidden types (see :mod:`planner.learned.observations`).

    Attributes:
        output_noise: sd of the multiplicative log-noise on reported output.
        audit_noise: sd of the audit signal of log theta.
        misreport_share: probability that a region inflates its output reports in an episode.
        misreport_factor: the factor a misreporting region multiplies its output report by.
        history: report periods observed before the first planning step (burn-in).
        burn_in_labour: working share during the burn-in periods.
    """

    output_noise: float = 0.1
    audit_noise: float = 0.5
    misreport_share: float = 0.0
    misreport_factor: float = 1.5
    history: int = 3
    burn_in_labour: float = 0.5

    def __post_init__(self) -> None:
        n = "ObservationConfig"
        _check(self.output_noise >= 0, n, "output_noise", self.output_noise, "must be >= 0")
        _check(self.audit_noise > 0, n, "audit_noise", self.audit_noise, "must be > 0")
        _check(0 <= self.misreport_share <= 1, n, "misreport_share", self.misreport_share, "must lie in [0, 1]")
        _check(self.misreport_factor > 0, n, "misreport_factor", self.misreport_factor, "must be > 0")
        _check(self.history >= 1, n, "history", self.history, "must be >= 1")
        _check(0 < self.burn_in_labour <= 1, n, "burn_in_labour", self.burn_in_labour, "must lie in (0, 1]")


@dataclass(frozen=True)
class ModelConfig:
    """Network sizes. ``conv`` names the torch_geometric layer: ``"gcn"`` or ``"graph"``."""

    latent_dim: int = 2
    hidden: int = 32
    gnn_layers: int = 2
    conv: str = "gcn"
    init_log_std: float = -0.5

    def __post_init__(self) -> None:
        n = "ModelConfig"
        _check(self.latent_dim >= 1, n, "latent_dim", self.latent_dim, "must be >= 1")
        _check(self.hidden >= 1, n, "hidden", self.hidden, "must be >= 1")
        _check(self.gnn_layers >= 1, n, "gnn_layers", self.gnn_layers, "must be >= 1")
        _check(self.conv in ("gcn", "graph"), n, "conv", self.conv, "must be 'gcn' or 'graph'")


@dataclass(frozen=True)
class LossWeights:
    """The lambdas of the combined loss (paper, "Combined Loss")."""

    vae: float = 1.0
    ic: float = 0.0
    ir: float = 0.0
    ostrom: float = 0.0
    resource: float = 1e-5
    policy: float = 1.0

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            _check(v >= 0, "LossWeights", f.name, v, "must be >= 0")


#: The paper's base model: VAE, resource and policy terms only.
BASE_WEIGHTS = LossWeights()
#: The paper's "+ IC, IR, Ostrom" model.
CONSTRAINED_WEIGHTS = LossWeights(ic=1.0, ir=1.0, ostrom=1.0)


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings. One episode = one batched rollout of ``batch_size`` economies + one step."""

    episodes: int = 300
    batch_size: int = 32
    lr: float = 3e-3
    value_coef: float = 0.5
    grad_clip: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        n = "TrainConfig"
        _check(self.episodes >= 1, n, "episodes", self.episodes, "must be >= 1")
        _check(self.batch_size >= 2, n, "batch_size", self.batch_size, "must be >= 2")
        _check(self.lr > 0, n, "lr", self.lr, "must be > 0")


@dataclass(frozen=True)
class LearnedPlannerConfig:
    """Everything a trained planner depends on; stored as JSON beside its state_dict."""

    economy: EconomyConfig = field(default_factory=EconomyConfig)
    observation: ObservationConfig = field(default_factory=ObservationConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    weights: LossWeights = field(default_factory=LossWeights)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LearnedPlannerConfig:
        parts = {"economy": EconomyConfig, "observation": ObservationConfig, "model": ModelConfig,
                 "weights": LossWeights, "train": TrainConfig}
        unknown = set(data) - set(parts)
        if unknown:
            raise InvalidInputError(f"LearnedPlannerConfig: unknown sections {sorted(unknown)}")
        kwargs = {}
        for key, klass in parts.items():
            section = dict(data.get(key, {}))
            names = {f.name for f in dataclasses.fields(klass)}
            bad = set(section) - names
            if bad:
                raise InvalidInputError(f"LearnedPlannerConfig.{key}: unknown fields {sorted(bad)}")
            if key == "economy":
                if "populations" in section:
                    section["populations"] = tuple(float(p) for p in section["populations"])
                if "edges" in section:
                    section["edges"] = tuple(tuple(int(v) for v in e) for e in section["edges"])
            kwargs[key] = klass(**section)
        return cls(**kwargs)

    @classmethod
    def from_json(cls, text: str) -> LearnedPlannerConfig:
        return cls.from_dict(json.loads(text))
