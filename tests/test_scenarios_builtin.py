"""The built-in scenarios load, match their sources, and give the planner what it needs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from innatura.planner.economy import Economy

from innatura import scenarios

NAMES = ["butter-village", "selviaria", "archipelago"]


@pytest.fixture(scope="module")
def specs():
    return {name: scenarios.load(name) for name in NAMES}


def test_every_builtin_is_listed_and_loads(specs):
    listed = dict(scenarios.available())
    assert set(NAMES) <= set(listed)
    assert all(d and "\n" not in d for d in listed.values())
    builtin_files = sorted(p.stem for p in scenarios.registry.BUILTIN_DIR.glob("*.toml"))
    for name in sorted(set(NAMES) | set(builtin_files)):
        spec = specs[name] if name in specs else scenarios.load(name)
        assert spec.name == name
        assert listed[name] == spec.description


@pytest.mark.parametrize("name", NAMES)
def test_to_economy_shapes_and_arrays(specs, name):
    spec = specs[name]
    economy = spec.to_economy()
    n, m, R, U = len(spec.goods), len(spec.profiles), len(spec.region_names), len(spec.units)
    assert isinstance(economy, Economy)
    assert economy.coefficients.shape == (n, n) and economy.bundles.shape == (n, m)
    assert economy.population.tolist() == [p.population for p in spec.profiles]
    assert spec.initial_stocks().shape == (R, n) and spec.labour_supply().shape == (R, n)
    labour = economy.mask("labour")
    assert not spec.initial_stocks()[:, labour].any() and not spec.labour_supply()[:, ~labour].any()
    pop = spec.population_by_region()
    assert pop.shape == (R, m) and pop.dtype.kind == "i"
    assert pop.sum(axis=0).tolist() == [p.population for p in spec.profiles]
    units = spec.unit_arrays()
    assert units.scale.shape == units.exponent.shape == (U, n)
    assert units.good.shape == units.region.shape == units.capacity.shape == (U,)
    assert (units.region < R).all() and not labour[units.good].any()
    graph = spec.graph()
    assert graph.number_of_nodes() == R and [graph.nodes[i]["name"] for i in range(R)] == list(spec.region_names)
    for _, _, data in graph.edges(data=True):
        assert data["capacity"] > 0 and 0 <= data["loss"] < 1
    # every curve cell's column is a good with units; demand is finite and positive
    made = {int(g) for g in units.good}
    assert all(cell.col in made for cell in economy.curves)
    assert (economy.demand() >= 0).all() and economy.demand().sum() > 0


def test_selviaria_matches_design(specs):
    spec = specs["selviaria"]
    e = spec.to_economy()
    L, V, T = (e.index(g) for g in ("Lucloelium", "Vorpal Pick +1", "T-ring"))
    A = e.coefficients.toarray()
    assert A[L, L] == 0.001 and A[L, T] == 1.0 and A[V, L] == 0.5
    assert A[e.index("Lb(Lucloelium)"), L] == 0.001 and A[e.index("Lb(Vorpal Pick +1)"), V] == 0.012
    assert A[e.index("Lb(T-ring)"), T] == 0.001
    assert e.bundles[[L, T], 0].tolist() == [3.0, 0.1] and e.bundles[[L, T], 1].tolist() == [2.0, 0.2]
    assert e.population.tolist() == [800, 500]
    stocks = spec.initial_stocks().sum(axis=0)
    assert stocks[[L, V, T]] == pytest.approx([2.0, 5.0, 100000.0])
    labour = spec.labour_supply().sum(axis=0)
    assert labour[e.mask("labour")] == pytest.approx([100000.0, 700000.0, 700000.0])
    assert spec.planning.investment_share == 0.51 and not spec.losses.enabled
    (event,) = spec.losses.events
    assert set(event.goods) == {"Lucloelium", "Vorpal Pick +1"} and (event.probability, event.fraction) == (0.1, 0.2)
    assert len(spec.region_names) == 3 and spec.graph().number_of_edges() == 2  # a path


@pytest.mark.parametrize(
    ("x", "f01", "f11"),
    [
        # factory 1 alone: (2q, 3q)/1000 / q
        (300.0, 0.002, 0.003),
        # 500 to factory 1, 200 to factory 2: (1 + 10 sqrt(200)/1000) / 700, (1.5 + 1.0) / 700
        (700.0, (1.0 + 10 * math.sqrt(200) / 1000) / 700, 2.5 / 700),
        # 500, 500, 200 to factory 3: q^2/1000/1000 = 0.04 and q/1000 = 0.2
        (1200.0, (1.0 + 10 * math.sqrt(500) / 1000 + 0.04) / 1200, (1.5 + 2.5 + 0.2) / 1200),
    ],
)
def test_selviaria_stacked_coefficient_by_hand(specs, x, f01, f11):
    e = specs["selviaria"].to_economy()
    L, V = e.index("Lucloelium"), e.index("Vorpal Pick +1")
    point = np.zeros(e.n_goods)
    point[V] = x
    F = e.coefficients_at(point).toarray()
    assert F[L, V] == pytest.approx(f01, rel=1e-12)
    assert F[V, V] == pytest.approx(f11, rel=1e-12)


def test_butter_village_matches_table_1(specs):
    spec = specs["butter-village"]
    e = spec.to_economy()
    milk, churn, butter = (e.index(g) for g in ("Milk", "Butter churn", "Butter"))
    A = e.coefficients.toarray()
    assert A[milk, milk] == 0.001 and A[milk, butter] == 2.0
    assert A[e.index("Lb(Milk)"), milk] == 0.001 and A[e.index("Lb(Butter churn)"), churn] == 0.012
    assert A[e.index("Lb(Butter)"), butter] == 0.001
    assert e.bundles[[milk, butter], 0].tolist() == [3.0, 0.1] and e.bundles[[milk, butter], 1].tolist() == [2.0, 0.2]
    assert e.population.sum() == 1300
    assert "1300" in spec.description and "1500" in spec.description
    cells = {(c.row, c.col) for c in e.curves}
    assert cells == {(milk, churn), (churn, butter)}  # f01 and f12
    units = spec.unit_arrays()
    for row, good in ((milk, churn), (churn, butter)):  # three units each, with different exponents
        assert (units.good == good).sum() == 3
        assert sorted(units.exponent[units.good == good, row]) == [0.5 if good == churn else 0.7, 1.0, 2.0]


@pytest.mark.parametrize("name", NAMES)
def test_unit_input_use_adds_up_to_the_curves(specs, name):
    """Dispatching x over the units and summing their input use gives F(x) x column by column."""
    spec = specs[name]
    e = spec.to_economy()
    units = spec.unit_arrays()
    rng = np.random.default_rng(1)
    x = np.where(e.mask("labour"), 0.0, rng.uniform(1.0, 3000.0, e.n_goods))
    q = np.zeros(units.n_units)
    for cell in e.curves:
        members = np.flatnonzero(units.good == cell.col)
        q[members] = cell.curve.dispatch(x[cell.col])
    use = units.input_use(q, e.coefficients)  # (U, n)
    F = e.coefficients_at(x).toarray()
    for cell in e.curves:
        members = units.good == cell.col
        assert use[members, cell.row].sum() == pytest.approx(F[cell.row, cell.col] * x[cell.col], rel=1e-10)


def test_archipelago_size_and_determinism(specs):
    spec = specs["archipelago"]
    kinds = [g.kind for g in spec.goods]
    assert len(spec.goods) == 50 and {kinds.count(k) for k in ("final", "industrial", "labour")} == {30, 14, 6}
    assert len(spec.region_names) == 20 and sum(p.population for p in spec.profiles) == 10_000
    assert len(spec.profiles) == 5
    per_good = np.bincount(spec.unit_arrays().good, minlength=50)
    assert per_good[: 44].min() >= 2 and per_good[44:].sum() == 0
    assert scenarios.load("archipelago") == spec
    other = scenarios.load("archipelago", seed=1)
    assert other != spec and other.scenario.seed == 1
    assert scenarios.load("archipelago", regions=8).graph().number_of_nodes() == 8
    assert scenarios.DEFAULT_SCENARIO == "archipelago"


@pytest.mark.parametrize("name", NAMES)
def test_unbounded_requirement_is_productive(specs, name):
    from innatura.planner.nonlinear import solve_nonlinear_io

    solution = solve_nonlinear_io(specs[name].to_economy())
    assert solution.converged and solution.residual < 1e-8 and (solution.x >= -1e-9).all()


def test_archipelago_is_plannable_and_grows(specs):
    """The daily planner runs on the aggregate economy; humanity starts below 1 and rises."""
    from innatura.planner.plan import plan_day

    spec = specs["archipelago"]
    e = spec.to_economy()
    units = spec.unit_arrays()
    capacity = np.bincount(units.good, weights=units.capacity, minlength=e.n_goods)
    stocks, labour = spec.initial_stocks().sum(axis=0), spec.labour_supply().sum(axis=0)
    humanity = []
    for _ in range(4):
        plan = plan_day(e, stocks, labour, capacity, spec.planning.investment_share, max_slp_iter=20)
        humanity.append(plan.planned_humanity)
        stocks = np.maximum(plan.closing_stocks_expected, 0.0)
    assert 0.05 < humanity[0] < 0.95
    assert humanity[-1] > humanity[1]


@pytest.mark.parametrize("seed", range(8))
def test_archipelago_builds_for_many_seeds(seed):
    """Every draw passes the builder's productivity check and the spec validation."""
    from innatura.planner.nonlinear import solve_nonlinear_io

    spec = scenarios.load("archipelago", seed=seed, regions=6 + seed, citizens=500 + seed)
    assert len(spec.region_names) == 6 + seed
    assert solve_nonlinear_io(spec.to_economy()).converged
