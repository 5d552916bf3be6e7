"""The misreporting sweep (the shipped study ``misreporting`` with its grid as flags): a real
process kill then resume, local vs Dask identity, outputs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from innatura.abm.adversarial.experiment import (
    build_model,
    make_config,
    misreporting_configs,
    one_sided_config,
    run_misreporting,
)
from innatura.abm.sweep import collect_runs, run_id, run_sweep

from innatura.cli import main

pytestmark = pytest.mark.filterwarnings("ignore")

GRID = ["--days", "2", "--seeds", "1", "--shares", "0,0.2,0.4", "--strategies", "inflate",
        "--defences", "none,robust", "--scenario", "selviaria"]
CONFIGS = misreporting_configs(scenario="selviaria", shares=[0, 0.2, 0.4], strategies=["inflate"], planners=["olin"],
                               defences=["none", "robust"], seeds=range(1), days=2)
REPO = Path(__file__).resolve().parents[1]


def _records(out: Path) -> dict[str, str]:
    return {p.stem: p.read_text() for p in (out / "runs").glob("*.json")}


def test_grid_is_canonical_and_deduplicated():
    assert len(CONFIGS) == 2 + 2 * 2  # per seed: share 0 x 2 defences, 2 shares x 2 defences
    assert len({run_id(c) for c in CONFIGS}) == len(CONFIGS)
    honest = make_config(unit_strategy="ratchet", share=0.0)
    assert honest["unit_strategy"] == honest["citizen_strategy"] == "honest"
    both = make_config(citizen_strategy="inflate(2.0)", unit_strategy="ratchet", share=0.2)
    assert both["citizen_strategy"] == "inflate(factor=2.0)" and both["unit_strategy"].startswith("ratchet(factor=1.5")


def test_a_killed_sweep_resumes_to_exactly_the_expected_runs(tmp_path):
    out = tmp_path / "sweep"
    cmd = [sys.executable, "-m", "innatura", "experiment", "misreporting", "--local", *GRID, "--out", str(out)]
    proc = subprocess.Popen(cmd, cwd=REPO, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while len(list((out / "runs").glob("*.json"))) < 2:
            assert proc.poll() is None, "the sweep ended before it could be killed"
            assert time.monotonic() < deadline, "no run finished in time"
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    before = _records(out)
    assert 2 <= len(before) < len(CONFIGS)
    assert not (out / "runs.parquet").exists()

    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"({len(before)} already finished)" in done.stdout
    after = _records(out)
    assert set(after) == {run_id(c) for c in CONFIGS}  # none missing, none extra
    assert all(after[k] == v for k, v in before.items())  # finished runs were not run again
    table = pd.read_parquet(out / "runs.parquet")
    assert len(table) == len(CONFIGS) and table["run_id"].is_unique
    assert (out / "report.md").read_text().startswith("# Study: misreporting")
    assert (out / "welfare_loss.png").stat().st_size > 1000
    outcomes = pd.read_parquet(out / "outcomes.parquet")
    assert len(outcomes) == len(CONFIGS) and set(outcomes["run_id"]) == set(after)

    fresh = run_sweep(CONFIGS, run_misreporting, tmp_path / "fresh", local=True, progress=False)
    pd.testing.assert_frame_equal(collect_runs(out), fresh.table)
    for k, v in before.items():
        assert json.loads(v) == json.loads((tmp_path / "fresh" / "runs" / f"{k}.json").read_text())


def test_cli_rejects_bad_grids(tmp_path, capsys):
    assert main(["experiment", "misreporting", "--local", "--strategies", "bribe", "--out", str(tmp_path)]) == 2
    assert "bribe" in capsys.readouterr().err
    assert main(["experiment", "misreporting", "--local", "--defences", "audit+magic", "--out", str(tmp_path)]) == 2
    assert main(["experiment", "misreporting", "--local", "--planners", "clairvoyant", "--out", str(tmp_path)]) == 2
    assert not list(tmp_path.glob("runs/*.json"))


@pytest.mark.distributed
def test_dask_scheduler_gives_the_same_results_as_local(tmp_path):
    pytest.importorskip("distributed")
    from distributed import LocalCluster

    grid = ["--days", "2", "--seeds", "1", "--shares", "0.4", "--strategies", "inflate",
            "--defences", "none,audit", "--quiet", "--no-plots"]
    assert main(["experiment", "misreporting", "--local", *grid, "--out", str(tmp_path / "local")]) == 0
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        assert main(["experiment", "misreporting", *grid, "--scheduler", cluster.scheduler_address,
                     "--out", str(tmp_path / "dask")]) == 0
    local, dask = collect_runs(tmp_path / "local"), collect_runs(tmp_path / "dask")
    assert len(local) == 2 and (local["error"] == "").all()
    pd.testing.assert_frame_equal(local, dask)


def test_planner_options_are_parsed_and_canonical():
    from innatura.abm.adversarial.experiment import parse_options, planner_options
    from innatura.planner.errors import InvalidInputError

    assert parse_options("model=runs/x;warm_start=false;max_slp_iter=5") == {
        "model": "runs/x", "warm_start": False, "max_slp_iter": 5}
    assert planner_options(["olin:warm_start=false"], ["olin", "learned"]) == {"olin": "warm_start=false",
                                                                               "learned": ""}
    a = make_config(planner_options="b=2;a=x")
    assert a["planner_options"] == "a=x;b=2" == make_config(planner_options="a=x;b=2")["planner_options"]
    with pytest.raises(InvalidInputError, match="PLANNER:KEY=VALUE"):
        planner_options(["exchange:x=1"], ["olin"])
    with pytest.raises(InvalidInputError, match="key=value"):
        parse_options("nonsense")
    r = run_misreporting(make_config(planner_options="warm_start=false", citizen_strategy="inflate", share=0.3, days=1))
    assert r["error"] == "" and r["welfare"] > 0


def test_sweep_strategies_take_parameters_in_the_models_syntax():
    c = one_sided_config("ratchet(1.2, ramp_days=2)", scenario="selviaria", share=0.2, defence="audit(0.5)+ic")
    assert c["unit_strategy"] == "ratchet(factor=1.2, ramp_days=2)" and c["citizen_strategy"] == "honest"
    assert c["defence"].startswith("audit(probability=0.5, ") and "+ic(" in c["defence"]
    assert one_sided_config("inflate", strategy_param=1.7, share=0.2)["citizen_strategy"] == "inflate(factor=1.7)"
    model, recorder, bound = build_model(c)
    assert str(model.settings.unit_strategy) == "ratchet(factor=1.2, ramp_days=2)"
    assert [type(b).__name__ for b in bound] == ["AuditRun", "ICRun"] and model.defence_chain[0] is recorder
    assert bound[0].spec.probability == 0.5
    from innatura.planner.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="citizen strategy 'ratchett' is unknown"):
        make_config(citizen_strategy="ratchett")
