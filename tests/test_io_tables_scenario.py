"""Real tables as scenarios: the mapping, day-1 plannability, the CLI commands and the registry."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
from innatura.planner.errors import InvalidInputError
from innatura.planner.plan import plan_day
from innatura.scenarios.io_tables import data_path, load_table
from innatura.scenarios.io_tables.to_scenario import DAYS_PER_YEAR, component_group, table_to_spec
from innatura.scenarios.loader import load_toml

from innatura.cli import main

NEEDS_PYMRIO = pytest.mark.skipif(importlib.util.find_spec("pymrio") is None,
                                  reason="pymrio is not installed (the io extra)")
WIOD = data_path("wiod_niot_usa_2000_2014/USA_NIOT_domestic_2000-2014.csv")
BEA = data_path("bea_summary_2022")


@pytest.fixture(scope="module")
def wiod():
    return load_table(WIOD, "wiod", negative_policy="clip")


def _capacity(spec, economy):
    units = spec.unit_arrays()
    cap = np.full(economy.n_goods, np.inf)
    cap[units.good] = units.capacity
    return cap


def test_wiod_mapping(wiod):
    spec = table_to_spec(wiod, "usa-wiod-2014", population=500)
    economy = spec.to_economy()
    codes = [c for c in wiod.industries if c != "U"]  # U has no output and no use
    assert spec.good_names == (*codes, "labour")
    assert [g.kind for g in spec.goods] == ["final"] * 55 + ["labour"]
    keep = [wiod.industries.index(c) for c in codes]
    A = economy.coefficients.toarray()
    np.testing.assert_allclose(A[:55, :55], wiod.A.toarray()[np.ix_(keep, keep)], rtol=1e-15)
    np.testing.assert_allclose(A[55, :55], wiod.labour_coefficients[keep], rtol=1e-15)
    # CONS_np (nonprofits) is zero throughout the WIOD USA table, so it becomes no profile
    assert not wiod.component("CONS_np").any()
    assert {p.name: p.population for p in spec.profiles} == {
        "households": 500, "government": 1, "investment": 1, "exports": 1}
    households = economy.bundles[:55, 0] * 500 * DAYS_PER_YEAR
    np.testing.assert_allclose(households, wiod.component("CONS_h")[keep], rtol=1e-12)
    # all profiles together are the table's (daily) final demand, so x reproduces gross output
    demand = economy.demand()[:55]
    x = np.linalg.solve(np.eye(55) - A[:55, :55], demand)
    np.testing.assert_allclose(x * DAYS_PER_YEAR, wiod.gross_output[keep], rtol=1e-9)
    assert "physical" in spec.description and "physical" in spec.scenario.population_note


@pytest.mark.parametrize("fmt, table, name", [("wiod", WIOD, "usa-wiod-2014"), ("bea", BEA, "us-2022"),
                                              pytest.param("pymrio", "test", "test-mrio", marks=NEEDS_PYMRIO)])
def test_day_one_is_plannable(fmt, table, name):
    spec = table_to_spec(load_table(table, fmt, negative_policy="clip"), name)
    economy = spec.to_economy()
    plan = plan_day(economy, spec.initial_stocks().sum(axis=0), spec.labour_supply().sum(axis=0),
                    _capacity(spec, economy), spec.planning.investment_share)
    assert plan.status == "optimal"
    assert plan.fulfilment.min() == pytest.approx(1.0)


def test_returns_to_scale_curves_match_the_table_at_observed_output(wiod):
    spec = table_to_spec(wiod, "wiod-drs", returns_to_scale=0.8)
    economy = spec.to_economy()
    assert not spec.coefficients and spec.units[0].inputs
    assert {law.exponent for u in spec.units for law in u.inputs.values()} == {1.25}
    keep = [i for i, c in enumerate(wiod.industries) if c != "U"]
    x_obs = np.append(wiod.gross_output[keep] / DAYS_PER_YEAR, 0.0)
    F = economy.coefficients_at(x_obs).toarray()
    np.testing.assert_allclose(F[:55, :55], wiod.A.toarray()[np.ix_(keep, keep)], rtol=1e-9, atol=1e-15)
    F2 = economy.coefficients_at(2 * x_obs).toarray()  # decreasing returns: dearer at double output
    j = 10
    assert F2[0, j] == pytest.approx(F[0, j] * 2 ** 0.25, rel=1e-9)


def test_bad_options_and_unclipped_tables_are_rejected(wiod):
    with pytest.raises(InvalidInputError, match=r"returns_to_scale: 1.5 must lie in"):
        table_to_spec(wiod, "x", returns_to_scale=1.5)
    with pytest.raises(InvalidInputError, match="population"):
        table_to_spec(wiod, "x", population=0)
    kept = load_table(BEA, "bea", negative_policy="keep")
    with pytest.raises(InvalidInputError, match="--negative-policy clip"):
        table_to_spec(kept, "x")


@NEEDS_PYMRIO
def test_mrio_regions_become_graph_regions():
    spec = table_to_spec(load_table("test", "pymrio"), "test-mrio", population=1000)
    assert spec.region_names == tuple(f"reg{i}" for i in range(1, 7))
    assert spec.graph().number_of_edges() == 15  # every region trades with every other
    assert all(u.region == u.good.split("/")[0] for u in spec.units)
    households = [p for p in spec.profiles if p.name.endswith("/households")]
    assert sum(p.population for p in households) == 1000
    assert max(households, key=lambda p: p.population).name == "reg2/households"  # 3.7 billion people
    assert all(list(p.regions) == [p.name.split("/")[0]] for p in spec.profiles)
    stocks = spec.initial_stocks()
    assert stocks[1, spec.good_names.index("reg2/food")] > 0 and stocks[0, spec.good_names.index("reg2/food")] == 0


def test_component_groups():
    assert component_group("F010") == "households" and component_group("F06C00") == "government"
    assert component_group("F05000") == "import-adjustments" and component_group("INVEN") == "investment"
    npish = "reg1/Final consumption expenditure by non-profit organisations serving households (NPISH)"
    assert component_group(npish) == "nonprofits"


def test_import_io_writes_a_loadable_file(tmp_path, capsys):
    out = tmp_path / "wiod.toml"
    assert main(["import-io", str(WIOD), "--format", "wiod", "--year", "2010", "--population", "200", "--out",
                 str(out)]) == 0
    text = out.read_text()
    assert text.startswith("# Generated from WIOD national IO table 2010")
    assert "treated as" in text and "physical quantities" in text
    spec = load_toml(out)
    assert spec.name == "wiod" and spec.scenario.days == 365
    again = table_to_spec(load_table(WIOD, "wiod", year=2010, negative_policy="clip"), "wiod", population=200)
    assert spec == again
    assert "wrote" in capsys.readouterr().out


def test_import_io_rejects_keep_with_negatives(tmp_path, capsys):
    code = main(["import-io", str(BEA), "--format", "bea", "--negative-policy", "keep", "--out",
                 str(tmp_path / "x.toml")])
    assert code == 2
    assert "--negative-policy clip" in capsys.readouterr().err
    assert not (tmp_path / "x.toml").exists()


def test_io_solve_json(capsys):
    assert main(["io", "solve", str(WIOD), "--format", "wiod", "--year", "2014", "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["size"] == 56 and rep["relative_error"] <= 1e-9
    assert rep["spectral_radius"] == pytest.approx(0.41439, abs=1e-5)
    assert 0 < rep["density"] <= 1 and rep["max_column_sum"] < 1
    assert main(["io", "solve", str(BEA / "use.csv"), "--format", "bea"]) == 0
    text = capsys.readouterr().out
    assert "relative error" in text and "spectral radius" in text


def test_io_solve_reports_malformed_table(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("Year,Code,X1,GO\n2010,X1,1,abc\n")
    assert main(["io", "solve", str(bad), "--format", "wiod"]) == 2
    err = capsys.readouterr().err
    assert "bad.csv, line 2 (row 'X1', column 'GO'): non-numeric value 'abc'" in err


def test_shipped_scenarios_are_registered():
    from innatura.scenarios import registry

    assert {"us-2022", "us-2017-detail", "usa-wiod-2014"} <= set(registry.names())
    spec = registry.load("usa-wiod-2014", population=100, seed=4)
    assert spec.name == "usa-wiod-2014" and spec.scenario.seed == 4 and spec.profiles[0].population == 100
    assert len(registry.load("us-2022").goods) == 72


@pytest.mark.slow
def test_detail_scenario_builds_and_plans():
    from innatura.scenarios import registry

    spec = registry.load("us-2017-detail")
    assert len(spec.goods) == 403
    economy = spec.to_economy()
    plan = plan_day(economy, spec.initial_stocks().sum(axis=0), spec.labour_supply().sum(axis=0),
                    _capacity(spec, economy), spec.planning.investment_share)
    assert plan.fulfilment.min() == pytest.approx(1.0)
