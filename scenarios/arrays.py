"""Arrays a scenario spec gives the planner and the agent model.

* :func:`to_economy`: the OLIN-EP :class:`~planner.economy.Economy` (goods, constant
  coefficients, curve cells from stacked units, profiles, externality weights). The curves are
  the units' TRUE curves (what honest reports say on the first night).
* :func:`region_graph`, :func:`population_by_region`, :func:`initial_stocks`,
  :func:`labour_supply`, :func:`unit_arrays`: per-region state for ``abm``.

Orders: goods in ``spec.goods`` order (``n``), profiles in ``spec.profiles`` order (``m``),
regions by graph node index (``R``), units in ``spec.units`` order (``U``).

A unit of good ``j`` asked for ``q`` units uses ``scale_ui * q ** exponent_ui`` of each input
``i`` it lists (a curve cell) and ``A_ij * q`` of each constant input of column ``j`` (see
``scenarios/FORMAT.md``); :meth:`UnitArrays.input_use` evaluates both.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import networkx as nx
import numpy as np
import scipy.sparse as sp
from innatura.planner.economy import CurveCell, Economy
from innatura.scenarios.checks import resolve_regions
from innatura.scenarios.spec import ALL_REGIONS, ScenarioSpec

__all__ = [
    "UnitArrays",
    "curve_cells",
    "initial_stocks",
    "labour_supply",
    "population_by_region",
    "region_graph",
    "region_names",
    "split_integer",
    "to_economy",
    "transport_loss",
    "unit_arrays",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class UnitArrays:
    """The production units of a scenario as arrays.

    Attributes:
        names: unit names, shape ``(U,)``.
        good: index of the good each unit makes, ``(U,)`` int.
        region: index of each unit's region, ``(U,)`` int.
        capacity: most units a unit makes a day, ``(U,)`` (``inf`` allowed).
        scale, exponent: power-law input use ``scale[u, i] * q ** exponent[u, i]`` for an
            order of ``q``, ``(U, n)``; ``scale`` is 0 (and ``exponent`` 1) where unit ``u``
            lists no curve input ``i``.
        stack_position: rank of each unit among the units of its good (0 = first stacked).
        reporting: each unit's reporting strategy; ``reporting_factor`` its factor, ``(U,)``.

    Shapes:
        ``U`` units, ``n`` goods.
    """

    names: tuple[str, ...]
    good: np.ndarray
    region: np.ndarray
    capacity: np.ndarray
    scale: np.ndarray
    exponent: np.ndarray
    stack_position: np.ndarray
    reporting: tuple[str, ...]
    reporting_factor: np.ndarray

    @property
    def n_units(self) -> int:
        return len(self.names)

    def curve_input_use(self, q: np.ndarray) -> np.ndarray:
        """Input use of the curve cells for orders ``q`` ``(U,)``: ``scale * q ** exponent``, ``(U, n)``."""
        qa = np.maximum(np.asarray(q, dtype=float), 0.0)[:, None]
        return self.scale * qa**self.exponent

    def input_use(self, q: np.ndarray, coefficients: sp.spmatrix) -> np.ndarray:
        """Total input use for orders ``q`` ``(U,)``: curve inputs plus ``A[:, good] * q``, ``(U, n)``.

        Args:
            q: order of each unit.
            coefficients: the constant coefficients ``A`` ``(n, n)`` (``Economy.coefficients``).
        """
        qa = np.maximum(np.asarray(q, dtype=float), 0.0)
        constant = sp.csc_matrix(coefficients)[:, self.good].T.toarray() * qa[:, None]
        return self.curve_input_use(qa) + constant


def region_graph(spec: ScenarioSpec) -> nx.Graph:
    """The region graph: nodes ``0..R-1`` with ``name`` and ``population_share``, edges with
    ``capacity`` and ``loss``; generated graphs are seeded by ``regions.seed`` or ``scenario.seed``."""
    return resolve_regions(spec.regions, spec.scenario.seed)


def region_names(spec: ScenarioSpec) -> tuple[str, ...]:
    """Region names in node-index order."""
    graph = region_graph(spec)
    return tuple(graph.nodes[i]["name"] for i in range(graph.number_of_nodes()))


def split_integer(total: int, shares: np.ndarray) -> np.ndarray:
    """Split ``total`` into integers proportional to ``shares`` (largest remainder, ties to the lower index)."""
    shares = np.asarray(shares, dtype=float)
    ideal = total * shares / shares.sum()
    counts = np.floor(ideal).astype(np.int64)
    rest = int(total - counts.sum())
    if rest > 0:
        order = np.lexsort((np.arange(len(ideal)), -(ideal - counts)))
        counts[order[:rest]] += 1
    return counts


def _node_shares(spec: ScenarioSpec) -> np.ndarray:
    graph = region_graph(spec)
    return np.array([graph.nodes[i]["population_share"] for i in range(graph.number_of_nodes())])


def population_by_region(spec: ScenarioSpec) -> np.ndarray:
    """Citizens per region and profile ``(R, m)``, integers summing to each profile's population.

    A profile's ``regions`` shares split it; otherwise the nodes' population shares do.
    """
    names = {name: i for i, name in enumerate(region_names(spec))}
    node_shares = _node_shares(spec)
    out = np.zeros((len(names), len(spec.profiles)), dtype=np.int64)
    for k, profile in enumerate(spec.profiles):
        if profile.regions is None:
            shares = node_shares
        else:
            shares = np.zeros(len(names))
            for region, share in profile.regions.items():
                shares[names[region]] = share
        out[:, k] = split_integer(profile.population, shares) if profile.population else 0
    return out


def _regional(spec: ScenarioSpec, table: Mapping[str, Mapping[str, float]]) -> np.ndarray:
    names = {name: i for i, name in enumerate(region_names(spec))}
    people = population_by_region(spec).sum(axis=1).astype(float)
    weights = people / people.sum() if people.sum() > 0 else _node_shares(spec)
    goods = {name: j for j, name in enumerate(spec.good_names)}
    out = np.zeros((len(names), len(goods)))
    for good, amounts in table.items():
        j = goods[good]
        if ALL_REGIONS in amounts:
            out[:, j] = amounts[ALL_REGIONS] * weights
        else:
            for region, amount in amounts.items():
                out[names[region], j] = amount
    return out


def initial_stocks(spec: ScenarioSpec) -> np.ndarray:
    """Opening stock per region and good ``(R, n)``; totals are split by region population."""
    return _regional(spec, spec.inventory)


def labour_supply(spec: ScenarioSpec) -> np.ndarray:
    """Daily labour supply per region and good ``(R, n)``; totals are split by region population."""
    return _regional(spec, spec.labour)


def transport_loss(spec: ScenarioSpec) -> np.ndarray:
    """Per-good transport loss rate ``(n,)`` (on top of each edge's own ``loss``)."""
    return np.array([g.transport_loss for g in spec.goods])


def unit_arrays(spec: ScenarioSpec) -> UnitArrays:
    """The units of ``spec`` as :class:`UnitArrays`."""
    goods = {name: j for j, name in enumerate(spec.good_names)}
    regions = {name: i for i, name in enumerate(region_names(spec))}
    n, count = len(goods), len(spec.units)
    scale = np.zeros((count, n))
    exponent = np.ones((count, n))
    seen: dict[str, int] = {}
    position = np.zeros(count, dtype=np.int64)
    for u, unit in enumerate(spec.units):
        position[u] = seen.get(unit.good, 0)
        seen[unit.good] = position[u] + 1
        for good, law in unit.inputs.items():
            scale[u, goods[good]] = law.scale
            exponent[u, goods[good]] = law.exponent
    return UnitArrays(
        names=tuple(u.name for u in spec.units),
        good=np.array([goods[u.good] for u in spec.units], dtype=np.int64),
        region=np.array([regions[u.region] if u.region is not None else 0 for u in spec.units], dtype=np.int64),
        capacity=np.array([u.capacity for u in spec.units], dtype=float),
        scale=scale,
        exponent=exponent,
        stack_position=position,
        reporting=tuple(u.reporting for u in spec.units),
        reporting_factor=np.array([u.reporting_factor for u in spec.units], dtype=float),
    )


def curve_cells(spec: ScenarioSpec) -> tuple[CurveCell, ...]:
    """One :class:`StackedCurve` per (input, good) cell that a unit of the good lists.

    The units of a good are stacked in file order; a unit that does not list an input of the
    cell uses none of it (``PowerLawInput(0, 1)``).
    """
    from innatura.planner.curves import PowerLawInput, StackedCurve  # scipy.interpolate: imported when needed

    goods = {name: j for j, name in enumerate(spec.good_names)}
    by_good: dict[str, list] = {}
    for unit in spec.units:
        by_good.setdefault(unit.good, []).append(unit)
    cells = []
    for good, units in by_good.items():
        inputs = list(dict.fromkeys(name for u in units for name in u.inputs))
        capacities = tuple(u.capacity for u in units)
        for name in inputs:
            laws = tuple(
                PowerLawInput(u.inputs[name].scale, u.inputs[name].exponent) if name in u.inputs
                else PowerLawInput(0.0, 1.0)
                for u in units
            )
            cells.append(CurveCell(goods[name], goods[good], StackedCurve(capacities, laws)))
    return tuple(cells)


def to_economy(spec: ScenarioSpec) -> Economy:
    """The planner's :class:`~planner.economy.Economy` for ``spec`` (true curves, total populations)."""
    goods = {name: j for j, name in enumerate(spec.good_names)}
    n, m = len(goods), len(spec.profiles)
    cells = [(goods[i], goods[j], v) for j, column in spec.coefficients.items() for i, v in column.items()]
    rows, cols, vals = (list(t) for t in zip(*cells, strict=True)) if cells else ([], [], [])
    A = sp.csr_matrix((vals, (rows, cols)), shape=(n, n), dtype=float)
    bundles = np.zeros((n, m))
    for k, profile in enumerate(spec.profiles):
        for good, amount in profile.bundle.items():
            bundles[goods[good], k] = amount
    return Economy(
        goods=spec.good_names,
        kinds=tuple(g.kind for g in spec.goods),
        coefficients=A,
        profiles=spec.profile_names,
        bundles=bundles,
        population=np.array([p.population for p in spec.profiles], dtype=float),
        curves=curve_cells(spec),
        externality_weights=np.array([g.externality for g in spec.goods]),
    )
