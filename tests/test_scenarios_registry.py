"""The registry and ``innatura scenarios``."""

from __future__ import annotations

import json

import pytest
from innatura.scenarios.registry import BUILDERS

from innatura import scenarios
from innatura.cli import main


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(scenarios.UnknownScenarioError) as info:
        scenarios.load("butter-vilage")
    message = str(info.value)
    assert "'butter-vilage'" in message
    for name in ("archipelago", "butter-village", "selviaria"):
        assert name in message


def test_load_by_path_and_builder_params(tmp_path):
    path = scenarios.dump_toml(scenarios.load("selviaria"), tmp_path / "copy.toml")
    assert scenarios.load(path) == scenarios.load("selviaria")
    assert scenarios.load(str(path), days=7).scenario.days == 7
    with pytest.raises(scenarios.ScenarioError, match="bad builder parameters"):
        scenarios.load("archipelago", colour="red")


def test_builders_table_is_explicit_and_described():
    import importlib

    for name, target in BUILDERS.items():
        module, _, func = target.partition(":")
        mod = importlib.import_module(module)
        assert callable(getattr(mod, func)), name
        assert isinstance(mod.DESCRIPTION, str) and mod.DESCRIPTION and "\n" not in mod.DESCRIPTION
    from innatura.scenarios.builders import archipelago
    from innatura.scenarios.io_tables.shipped import SHIPPED

    assert archipelago.build().description == archipelago.DESCRIPTION
    assert not set(SHIPPED) & set(BUILDERS)  # each scenario is registered in one place
    listed = dict(scenarios.available())
    for name, table in SHIPPED.items():
        assert listed[name] == table.description and "\n" not in table.description


def test_cli_lists_scenarios(capsys):
    assert main(["scenarios"]) == 0
    out = capsys.readouterr().out.splitlines()
    names = [line.split()[0] for line in out]
    assert {"archipelago", "butter-village", "selviaria"} <= set(names)
    assert any(line.startswith("archipelago") and line.endswith("(default)") for line in out)


def test_cli_json(capsys):
    assert main(["scenarios", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    by_name = {r["name"]: r for r in rows}
    assert by_name["archipelago"]["default"] is True
    assert dict(scenarios.available()) == {r["name"]: r["description"] for r in rows}


def test_cli_describe_and_dump(capsys, tmp_path):
    assert main(["scenarios", "selviaria", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["profiles"] == {"Profile 0": 800, "Profile 1": 500}
    assert info["curve_cells"] == 2 and info["edges"] == 2 and sum(info["regions"].values()) == 1300
    assert main(["scenarios", "butter-village"]) == 0
    assert "Butter" not in capsys.readouterr().err
    target = tmp_path / "bv.toml"
    assert main(["scenarios", "butter-village", "--dump", str(target)]) == 0
    assert scenarios.load(target) == scenarios.load("butter-village")


def test_cli_unknown_scenario_exits_2(capsys):
    assert main(["scenarios", "nowhere"]) == 2
    assert "unknown scenario 'nowhere'" in capsys.readouterr().err
