"""Random planning economies of any size, as scenario specs (benchmarks, property tests).

:func:`synthetic_spec` draws a productive economy from a seed: ``labour`` labour types, a
share of industrial goods (capital), final goods; every produced good needs one labour type,
a few other final goods (small constant coefficients, so the economy is productive) and, for
some, a capital good. ``units`` production units make randomly chosen goods, stacked two or
more per good where possible: each with power-law curves (``scale * q ** exponent``) for one
or two inputs, a bounded first unit (exponent >= 1, as the scenario checks require) and an
unbounded last one. Profiles are sparse bundles of final goods. Regions form a connected
small-world graph. Stocks start at a few days of demand. Everything is drawn from
``numpy.random.default_rng(seed)``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from innatura.scenarios.spec import ScenarioSpec

__all__ = ["synthetic_spec"]

logger = logging.getLogger(__name__)


def synthetic_spec(
    citizens: int = 1000,
    units: int = 20,
    goods: int = 30,
    regions: int = 4,
    profiles: int = 5,
    seed: int = 0,
    bundle_size: int = 5,
    inputs_per_good: int = 3,
    name: str = "synthetic",
    safety_stock: float = 0.5,
) -> ScenarioSpec:
    """A random, productive economy as a validated :class:`scenarios.spec.ScenarioSpec`.

    Args:
        citizens: total population, split over profiles at random.
        units: production units with learned curves (goods without units get implicit
            workshops in the model).
        goods: number of goods (labour types included, at least 6).
        regions: regions on a connected small-world graph (a path when fewer than 4).
        profiles: consumption profiles.
        seed: the only source of randomness.
        bundle_size: final goods per profile bundle.
        inputs_per_good: constant final-good inputs per produced good.
        name: the scenario's name.
        safety_stock: the planner's days of cover of final goods (``[planning]``). Half a day
            by default: many goods of a random economy sit on closed input chains, which the
            planner would otherwise run with no stock, so that learned curves a little off
            the truth would starve the whole chain.
    """
    from innatura.scenarios.loader import spec_from_dict

    rng = np.random.default_rng(seed)
    g = _Goods.of(max(int(goods), 6))
    unit_list, curve_cells = _units(rng, g, int(units), regions)
    coefficients = _coefficients(rng, g, curve_cells, inputs_per_good)
    profile_list = _profiles(rng, g, citizens, profiles, bundle_size)
    demand = np.zeros(len(g.names))
    for prof in profile_list:
        for good, v in prof["bundle"].items():
            demand[g.names.index(good)] += v * prof["population"]
    inventory = {good: float(3.0 * demand[i] + 10.0) for i, good in enumerate(g.finals)}
    inventory.update({good: float(citizens * 0.05 + 10.0) for good in g.capital})
    labour = {good: float(citizens * 2.0) for good in g.labour}
    if regions >= 4:
        graph = {"generator": "connected_watts_strogatz_graph",
                 "params": {"n": regions, "k": 4 if regions > 4 else 2, "p": 0.2},
                 "prefix": "r", "capacity": float(citizens * 50.0), "loss": 0.01, "seed": int(seed)}
    else:
        graph = {"generator": "path_graph", "params": {"n": regions}, "prefix": "r", "loss": 0.01}
    data = {
        "scenario": {"name": name, "days": 30, "seed": int(seed),
                     "description": f"random economy: {len(g.names)} goods, {len(unit_list)} units, "
                                    f"{citizens} citizens"},
        "goods": [{"name": good, "kind": k, "externality": float(rng.uniform(0, 0.01)) if k != "labour" else 0.0}
                  for good, k in zip(g.names, g.kinds, strict=True)],
        "coefficients": coefficients,
        "profiles": profile_list,
        "units": unit_list,
        "regions": graph,
        "inventory": inventory,
        "labour": labour,
        "planning": {"investment_share": 0.3, "safety_stock": float(safety_stock)},
        "losses": {"enabled": False, "events": [{"goods": g.finals[:3], "probability": 0.1, "fraction": 0.2}]},
    }
    return spec_from_dict(data, source=f"<synthetic seed={seed}>")


@dataclass(frozen=True)
class _Goods:
    """The goods of a synthetic economy: final goods, then capital, then labour types."""

    finals: list[str]
    capital: list[str]
    labour: list[str]

    @classmethod
    def of(cls, goods: int) -> _Goods:
        n_lab = max(1, min(5, goods // 10))
        n_ind = max(1, goods // 20)
        n_fin = goods - n_lab - n_ind
        return cls([f"f{k}" for k in range(n_fin)], [f"k{k}" for k in range(n_ind)], [f"Lb{k}" for k in range(n_lab)])

    @property
    def names(self) -> list[str]:
        return self.finals + self.capital + self.labour

    @property
    def kinds(self) -> list[str]:
        return ["final"] * len(self.finals) + ["industrial"] * len(self.capital) + ["labour"] * len(self.labour)

    @property
    def produced(self) -> list[str]:
        return self.finals + self.capital


def _units(rng: np.random.Generator, g: _Goods, units: int,
           regions: int) -> tuple[list[dict[str, Any]], set[tuple[str, str]]]:
    """Units of goods chosen at random, two per good where possible, in stacking order (the
    scenario stacks a good's units in file order, bounded ones first); and their curve cells."""
    produced, finals, n_fin = g.produced, g.finals, len(g.finals)
    n_units = int(min(units, 2 * len(produced)))
    unit_goods = rng.choice(len(produced), size=max(1, n_units // 2), replace=False)
    unit_list: list[dict[str, Any]] = []
    curve_cells: set[tuple[str, str]] = set()
    region_names = [f"r{k}" for k in range(regions)]
    for k in range(n_units):
        good = produced[int(unit_goods[k % unit_goods.size])]
        first = k < unit_goods.size
        picks = rng.choice(n_fin, size=min(2, n_fin), replace=False)
        inputs = {}
        for i in picks[: 1 + int(rng.random() < 0.5)]:
            if finals[i] == good:
                continue
            exponent = float(rng.uniform(1.0, 1.3)) if first else float(rng.uniform(0.8, 1.3))
            # coefficient g(q)/q of about 0.01-0.04 at an order of 1000 units
            scale = float(rng.uniform(0.01, 0.04)) * 1000.0 ** (1.0 - exponent)
            inputs[finals[i]] = {"scale": scale, "exponent": exponent}
            curve_cells.add((finals[i], good))
        unit_list.append({
            "name": f"u{k}", "good": good, "region": region_names[int(rng.integers(regions))],
            "capacity": float(rng.uniform(200.0, 2000.0)) if first else float("inf"), "inputs": inputs,
        })
    unit_list.sort(key=lambda u: (u["good"], math.isinf(float(u["capacity"]))))
    return unit_list, curve_cells


def _coefficients(rng: np.random.Generator, g: _Goods, curve_cells: set[tuple[str, str]],
                  inputs_per_good: int) -> dict[str, dict[str, float]]:
    """Each produced good's constant column: a labour type, a few final goods, maybe capital."""
    finals, n_fin = g.finals, len(g.finals)
    coefficients: dict[str, dict[str, float]] = {}
    for j, good in enumerate(g.produced):
        col = {g.labour[int(rng.integers(len(g.labour)))]: float(rng.uniform(0.001, 0.01))}
        for i in rng.choice(n_fin, size=min(inputs_per_good, n_fin), replace=False):
            if finals[i] != good and (finals[i], good) not in curve_cells:
                col[finals[i]] = float(rng.uniform(0.005, 0.04))
        if g.kinds[j] == "final" and rng.random() < 0.5:
            cap = g.capital[int(rng.integers(len(g.capital)))]
            if (cap, good) not in curve_cells:
                col[cap] = float(rng.uniform(0.01, 0.05))
        coefficients[good] = col
    return coefficients


def _profiles(rng: np.random.Generator, g: _Goods, citizens: int, profiles: int,
              bundle_size: int) -> list[dict[str, Any]]:
    """Profiles with random shares of the citizens and sparse bundles of final goods."""
    n_fin = len(g.finals)
    shares = rng.dirichlet(np.ones(profiles))
    counts = np.floor(shares * citizens).astype(int)
    counts[0] += citizens - counts.sum()
    out = []
    for p in range(profiles):
        items = rng.choice(n_fin, size=min(bundle_size, n_fin), replace=False)
        out.append({"name": f"p{p}", "population": int(counts[p]),
                    "bundle": {g.finals[i]: float(rng.uniform(0.1, 2.0)) for i in items}})
    return out
