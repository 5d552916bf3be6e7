"""One vocabulary for misreporting: every strategy and defence has one name and one text form,
reads back from its text and its dict, gives clear errors, and a run that uses them can be
saved and resumed in a fresh process with the same results."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from innatura.abm.adversarial import (
    CITIZEN_STRATEGIES,
    DEFENCES,
    STRATEGIES,
    UNIT_STRATEGIES,
    Audit,
    Inflate,
    Ratchet,
    RobustAggregation,
    parse_defences,
    parse_strategy,
)
from innatura.abm.checkpoint import save_checkpoint
from innatura.abm.model import PlanningEconomy
from innatura.abm.reported_curves import ReportedCurves
from innatura.abm.settings import RunSettings
from innatura.planner.errors import InvalidInputError

pytestmark = pytest.mark.filterwarnings("ignore")

STRATEGY_CASES = [(name, kind) for kind, table in (("citizen", CITIZEN_STRATEGIES), ("unit", UNIT_STRATEGIES))
                  for name in table]


@pytest.mark.parametrize("name, kind", STRATEGY_CASES)
def test_every_strategy_reads_back_from_its_text_and_its_dict(name, kind):
    s = parse_strategy(name, kind=kind)
    assert parse_strategy(str(s), kind=kind) == s
    data = json.loads(json.dumps(s.to_dict()))
    assert data["name"] == name and "class" not in data
    assert parse_strategy(data, kind=kind) == s
    if s.primary:  # the primary parameter goes first
        other = 0.9 * s.param
        changed = parse_strategy(f"{name}({other!r})", kind=kind)
        assert changed.param == other and changed == s.with_param(other)


@pytest.mark.parametrize("name", list(DEFENCES))
def test_every_defence_reads_back_from_its_text_and_its_dict(name):
    (d,) = parse_defences(name)
    assert parse_defences(str(d)) == (d,)
    assert parse_defences([json.loads(json.dumps(d.to_dict()))]) == (d,)


def test_one_name_per_strategy():
    assert sorted(STRATEGIES) == ["adaptive_inflate", "adaptive_inputs", "collude", "deflate", "hoard", "honest",
                                  "inflate", "noise", "overstate_capacity", "overstate_inputs", "ratchet"]
    assert len({cls for cls in STRATEGIES.values()}) == len(STRATEGIES)


def test_text_forms():
    assert parse_strategy("ratchet(1.3, ramp_days=5)", kind="unit") == Ratchet(factor=1.3, ramp_days=5)
    assert str(Ratchet(1.3, ramp_days=5)) == "ratchet(factor=1.3, ramp_days=5)"
    assert parse_strategy(("inflate", 1.7), kind="citizen") == Inflate(factor=1.7)  # the older tuple form
    assert parse_defences("none") == () and parse_defences(None) == () and parse_defences(["none"]) == ()
    assert parse_defences("audit(probability=0.5, penalty_days=0)+robust(method='median')") == (
        Audit(probability=0.5, penalty_days=0), RobustAggregation(method="median"))
    assert parse_defences(["audit", "robust+ic"])[2].name == "ic"


@pytest.mark.parametrize("text, kind, message", [
    ("lie_big", "citizen", "citizen strategy 'lie_big' is unknown; known: honest, inflate, deflate, noise, hoard, "
                           "adaptive_inflate"),
    ("ratchet(1.3, ramp_dayz=5)", "unit", "Ratchet has no parameter 'ramp_dayz'; parameters: factor, ramp_days"),
    ("inflate(1.5, 2.0)", "citizen", "Inflate takes at most 1 parameters"),
    ("inflate(0.5)", "citizen", "Inflate: factor must be a number in"),
    ("inflate(factor=x)", "citizen", "parameters must be numbers"),
    ("ratchet", "citizen", "'ratchet(factor=1.5, ramp_days=5)' is a unit strategy; citizen strategies: honest"),
    ("inflate(", "citizen", "expected NAME or NAME"),
    ("ratchet(1.5, factor=2.0)", "unit", "parameter 'factor' given twice"),
])
def test_bad_strategies_are_named(text, kind, message):
    with pytest.raises(InvalidInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_strategy(text, kind=kind)


def test_bad_defences_are_named():
    with pytest.raises(InvalidInputError, match="defence 'magic' is unknown; known: audit, robust, belief, ic"):
        parse_defences("audit+magic")
    with pytest.raises(InvalidInputError, match="Audit: probability"):
        parse_defences("audit(1.5)")


def test_settings_are_plain_data():
    s = RunSettings(misreport_share=0.3, citizen_strategy=Inflate(factor=1.7), unit_strategy="collude(1.4)",
                    defences="audit(0.5)+belief", output_loss=(0.1, 0.2), days=12, planner_options={"tol": 1e-6})
    text = json.dumps(s.to_dict(), allow_nan=False)
    assert RunSettings.from_dict(json.loads(text)) == s
    with pytest.raises(InvalidInputError, match="planner_options: not plain data"):
        RunSettings(planner_options={"f": object()}).to_dict()


def test_reported_curves_structure_is_plain_data():
    model = PlanningEconomy("selviaria", rng=0, collect_agents=False)
    model.step()
    data = json.loads(json.dumps(model.curves.to_dict()))
    again = ReportedCurves.from_dict(data)
    assert again.cells == model.curves.cells and again.learned.keys() == model.curves.learned.keys()
    a = again.curve_cells(model.state, model.state.unit_reported_capacity)
    b = model.curves.curve_cells(model.state, model.state.unit_reported_capacity)
    q = np.linspace(0.0, 2000.0, 9)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x.curve(q), y.curve(q))


def test_defences_by_name_need_no_other_import():
    code = ("import innatura; m = innatura.PlanningEconomy('selviaria', rng=0, misreport_share=0.5, "
            "defences=('audit',)); m.step(); m.step(); print(type(m.defence_chain[0]).__name__, "
            "int(m.defence_chain[0].audited_citizens.sum() > 0))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "AuditRun 1"


def test_a_run_with_strategy_objects_resumes_in_a_fresh_process(tmp_path):
    options = dict(rng=3, misreport_share=0.4, citizen_strategy=Inflate(factor=1.7),
                   unit_strategy="ratchet(1.3, ramp_days=3)", defences="audit(probability=0.5)", days=6,
                   collect_agents=False)
    whole = PlanningEconomy("selviaria", **options)
    whole.run_model()
    part = PlanningEconomy("selviaria", **options)
    for _ in range(3):
        part.step()
    save_checkpoint(part, tmp_path / "run")
    script = textwrap.dedent(f"""
        from innatura.abm.checkpoint import load_checkpoint
        model, _ = load_checkpoint({str(tmp_path / "run")!r})
        assert str(model.settings.citizen_strategy) == "inflate(factor=1.7)", model.settings.citizen_strategy
        model.run_model()
        model.model_frame().to_csv({str(tmp_path / "resumed.csv")!r}, index=False)
    """)
    subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True)
    resumed = pd.read_csv(tmp_path / "resumed.csv")
    expected = pd.read_csv(pd.io.common.StringIO(whole.model_frame().to_csv(index=False)))
    pd.testing.assert_frame_equal(resumed, expected)
    assert resumed["misreport_flags"].sum() > 0  # the audit caught someone: its memory carried over
