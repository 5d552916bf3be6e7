"""Cross-field checks of a scenario spec: names, kinds, regions, stacking, connectivity, and
that the economy is productive (OLIN-EP needs ``rho(A) < 1``).

:func:`check_spec` runs after the field-level validation of :class:`~scenarios.spec.ScenarioSpec`
and raises :class:`~scenarios.errors.ScenarioFieldError` at the first problem, with the field
path and the value (the loader turns it into a :class:`~scenarios.errors.ScenarioError`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import networkx as nx
import scipy.sparse as sp
from innatura.planner.errors import NonProductiveError
from innatura.planner.leontief.productivity import check_productive
from innatura.scenarios.errors import ScenarioFieldError
from innatura.scenarios.fields import ALL_REGIONS
from innatura.scenarios.limits import MAX_NEED
from innatura.scenarios.regions import build_graph, check_shares, equal_shares, generate_graph

if TYPE_CHECKING:  # pragma: no cover
    from innatura.scenarios.spec import Regions, ScenarioSpec

__all__ = ["check_economy_productive", "check_spec", "coefficient_floor", "resolve_regions"]

logger = logging.getLogger(__name__)


def _unique(names: Iterable[str], *field: str) -> dict[str, int]:
    """Map each name to its position; a repeated name is an error at ``field[k].name``."""
    seen: dict[str, int] = {}
    for k, name in enumerate(names):
        if name in seen:
            raise ScenarioFieldError((*field, k, "name"), name,
                                     f"duplicate name (also {'.'.join(field)}[{seen[name]}])")
        seen[name] = k
    return seen


def resolve_regions(regions: Regions, seed: int) -> nx.Graph:
    """Build the region graph of a ``[regions]`` table (explicit or generated), checked.

    Args:
        regions: the validated ``[regions]`` table.
        seed: the seed a random generator gets when ``regions.seed`` is not set.
    """
    if regions.generator is not None:
        own_seed = regions.seed if regions.seed is not None else seed
        generated = generate_graph(regions.generator, regions.params, own_seed)
        count = generated.number_of_nodes()
        if count == 0:
            raise ScenarioFieldError(("regions", "params"), dict(regions.params), "the generator made no regions")
        names = [f"{regions.prefix}{i}" for i in range(count)]
        if regions.population_shares is None:
            shares = equal_shares(count)
        else:
            shares = list(regions.population_shares)
            if len(shares) != count:
                raise ScenarioFieldError(
                    ("regions", "population_shares"), shares, f"{len(shares)} shares for {count} generated regions"
                )
            check_shares(shares, ("regions", "population_shares"))
        edges = [(u, v, regions.capacity, regions.loss) for u, v in sorted(generated.edges())]
        return build_graph(names, shares, edges, lambda k: ("regions", "generator"))
    index = _unique((n.name for n in regions.nodes), "regions", "nodes")
    given = [n.population_share for n in regions.nodes]
    if all(s is None for s in given):
        shares = equal_shares(len(given))
    elif any(s is None for s in given):
        k = given.index(None)
        raise ScenarioFieldError(
            ("regions", "nodes", k, "population_share"), None, "give a population_share for every node or for none"
        )
    else:
        shares = [float(s) for s in given]  # type: ignore[arg-type]
        check_shares(shares, ("regions", "nodes"))
    edges = []
    for k, edge in enumerate(regions.edges):
        for end in ("source", "target"):
            name = getattr(edge, end)
            if name not in index:
                raise ScenarioFieldError(("regions", "edges", k, end), name, f"unknown region; regions: {list(index)}")
        edges.append((index[edge.source], index[edge.target], edge.capacity, edge.loss))
    return build_graph([n.name for n in regions.nodes], shares, edges)


def _known(name: str, known: Mapping[str, int], path: tuple, what: str) -> int:
    if name not in known:
        shown = list(known)[:20]
        more = f" (and {len(known) - 20} more)" if len(known) > 20 else ""
        raise ScenarioFieldError(path, name, f"unknown {what}; known: {shown}{more}")
    return known[name]


def check_spec(spec: ScenarioSpec) -> None:
    """Run every cross-field check of a scenario; raise at the first problem found."""
    goods = _unique((g.name for g in spec.goods), "goods")
    kinds = [g.kind for g in spec.goods]
    _unique((p.name for p in spec.profiles), "profiles")
    for k, p in enumerate(spec.profiles):
        if p.name in goods:
            raise ScenarioFieldError(("profiles", k, "name"), p.name, "a profile cannot have the name of a good")
    _unique((u.name for u in spec.units), "units")
    graph = resolve_regions(spec.regions, spec.scenario.seed)
    regions = {graph.nodes[i]["name"]: i for i in graph.nodes}
    constant_cells = _check_coefficients(spec, goods, kinds)
    _check_units(spec, goods, kinds, regions, constant_cells)
    _check_profiles(spec, goods, kinds, regions)
    _check_regional(spec.inventory, "inventory", goods, kinds, regions, lambda kind: kind != "labour",
                    "labour is a daily flow, never stored: give it under [labour]")
    _check_regional(spec.labour, "labour", goods, kinds, regions, lambda kind: kind == "labour",
                    "only labour goods have a daily supply; give stocks under [inventory]")
    for k, event in enumerate(spec.losses.events):
        for j, good in enumerate(event.goods):
            g = _known(good, goods, ("losses", "events", k, "goods", j), "good")
            if kinds[g] == "labour":
                raise ScenarioFieldError(("losses", "events", k, "goods", j), good,
                                         "labour is never stored, so it cannot be lost")
    check_economy_productive(spec)


def _check_coefficients(spec: ScenarioSpec, goods: dict[str, int], kinds: Sequence[str]) -> set[tuple[str, str]]:
    """Known goods, no labour column; returns the constant cells ``(input, output)``."""
    constant_cells: set[tuple[str, str]] = set()
    for output, column in spec.coefficients.items():
        out = _known(output, goods, ("coefficients", output), "good")
        if kinds[out] == "labour":
            raise ScenarioFieldError(("coefficients", output), dict(column),
                                     "labour goods are never produced: their column is zero")
        for good in column:
            _known(good, goods, ("coefficients", output, good), "good")
            constant_cells.add((good, output))
    return constant_cells


def _check_units(spec: ScenarioSpec, goods: dict[str, int], kinds: Sequence[str], regions: dict[str, int],
                 constant_cells: set[tuple[str, str]]) -> None:
    """Each unit makes a known non-labour good in a known region; a curve cell is not also constant."""
    for k, u in enumerate(spec.units):
        g = _known(u.good, goods, ("units", k, "good"), "good")
        if kinds[g] == "labour":
            raise ScenarioFieldError(("units", k, "good"), u.good,
                                     "a unit cannot make a labour good (labour is supplied, not produced)")
        if u.region is None:
            if len(regions) > 1:
                raise ScenarioFieldError(("units", k, "region"), None,
                                         f"missing; the scenario has {len(regions)} regions")
        else:
            _known(u.region, regions, ("units", k, "region"), "region")
        for good, law in u.inputs.items():
            _known(good, goods, ("units", k, "inputs", good), "good")
            if (good, u.good) in constant_cells:
                raise ScenarioFieldError(
                    ("units", k, "inputs", good), law.model_dump(),
                    f"cell ({good!r}, {u.good!r}) is also a constant coefficient (coefficients.{u.good}); "
                    "a cell is either constant or a curve from units",
                )


def _check_profiles(spec: ScenarioSpec, goods: dict[str, int], kinds: Sequence[str], regions: dict[str, int]) -> None:
    """Bundles of final goods, something positive, a daily need within :data:`MAX_NEED`, known regions."""
    need: dict[str, float] = {}
    for k, p in enumerate(spec.profiles):
        for good, amount in p.bundle.items():
            g = _known(good, goods, ("profiles", k, "bundle", good), "good")
            if kinds[g] != "final":
                raise ScenarioFieldError(("profiles", k, "bundle", good), amount,
                                         f"bundles hold final goods only; {good!r} is {kinds[g]}")
        if not any(v > 0 for v in p.bundle.values()):
            raise ScenarioFieldError(("profiles", k, "bundle"), dict(p.bundle),
                                     "a profile needs a positive amount of some final good")
        for good, amount in p.bundle.items():
            need[good] = need.get(good, 0.0) + amount * p.population
            if need[good] > MAX_NEED:
                raise ScenarioFieldError(
                    ("profiles", k, "bundle", good), amount,
                    f"the profiles need {need[good]:.4g} of {good!r} a day (population times bundle); at most "
                    f"{MAX_NEED:g}: measure the good in larger units")
        if p.regions is not None:
            for region in p.regions:
                _known(region, regions, ("profiles", k, "regions", region), "region")
            check_shares(list(p.regions.values()), ("profiles", k, "regions"))


def coefficient_floor(spec: ScenarioSpec) -> tuple[sp.csr_matrix, set[tuple[int, int]]]:
    """The least each cell of ``F(x)`` can be, over every output: ``(A_floor, curve cells)``.

    A constant coefficient is its own floor. A curve cell's coefficient at output ``x`` is
    the stacked units' input over ``x``; a unit with a linear law (``exponent = 1``) needs
    ``scale`` per unit whatever it makes, any other law can need arbitrarily little per unit
    at some output, so the floor is the least ``scale`` of the good's units when all of them
    are linear in that input, else 0. ``F(x) >= A_floor`` for every ``x``, so
    ``rho(A_floor) >= 1`` proves the economy non-productive at every output.
    """
    goods = {g.name: j for j, g in enumerate(spec.goods)}
    cells: dict[tuple[int, int], float] = {}
    for output, column in spec.coefficients.items():
        for good, value in column.items():
            cells[goods[good], goods[output]] = float(value)
    by_good: dict[str, list] = {}
    for unit in spec.units:
        by_good.setdefault(unit.good, []).append(unit)
    curve: set[tuple[int, int]] = set()
    for output, units in by_good.items():
        for good in dict.fromkeys(name for u in units for name in u.inputs):
            laws = [u.inputs.get(good) for u in units]
            floor = min((law.scale if law is not None and law.exponent == 1.0 else 0.0) for law in laws)
            if floor > 0:
                cells[goods[good], goods[output]] = floor
                curve.add((goods[good], goods[output]))
    n = len(goods)
    if not cells:
        return sp.csr_matrix((n, n)), curve
    (rows, cols), vals = zip(*cells.keys(), strict=True), list(cells.values())
    return sp.csr_matrix((vals, (rows, cols)), shape=(n, n), dtype=float), curve


def check_economy_productive(spec: ScenarioSpec) -> None:
    """Raise :class:`ScenarioFieldError` when no output of the economy is productive.

    The goods of a strongly connected block of :func:`coefficient_floor` whose spectral radius
    is ``>= 1`` need, through their inputs, at least as much of themselves as they make: no
    plan gives a positive net output of them (OLIN-EP, Eq. 3 has no non-negative solution),
    whatever the planning method. The error names the goods, the radius and the cells.
    """
    A, curve = coefficient_floor(spec)
    if A.nnz == 0:
        return
    names = [g.name for g in spec.goods]
    try:
        check_productive(A, names)
    except NonProductiveError as exc:
        members = [names.index(g) for g in exc.goods]
        block = A[members][:, members].tocoo()
        shown = {f"{names[members[c]]} needs {names[members[r]]}": float(v)
                 for r, c, v in zip(block.row, block.col, block.data, strict=True)}
        in_units = all((members[r], members[c]) in curve for r, c in zip(block.row, block.col, strict=True))
        raise ScenarioFieldError(
            ("units",) if in_units else ("coefficients",), shown,
            f"the economy is not productive: goods {list(exc.goods)} need, through their inputs, at least as much "
            f"of themselves as they make (spectral radius {exc.spectral_radius:.6g} >= 1), so no plan has a "
            "positive net output of them",
        ) from None


def _check_regional(table: Mapping[str, Mapping[str, float]], field: str, goods: dict[str, int], kinds: Sequence[str],
                    regions: Mapping[str, int], allowed: Callable[[str], bool], why: str) -> None:
    for good, amounts in table.items():
        g = _known(good, goods, (field, good), "good")
        if not allowed(kinds[g]):
            raise ScenarioFieldError((field, good), dict(amounts), f"{good!r} is {kinds[g]}: {why}")
        if ALL_REGIONS in amounts and len(amounts) > 1:
            raise ScenarioFieldError((field, good), dict(amounts),
                                     f"use either a total ({ALL_REGIONS!r}) or amounts per region")
        for region in amounts:
            if region != ALL_REGIONS:
                _known(region, regions, (field, good, region), "region")
