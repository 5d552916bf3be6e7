"""``innatura bench io`` on a small economy: the table, the JSON and the argument errors."""

from __future__ import annotations

import json

import pytest

from innatura.cli import main


def test_bench_io_small_case(tmp_path, capsys):
    out = tmp_path / "bench.json"
    code = main([
        "bench", "io", "--case", "300,30,40", "--profiles", "20", "--repeat", "2",
        "--json", str(out), "--cache-dir", str(tmp_path / "cache"), "--quiet",
    ])
    assert code == 0
    table = capsys.readouterr().out
    assert "scipy spsolve" in table and "one matvec" in table and "solve_io default (triangular" in table
    r = json.loads(out.read_text())
    assert r["case"]["size"] == 350 and r["case"]["kind"] == "seed"
    assert r["default"]["method"] == "triangular" and r["default"]["residual"] <= 1e-10
    assert r["spsolve"]["residual"] <= 1e-8
    assert r["ratios"]["spsolve_over_default"] == pytest.approx(r["spsolve"]["seconds"] / r["default"]["seconds"])
    assert r["memory"]["peak_rss_bytes"] > 0 and r["default"]["runs"] == 2 and r["matvec"]["runs"] == 6
    assert r["default"]["min"] <= r["default"]["seconds"]
    assert list((tmp_path / "cache").glob("*.npz"))


def test_bench_io_cyclic_without_spsolve(tmp_path, capsys):
    out = tmp_path / "b.json"
    assert main(["bench", "io", "--case", "1000,100,20", "--cyclic", "--skip-spsolve", "--json", str(out),
                 "--cache-dir", "none", "--quiet"]) == 0
    r = json.loads(out.read_text())
    assert r["spsolve"] is None and "spsolve_over_default" not in r["ratios"]
    assert r["default"]["method"] == "krylov" and r["case"]["kind"] == "cyclic"
    assert "skipped" in capsys.readouterr().out


def test_bench_io_prints_the_threaded_product_beside_the_floor(tmp_path, capsys):
    out = tmp_path / "b.json"
    assert main(["bench", "io", "--case", "1000,100,20", "--cyclic", "--skip-spsolve", "--threads", "2",
                 "--repeat", "1", "--json", str(out), "--cache-dir", "none", "--quiet"]) == 0
    table = capsys.readouterr().out
    assert "one matvec A @ x (floor, 1 thread)" in table and "one matvec, 2 threads (row blocks)" in table
    r = json.loads(out.read_text())
    tp = r["threaded_matvec"]
    assert tp["threads"] == 2 and r["machine"]["threads"] == 2
    assert tp["speedup"] == pytest.approx(r["matvec"]["seconds"] / tp["seconds"])


@pytest.mark.parametrize("case", ["1,2", "a,b,c", "10,0,5", "-1,2,3"])
def test_bench_io_bad_case(case, capsys):
    assert main(["bench", "io", "--case", case]) == 2  # argparse's status, returned, not raised
    assert "--case" in capsys.readouterr().err
