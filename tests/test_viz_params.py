"""viz.params: the page's parameters are cast and validated, with messages naming field and value."""

from __future__ import annotations

import inspect
import math

import pytest

pytest.importorskip("solara")

from innatura.planner.errors import InvalidInputError
from innatura.viz.params import (
    DEFAULTS,
    MAX_SEED,
    PARAMETER_FIELDS,
    ViewParams,
    compose,
    defence_choices,
    model_params,
    parse_params,
    split_call,
    strategy_choices,
    validate_params,
)

SCENARIOS = ["archipelago", "selviaria"]
PLANNERS = ["olin"]


@pytest.mark.parametrize(("raw", "seed"), [("42", 42), (" 7 ", 7), (7, 7), (7.0, 7), ("1_000", 1000), ("0", 0)])
def test_seed_text_is_cast(raw, seed):
    assert parse_params({"seed": raw}).seed == seed


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("abc", "seed: 'abc' is not a whole number"),
        ("", "seed: empty"),
        ("1.5", "seed: '1.5' is not a whole number"),
        ("-3", "seed: -3 is outside"),
        (str(MAX_SEED + 1), f"seed: {MAX_SEED + 1} is outside 0.."),
        (True, "seed: True is not an integer"),
        (1.5, "seed: 1.5 is not a whole number"),
    ],
)
def test_bad_seed_names_field_and_value(raw, message):
    with pytest.raises(InvalidInputError, match="^" + message.replace(".", r"\.").replace("(", r"\(")):
        parse_params({"seed": raw})


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("investment_share", 1.0, r"investment_share: 1 is outside \[0, 1\)"),
        ("investment_share", -0.1, r"investment_share: -0.1 is outside"),
        ("loss_probability", 1.5, r"loss_probability: 1.5 is outside \[0, 1\]"),
        ("misreport_share", math.nan, r"misreport_share: nan is not a finite number"),
        ("misreport_share", "lots", r"misreport_share: 'lots' is not a number"),
        ("misreport_share", None, r"misreport_share: None is not a number"),
    ],
)
def test_bad_shares_are_rejected(field, value, message):
    with pytest.raises(InvalidInputError, match=message):
        parse_params({field: value})


def test_none_means_the_scenarios_own_value():
    params = parse_params({"investment_share": None, "loss_probability": None})
    assert params.investment_share is None and params.loss_probability is None


def test_closed_upper_bounds_accept_one():
    params = parse_params({"loss_probability": 1.0, "misreport_share": "1", "investment_share": "0.6"})
    assert (params.loss_probability, params.misreport_share, params.investment_share) == (1.0, 1.0, 0.6)


def test_choices_are_checked():
    with pytest.raises(InvalidInputError, match="scenario: 'atlantis' is not one of archipelago, selviaria"):
        parse_params({"scenario": "atlantis"}, scenarios=SCENARIOS)
    with pytest.raises(InvalidInputError, match="planner: 'magic' is not one of olin"):
        parse_params({"planner": "magic"}, planners=PLANNERS)
    assert parse_params({"scenario": " selviaria "}, scenarios=SCENARIOS).scenario == "selviaria"


def test_unknown_field_is_an_error():
    with pytest.raises(InvalidInputError, match="colour: not a model parameter"):
        parse_params({"colour": "red"})


def test_all_bad_fields_are_listed_at_once():
    with pytest.raises(InvalidInputError) as info:
        parse_params({"seed": "x", "loss_probability": 2})
    assert "seed:" in str(info.value) and "loss_probability:" in str(info.value)


def test_validate_params_falls_back_field_by_field():
    params, errors = validate_params(
        {"seed": "abc", "investment_share": 0.6, "scenario": "atlantis"}, scenarios=SCENARIOS, planners=PLANNERS
    )
    assert params == ViewParams(**{**DEFAULTS.as_dict(), "investment_share": 0.6})
    assert len(errors) == 2
    scenario, seed = errors  # in field order
    assert seed.startswith("seed: 'abc' is not a whole number") and seed.endswith("(using 42)")
    assert scenario.startswith("scenario: 'atlantis'") and scenario.endswith("(using 'archipelago')")


def test_valid_input_has_no_messages():
    params, errors = validate_params({"seed": "9", "planner": "olin"}, planners=PLANNERS)
    assert errors == ()
    assert params.seed == 9


def test_model_params_widgets_match_the_view_model():
    from innatura.viz.view_model import EconomyView

    widgets = model_params(SCENARIOS, PLANNERS)
    init = inspect.signature(EconomyView.__init__).parameters
    fields = {field for field, _ in PARAMETER_FIELDS.values()}
    # the parameter fields arrive as **kwargs; ``scenario`` is Mesa's own (>= 3.5 fills it on Reset)
    assert set(widgets) == set(init) - {"self", "kwargs", "scenario"} | fields
    assert "scenario" not in widgets  # Mesa >= 3.5 reserves Model(scenario=...)
    assert widgets["seed"]["type"] == "InputText" and widgets["seed"]["value"] == "42"
    assert widgets["scenario_name"]["values"] == SCENARIOS
    for name in ("investment_share", "loss_probability", "misreport_share"):
        spec = widgets[name]
        assert spec["type"] == "SliderFloat" and spec["min"] <= spec["value"] <= spec["max"]
        parse_params({name: spec["max"]})  # the slider cannot produce an invalid value


@pytest.mark.filterwarnings("ignore:.*use_state.*:UserWarning")  # solara's hook check on Mesa's own page code
def test_model_params_pass_mesas_own_check():
    from innatura.viz.view_model import EconomyView
    from mesa.visualization import solara_viz

    solara_viz._check_model_params(EconomyView.__init__, model_params(SCENARIOS, PLANNERS))


def test_strategies_and_defences_use_the_models_syntax():
    params = parse_params({"citizen_strategy": "noise(0.2)", "unit_strategy": "ratchet(1.3, ramp_days=5)",
                           "defence": "audit(0.5)+robust"})
    assert params.citizen_strategy == "noise(sd=0.2)"
    assert params.unit_strategy == "ratchet(factor=1.3, ramp_days=5)"
    assert params.defence.startswith("audit(probability=0.5, ") and params.defence.endswith("+robust(method='mad', "
                                                                                           "threshold=3.0, trim=0.2, "
                                                                                           "min_peers=3)")
    assert parse_params({"defence": "none"}).defence == "none"
    params, errors = validate_params({"citizen_strategy": "ratchet", "defence": "magic"})
    assert params.citizen_strategy == DEFAULTS.citizen_strategy and params.defence == "none"
    assert any("is a unit strategy" in e for e in errors) and any("defence 'magic' is unknown" in e for e in errors)


def test_selectors_list_the_vocabulary_and_compose_its_text():
    widgets = model_params(SCENARIOS, PLANNERS)
    assert widgets["citizen_strategy"]["type"] == "Select"
    assert widgets["citizen_strategy"]["values"] == strategy_choices("citizen")
    assert {"inflate", "adaptive_inflate", "honest"} <= set(widgets["citizen_strategy"]["values"])
    assert {"ratchet", "adaptive_inputs"} <= set(widgets["unit_strategy"]["values"])
    assert widgets["defence"]["values"][:5] == ["none", "audit", "robust", "belief", "ic"]
    assert "audit+robust" in defence_choices()
    # the defaults show as a name and its parameters, which compose back to the same object
    name, params = widgets["citizen_strategy"]["value"], widgets["citizen_parameters"]["value"]
    assert (name, params) == ("inflate", "factor=1.5") == split_call(DEFAULTS.citizen_strategy)
    assert parse_params({"citizen_strategy": compose(name, params)}).citizen_strategy == DEFAULTS.citizen_strategy
    assert compose("audit+robust", "0.5") == "audit(0.5)+robust"
    assert compose("inflate(2.0)", "factor=3") == "inflate(2.0)"  # a whole text keeps its own parameters
    assert compose("noise", " ") == "noise"


def test_a_parameter_that_the_chosen_strategy_lacks_is_reported_by_field():
    from innatura.viz.view_model import EconomyView

    view = EconomyView(scenario_name="selviaria", citizen_strategy="noise", citizen_parameters="factor=2",
                       defence="audit+ic", defence_parameters="probability=0.5")
    assert any(e.startswith("citizen_strategy: 'noise(factor=2)'") and "has no parameter 'factor'" in e
               for e in view.errors), view.errors
    assert view.params.defence.startswith("audit(probability=0.5,") and "+ic(" in view.params.defence


def test_the_scenario_object_mesa_passes_on_reset_is_no_error():
    from innatura.viz.view_model import EconomyView

    view = EconomyView(scenario=object(), seed="3")  # Mesa >= 3.5: Model(scenario=Scenario(...))
    assert view.errors == [] and view.economy is not None
    assert EconomyView(colour="red").errors[0].startswith("colour: not a model parameter")
