"""Studies: experiment files validate with clear errors, designs sample as documented, a study
runs, resumes and reports, and the shipped studies are found by name."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from bad_inputs import STUDY, assert_refused, call, examples, study_cases, study_text
from hypothesis import HealthCheck, given, settings
from innatura.abm import study
from innatura.abm.study.design import sample_points
from innatura.abm.study.spec import StudyError, loads_study, spec_from_dict
from innatura.abm.sweep import run_id

pytestmark = pytest.mark.filterwarnings("ignore")

REPO = Path(__file__).resolve().parents[1]


# -- shipped studies -----------------------------------------------------------------------------
def test_shipped_studies_are_found_by_name_and_validate():
    assert {"misreporting", "misreporting-both-sides", "adaptive-adversaries"} <= set(study.names())
    for name in study.names():
        spec = study.load(name)
        assert spec.study.name == name and study.case_configs(spec)
    both = study.load("misreporting-both-sides")
    assert both.study.scenarios == ["archipelago", "butter-village"] and both.study.seed_list() == [0, 1, 2, 3, 4]
    assert both.levers.defence == ["none", "audit", "robust", "belief", "ic"]
    assert both.uncertainties.share == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
    mix = both.uncertainties.strategies[0]
    assert mix.citizens != "honest" and mix.units != "honest"  # both sides lie


def test_shipped_studies_are_package_data_of_an_installed_package():
    path = study.find("misreporting-both-sides")
    assert path.parent == Path(study.registry.__file__).parent / "builtin"
    data = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "builtin/*.toml" in data["tool"]["setuptools"]["package-data"]["innatura.abm.study"]


def test_experiment_list_names_every_shipped_study():
    status, out, _ = call(["experiment", "list"])
    assert status == 0
    assert [line.split()[0] for line in out.splitlines()] == study.names()
    status, out, _ = call(["experiment", "list", "--show", "adaptive-adversaries"])
    assert status == 0 and loads_study(out).study.name == "adaptive-adversaries"
    status, _, err = call(["experiment", "run", "no-such-study", "--out", "x", "--local"])
    assert status == 2 and "unknown study 'no-such-study'; shipped studies: adaptive-adversaries" in err


# -- validation ----------------------------------------------------------------------------------
@settings(max_examples=examples(25), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=study_cases())
def test_broken_study_files_are_refused_naming_file_field_and_value(case, tmp_path_factory):
    folder = tmp_path_factory.mktemp("study")
    path = folder / "broken.toml"
    path.write_bytes(case.payload)
    out = folder / "out"
    argv = ["experiment", "run", path, "--out", out, "--local", "--quiet"]
    status, _, err = call(argv)
    assert_refused(status, err, (str(path), *case.names), argv, case.label)
    assert not out.exists()  # nothing written before the study validated


def test_the_base_of_the_broken_studies_is_valid():
    spec = loads_study(study_text(STUDY), "corpus.toml")
    assert len(study.case_configs(spec)) == 2 * 2 * 2 * 2  # defences x shares x factors x seeds


@pytest.mark.parametrize("text, message", [
    ("[study\nname = 1", "corpus.toml: TOML syntax error"),
    ("", "corpus.toml: study: required field is missing"),
    ("[study]\nname = 'x'\ndescription = 'd'\nscenarios = ['selviaria']\n",
     "corpus.toml: uncertainties.share: required: the shares of liars"),
    ("[study]\nname = 'x'\ndescription = 'd'\nscenarios = ['selviaria']\n[uncertainties]\nshare = [0.1]\n"
     "citizen_factor = { low = 1.2, high = 2.0 }\n",
     "corpus.toml: uncertainties.citizen_factor: a range in a full factorial needs levels = N (got {'low': 1.2, "
     "'high': 2.0})"),
])
def test_study_messages_read_as_the_file_does(text, message):
    with pytest.raises(StudyError) as err:
        loads_study(text, "corpus.toml")
    assert message in str(err.value)


def test_a_factor_the_strategy_refuses_names_the_mix():
    data = {**STUDY, "uncertainties": {**STUDY["uncertainties"], "citizen_factor": [0.5]}}
    with pytest.raises(StudyError, match=r"corpus.toml: uncertainties.strategies: 'inflate\(factor=0.5\)'|Inflate"):
        study.case_configs(spec_from_dict(data, "corpus.toml"))


# -- designs -------------------------------------------------------------------------------------
def test_full_factorial_crosses_every_value_and_share_zero_runs_once():
    spec = loads_study(study_text(STUDY), "corpus.toml")
    cases = study.case_configs(spec)
    labels = pd.DataFrame([c.labels for c in cases])
    assert sorted(set(labels["citizen_factor"])) == [1.1, 2.0]
    assert len(labels.drop_duplicates(["defence", "share", "citizen_factor", "seed"])) == len(cases)
    ids = {run_id(c.config) for c in cases}
    assert len(ids) == len(cases) - 2 * 2  # share 0 is one run per defence and seed, whatever the factor
    lying = [c.config for c in cases if c.labels["share"] > 0 and c.labels["citizen_factor"] == 2.0]
    assert {c["citizen_strategy"] for c in lying} == {"inflate(factor=2.0)"}
    assert {c["unit_strategy"] for c in lying} == {"ratchet(factor=1.5, ramp_days=5)"}


def test_latin_hypercube_is_seeded_and_stratified():
    data = {**STUDY, "design": {"method": "latin-hypercube", "samples": 8, "seed": 3},
            "uncertainties": {"share": {"low": 0.0, "high": 0.5}, "citizen_factor": {"low": 1.0, "high": 3.0},
                              "strategies": STUDY["uncertainties"]["strategies"]}}
    spec = spec_from_dict(data, "lhs.toml")
    points = sample_points(spec)
    assert points == sample_points(spec_from_dict(data, "lhs.toml")) and len(points) == 8
    shares = np.array([p["share"] for p in points])
    factors = np.array([p["citizen_factor"] for p in points])
    assert ((shares >= 0.0) & (shares <= 0.5)).all() and ((factors >= 1.0) & (factors <= 3.0)).all()
    # one point in each of the 8 strata of each variable
    assert sorted((shares / 0.5 * 8).astype(int)) == list(range(8))
    assert sorted(((factors - 1.0) / 2.0 * 8).astype(int)) == list(range(8))
    other = sample_points(spec_from_dict({**data, "design": {**data["design"], "seed": 4}}, "lhs.toml"))
    assert [p["share"] for p in other] != list(shares)
    assert {p["defence"] for p in points} <= {"none", "audit(probability=0.5)"}


# -- running -------------------------------------------------------------------------------------
TINY = {
    "study": {"name": "tiny", "description": "two days of selviaria", "scenarios": ["selviaria"], "seeds": 2,
              "days": 2},
    "levers": {"defence": ["none", "ic"]},
    "uncertainties": {"share": [0.0, 0.4], "strategies": [{"citizens": "inflate(2.0)", "units": "ratchet",
                                                           "label": "both"}]},
}


def test_a_study_runs_resumes_and_reports(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(study_text(TINY))
    out = tmp_path / "out"
    argv = ["experiment", "run", path, "--out", out, "--local"]
    status, stdout, err = call(argv)
    assert status == 0, err
    assert "8 runs in" in stdout and "(0 already finished)" in stdout
    table = pd.read_parquet(out / "outcomes.parquet")
    assert len(table) == 8 and table["run_id"].is_unique and (table["error"] == "").all()
    assert {"scenario", "seed", "defence", "mix", "share", "welfare_loss", "settled_citizen_factor"} <= set(table)
    honest = table[table["share"] == 0]
    assert (honest["welfare_loss"].abs() < 1e-12).all()  # the honest run against itself
    lying = table[(table["share"] > 0) & (table["defence"] == "none")]
    assert (lying["settled_citizen_factor"] == 2.0).all()
    report = (out / "report.md").read_text()
    assert report.startswith("# Study: tiny") and "## Welfare loss per defence" in report
    assert "8 runs for 8 cases (8 run now, 0 found finished" in report
    for png in ("welfare_loss.png", "welfare_loss_heatmap.png"):
        assert (out / png).stat().st_size > 5000 and f"]({png})" in report
    assert loads_study((out / "study.toml").read_text()) == loads_study(path.read_text())
    status, stdout, _ = call(argv)
    assert status == 0 and "0 runs in" in stdout and "(8 already finished)" in stdout
    pd.testing.assert_frame_equal(pd.read_parquet(out / "outcomes.parquet"), table)


def test_outcomes_keep_only_what_the_study_asks(tmp_path):
    spec = spec_from_dict({**TINY, "levers": {"defence": ["none"]}, "outcomes": {"keep": ["welfare_loss"]}},
                          "keep.toml")
    result = study.run_study(spec, tmp_path, local=True, progress=False, plots=False)
    assert list(result.outcomes.columns)[-2:] == ["error", "welfare_loss"]
    assert not (tmp_path / "welfare_loss.png").exists()


def test_a_scenario_file_is_found_next_to_the_study(tmp_path):
    from innatura.scenarios.registry import BUILTIN_DIR

    (tmp_path / "economies").mkdir()
    (tmp_path / "economies" / "mine.toml").write_bytes((BUILTIN_DIR / "selviaria.toml").read_bytes())
    data = {**TINY, "study": {**TINY["study"], "scenarios": ["economies/mine.toml"]}}
    (tmp_path / "s.toml").write_text(study_text(data))
    spec = study.load(tmp_path / "s.toml")
    assert spec.scenario_paths() == [str(tmp_path / "economies" / "mine.toml")]
    assert study.case_configs(spec)[0].labels["scenario"] == "economies/mine.toml"
