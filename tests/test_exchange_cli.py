"""``innatura equilibrium``, ``innatura bench fisher`` and ``innatura experiment mee``."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest
from innatura.planner.exchange import competitive_equilibrium, market_from_dict

from innatura.cli import main


def _write(tmp_path: Path, data: dict, name: str = "market.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    "data",
    [
        {"utility": "cobb-douglas", "weights": [[1, 2, 1], [2, 1, 1], [1, 1, 3]],
         "endowments": [[1, 0, 1], [0, 1, 1], [1, 1, 0]]},
        {"utility": "ces", "rho": -0.5, "weights": [[1, 2], [2, 1]], "endowments": [[1, 0.2], [0.3, 1]]},
        {"utility": "linear", "weights": [[1, 2], [2, 1], [1, 1]], "budgets": [1, 2, 1], "supply": [1, 2]},
        {"utility": "linear", "weights": [[1, 2, 0], [2, 1, 1], [1, 1, 3]],
         "endowments": [[1, 0, 1], [0, 1, 1], [1, 1, 0]]},
    ],
)
def test_equilibrium_json_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str], data: dict) -> None:
    path = _write(tmp_path, data)
    out_file = tmp_path / "result.json"
    assert main(["equilibrium", str(path), "--out", str(out_file)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(out_file.read_text())
    assert sum(printed["prices"]) == pytest.approx(1.0, abs=1e-12)
    assert printed["max_excess_demand"] < 1e-6
    assert {"method", "iterations", "allocations"} <= set(printed)
    direct = competitive_equilibrium(market_from_dict(data))
    np.testing.assert_allclose(printed["prices"], direct.prices, rtol=1e-12)
    np.testing.assert_allclose(printed["allocations"], direct.allocations, rtol=1e-12)


def test_equilibrium_method_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path,
                  {"utility": "ces", "rho": 0.5, "weights": [[1, 2], [2, 1]], "endowments": [[1, 0.2], [0.3, 1]]})
    assert main(["equilibrium", str(path), "--method", "tatonnement", "--indent", "0"]) == 0
    assert json.loads(capsys.readouterr().out)["method"] == "tatonnement"


@pytest.mark.parametrize(
    "data,match",
    [
        ({"utility": "ces", "weights": [[1, 2], [2, 1]], "endowments": [[1, 0], [0, 1]]}, "rho: missing"),
        ({"utility": "linear", "weights": [[1, 2], [2, 1]], "endowments": [[1, -3], [0, 1]]},
         r"endowments\[0, 1\] = -3.0"),
        ({"utility": "linear", "weights": [[1, 2], [2, 1]], "budgets": [1, 0], "supply": [1, 1]},
         r"budgets\[1\] = 0.0"),
    ],
)
def test_equilibrium_errors_name_file_field_value(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  data: dict, match: str) -> None:
    path = _write(tmp_path, data, "bad.json")
    assert main(["equilibrium", str(path)]) == 2
    err = capsys.readouterr().err
    assert "bad.json" in err
    assert re.search(match, err)


def test_equilibrium_unreadable_and_invalid_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["equilibrium", str(tmp_path / "missing.json")]) == 2
    assert "missing.json: cannot read" in capsys.readouterr().err
    bad = tmp_path / "broken.json"
    bad.write_text("{\"utility\": ")
    assert main(["equilibrium", str(bad)]) == 2
    assert "broken.json: not valid JSON (line 1" in capsys.readouterr().err


def test_bench_fisher_small(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    assert main(["bench", "fisher", "--buyers", "200", "--goods", "10", "--pr-iters", "50", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "default (eisenberg-gale)" in text and "proportional response" in text
    record = json.loads(out.read_text())
    assert record["results"][0]["converged"] and record["results"][0]["error"] < 1e-6
    assert record["results"][1]["ratio_to_default"] > 0


def test_experiment_mee_small(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "mee"
    args = ["experiment", "mee", "--out", str(out), "--episodes", "30", "--seeds", "1", "--sizes", "2,8",
            "--horizon", "3", "--quiet"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "log-log slope" in text
    for name in ("molm_regret.csv", "mplm_suboptimality.csv", "mee.png", "summary.json"):
        assert (out / name).stat().st_size > 0
    rows = list(csv.DictReader((out / "molm_regret.csv").open()))
    assert len(rows) == 30 and float(rows[-1]["cumulative_regret"]) >= float(rows[0]["cumulative_regret"])
    summary = json.loads((out / "summary.json").read_text())
    assert np.isfinite(summary["molm_regret_slope"])
    assert not list(out.glob("*.tmp*"))


def test_experiment_mee_bad_sizes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["experiment", "mee", "--out", str(tmp_path), "--sizes", "a,b"]) == 2
    assert "argument --sizes: expected a whole number, got 'a'" in capsys.readouterr().err
