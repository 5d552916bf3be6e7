"""The broken-input corpus: every command, on generated broken inputs, keeps the promise.

For every case drawn by ``tests/bad_inputs.py`` (scenario files, market files, input-output
tables, command-line flags, output paths) every command that reads it must: exit with status
2; print a message that names the file and the field (or the flag); print no traceback; and
leave every file in its output folder as it was. Commands run in this process through
``innatura.cli.main`` (an exception escaping it fails the test, so would a traceback).

CI runs a few dozen examples per test; ``pytest --hypothesis-profile=thorough
tests/test_bad_inputs.py`` runs 1000 (see ``tests/conftest.py``).
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from unittest import mock

import pytest
from bad_inputs import (
    FLAGS,
    Case,
    assert_refused,
    bad_flag_values,
    call,
    examples,
    io_table_cases,
    market_cases,
    populated,
    scenario_cases,
    snapshot,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.filterwarnings("ignore")


def corpus(ci: int):
    return settings(max_examples=examples(ci), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# -- scenario files -------------------------------------------------------------------------
def _scenario_commands(path: Path, run_out: Path, sweep_out: Path) -> list[list]:
    return [
        ["solve", path], ["solve", path, "--json"], ["scenarios", path],
        ["run", path, "--days", "1", "--out", run_out, "--quiet", "--no-plots"],
        ["run", path, "--days", "1", "--planner", "exchange", "--out", run_out, "--quiet", "--no-plots"],
        ["experiment", "misreporting", "--local", "--scenario", path, "--days", "1", "--seeds", "1", "--shares", "0",
         "--strategies", "inflate", "--defences", "none", "--out", sweep_out, "--quiet", "--no-plots"],
        ["viz", path],
    ]


@corpus(40)
@given(case=scenario_cases())
def test_every_command_refuses_a_broken_scenario(case: Case):
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path = tmp / "broken.toml"
        path.write_bytes(case.payload)
        run_out = populated(tmp / "run", {"model.csv": "day\n1\n", "summary.json": "{}"})
        sweep_out = populated(tmp / "sweep", {"runs/0123.json": "{}", "summary.md": "# old"})
        before = snapshot(tmp)
        with mock.patch("innatura.cli.viz.serve", side_effect=AssertionError("a broken scenario was served")):
            for argv in _scenario_commands(path, run_out, sweep_out):
                status, out, err = call(argv)
                assert_refused(status, err, (str(path), *case.names), argv, case.label)
                assert out == ""
        assert snapshot(tmp) == before


# -- market files ---------------------------------------------------------------------------
@corpus(40)
@given(case=market_cases())
def test_equilibrium_refuses_a_broken_market(case: Case):
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path = tmp / "market.json"
        path.write_bytes(case.payload)
        results = populated(tmp / "results", {"result.json": '{"old": true}'})
        before = snapshot(tmp)
        for argv in (["equilibrium", path], ["equilibrium", path, "--out", results / "result.json"]):
            status, out, err = call(argv)
            assert_refused(status, err, (str(path), *case.names), argv, case.label)
            assert out == ""
        assert snapshot(tmp) == before


# -- input-output tables ----------------------------------------------------------------------
@corpus(30)
@given(case=io_table_cases())
def test_io_commands_refuse_a_broken_table(case: Case):
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        table = tmp / "table"
        table.mkdir()
        for name, data in case.files.items():
            (table / name).write_bytes(data)
        out = populated(tmp / "out", {"x.toml": "# old"})
        before = snapshot(tmp)
        for argv in (["io", "solve", table, "--format", "bea"], ["io", "solve", table, "--format", "bea", "--json"],
                     ["import-io", table, "--format", "bea", "--out", out / "x.toml"]):
            status, stdout, err = call(argv)
            assert_refused(status, err, (str(table), *case.names), argv, case.label)
            assert stdout == ""
        assert snapshot(tmp) == before


# -- command-line flags --------------------------------------------------------------------------
@st.composite
def flag_cases(draw) -> tuple[list[str], str]:
    words, flag, kind, extra = draw(st.sampled_from(FLAGS))
    if flag == "--sizes":
        kind = "count_list"
    value = draw(bad_flag_values(kind))
    return [*words, *extra, f"{flag}={value}"], flag


@corpus(60)
@given(case=flag_cases())
def test_every_flag_refuses_a_bad_value(case):
    argv, flag = case
    with tempfile.TemporaryDirectory() as tmp:
        market = Path(tmp) / "market.json"
        market.write_text('{"utility": "cobb-douglas", "weights": [[1, 2]], "budgets": [1], "supply": [1, 1]}')
        argv = [a.replace("MARKET", str(market)).replace("OUT", str(Path(tmp) / "out")) for a in argv]
        status, out, err = call(argv)
        assert_refused(status, err, (f"argument {flag}",), argv)
        assert out == ""
        assert not (Path(tmp) / "out").exists()


# -- output paths -----------------------------------------------------------------------------
def _unwritable(tmp: Path) -> Path:
    """A folder this process cannot write in (root writes anywhere, except in /sys)."""
    if os.geteuid() == 0:
        return Path("/sys/kernel")
    folder = tmp / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    return folder


#: commands with an output path: (argv with OUT where the path goes, flag, "dir" or "file")
OUTPUTS = [
    (["run", "butter-village", "--days", "1", "--quiet", "--out", "OUT"], "--out", "dir"),
    (["experiment", "misreporting", "--local", "--scenario", "butter-village", "--days", "1", "--seeds", "1",
      "--shares", "0", "--strategies", "inflate", "--defences", "none", "--out", "OUT"], "--out", "dir"),
    (["experiment", "investment-profiles", "--days", "1", "--out", "OUT"], "--out", "dir"),
    (["experiment", "mee", "--episodes", "10", "--seeds", "1", "--sizes", "1", "--out", "OUT"], "--out", "dir"),
    (["equilibrium", "MARKET", "--out", "OUT"], "--out", "file"),
    (["import-io", "test", "--format", "pymrio", "--out", "OUT"], "--out", "file"),
    (["scenarios", "butter-village", "--dump", "OUT"], "--dump", "file"),
    (["bench", "day", "--citizens", "10", "--units", "2", "--goods", "3", "--days", "0", "--json", "OUT"],
     "--json", "file"),
    (["bench", "fisher", "--buyers", "3", "--goods", "2", "--json", "OUT"], "--json", "file"),
    (["bench", "io", "--case", "4,2,2", "--profiles", "2", "--repeat", "1", "--skip-spsolve", "--cache-dir", "none",
      "--quiet", "--json", "OUT"], "--json", "file"),
    (["bench", "nonlinear", "--case", "4,2,2", "--profiles", "2", "--cache-dir", "none", "--quiet", "--json", "OUT"],
     "--json", "file"),
]


@corpus(25)
@given(case=st.sampled_from(OUTPUTS), problem=st.sampled_from(["file-for-dir", "dir-for-file", "under-a-file",
                                                                 "unwritable", "pipe"]))
def test_outputs_that_cannot_be_written_are_refused_before_any_work(case, problem):
    """A named pipe stands for every file that is not a regular file (a device such as /dev/null
    would be destroyed by an atomic replace if the check ever broke; a pipe in a temporary
    folder costs nothing)."""
    argv, flag, kind = case
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        market = tmp / "market.json"
        market.write_text('{"utility": "cobb-douglas", "weights": [[1, 2]], "budgets": [1], "supply": [1, 1]}')
        populated(tmp, {"a-file": "keep", "a-dir/keep.txt": "keep"})
        os.mkfifo(tmp / "a-pipe")
        target = {
            "file-for-dir": tmp / "a-file", "dir-for-file": tmp / "a-dir", "under-a-file": tmp / "a-file" / "x",
            "unwritable": _unwritable(tmp) / "innatura-out", "pipe": tmp / "a-pipe",
        }[problem]
        if (problem == "file-for-dir" and kind == "file") or (problem == "dir-for-file" and kind == "dir"):
            target = tmp / "a-file" / "x"  # the other kind's problem is a valid path here: use one that is not
        before = snapshot(tmp)
        full = [str(market) if a == "MARKET" else str(target) if a == "OUT" else a for a in argv]
        status, _, err = call(full)
        assert_refused(status, err, (flag, str(target)), full, problem)
        assert snapshot(tmp) == before
        assert stat.S_ISFIFO(os.stat(tmp / "a-pipe").st_mode)
