"""The examples run: every script of ``examples/`` and every scenario and market file, from a
folder of their own (with decoy ``scenarios/`` and ``abm/`` packages), as the examples' README
says to run them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from docs_support import ROOT, decoy_folder

EXAMPLES = ROOT / "examples"
SCRIPTS = sorted(EXAMPLES.glob("*.py"))
SCENARIOS = sorted((EXAMPLES / "scenarios").glob("*.toml"))
MARKETS = sorted(EXAMPLES.glob("*.json"))

pytestmark = pytest.mark.timeout(300)


def run(args: list[str], folder: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["MPLBACKEND"] = "Agg"
    done = subprocess.run(args, cwd=folder, env=env, text=True, capture_output=True, timeout=280, check=False)
    assert done.returncode == 0, f"{args} exited with {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def test_every_example_is_listed_in_the_readme():
    readme = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    files = [*SCRIPTS, *SCENARIOS, *MARKETS]
    assert len(SCRIPTS) >= 5 and SCENARIOS and MARKETS
    missing = [p.relative_to(EXAMPLES) for p in files if f"`{p.relative_to(EXAMPLES)}`" not in readme]
    assert not missing, f"not in examples/README.md: {missing}"


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_script_runs(script: Path, tmp_path: Path) -> None:
    done = run([sys.executable, str(script)], decoy_folder(tmp_path))
    assert done.stdout.strip(), f"{script.name} printed nothing"


def test_run_scenario_reports_the_bakery(tmp_path: Path) -> None:
    out = run([sys.executable, str(EXAMPLES / "run_scenario.py"), "--days", "6"], decoy_folder(tmp_path)).stdout
    assert "bakery: 6 days" in out and "invariant violations 0" in out
    assert "everyone fed from day 4" in out


def test_planning_methods_compare(tmp_path: Path) -> None:
    out = run([sys.executable, str(EXAMPLES / "planning_method.py"), "--days", "10"], decoy_folder(tmp_path)).stdout
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()
            if line.split()[:1] in (["olin"], ["rationing"], ["sufficiency"])}
    assert set(rows) == {"olin", "rationing", "sufficiency"}
    assert float(rows["rationing"][0]) < float(rows["olin"][0])  # no investment: stuck with two ovens


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario_file_runs(scenario: Path, tmp_path: Path) -> None:
    folder = decoy_folder(tmp_path)
    run(["innatura", "scenarios", str(scenario)], folder)
    run(["innatura", "run", str(scenario), "--days", "3", "--out", "run", "--quiet", "--strict"], folder)
    assert (folder / "run" / "model.csv").exists()


@pytest.mark.parametrize("market", MARKETS, ids=[p.stem for p in MARKETS])
def test_market_file_solves(market: Path, tmp_path: Path) -> None:
    out = json.loads(run(["innatura", "equilibrium", str(market)], decoy_folder(tmp_path)).stdout)
    assert out["converged"] and out["max_excess_demand"] < 1e-6
    assert abs(sum(out["prices"]) - 1) < 1e-9
