"""The learned-vs-defences study is a paired comparison: the arms of a seed share their random
streams, the oracle undoes misreporting exactly, and the summary's statistics are paired
differences with their spread; the learned planner's correction of flagged units."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytestmark = [pytest.mark.learn, pytest.mark.filterwarnings("ignore")]
torch = pytest.importorskip("torch")
pytest.importorskip("torch_geometric")

from innatura.abm.learning.study import StudySetting, build_arm, run_study, summarise  # noqa: E402
from innatura.abm.model import PlanningEconomy  # noqa: E402
from innatura.planner.learned.debias import corrected_scales  # noqa: E402
from innatura.planner.learned.type_posterior import TypePosterior  # noqa: E402


def test_the_arms_of_a_seed_share_their_random_streams():
    setting = StudySetting("archipelago", days=3)
    rows = run_study(setting, [0], arms=("honest", "no defence", "audit", "oracle"))
    assert [r["arm"] for r in rows] == ["honest", "no defence", "audit", "oracle"]
    assert all(r["same_stream"] for r in rows)
    assert rows[0]["humanity_loss"] == 0.0 and rows[1]["gain"] == 0.0
    # the audit arm audits (from its own generator), so the defence did draw
    model, _, bound = build_arm("audit", setting, 0)
    model.step()
    assert bound[0].rng is not model.rng and bound[0].audited_units.sum() > 0


def test_the_oracle_undoes_misreporting_exactly():
    """The oracle's plan on the true curves does not depend on what the units report: with 30%
    of the units overstating their inputs it runs as with every unit honest (to the rounding of
    multiplying a report by its factor and the true scale)."""
    kwargs = {"rng": 2, "days": 5, "misreport_share": 0.3, "planner": "oracle", "collect_agents": False}
    lying = PlanningEconomy("archipelago", unit_strategy="overstate_inputs(1.5)", **kwargs)
    honest = PlanningEconomy("archipelago", unit_strategy="honest", **kwargs)
    lying.run_model()
    honest.run_model()
    assert (lying.state.unit_code > 0).any()
    assert np.allclose(lying.model_frame()["humanity"], honest.model_frame()["humanity"], rtol=0, atol=1e-9)


def test_the_summary_pairs_each_arm_with_the_honest_and_no_defence_runs_of_its_seed():
    rows = []
    for seed, (h, n, a) in enumerate([(1.0, 0.8, 0.9), (0.9, 0.8, 0.9), (0.7, 0.5, 0.6)]):
        for arm, value in (("honest", h), ("no defence", n), ("audit", a)):
            rows.append({"scenario": "s", "strategy": "x", "arm": arm, "seed": seed, "humanity": value,
                         "humanity_loss": h - value, "gain": value - n, "plan_error": 0.0, "precision": 1.0,
                         "recall": 1.0, "seconds": 1.0, "same_stream": True})
    audit = {r["arm"]: r for r in summarise(rows)}["audit"]
    loss = np.array([0.1, 0.0, 0.1])
    assert audit["humanity_loss"] == pytest.approx(loss.mean())
    assert audit["humanity_loss_se"] == pytest.approx(loss.std(ddof=1) / math.sqrt(3))
    assert audit["gain"] == pytest.approx(0.1) and audit["gain_se"] == pytest.approx(0.0, abs=1e-12)
    none_loss = np.array([0.2, 0.1, 0.2]).mean()
    assert audit["recovered"] == pytest.approx(1 - loss.mean() / none_loss)


def test_the_learned_planner_corrects_flagged_units_by_their_misreporting_case():
    post = TypePosterior(p_misreport=np.array([[0.1, 0.9, 0.6]]),
                         means=np.array([[[0.01, -0.3], [0.0, -0.25], [0.02, -0.1]]]),
                         sds=np.full((1, 3, 2), 0.05), unit_ids=np.arange(3))
    assert np.allclose(post.location, [[0.01, -0.25, -0.1]])
    scale = corrected_scales(post, method="location", min_probability=0.5)
    assert np.allclose(scale, [1.0, np.exp(-0.25), np.exp(-0.1)])
    assert np.allclose(corrected_scales(post, method="location"), np.exp([0.01, -0.25, -0.1]))


def test_the_cautious_correction_adds_a_margin_to_a_sure_liar_and_shrinks_an_unsure_one():
    """The 0.8 quantile of the posterior: a unit sure to misreport gets its case's estimate plus
    0.8416 of its standard deviation; a unit whose case is uncertain lands between the two cases'
    estimates, nearer the report (log-scale 0) than its misreporting case (checked against the
    quantile of a large sample of the mixture); honest-looking units keep their reports."""
    from innatura.planner.learned.debias import CAUTIOUS_QUANTILE

    post = TypePosterior(p_misreport=np.array([[0.1, 0.999999, 0.6]]),
                         means=np.array([[[0.01, -0.3], [0.0, -0.69], [0.0, -0.5]]]),
                         sds=np.array([[[0.05, 0.05], [0.007, 0.007], [0.02, 0.02]]]), unit_ids=np.arange(3))
    scale = corrected_scales(post, method="quantile", quantile=CAUTIOUS_QUANTILE, min_probability=0.5)
    assert scale[0] == 1.0
    assert math.log(scale[1]) == pytest.approx(-0.69 + 0.8416 * 0.007, abs=1e-4)
    rng = np.random.default_rng(0)
    n = 400_000
    liar = rng.random(n) < 0.6
    draws = np.where(liar, rng.normal(-0.5, 0.02, n), rng.normal(0.0, 0.02, n))
    assert math.log(scale[2]) == pytest.approx(np.quantile(draws, CAUTIOUS_QUANTILE), abs=2e-3)
    assert math.log(scale[2]) > -0.25  # nearer the report than the misreporting case's -0.5


def test_the_learned_planner_corrects_by_the_cautious_quantile_unless_told_otherwise():
    from innatura.abm.planning.learned_io import LearnedIOMethod
    from innatura.planner.errors import InvalidInputError

    method = LearnedIOMethod()
    assert (method.debias, method.quantile) == ("quantile", 0.8)
    assert LearnedIOMethod(debias="location").debias == "location"
    with pytest.raises(InvalidInputError, match=r"quantile = 1\.5"):
        LearnedIOMethod(quantile=1.5)


def test_the_study_runs_a_subset_of_arms_without_training(tmp_path, capsys):
    """``--arms`` without a learned arm runs those arms (and the honest run) and trains nothing."""
    import csv

    from innatura.cli import main

    out = tmp_path / "study"
    assert main(["experiment", "learned-vs-defences", "--scenario", "selviaria", "--seeds", "1", "--days", "2",
                 "--strategy", "overstate_inputs(1.3)", "--arms", "no defence, oracle,oracle", "--out", str(out),
                 "--quiet"]) == 0
    with open(out / "summary.csv") as fh:
        assert [r["arm"] for r in csv.DictReader(fh)] == ["no defence", "oracle"]
    assert not any(p.name.startswith("model") for p in out.iterdir())
    assert main(["experiment", "learned-vs-defences", "--scenario", "selviaria", "--arms", "oracle,nonsense",
                 "--out", str(tmp_path / "bad"), "--quiet"]) == 2
    assert "arm 'nonsense' is unknown" in capsys.readouterr().err
