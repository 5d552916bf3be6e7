"""``innatura experiment investment-profiles --dynamics paper|conserving``: outputs parse, carry
the ``seed`` and ``dynamics`` columns and the labels, print the comparison table; the conserving
runs keep every invariant."""

from __future__ import annotations

import json
import logging

import pandas as pd
import pytest

from innatura.cli import main
from innatura.cli.exp_investment import tick_stats

logging.getLogger("planner").setLevel(logging.ERROR)


def test_paper_dynamics_reproduce_the_published_figure(tmp_path, capsys):
    out = tmp_path / "paper"
    assert main(["experiment", "investment-profiles", "--dynamics", "paper", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "NOT conserved" in printed
    assert "paper ticks" in printed and "paper-dynamics ticks" in printed and "conserving ticks" in printed
    df = pd.read_csv(out / "humanity.csv")
    assert list(df.columns) == ["tick", "investment", "humanity", "seed", "dynamics"]
    assert set(df["dynamics"]) == {"paper-nonconserving"}
    last = df.groupby("investment")["tick"].max().to_dict()
    assert last == {0.51: 381, 0.52: 192, 0.55: 79, 0.6: 42}  # each run stops at its first tick above 0.999
    assert (df.groupby("investment")["tick"].min() == 0).all()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["dynamics"] == "paper" and summary["conserves_goods"] is False and "NOT conserved" in summary["note"]
    assert summary["first_tick_0999"] == summary["published_first_tick_0999"] == {
        "0.51": 381, "0.52": 192, "0.55": 79, "0.60": 42}
    # the comparison column: the conserving model, one seed, stopped at its first day at 0.999
    assert all(v["median"] is not None for v in summary["ticks_0999"]["conserving"].values())
    assert (out / "humanity.png").stat().st_size > 1000


def test_paper_dynamics_with_noise_over_seeds(tmp_path, capsys):
    out = tmp_path / "noisy"
    assert main(["experiment", "investment-profiles", "--dynamics", "paper", "--noise", "--seeds", "12",
                 "--seed", "3", "--days", "300", "--shares", "0.51", "0.6", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "paper-dynamics reached" in printed and "paper-dynamics 5-95%" in printed
    df = pd.read_csv(out / "humanity.csv")
    assert list(df.columns) == ["tick", "investment", "humanity", "seed", "dynamics"]
    assert sorted(df["seed"].unique()) == list(range(3, 15))
    summary = json.loads((out / "summary.json").read_text())
    st = summary["ticks_0999"]["paper-nonconserving"]
    assert st["0.51"]["reached"] == 0 and st["0.51"]["median"] is None
    assert st["0.60"]["reached"] == 12 and st["0.60"]["q05"] <= st["0.60"]["median"] <= st["0.60"]["q95"]
    assert summary["ticks_0999"]["conserving"]["0.60"]["runs"] == 1
    assert (out / "humanity.png").stat().st_size > 1000


def test_conserving_runs_keep_every_invariant(tmp_path, capsys):
    out = tmp_path / "conserving"
    assert main(["experiment", "investment-profiles", "--noise", "--seeds", "2", "--days", "5", "--shares", "0.51",
                 "0.6", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "invariant violations (conserving runs): 0" in printed
    assert "conserving reached" in printed and "min after" in printed
    df = pd.read_csv(out / "humanity.csv")
    assert list(df.columns) == ["tick", "investment", "humanity", "seed", "dynamics"]
    assert set(df["dynamics"]) == {"conserving"} and len(df) == 2 * 2 * 5
    assert df.groupby(["investment", "seed"])["tick"].apply(list).map(lambda t: t == [1, 2, 3, 4, 5]).all()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["invariant_violations"] == 0 and summary["conserves_goods"] is True
    assert summary["ticks_0999"]["paper-nonconserving"]["0.60"]["runs"] == 2


@pytest.mark.parametrize("argv", [["--dynamics", "paper", "--scenario", "butter-village"], ["--seeds", "0"],
                                  ["--shares", "1.5"], ["--days", "0"]])
def test_bad_arguments_exit_2(tmp_path, argv):
    assert main(["experiment", "investment-profiles", *argv, "--out", str(tmp_path), "--quiet"]) == 2


def test_tick_stats_count_never_as_beyond_the_horizon():
    st = tick_stats([10, 20, -1, -1, -1])
    assert st == {"runs": 5, "reached": 2, "median": None, "q05": 10, "q95": None}
    assert tick_stats([5, 7, 9]) == {"runs": 3, "reached": 3, "median": 7, "q05": 5, "q95": 9}
