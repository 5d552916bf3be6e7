"""Every validation error names the file, the field path and the value."""

from __future__ import annotations

import pytest
from innatura.planner.errors import InvalidInputError
from innatura.scenarios import ScenarioError, load_toml, loads_toml

BASE = '''
[scenario]
name = "tiny"
description = "a tiny test economy"

[[goods]]
name = "bread"
kind = "final"

[[goods]]
name = "oven"
kind = "industrial"

[[goods]]
name = "Lb(bake)"
kind = "labour"

[coefficients.bread]
oven = 0.1
"Lb(bake)" = 0.01

[[profiles]]
name = "eater"
population = 10
bundle = { bread = 1.0 }

[[units]]
name = "bakery-a"
good = "bread"
region = "east"
capacity = 5.0

[[units]]
name = "oven-works"
good = "oven"
region = "west"
inputs = { bread = { scale = 2.0, exponent = 1.0 } }

[[regions.nodes]]
name = "east"

[[regions.nodes]]
name = "west"

[[regions.edges]]
source = "east"
target = "west"
capacity = 100.0

[inventory]
bread = 5.0
oven = { east = 1.0 }

[labour]
"Lb(bake)" = 2.0

[planning]
investment_share = 0.2

[[losses.events]]
goods = ["bread"]
probability = 0.1
fraction = 0.2
'''

GENERATED = '''
[scenario]
name = "gen"
description = "generated regions"

[[goods]]
name = "bread"
kind = "final"

[[profiles]]
name = "eater"
population = 10
bundle = { bread = 1.0 }

[regions]
'''

# (id, base, old text, new text, expected field path, expected value as shown)
CASES = [
    ("unknown-column", BASE, "[coefficients.bread]", "[coefficients.cake]", "coefficients.cake", "'cake'"),
    ("unknown-input", BASE, "oven = 0.1", "ovn = 0.1", "coefficients.bread.ovn", "'ovn'"),
    ("labour-column", BASE, "[[profiles]]", '[coefficients."Lb(bake)"]\nbread = 1.0\n\n[[profiles]]',
     'coefficients."Lb(bake)"', "{'bread': 1.0}"),
    ("negative-coefficient", BASE, "oven = 0.1", "oven = -0.1", "coefficients.bread.oven", "-0.1"),
    ("nan-coefficient", BASE, "oven = 0.1", "oven = nan", "coefficients.bread.oven", "nan"),
    ("inf-coefficient", BASE, "oven = 0.1", "oven = inf", "coefficients.bread.oven", "inf"),
    ("string-coefficient", BASE, "oven = 0.1", 'oven = "0.1"', "coefficients.bread.oven", "'0.1'"),
    ("bundle-non-final", BASE, "bundle = { bread = 1.0 }", "bundle = { bread = 1.0, oven = 1.0 }",
     "profiles[0].bundle.oven", "1.0"),
    ("bundle-unknown", BASE, "bundle = { bread = 1.0 }", "bundle = { cake = 1.0 }", "profiles[0].bundle.cake",
     "'cake'"),
    ("bundle-zero", BASE, "bundle = { bread = 1.0 }", "bundle = { bread = 0.0 }", "profiles[0].bundle",
     "{'bread': 0.0}"),
    ("bundle-empty", BASE, "bundle = { bread = 1.0 }", "bundle = {}", "profiles[0].bundle", "{}"),
    ("population-negative", BASE, "population = 10", "population = -3", "profiles[0].population", "-3"),
    ("population-fraction", BASE, "population = 10", "population = 10.5", "profiles[0].population", "10.5"),
    ("profile-named-as-good", BASE, 'name = "eater"', 'name = "bread"', "profiles[0].name", "'bread'"),
    ("profile-region-unknown", BASE, "bundle = { bread = 1.0 }", "bundle = { bread = 1.0 }\nregions = { south = 1.0 }",
     "profiles[0].regions.south", "'south'"),
    ("profile-region-shares", BASE, "bundle = { bread = 1.0 }",
     "bundle = { bread = 1.0 }\nregions = { east = 0.5, west = 0.6 }",
     "profiles[0].regions", "[0.5, 0.6]"),
    ("unit-makes-labour", BASE, 'good = "bread"\nregion = "east"', 'good = "Lb(bake)"\nregion = "east"',
     "units[0].good", "'Lb(bake)'"),
    ("unit-unknown-good", BASE, 'good = "bread"\nregion = "east"', 'good = "cake"\nregion = "east"', "units[0].good",
     "'cake'"),
    ("unit-unknown-region", BASE, 'region = "east"\ncapacity = 5.0', 'region = "north"\ncapacity = 5.0',
     "units[0].region", "'north'"),
    ("unit-missing-region", BASE, 'region = "east"\ncapacity = 5.0', "capacity = 5.0", "units[0].region", "None"),
    ("unit-negative-scale", BASE, "scale = 2.0", "scale = -2.0", "units[1].inputs.bread.scale", "-2.0"),
    ("unit-zero-exponent", BASE, "exponent = 1.0", "exponent = 0.0", "units[1].inputs.bread.exponent", "0.0"),
    ("unit-input-unknown", BASE, "inputs = { bread", "inputs = { cake", "units[1].inputs.cake", "'cake'"),
    ("unit-capacity-nan", BASE, "capacity = 5.0", "capacity = nan", "units[0].capacity", "nan"),
    ("unit-capacity-zero", BASE, "capacity = 5.0", "capacity = 0.0", "units[0].capacity", "0.0"),
    ("unit-reporting", BASE, "capacity = 5.0", 'capacity = 5.0\nreporting = "lying"', "units[0].reporting", "'lying'"),
    ("unit-duplicate-name", BASE, 'name = "oven-works"', 'name = "bakery-a"', "units[1].name", "'bakery-a'"),
    ("cell-constant-and-curve", BASE, "[[profiles]]", "[coefficients.oven]\nbread = 1.0\n\n[[profiles]]",
     "units[1].inputs.bread", "{'scale': 2.0, 'exponent': 1.0}"),
    ("duplicate-good", BASE, 'name = "oven"\nkind', 'name = "bread"\nkind', "goods[1].name", "'bread'"),
    ("unknown-kind", BASE, 'kind = "industrial"', 'kind = "capital"', "goods[1].kind", "'capital'"),
    ("transport-loss-one", BASE, 'kind = "industrial"', 'kind = "industrial"\ntransport_loss = 1.0',
     "goods[1].transport_loss", "1.0"),
    ("externality-negative", BASE, 'kind = "industrial"', 'kind = "industrial"\nexternality = -1.0',
     "goods[1].externality", "-1.0"),
    ("unknown-field", BASE, 'name = "tiny"', 'name = "tiny"\ncolour = "red"', "scenario.colour", "'red'"),
    ("unknown-section", BASE, "[planning]", "[plannning]\nx = 1\n\n[planning]", "plannning", "{'x': 1}"),
    ("bad-name", BASE, 'name = "tiny"', 'name = "Tiny Village"', "scenario.name", "'Tiny Village'"),
    ("two-line-description", BASE, 'description = "a tiny test economy"', 'description = "a\\nb"',
     "scenario.description", "'a\\nb'"),
    ("missing-description", BASE, 'description = "a tiny test economy"', "", "scenario.description",
     "{'name': 'tiny'}"),
    ("days-zero", BASE, 'name = "tiny"', 'name = "tiny"\ndays = 0', "scenario.days", "0"),
    ("edge-unknown-region", BASE, 'target = "west"', 'target = "south"', "regions.edges[0].target", "'south'"),
    ("edge-self-loop", BASE, 'target = "west"', 'target = "east"', "regions.edges[0]", "'east'"),
    ("edge-loss-one", BASE, "capacity = 100.0", "capacity = 100.0\nloss = 1.0", "regions.edges[0].loss", "1.0"),
    ("graph-not-connected", BASE, "[[regions.edges]]", '[[regions.nodes]]\nname = "island"\n\n[[regions.edges]]',
     "regions", "'1 edges'"),
    ("node-shares-partial", BASE, 'name = "east"', 'name = "east"\npopulation_share = 0.5',
     "regions.nodes[1].population_share", "None"),
    ("node-shares-sum", BASE, 'name = "east"\n\n[[regions.nodes]]\nname = "west"',
     'name = "east"\npopulation_share = 0.5\n\n[[regions.nodes]]\nname = "west"\npopulation_share = 0.6',
     "regions.nodes", "[0.5, 0.6]"),
    ("duplicate-region", BASE, 'name = "west"\n', 'name = "east"\n', "regions.nodes[1].name", "'east'"),
    ("inventory-labour", BASE, "oven = { east = 1.0 }", 'oven = { east = 1.0 }\n"Lb(bake)" = 3.0',
     'inventory."Lb(bake)"', "{'*': 3.0}"),
    ("labour-non-labour", BASE, '"Lb(bake)" = 2.0', "bread = 2.0", "labour.bread", "{'*': 2.0}"),
    ("inventory-unknown-region", BASE, "oven = { east = 1.0 }", "oven = { south = 1.0 }", "inventory.oven.south",
     "'south'"),
    ("inventory-negative", BASE, "bread = 5.0", "bread = -5.0", "inventory.bread", "-5.0"),
    ("inventory-string", BASE, "bread = 5.0", 'bread = "lots"', "inventory.bread", "'lots'"),
    ("investment-share-one", BASE, "investment_share = 0.2", "investment_share = 1.0", "planning.investment_share",
     "1.0"),
    ("safety-stock-negative", BASE, "investment_share = 0.2", "investment_share = 0.2\nsafety_stock = -1.0",
     "planning.safety_stock", "-1.0"),
    ("safety-stock-nan", BASE, "investment_share = 0.2", "investment_share = 0.2\nsafety_stock = nan",
     "planning.safety_stock", "nan"),
    ("loss-unknown-good", BASE, 'goods = ["bread"]', 'goods = ["cake"]', "losses.events[0].goods[0]", "'cake'"),
    ("loss-labour", BASE, 'goods = ["bread"]', 'goods = ["Lb(bake)"]', "losses.events[0].goods[0]", "'Lb(bake)'"),
    ("loss-probability", BASE, "probability = 0.1", "probability = 1.5", "losses.events[0].probability", "1.5"),
    ("generator-unknown", GENERATED, "[regions]", '[regions]\ngenerator = "petersen"', "regions.generator",
     "'petersen'"),
    ("generator-params", GENERATED, "[regions]", '[regions]\ngenerator = "path_graph"\nparams = { m = 3 }',
     "regions.params", "{'m': 3}"),
    ("generator-disconnected", GENERATED, "[regions]",
     '[regions]\ngenerator = "gnp_random_graph"\nparams = { n = 10, p = 0.0 }',
     "regions", "'0 edges'"),
    ("generator-and-nodes", GENERATED, "[regions]",
     '[regions]\ngenerator = "path_graph"\nparams = { n = 3 }\n[[regions.nodes]]\nname = "a"',
     "regions.generator", "'path_graph'"),
    ("generator-shares", GENERATED, "[regions]",
     '[regions]\ngenerator = "path_graph"\nparams = { n = 3 }\npopulation_shares = [0.5, 0.5]',
     "regions.population_shares", "[0.5, 0.5]"),
    ("params-without-generator", GENERATED, "[regions]", '[regions]\nparams = { n = 3 }\n[[regions.nodes]]\nname = "a"',
     "regions.params", "{'n': 3}"),
]


def test_base_snippets_are_valid(tmp_path):
    for k, text in enumerate([BASE, GENERATED + 'generator = "path_graph"\nparams = { n = 3 }\n']):
        path = tmp_path / f"ok{k}.toml"
        path.write_text(text)
        load_toml(path)


@pytest.mark.parametrize(("base", "old", "new", "field", "value"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_error_names_file_field_and_value(tmp_path, base, old, new, field, value):
    assert old in base, "the case must change the base text"
    path = tmp_path / "broken.toml"
    path.write_text(base.replace(old, new, 1))
    with pytest.raises(ScenarioError) as info:
        load_toml(path)
    message = str(info.value)
    assert str(path) in message
    assert f"{field}:" in message, message
    assert f"(got {value}" in message, message
    assert isinstance(info.value, InvalidInputError)
    assert info.value.source == str(path)
    assert any(p is not None and p[0] == field.split(".")[0].split("[")[0].strip('"') for p, _,
               _ in info.value.problems)


def test_toml_syntax_error_names_file_and_line(tmp_path):
    path = tmp_path / "syntax.toml"
    path.write_text(BASE.replace('name = "tiny"', 'name = "tiny'))
    with pytest.raises(ScenarioError, match=r"syntax\.toml: TOML syntax error: .*line 3"):
        load_toml(path)


def test_missing_file(tmp_path):
    with pytest.raises(ScenarioError, match="no such scenario file"):
        load_toml(tmp_path / "absent.toml")


def test_several_problems_are_all_reported():
    text = BASE.replace("population = 10", "population = -3").replace("scale = 2.0", "scale = -2.0")
    with pytest.raises(ScenarioError) as info:
        loads_toml(text, source="two.toml")
    assert len(info.value.problems) == 2
    assert "two.toml: 2 problems" in str(info.value)
    assert "profiles[0].population" in str(info.value) and "units[1].inputs.bread.scale" in str(info.value)


def test_spec_built_in_python_raises_scenario_error():
    from innatura.scenarios.spec import ScenarioSpec

    with pytest.raises(ScenarioError, match=r"<python>: profiles\[0\]\.bundle\.cake: unknown good"):
        ScenarioSpec(scenario={"name": "x", "description": "d"}, goods=[{"name": "bread", "kind": "final"}],
                     profiles=[{"name": "p", "population": 1, "bundle": {"cake": 1.0}}])


def test_specs_are_frozen():
    spec = loads_toml(BASE)
    with pytest.raises(Exception, match="frozen"):
        spec.scenario = None  # type: ignore[misc]
    with pytest.raises(TypeError, match="frozen"):
        spec.profiles[0].bundle["bread"] = 2.0  # type: ignore[index]
    with pytest.raises(TypeError, match="frozen"):
        spec.inventory["bread"]["*"] = 2.0  # type: ignore[index]
