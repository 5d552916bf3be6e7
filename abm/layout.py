"""The static structure of a simulated economy as arrays, built once from a scenario spec.

:class:`Layout` holds what does not change during a run: goods and their kinds, regions and
the transport edges, production units (their good, region, TRUE capacity and TRUE input
functions), citizens (profile and region) and the scenario's loss events. The mutable state of
a day (stocks, reports, learning samples) lives in :class:`abm.state.State`.

A good that no unit of the scenario makes is produced by *implicit workshops*, one per region
(or, in economies with more than :data:`MAX_WORKSHOPS` of them, one per good, placed so that
the workshops' expected labour need is spread over the regions' labour supply), with the good's
constant coefficients (the column of ``Economy.coefficients``), unbounded
capacity and honest reports. Workshops, and scenario units with unbounded capacity and no
curve inputs (their technology is the public constant column), are *pooled*: what a good's
bounded units do not take is split over its pooled units in proportion to the labour the
good's column needs in their regions (or to population when it needs no labour). Every other
unit is stacked (OLIN-EP Fig. 1).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np
import scipy.sparse as sp
from innatura.abm.execution import Technology, UnitInputs
from innatura.abm.transport import route_incidence
from innatura.planner.economy import Economy

if TYPE_CHECKING:  # pragma: no cover
    from innatura.scenarios.arrays import UnitArrays
    from innatura.scenarios.spec import ScenarioSpec

__all__ = ["MAX_WORKSHOPS", "Layout", "StockLoss", "build_layout", "merge_regions", "workshop_regions"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StockLoss:
    """With ``probability`` a day, ``fraction`` of the stocks of ``goods`` vanishes.

    ``scope="economy"``: one draw a day for every region; ``"region"``: one draw per region.
    """

    goods: np.ndarray
    probability: float
    fraction: float
    scope: str = "economy"


@dataclass(frozen=True, eq=False)
class Layout:
    """Static arrays of a simulated economy (see the module docstring).

    Shapes: ``n`` goods, ``m`` profiles, ``R`` regions, ``U`` units (scenario units first,
    then implicit workshops), ``E`` true (unit, input) entries, ``D`` directed edges,
    ``C`` citizens.
    """

    name: str
    economy: Economy
    regions: tuple[str, ...]
    graph: nx.Graph
    final: np.ndarray
    industrial: np.ndarray
    labour_mask: np.ndarray
    unit_names: tuple[str, ...]
    unit_good: np.ndarray
    unit_region: np.ndarray
    unit_capacity: np.ndarray
    unit_stack: np.ndarray
    unit_implicit: np.ndarray
    unit_strategy: tuple[str, ...]
    unit_factor: np.ndarray
    true_inputs: UnitInputs
    entry_curve: np.ndarray
    unit_pooled: np.ndarray
    pool_share: np.ndarray
    edge_src: np.ndarray
    edge_dst: np.ndarray
    edge_capacity: np.ndarray
    edge_loss: np.ndarray
    paths: np.ndarray
    population: np.ndarray
    citizen_profile: np.ndarray
    citizen_region: np.ndarray
    initial_stocks: np.ndarray
    labour_supply: np.ndarray
    loss_events: tuple[StockLoss, ...]
    losses_enabled: bool
    investment_share: float
    default_days: int
    default_seed: int
    safety_stock: float = 0.0
    default_plan: str | None = None

    @property
    def n_goods(self) -> int:
        return self.economy.n_goods

    @property
    def n_regions(self) -> int:
        return len(self.regions)

    @property
    def n_units(self) -> int:
        return len(self.unit_names)

    @property
    def n_citizens(self) -> int:
        return int(self.citizen_profile.size)

    @property
    def goods(self) -> tuple[str, ...]:
        return self.economy.goods

    @property
    def profiles(self) -> tuple[str, ...]:
        return self.economy.profiles

    @property
    def technology(self) -> Technology:
        """The TRUE technology of the units, as :func:`abm.execution.produce` takes it."""
        return Technology(self.unit_region, self.unit_good, self.true_inputs, self.industrial, self.labour_mask)

    def stack_order(self) -> np.ndarray:
        """Unit indices sorted by (good, stacking rank): the order the planner's targets fill."""
        return np.lexsort((np.arange(self.n_units), self.unit_stack, self.unit_good))


def _edges(graph: nx.Graph, goods_loss: np.ndarray) -> tuple[np.ndarray, ...]:
    src, dst, cap, loss = [], [], [], []
    for a, b, data in graph.edges(data=True):
        for s, t in ((a, b), (b, a)):
            src.append(s)
            dst.append(t)
            cap.append(float(data.get("capacity", np.inf)))
            loss.append(float(data.get("loss", 0.0)))
    src_a = np.asarray(src, dtype=np.int64)
    edge_loss = 1.0 - (1.0 - np.asarray(loss, dtype=float))[:, None] * (1.0 - goods_loss)[None, :]
    return (src_a, np.asarray(dst, dtype=np.int64), np.asarray(cap, dtype=float),
            edge_loss.reshape(len(src), len(goods_loss)))


#: implicit workshops are placed in every region while there are at most this many of them;
#: beyond, each good without units gets one workshop, placed to spread their labour need.
MAX_WORKSHOPS = 2000


def workshop_regions(orphan: np.ndarray, A: sp.spmatrix, labour_mask: np.ndarray, labour_supply: np.ndarray,
                     population: np.ndarray, demand: np.ndarray) -> np.ndarray:
    """One home region per good in ``orphan`` that spreads the workshops' labour over regions.

    Each good's daily output is estimated as ``d + A d + A^2 d`` (``d``: the profiles' total
    demand, a truncated Leontief inverse over the constant coefficients) and its labour need
    as that output times its column's labour coefficients. Goods are placed one by one, the
    largest labour need first, each in the region with the most of its labour types still
    unclaimed, relative to the region's supply (goods that need no labour: the most people per
    workshop placed). Placing every workshop in the best-staffed region instead would give one
    region the whole economy's labour demand.
    """
    A = sp.csc_matrix(A)
    Af = A[:, ~labour_mask][~labour_mask, :]
    d = np.asarray(demand, dtype=float)[~labour_mask]
    x_est = np.zeros(A.shape[0])
    x_est[~labour_mask] = d + Af @ d + Af @ (Af @ d)
    lab_rows = np.flatnonzero(labour_mask)
    need = (A[lab_rows][:, orphan].toarray() * x_est[orphan][None, :]).T  # (orphans, labour types)
    supply = np.asarray(labour_supply, dtype=float)[:, lab_rows]  # (R, L)
    left = supply.copy()
    people = population.sum(axis=1).astype(float)
    placed = np.zeros(people.size)
    home = np.zeros(orphan.size, dtype=np.int64)
    for k in np.argsort(-need.sum(axis=1), kind="stable"):
        types = np.flatnonzero(need[k] > 0)
        if types.size:
            free = left[:, types] / np.maximum(supply[:, types], 1e-300)
            score = np.where(supply[:, types].min(axis=1) > 0, free.min(axis=1), -np.inf)
            r = int(np.argmax(score))
            left[r, types] -= need[k, types]
        else:
            r = int(np.argmax(people / (1.0 + placed)))
        placed[r] += 1
        home[k] = r
    return home


def _pool_shares(pooled: np.ndarray, good: np.ndarray, region: np.ndarray, A: sp.spmatrix, labour_mask: np.ndarray,
                 labour_supply: np.ndarray, population: np.ndarray) -> np.ndarray:
    """Share of its good's pooled orders each pooled unit takes (labour-weighted, see module doc)."""
    people = population.sum(axis=1).astype(float)
    share = np.zeros(good.size)
    A = sp.csc_matrix(A, copy=True)
    A.sum_duplicates()  # canonical (sorted row indices, one entry per cell), on a copy: A is the economy's
    members = np.flatnonzero(pooled)
    if members.size == 0:
        return share
    members = members[np.argsort(good[members], kind="stable")]
    goods, starts = np.unique(good[members], return_index=True)
    for j, units in zip(goods.tolist(), np.split(members, starts[1:]), strict=True):
        rows = A.indices[A.indptr[j]:A.indptr[j + 1]]
        vals = A.data[A.indptr[j]:A.indptr[j + 1]]
        need = rows[(vals > 0) & labour_mask[rows]]
        w = labour_supply[region[units]][:, need].sum(axis=1) if need.size else people[region[units]]
        if w.sum() <= 0:
            w = np.ones(units.size)
        share[units] = w / w.sum()
    return share


def _units(ua: UnitArrays, economy: Economy, regions: tuple[str, ...], A: sp.csc_matrix, labour_mask: np.ndarray,
           labour_supply: np.ndarray, population: np.ndarray) -> dict[str, list]:
    """The scenario's units (``ua``: its :class:`~scenarios.arrays.UnitArrays`) followed by the
    implicit workshops of the goods no unit makes (see the module docstring), as columns."""
    R = len(regions)
    made = np.zeros(economy.n_goods, dtype=bool)
    made[ua.good] = True
    orphan = np.flatnonzero(~made & ~labour_mask)
    cols: dict[str, list] = {"names": list(ua.names), "good": list(ua.good), "region": list(ua.region),
                             "cap": list(ua.capacity), "stack": list(ua.stack_position),
                             "strategy": list(ua.reporting), "factor": list(ua.reporting_factor)}
    per_region = orphan.size * R <= MAX_WORKSHOPS
    if not per_region:
        demand = (np.asarray(economy.bundles, dtype=float) * population.sum(axis=0)[None, :]).sum(axis=1)
        home = workshop_regions(orphan, A, labour_mask, labour_supply, population, demand)
    for k, j in enumerate(orphan):
        for r in (range(R) if per_region else [int(home[k])]):
            for key, value in (("names", f"{economy.goods[j]}@{regions[r]}"), ("good", j), ("region", r),
                               ("cap", np.inf), ("stack", r), ("strategy", "honest"), ("factor", 1.0)):
                cols[key].append(value)
    return cols


def _true_inputs(ua: UnitArrays, A: sp.csc_matrix, good: np.ndarray) -> tuple[UnitInputs, np.ndarray]:
    """Every unit's TRUE input functions (the scenario units' curve inputs, plus every unit's
    constant column), sorted by unit and input good, and which entries are curve inputs."""
    cu, cg = np.nonzero(ua.scale > 0)
    cols = A[:, good].tocoo()  # rows = input good, cols = unit
    unit_e = np.concatenate([cu, cols.col.astype(np.int64)])
    good_e = np.concatenate([cg, cols.row.astype(np.int64)])
    scale = np.concatenate([ua.scale[cu, cg], cols.data.astype(float)])
    exponent = np.concatenate([ua.exponent[cu, cg], np.ones(cols.nnz)])
    curve = np.concatenate([np.ones(cu.size, dtype=bool), np.zeros(cols.nnz, dtype=bool)])
    order = np.lexsort((good_e, unit_e))
    return UnitInputs(unit=unit_e[order], good=good_e[order], scale=scale[order], exponent=exponent[order]), \
        curve[order]


def build_layout(spec: ScenarioSpec) -> Layout:
    """Build the :class:`Layout` of a scenario spec (``scenarios.load(...)``)."""
    from innatura.scenarios.arrays import transport_loss

    economy = spec.to_economy()
    kinds = np.array(economy.kinds)
    labour_mask = kinds == "labour"
    graph = spec.graph()
    R = graph.number_of_nodes()
    regions = tuple(graph.nodes[i]["name"] for i in range(R))
    ua = spec.unit_arrays()
    A = sp.csc_matrix(economy.coefficients)
    labour_supply = np.asarray(spec.labour_supply(), dtype=float)
    population = np.asarray(spec.population_by_region(), dtype=np.int64)
    units = _units(ua, economy, regions, A, labour_mask, labour_supply, population)
    U = len(units["names"])
    good_a = np.asarray(units["good"], dtype=np.int64)
    inputs, entry_curve = _true_inputs(ua, A, good_a)
    src, dst, ecap, eloss = _edges(graph, transport_loss(spec))
    index = {g: j for j, g in enumerate(economy.goods)}
    events = tuple(StockLoss(np.array([index[g] for g in ev.goods], dtype=np.int64), float(ev.probability),
                             float(ev.fraction), ev.scope) for ev in spec.losses.events)
    cap_a = np.asarray(units["cap"], dtype=float)
    region_a = np.asarray(units["region"], dtype=np.int64)
    has_curve = np.zeros(U, dtype=bool)
    has_curve[inputs.unit[entry_curve]] = True
    pooled = ~np.isfinite(cap_a) & ~has_curve
    m = population.shape[1]
    return Layout(
        name=spec.name, economy=economy, regions=regions, graph=graph,
        final=kinds == "final", industrial=kinds == "industrial", labour_mask=labour_mask,
        unit_names=tuple(units["names"]), unit_good=good_a, unit_region=region_a,
        unit_capacity=cap_a, unit_stack=np.asarray(units["stack"], dtype=np.int64),
        unit_implicit=np.arange(U) >= ua.n_units, unit_strategy=tuple(units["strategy"]),
        unit_factor=np.asarray(units["factor"], dtype=float), true_inputs=inputs, entry_curve=entry_curve,
        unit_pooled=pooled,
        pool_share=_pool_shares(pooled, good_a, region_a, A, labour_mask, labour_supply, population),
        edge_src=src, edge_dst=dst, edge_capacity=ecap, edge_loss=eloss, paths=route_incidence(graph, src, dst),
        population=population, citizen_profile=np.repeat(np.tile(np.arange(m), R), population.ravel()),
        citizen_region=np.repeat(np.repeat(np.arange(R), m), population.ravel()),
        initial_stocks=np.asarray(spec.initial_stocks(), dtype=float), labour_supply=labour_supply,
        loss_events=events, losses_enabled=bool(spec.losses.enabled),
        investment_share=float(spec.planning.investment_share), default_days=int(spec.scenario.days),
        default_seed=int(spec.scenario.seed), safety_stock=float(spec.planning.safety_stock),
        default_plan=spec.planning.plan,
    )


def merge_regions(layout: Layout, name: str = "all") -> Layout:
    """The same economy with every region merged into one (no geography, no transport).

    Stocks, labour supply and populations are summed; every unit and citizen moves to the
    single region; pooled units of a good keep their shares. This is the economy of the
    OLIN-EP papers, which have no geography.
    """
    from dataclasses import replace

    graph = nx.Graph()
    graph.add_node(0, name=name, population_share=1.0)
    n = layout.n_goods
    return replace(
        layout, regions=(name,), graph=graph, unit_region=np.zeros(layout.n_units, dtype=np.int64),
        edge_src=np.zeros(0, dtype=np.int64), edge_dst=np.zeros(0, dtype=np.int64),
        edge_capacity=np.zeros(0), edge_loss=np.zeros((0, n)), paths=sp.csr_matrix((1, 0)),
        population=layout.population.sum(axis=0, keepdims=True),
        citizen_region=np.zeros(layout.n_citizens, dtype=np.int64),
        initial_stocks=layout.initial_stocks.sum(axis=0, keepdims=True),
        labour_supply=layout.labour_supply.sum(axis=0, keepdims=True),
    )
