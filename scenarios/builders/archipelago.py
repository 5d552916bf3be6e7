"""``archipelago``: a synthetic multi-region economy, the default demo of ``innatura run``.

About 20 islands on a connected small-world graph (networkx
``connected_watts_strogatz_graph``), 50 goods (30 final, 14 industrial, 6 labour types),
10,000 citizens on five profiles, and two to four production units per good spread over the
islands, each with its own power-law curve for the good's main input (OLIN-EP Fig. 1: units
stacked by output). Everything random is drawn from ``numpy.random.default_rng(seed)``; the
same seed gives the same spec.

How the numbers are chosen, so that the economy is productive and plannable:

* recipes are tiered: primary final goods need labour, capital and (for a few) a little of a
  processed good, which closes cycles; processed goods need 1-3 earlier final goods;
  capital goods need final goods and other capital;
* capital is a stock requirement, not a flow (docs/model.md), so requirements solve the flow
  system ``x = F_flow(x) x + d`` (``F`` without its industrial rows): ``x0`` for the profiles'
  demand alone, ``x1`` for that demand plus building 5% of the capital ``x0`` needs every day;
  the static system with every row a flow (Eq. 3) must be productive too (spectral radius
  of ``F`` at its solution below 0.9, checked; the build fails otherwise);
* capacities are 1.4-2.0 times the linear-unit ``x1``, split over the good's units (raised
  where the curves push the nonlinear ``x1`` within 20% of capacity); labour
  supply is 1.5 times what the units of each island need at ``x1``; opening capital is
  ``capital_share`` (0.4) of what the units of each island need at ``x0``, placed there; final
  goods start with ``final_days`` (0.25) days of the profiles' demand. So humanity starts
  well below 1 and rises over a few weeks as the plan invests in capital (``sigma = 0.3``).

The stochastic losses the model is about are on: every day each island loses, with
probability 0.05, a tenth of its stocks of the perishable goods. So the seed of a run matters:
different seeds give different runs (``innatura run --noise P`` changes the probability).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from innatura.scenarios.errors import ScenarioError
from innatura.scenarios.spec import ScenarioSpec

__all__ = ["DESCRIPTION", "build"]

logger = logging.getLogger(__name__)

DESCRIPTION = ("Synthetic demo: 20 islands on a small-world graph, 50 goods, 10,000 citizens in 5 profiles, "
               "stacked units")

PRIMARY = ["grain", "fish", "fruit", "vegetables", "milk", "wool", "timber", "clay", "salt", "herbs", "cotton", "honey"]
PROCESSED = [
    "flour", "bread", "cheese", "dried fish", "jam", "yarn", "cloth", "rope", "pottery", "soap",
    "medicine", "furniture", "paper", "books", "clothes", "tea", "oil", "candles",
]
CAPITAL = [
    "fishing boat", "plough", "loom", "mill", "oven", "kiln", "press", "still", "workshop",
    "cart", "net", "spinning wheel", "forge", "greenhouse",
]
LABOUR = ["Lb(farming)", "Lb(fishing)", "Lb(crafts)", "Lb(building)", "Lb(care)", "Lb(trade)"]
PROFILES = [("fisher", 0.25), ("farmer", 0.25), ("artisan", 0.2), ("elder", 0.15), ("child", 0.15)]
PERISHABLE = ["fish", "fruit", "vegetables", "milk", "bread"]


def _recipes(rng: np.random.Generator) -> tuple[list[str], list[str], dict[str, dict[str, float]]]:
    """Goods, kinds and the constant part of every column (what one unit needs)."""
    finals = PRIMARY + PROCESSED
    goods = finals + CAPITAL + LABOUR
    kinds = ["final"] * len(finals) + ["industrial"] * len(CAPITAL) + ["labour"] * len(LABOUR)
    columns: dict[str, dict[str, float]] = {}
    for k, good in enumerate(goods[: len(finals) + len(CAPITAL)]):
        col: dict[str, float] = {LABOUR[rng.integers(len(LABOUR))]: float(rng.uniform(0.002, 0.02))}
        if good in PRIMARY:
            if rng.random() < 0.4:  # a little of a processed good: closes cycles
                col[PROCESSED[rng.integers(len(PROCESSED))]] = float(rng.uniform(0.005, 0.03))
        elif good in PROCESSED:
            earlier = finals[: k]
            for src in rng.choice(earlier, size=int(rng.integers(1, 4)), replace=False):
                col[str(src)] = float(rng.uniform(0.1, 0.6))
        else:  # capital goods are made of final goods
            for src in rng.choice(finals, size=int(rng.integers(1, 4)), replace=False):
                col[str(src)] = float(rng.uniform(0.3, 1.2))
        for cap in rng.choice(CAPITAL, size=int(rng.integers(1, 3)), replace=False):
            col[str(cap)] = float(rng.uniform(0.01, 0.05))
        columns[good] = col
    return goods, kinds, columns


#: names of goods (or of their kinds, or of regions), in order.
Goods = Sequence[str]
#: each good's constant column: input good -> amount per unit of output.
Columns = dict[str, dict[str, float]]
#: the units being built, as dicts of their fields (``_``-prefixed: the builder's own).
Units = list[dict[str, Any]]


def _units(rng: np.random.Generator, goods: Goods, kinds: Goods, columns: Columns, regions: Goods) -> Units:
    """Two to four units per produced good; each unit's curve for the good's main input.

    The main input (the largest non-labour entry of the column) becomes a curve cell: unit
    ``u`` uses ``m_u * a * c_u ** (1 - e_u) * q ** e_u`` of it, which equals ``m_u * a * q`` at
    its own capacity ``c_u`` (capacities are set later; ``c_u`` here is a reference order).
    """
    units = []
    for good, kind in zip(goods, kinds, strict=True):
        if kind == "labour":
            continue
        col = columns[good]
        main = max((g for g in col if not g.startswith("Lb(")), key=lambda g: col[g])
        base = col.pop(main)
        count = int(rng.integers(2, 5))
        # first: constant or diminishing returns (bounded coefficient at 0); middle: anything;
        # last (the backstop that takes every order beyond the others): no diminishing returns
        middle = [float(rng.choice([0.6, 0.8, 1.0, 1.3, 1.6])) for _ in range(count - 2)]
        exponents = [float(rng.uniform(1.0, 1.6)), *middle, float(rng.choice([0.8, 0.9, 1.0]))]
        for u in range(count):
            units.append({
                "name": f"{good} {u + 1}",
                "good": good,
                "region": regions[int(rng.integers(len(regions)))],
                "_main": main,
                "_base": base * float(rng.uniform(0.7, 1.4)),
                "_exponent": exponents[u],
                "_weight": float(rng.uniform(0.5, 1.5)),
            })
    return units


def _requirement(goods: Goods, kinds: Goods, columns: Columns, units: Units, capacity: np.ndarray, demand: np.ndarray,
                 capital_flows: bool = False) -> tuple[np.ndarray, sp.csr_matrix]:
    """Solve the flow system ``x = F_flow(x) x + demand`` by fixed point on the stacked curves.

    ``F_flow`` is ``F`` without its industrial rows (capital is a stock requirement, not used
    up, docs/model.md), or all of ``F`` with ``capital_flows`` (the static IO system of
    OLIN-EP Eq. 3, where every row is a flow). Returns ``x`` and the full ``F(x)``.
    """
    n = len(goods)
    flow_rows = np.array([capital_flows or k != "industrial" for k in kinds], dtype=float)
    x = demand.copy()
    for _ in range(500):
        F = _coefficients(goods, columns, units, capacity, x)
        x_new = spla.spsolve((sp.identity(n, format="csc") - sp.diags(flow_rows) @ F).tocsc(), demand)
        if np.allclose(x_new, x, rtol=1e-10, atol=1e-9):
            return x_new, F
        x = x_new
    raise ScenarioError("<archipelago>", [(("build",), None, "requirement did not converge")])


def _orders(goods: Goods, units: Units, capacity: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Dispatch the output ``x`` of each good over its units in stacking order, ``(U,)``."""
    left = {g: max(float(x[i]), 0.0) for i, g in enumerate(goods)}
    q = np.zeros(len(units))
    for u, unit in enumerate(units):
        q[u] = min(left[unit["good"]], capacity[u])
        left[unit["good"]] -= q[u]
    last: dict[str, int] = {unit["good"]: u for u, unit in enumerate(units)}
    for good, u in last.items():  # the last unit takes what is left (as StackedCurve does)
        q[u] += left[good]
    return q


def _unit_use(goods: Goods, columns: Columns, units: Units, q: np.ndarray) -> np.ndarray:
    """Input use of every unit for its order: ``(U, n)`` (constant inputs and the curve)."""
    index = {g: i for i, g in enumerate(goods)}
    use = np.zeros((len(units), len(goods)))
    for u, unit in enumerate(units):
        for src, v in columns[unit["good"]].items():
            use[u, index[src]] += v * q[u]
        scale = unit["_base"] * unit["_ref"] ** (1 - unit["_exponent"])
        use[u, index[unit["_main"]]] += scale * q[u] ** unit["_exponent"]
    return use


def _coefficients(goods: Goods, columns: Columns, units: Units, capacity: np.ndarray,
                  x: np.ndarray) -> sp.csr_matrix:
    """``F(x)`` as a CSR matrix: total input use per column over its output."""
    index = {g: i for i, g in enumerate(goods)}
    use = _unit_use(goods, columns, units, _orders(goods, units, capacity, x))
    cols = np.array([index[u["good"]] for u in units])
    n = len(goods)
    total = np.zeros((n, n))
    np.add.at(total.T, cols, use)
    produced = np.zeros(n, dtype=bool)
    produced[cols] = True
    xs = np.where(x > 1e-9, x, 1e-9)
    F = np.where(produced[None, :], total / xs[None, :], 0.0)
    for good in goods:  # at zero output the coefficient is the first unit's (all linear at 0)
        j = index[good]
        if produced[j] and x[j] <= 1e-9:
            F[:, j] = 0.0
            for src, v in columns.get(good, {}).items():
                F[index[src], j] = v
    return sp.csr_matrix(F)


def build(seed: int = 0, *, regions: int = 20, citizens: int = 10_000, investment_share: float = 0.3,
          capital_share: float = 0.4, final_days: float = 0.25, days: int = 60) -> ScenarioSpec:
    """Build the archipelago scenario.

    Args:
        seed: seeds every random choice (graph, recipes, units, bundles); also the spec's seed.
        regions: number of islands (>= 5).
        citizens: total population over the five profiles.
        investment_share: the default ``sigma``.
        capital_share: opening capital as a share of what meeting the profiles needs.
        final_days: opening stock of final goods, in days of the profiles' demand.
        days: default length of a run.

    Raises:
        ScenarioError: bad arguments, or (should never happen) a non-productive draw.
    """
    if regions < 5 or citizens < len(PROFILES) or not capital_share > 0 or not final_days >= 0:
        raise ScenarioError("<archipelago>", [(("build",), {"regions": regions, "citizens": citizens,
                            "capital_share": capital_share, "final_days": final_days},
                            "need regions >= 5, citizens >= 5, capital_share > 0, final_days >= 0")])
    rng = np.random.default_rng(seed)
    graph = nx.connected_watts_strogatz_graph(regions, 4, 0.3, tries=1000, seed=int(rng.integers(2**31)))
    names = [f"island-{i:02d}" for i in range(regions)]
    raw = rng.lognormal(0.0, 0.5, regions)
    shares = raw / raw.sum()
    goods, kinds, columns = _recipes(rng)
    units = _units(rng, goods, kinds, columns, names)
    bundles, pops = _bundles(rng, citizens)
    index = {g: i for i, g in enumerate(goods)}
    demand = np.zeros(len(goods))
    for bundle, pop in zip(bundles, pops, strict=True):
        for g, a in bundle.items():
            demand[index[g]] += a * pop
    capacity, x0, x1 = _capacities(rng, goods, kinds, columns, units, demand, seed)
    inventory, labour = _stocks(goods, columns, units, capacity, (x0, x1), names, demand, final_days, capital_share)
    flow = float(x1[: len(PRIMARY + PROCESSED)].sum())
    data = {
        "scenario": {"name": "archipelago", "description": DESCRIPTION, "days": days, "seed": seed,
                     "population_note": f"{citizens} citizens on {len(PROFILES)} profiles, "
                                        f"spread over {regions} islands"},
        "goods": [{"name": g, "kind": k,
                   "externality": round(float(rng.uniform(0.0, 1.0)), 3) if k != "labour" else 0.0,
                   "transport_loss": 0.02 if g in PERISHABLE else 0.0} for g, k in zip(goods, kinds, strict=True)],
        "coefficients": {g: {s: round(v, 5) for s, v in col.items()} for g, col in columns.items()},
        "profiles": [{"name": name, "population": int(p), "bundle": b}
                     for (name, _), p, b in zip(PROFILES, pops, bundles, strict=True)],
        "units": [{"name": u["name"], "good": u["good"], "region": u["region"], "capacity": float(capacity[k]),
                   "inputs": {u["_main"]: {"scale": float(u["_base"] * u["_ref"] ** (1 - u["_exponent"])),
                                           "exponent": u["_exponent"]}}}
                  for k, u in enumerate(units)],
        "regions": {
            "nodes": [{"name": names[i], "population_share": float(shares[i])} for i in range(regions)],
            "edges": [{"source": names[a], "target": names[b],
                       "capacity": round(float(rng.uniform(0.05, 0.15) * flow), 1),
                       "loss": round(float(rng.uniform(0.001, 0.01)), 4)} for a, b in sorted(graph.edges())],
        },
        "inventory": inventory,
        "labour": labour,
        "planning": {"investment_share": investment_share},
        "losses": {"enabled": True,
                   "events": [{"goods": PERISHABLE, "probability": 0.05, "fraction": 0.1, "scope": "region"}]},
    }
    from innatura.scenarios.loader import spec_from_dict

    return spec_from_dict(data, source=f"<archipelago seed={seed}>")


def _bundles(rng: np.random.Generator, citizens: int) -> tuple[list[dict[str, float]], np.ndarray]:
    """Each profile's bundle (8 to 14 final goods) and its citizens."""
    bundles = []
    finals = PRIMARY + PROCESSED
    for _name, _share in PROFILES:
        chosen = rng.choice(finals, size=int(rng.integers(8, 15)), replace=False)
        bundles.append({str(g): round(float(rng.uniform(0.05, 1.0)), 3) for g in chosen})
    pops = np.floor(np.array([s for _, s in PROFILES]) * citizens).astype(int)
    pops[0] += citizens - pops.sum()
    return bundles, pops


#: daily growth of the capital stock the capacities are sized for (capital for the consumption
#: requirement, plus this share of it built every day).
GROWTH = 0.05


def _capacities(rng: np.random.Generator, goods: Goods, kinds: Goods, columns: Columns, units: Units,
                demand: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The units' capacities, and the consumption requirement ``x0`` and the requirement ``x1``
    of also building :data:`GROWTH` of the capital ``x0`` needs (sets each unit's ``_ref``).

    Raises:
        ScenarioError: the draw is not productive (should never happen).
    """
    n = len(goods)
    index = {g: i for i, g in enumerate(goods)}
    # linear units first, to size the capacities
    linear = [dict(u, _ref=1.0, _exponent=1.0) for u in units]
    unbounded = np.full(len(units), np.inf)
    x_lin, F_lin = _requirement(goods, kinds, columns, linear, unbounded, demand)
    industrial = np.array([k == "industrial" for k in kinds])
    x_lin, _ = _requirement(goods, kinds, columns, linear, unbounded,
                            demand + GROWTH * np.where(industrial, F_lin @ x_lin, 0.0))
    weights: dict[str, float] = {}
    for unit in units:
        weights[unit["good"]] = weights.get(unit["good"], 0.0) + unit["_weight"]
    capacity = np.array([x_lin[index[u["good"]]] * rng.uniform(1.4, 2.0) * u["_weight"] / weights[u["good"]]
                         for u in units])
    capacity = np.maximum(np.round(capacity, 1), 1.0)
    for k, unit in enumerate(units):
        unit["_ref"] = float(capacity[k])
    produced = np.array([k != "labour" for k in kinds])
    good_of = np.array([index[u["good"]] for u in units])
    for _ in range(20):  # the curves' reference orders stay; capacities grow until x fits
        x0, F0 = _requirement(goods, kinds, columns, units, capacity, demand)
        invest = GROWTH * np.where(industrial, F0 @ x0, 0.0)
        x1, _ = _requirement(goods, kinds, columns, units, capacity, demand + invest)
        x_all, F_all = _requirement(goods, kinds, columns, units, capacity, demand, capital_flows=True)
        total_cap = np.bincount(good_of, weights=capacity, minlength=n)
        need = np.where(produced, x1, 0.0)
        short = need * 1.2 > total_cap
        if not short.any():
            break
        capacity = np.where(short[good_of], np.round(capacity * 1.3 * need[good_of] / total_cap[good_of], 1), capacity)
    rho = float(np.max(np.abs(np.linalg.eigvals(F_all.toarray()[np.ix_(produced, produced)]))))
    if not rho < 0.9 or short.any() or (x1 < -1e-9).any() or (x_all < -1e-9).any():
        raise ScenarioError("<archipelago>", [(("seed",), seed, f"draw is not productive (spectral radius {rho:.3f})")])
    logger.debug("archipelago seed %d: spectral radius %.3f, total output %.1f", seed, rho, x1.sum())
    return capacity, x0, x1


def _stocks(goods: Goods, columns: Columns, units: Units, capacity: np.ndarray, x: tuple[np.ndarray, np.ndarray],
            names: list[str], demand: np.ndarray, final_days: float,
            capital_share: float) -> tuple[dict[str, object], dict[str, dict[str, float]]]:
    """Opening stocks and labour: final goods for ``final_days`` of demand, capital where the
    units need it to meet consumption (``x[0]``), labour for ``x[1]``, by region."""
    x0, x1 = x
    regions, n = len(names), len(goods)
    index = {g: i for i, g in enumerate(goods)}
    region_of = np.array([names.index(u["region"]) for u in units])
    need0 = np.zeros((regions, n))
    np.add.at(need0, region_of, _unit_use(goods, columns, units, _orders(goods, units, capacity, x0)))
    need1 = np.zeros((regions, n))
    np.add.at(need1, region_of, _unit_use(goods, columns, units, _orders(goods, units, capacity, x1)))
    inventory: dict[str, object] = {}
    for g in PRIMARY + PROCESSED:
        inventory[g] = round(final_days * float(demand[index[g]]), 3)
    for g in CAPITAL:
        per_region = {names[r]: round(capital_share * float(need0[r, index[g]]), 4)
                      for r in range(regions) if need0[r, index[g]] > 0}
        if per_region:
            inventory[g] = per_region
    labour = {g: {names[r]: round(1.5 * float(need1[r, index[g]]), 4) for r in range(regions) if need1[r, index[g]] > 0}
              for g in LABOUR}
    return inventory, labour
