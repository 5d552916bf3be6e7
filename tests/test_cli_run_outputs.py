"""``innatura run``, ``experiment investment-profiles`` and ``bench day``: files exist and parse;
checkpoint/resume gives results identical to an uninterrupted run."""

from __future__ import annotations

import json
import logging

import pandas as pd
import pytest
from innatura.abm.checkpoint import load_checkpoint, save_checkpoint
from innatura.abm.model import PlanningEconomy

from innatura.cli import main

logging.getLogger("planner").setLevel(logging.ERROR)

SUMMARY_KEYS = {"scenario", "seed", "days", "planner", "investment_share", "days_simulated", "sizes", "metrics",
                "seconds_per_day", "columns"}


def test_run_writes_every_output(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", "selviaria", "--days", "4", "--seed", "3", "--out", str(out), "--checkpoint-every", "2",
                 "--misreport-share", "0.2", "--noise", "0.3"]) == 0
    printed = capsys.readouterr().out
    assert "humanity" in printed and "seconds per day" in printed
    df = pd.read_csv(out / "model.csv")
    assert list(df["day"]) == [1, 2, 3, 4]
    for col in ("humanity", "planned_humanity", "externalities", "externalities_today", "min_fulfilment",
                "unmet_demand", "plan_error", "losses", "misreport_flags", "fulfilment:Profile 0",
                "fulfilment_region:north", "inventory:Lucloelium", "planned:Vorpal Pick +1", "executed:Vorpal Pick +1"):
        assert col in df.columns, col
    units = pd.read_parquet(out / "units.parquet")
    assert len(units) == 4 * 7 and {"day", "name", "good", "target", "output"} <= set(units.columns)
    assert len(pd.read_parquet(out / "regions.parquet")) == 4 * 3
    assert len(pd.read_parquet(out / "citizens.parquet")) == 1300
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary) >= SUMMARY_KEYS and summary["days_simulated"] == 4
    assert summary["metrics"]["humanity_final"] == pytest.approx(df["humanity"].iloc[-1])
    for png in ("humanity.png", "fulfilment.png", "inventory.png"):
        assert (out / png).stat().st_size > 1000
    assert (out / "checkpoint" / "manifest.json").exists() and (out / "scenario.toml").exists()


def test_resume_gives_the_uninterrupted_result(tmp_path):
    whole, part = tmp_path / "whole", tmp_path / "part"
    common = ["selviaria", "--seed", "11", "--noise", "0.4", "--misreport-share", "0.3", "--quiet", "--no-plots"]
    assert main(["run", *common, "--days", "6", "--out", str(whole)]) == 0
    assert main(["run", *common, "--days", "3", "--out", str(part)]) == 0
    assert main(["run", "--resume", str(part), "--days", "6", "--quiet", "--no-plots"]) == 0
    a = pd.read_csv(whole / "model.csv")
    b = pd.read_csv(part / "model.csv")
    pd.testing.assert_frame_equal(a, b)
    ua, ub = pd.read_parquet(whole / "units.parquet"), pd.read_parquet(part / "units.parquet")
    pd.testing.assert_frame_equal(ua, ub)


def test_checkpoint_restores_generators_and_learning(tmp_path):
    a = PlanningEconomy("selviaria", rng=2, noise=0.5, misreport_share=0.5)
    for _ in range(3):
        a.step()
    save_checkpoint(a, tmp_path / "run")
    b, _ = load_checkpoint(tmp_path / "run")
    assert b.state.day == 3 and b.rng.bit_generator.state == a.rng.bit_generator.state
    for _ in range(3):
        a.step()
        b.step()
    pd.testing.assert_frame_equal(a.model_frame(), b.model_frame())


def test_bad_input_is_reported_not_raised(tmp_path, capsys):
    assert main(["run", "no-such-scenario", "--days", "1", "--out", str(tmp_path), "--quiet"]) == 2
    assert main(["run", "--resume", str(tmp_path / "missing"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "no checkpoint" in err


def test_investment_profiles_experiment_files(tmp_path, capsys):
    out = tmp_path / "exp"
    assert main(["experiment", "investment-profiles", "--days", "6", "--shares", "0.51", "0.6", "--out", str(out),
                 "--quiet"]) == 0
    df = pd.read_csv(out / "humanity.csv")
    assert list(df.columns) == ["tick", "investment", "humanity", "seed", "dynamics"]
    assert sorted(df["investment"].unique()) == [0.51, 0.6] and len(df) == 12
    assert set(df["dynamics"]) == {"conserving"} and set(df["seed"]) == {0}
    for _, grp in df.groupby("investment"):
        h = grp["humanity"].to_numpy()
        assert h[-1] > h[0]  # humanity rises (the claim this model reproduces)
    assert (out / "humanity.png").stat().st_size > 1000
    assert "first tick" in capsys.readouterr().out


def test_bench_day_small(tmp_path, capsys):
    path = tmp_path / "bench.json"
    assert main(["bench", "day", "--citizens", "2000", "--units", "20", "--goods", "60", "--regions", "4",
                 "--profiles", "5", "--days", "1", "--json", str(path)]) == 0
    rec = json.loads(path.read_text())
    assert set(rec["seconds_per_day"]) == {"report", "plan", "execute", "collect"}
    assert rec["sizes"]["citizens"] == 2000
    assert 0.0 <= rec["humanity_last"] <= 1.0 and rec["plan_error_last"] >= 0.0
    # day by day, the warm-up day first
    assert len(rec["humanity_per_day"]) == len(rec["plan_error_per_day"]) == len(rec["plan_seconds_per_day"]) == 2
    assert rec["humanity_per_day"][-1] == rec["humanity_last"]
    assert "planner" in capsys.readouterr().out


def test_bench_day_default_economy_is_fed(tmp_path):
    """The default bench economy (one region, safety stocks) at a smaller size: the timed days
    are days of a fed economy, not of rationing."""
    path = tmp_path / "bench.json"
    assert main(["bench", "day", "--citizens", "20000", "--units", "400", "--goods", "2000",
                 "--profiles", "50", "--days", "3", "--json", str(path)]) == 0
    rec = json.loads(path.read_text())
    assert rec["sizes"]["regions"] == 1
    assert rec["humanity_last"] > 0.99 and rec["plan_error_last"] < 1e-3


def test_run_takes_strategies_and_defences_in_the_models_syntax(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", "selviaria", "--days", "3", "--seed", "2", "--out", str(out), "--misreport-share", "0.4",
                 "--citizen-strategy", "inflate(2.0)", "--unit-strategy", "ratchet(1.3, ramp_days=2)",
                 "--defence", "audit(probability=1.0)", "--defence", "robust", "--quiet", "--no-plots"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["citizen_strategy"] == "inflate(factor=2.0)"
    assert summary["unit_strategy"] == "ratchet(factor=1.3, ramp_days=2)"
    assert [d.split("(")[0] for d in summary["defences"]] == ["audit", "robust"]
    assert pd.read_csv(out / "model.csv")["misreport_flags"].sum() > 0  # audited every night: liars caught
    assert set(pd.read_parquet(out / "citizens.parquet")["strategy"]) == {"honest", "inflate(factor=2.0)"}
    assert main(["run", "--resume", str(out), "--days", "4", "--quiet", "--no-plots"]) == 0
    assert len(pd.read_csv(out / "model.csv")) == 4
    for bad, message in ((["--citizen-strategy", "ratchet"], "is a unit strategy"),
                         (["--defence", "audit(probabilty=0.5)"], "Audit has no parameter 'probabilty'")):
        capsys.readouterr()
        assert main(["run", "selviaria", "--days", "1", "--out", str(tmp_path / "bad"), "--quiet", *bad]) == 2
        assert message in capsys.readouterr().err
