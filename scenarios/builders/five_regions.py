"""``five-regions``: the economy of "Modeling Incomplete Economic Socialism using Deep Learning".

N = 5 regions on a chain with populations 100, 150, 120, 200, 180 (docs/model.md "The five-regions economy",
from the paper's public notebook); productivity types theta_i ~ |N(0, 1)| + 0.1 drawn from
``numpy.random.default_rng(seed)``. Its dynamics (Cobb-Douglas output feeding a logistic common
stock, capital accumulation, a random-walk shock) are not input-output dynamics, so the learned
planner takes them from :func:`learned_economy` (the fields of
``planner.learned.EconomyConfig``); :func:`build` gives the same economy as a
:class:`~scenarios.spec.ScenarioSpec` for the agent model, with one stock good ``goods`` (the
common resource, R0 = 500 split by population), capital ``capital`` (k0 = 50 per region, made
one-for-one from goods), per-region labour ``Lb(region-i)`` (one unit per citizen a day), one
profile per region, and in every region a goods unit whose TRUE labour use for an order of
``q`` is ``(q / (theta^alpha k0^beta))^(1 / (1 - beta))`` (paper Eq. 1 solved for labour), up to
the capacity reached with every citizen at work.
"""

from __future__ import annotations

import itertools
import logging
from typing import Any

import numpy as np
from innatura.scenarios.spec import ScenarioSpec

__all__ = ["DESCRIPTION", "POPULATIONS", "build", "draw_types", "learned_economy"]

logger = logging.getLogger(__name__)

DESCRIPTION = "Learned planner under incomplete information: 5 regions on a chain, hidden productivity, common stock"

POPULATIONS = (100, 150, 120, 200, 180)
ALPHA, BETA = 0.3, 0.4
K0, R0 = 50.0, 500.0


def learned_economy() -> dict[str, Any]:
    """Fields of ``planner.learned.EconomyConfig`` for this scenario (docs/model.md "The five-regions economy")."""
    return {
        "populations": tuple(float(p) for p in POPULATIONS),
        "edges": tuple((i, i + 1) for i in range(len(POPULATIONS) - 1)),
        "alpha": ALPHA, "beta": BETA, "delta": 0.05, "a": 0.01, "shock_sd": 0.01,
        "capacity": 1000.0, "regrowth": 0.1, "initial_stock": R0, "initial_capital": K0,
        "theta_floor": 0.1, "u_bar": 0.0, "horizon": 10, "discount": 0.99,
    }


def draw_types(seed: int, n: int = len(POPULATIONS)) -> np.ndarray:
    """``theta_i ~ |N(0, 1)| + 0.1`` from ``default_rng(seed)``."""
    return np.abs(np.random.default_rng(seed).standard_normal(n)) + 0.1


def build(seed: int = 0, days: int = 10, bundle: float = 0.5) -> ScenarioSpec:
    """The five-regions economy as a scenario spec (see the module docstring).

    Args:
        seed: seed of the types and of the run.
        days: default run length.
        bundle: goods per citizen per day in every profile.
    """
    theta = draw_types(seed)
    regions = [f"region-{i}" for i in range(len(POPULATIONS))]
    total = float(sum(POPULATIONS))
    expo = 1.0 / (1.0 - BETA)
    goods = [{"name": "goods", "kind": "final"}, {"name": "capital", "kind": "industrial"}]
    goods += [{"name": f"Lb({r})", "kind": "labour"} for r in regions]
    goods.append({"name": "Lb(capital)", "kind": "labour"})
    units = []
    for i, r in enumerate(regions):
        scale = float((theta[i] ** ALPHA * K0 ** BETA) ** (-expo))
        capacity = float(theta[i] ** ALPHA * K0 ** BETA * POPULATIONS[i] ** (1.0 - BETA))  # everyone at work
        units.append({"name": f"goods-{r}", "good": "goods", "region": r, "capacity": capacity,
                      "inputs": {f"Lb({r})": {"scale": scale, "exponent": expo}}})
        units.append({"name": f"capital-{r}", "good": "capital", "region": r})
    data = {
        "scenario": {"name": "five-regions", "description": DESCRIPTION, "days": days, "seed": seed,
                     "population_note": "populations 100, 150, 120, 200, 180 (the paper's notebook)"},
        "goods": goods,
        "coefficients": {"capital": {"goods": 1.0, "Lb(capital)": 0.001}},
        "profiles": [{"name": f"citizens of {r}", "population": int(n), "bundle": {"goods": bundle},
                      "regions": {r: 1.0}} for r, n in zip(regions, POPULATIONS, strict=True)],
        "units": units,
        "regions": {
            "nodes": [{"name": r, "population_share": n / total} for r, n in zip(regions, POPULATIONS, strict=True)],
            "edges": [{"source": a, "target": b} for a, b in itertools.pairwise(regions)],
        },
        "inventory": {"goods": R0, "capital": {r: K0 for r in regions}},
        "labour": {**{f"Lb({r})": {r: float(n)} for r, n in zip(regions, POPULATIONS, strict=True)},
                   "Lb(capital)": 1e6},
        "planning": {"investment_share": 0.1, "method": "olin"},
    }
    return ScenarioSpec(**data)
