"""``innatura bench nonlinear`` on a small economy: the table, the JSON and the argument errors."""

from __future__ import annotations

import json

import pytest

from innatura.cli import main


def test_bench_nonlinear_small_cyclic_case(tmp_path, capsys):
    out = tmp_path / "bench.json"
    code = main([
        "bench", "nonlinear", "--case", "800,80,10", "--profiles", "20", "--cyclic", "--curve-share", "0.3",
        "--repeat", "2", "--trace-memory", "--json", str(out), "--cache-dir", str(tmp_path / "cache"), "--quiet",
    ])
    assert code == 0
    table = capsys.readouterr().out
    assert "nonlinear newton-krylov" in table and "linear solve_io" in table and "load average" in table
    r = json.loads(out.read_text())
    c, nl = r["case"], r["nonlinear"]
    assert c["size"] == 900 and c["kind"] == "cyclic" and c["curve_cells"] > 0
    assert c["curve_units"] == 2 * c["curve_cells"]
    assert nl["converged"] and nl["residual"] <= 1e-8 and nl["runs"] == 2 and nl["products"] > nl["iterations"]
    assert r["ratios"]["nonlinear_over_linear"] == pytest.approx(nl["seconds"] / r["linear"]["seconds"])
    assert r["memory"]["store_bytes_per_cell"] == pytest.approx(112.0, rel=0.01)
    assert r["memory"]["nonlinear_traced_peak_bytes"] > 0
    assert list((tmp_path / "cache").glob("*.npz"))


def test_bench_nonlinear_fixed_point_and_no_curves(tmp_path):
    out = tmp_path / "b.json"
    assert main(["bench", "nonlinear", "--case", "300,30,8", "--profiles", "10", "--curve-share", "0",
                 "--method", "fixed-point", "--json", str(out), "--cache-dir", "none", "--quiet"]) == 0
    r = json.loads(out.read_text())
    assert r["case"]["curve_cells"] == 0 and r["nonlinear"]["method"] == "fixed-point"
    assert r["nonlinear"]["iterations"] == 1


@pytest.mark.parametrize("args, message", [(["--curve-share", "1.5"], "--curve-share"),
                                           (["--demand-scale", "0"], "--demand-scale"),
                                           (["--tol", "2"], "--tol")])
def test_bench_nonlinear_bad_arguments(args, message, capsys):
    assert main(["bench", "nonlinear", "--case", "10,5,2", "--cache-dir", "none", "--quiet", *args]) == 2
    assert message in capsys.readouterr().err


def test_bench_nonlinear_thread_counts_interleaved(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("innatura.planner.parallel_product.MIN_PARALLEL_NNZ", 0)
    monkeypatch.setattr("innatura.planner.leontief.core.MIN_PARALLEL_NNZ", 0)
    out = tmp_path / "t.json"
    assert main(["bench", "nonlinear", "--case", "2500,250,10", "--profiles", "20", "--cyclic", "--threads", "1,2",
                 "--repeat", "2", "--json", str(out), "--cache-dir", "none", "--quiet"]) == 0
    table = capsys.readouterr().out
    assert "one matvec, 2 thread(s) (row blocks)" in table and "identical across thread counts: yes" in table
    r = json.loads(out.read_text())
    assert set(r["threads"]) == {"1", "2"} and r["machine"]["threads"] == [1, 2]
    assert r["threads"]["1"]["blocks"] == 1 and r["threads"]["2"]["blocks"] > 1
    assert r["identical_across_threads"] is True and r["nonlinear"]["converged"]
    assert r["threads"]["2"]["nonlinear_seconds"] > 0 and r["threads"]["1"]["linear_cpu_seconds"] > 0
