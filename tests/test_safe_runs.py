"""Safe runs: one writer per run folder, sweeps keyed by content, every ``--json`` parses, seeds
that matter, results that overflow are errors, valid edge cases run, non-productive economies
are refused by every planning method, and ``innatura viz`` frees its port when stopped."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from bad_inputs import (
    SCENARIO,
    assert_refused,
    call,
    examples,
    nonproductive_cases,
    snapshot,
    toml_text,
    valid_edge_scenarios,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.filterwarnings("ignore")

REPO = Path(__file__).resolve().parents[1]


def innatura(*argv: str, timeout: float = 300, **kwargs) -> subprocess.CompletedProcess:
    """The real console program in a child process (its own standard output, C level included)."""
    return subprocess.run([sys.executable, "-m", "innatura", *map(str, argv)], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO, **kwargs)


def write_scenario(path: Path, data: dict | None = None) -> Path:
    path.write_text(toml_text(data or SCENARIO))
    return path


# -- one writer per run folder --------------------------------------------------------------------
def test_a_second_run_into_a_locked_folder_is_refused(tmp_path):
    from innatura.cli.outputs import FolderLock

    out = tmp_path / "run"
    with FolderLock(out):
        status, _, err = call(["run", "butter-village", "--days", "1", "--out", out, "--quiet"])
        assert_refused(status, err, (str(out), "another innatura process"), ["run"])
        assert not list(out.iterdir())  # nothing of the second run got in
        child = innatura("run", "butter-village", "--days", "1", "--out", out, "--quiet")
        assert child.returncode == 2 and "another innatura process" in child.stderr
        assert "Traceback" not in child.stderr
    status, _, _ = call(["run", "butter-village", "--days", "1", "--out", out, "--quiet", "--no-plots"])
    assert status == 0


def test_the_lock_of_a_killed_run_does_not_block_the_next(tmp_path):
    out = tmp_path / "run"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom innatura.cli.outputs import FolderLock\n"
         f"with FolderLock({str(out)!r}):\n    print('locked', flush=True)\n    time.sleep(600)\n"],
        stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert call(["run", "butter-village", "--days", "1", "--out", out, "--quiet"])[0] == 2
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
        status, _, err = call(["run", "butter-village", "--days", "1", "--out", out, "--quiet", "--no-plots"])
        assert status == 0, err
    finally:
        holder.kill()
        holder.wait()


# -- sweeps keyed by the scenario's content ------------------------------------------------------
def test_the_sweep_reruns_a_scenario_whose_file_changed(tmp_path):
    from innatura.abm.sweep import collect_runs

    scenario = write_scenario(tmp_path / "economy.toml")
    grid = ["experiment", "misreporting", "--local", "--scenario", scenario, "--days", "2", "--seeds", "1",
            "--shares", "0,0.3", "--strategies", "inflate", "--defences", "none", "--out", tmp_path / "sweep",
            "--quiet", "--no-plots"]
    assert call(grid)[0] == 0
    first = collect_runs(tmp_path / "sweep")
    assert call(grid)[0] == 0
    assert len(collect_runs(tmp_path / "sweep")) == len(first)  # same content: nothing ran again

    edited = json.loads(json.dumps(SCENARIO))
    edited["profiles"][0]["bundle"]["bread"] = 3.0  # the same path, other content
    write_scenario(scenario, edited)
    status, _, err = call(grid)
    assert status == 0, err
    table = collect_runs(tmp_path / "sweep")
    assert len(table) == 2 * len(first)
    assert table["scenario_hash"].nunique() == 2 and (table["scenario"] == str(scenario)).all()
    new = table[~table["scenario_hash"].isin(first["scenario_hash"])]
    old = first.set_index(["share", "seed"])["welfare"]
    assert not np.allclose(new.set_index(["share", "seed"]).loc[old.index, "welfare"], old)
    report = (tmp_path / "sweep" / "report.md").read_text()
    assert "2 runs for 2 cases (2 run now, 0 found finished" in report


def test_a_sweep_config_refuses_a_scenario_edited_under_it(tmp_path):
    from innatura.abm.adversarial.experiment import make_config, run_misreporting
    from innatura.planner.errors import InvalidInputError

    scenario = write_scenario(tmp_path / "economy.toml")
    config = make_config(scenario=str(scenario), days=1, share=0.0)
    edited = json.loads(json.dumps(SCENARIO))
    edited["labour"]["Lb"] = 60.0
    write_scenario(scenario, edited)
    with pytest.raises(InvalidInputError, match="changed since this sweep's configuration was made"):
        run_misreporting(config)


def test_a_sweep_refuses_more_workers_than_cpus_or_fewer_than_one(tmp_path):
    from innatura.abm.sweep import run_sweep
    from innatura.planner.errors import InvalidInputError

    for bad in (-2, 0, (os.cpu_count() or 1) + 1):
        with pytest.raises(InvalidInputError, match="n_workers: a whole number from 1 to"):
            run_sweep([{"seed": 0}], dict, tmp_path / "sweep", n_workers=bad, progress=False)
    assert not (tmp_path / "sweep").exists()


# -- every --json output parses --------------------------------------------------------------------
@pytest.mark.parametrize("argv", [
    ("solve", "butter-village", "--json"),
    ("solve", "selviaria", "--json"),
    pytest.param(("io", "solve", "test", "--format", "pymrio", "--json"), marks=pytest.mark.skipif(
        importlib.util.find_spec("pymrio") is None, reason="pymrio is not installed (the io extra)")),
    ("scenarios", "--json"),
    ("scenarios", "archipelago", "--json"),
])
def test_json_output_is_only_json(argv):
    done = innatura(*argv)
    assert done.returncode == 0, done.stderr
    json.loads(done.stdout)  # the HiGHS banner would come first


def test_equilibrium_output_is_only_json(tmp_path):
    market = tmp_path / "m.json"
    market.write_text(json.dumps({"utility": "linear", "weights": [[1, 2], [2, 1]], "budgets": [1, 2],
                                  "supply": [1, 1]}))
    done = innatura("equilibrium", market)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["converged"]


# -- seeds -----------------------------------------------------------------------------------------
def test_a_run_whose_seed_is_unused_says_so(tmp_path):
    status, _, err = call(["run", "butter-village", "--days", "2", "--out", tmp_path / "a", "--quiet", "--no-plots"])
    assert status == 0 and "seed 0 was not used" in err
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert summary["seed_used"] is False and "every seed gives these results" in summary["seed_note"]
    status, _, err = call(["run", "butter-village", "--days", "2", "--noise", "0.5", "--seed", "4",
                           "--out", tmp_path / "b", "--quiet", "--no-plots"])
    assert status == 0 and "was not used" not in err
    assert json.loads((tmp_path / "b" / "summary.json").read_text())["seed_used"] is True


def test_the_default_demo_gives_a_spread_over_seeds(tmp_path):
    frames = []
    for seed in (0, 1):
        out = tmp_path / f"s{seed}"
        status, _, err = call(["run", "--days", "6", "--seed", str(seed), "--out", out, "--quiet", "--no-plots"])
        assert status == 0 and "was not used" not in err
        assert json.loads((out / "summary.json").read_text())["seed_used"] is True
        frames.append(pd.read_csv(out / "model.csv"))
    assert (frames[0]["losses"] > 0).any() or (frames[1]["losses"] > 0).any()
    assert not frames[0].equals(frames[1])


# -- results that overflow are errors ----------------------------------------------------------------
@settings(max_examples=examples(40), deadline=None)
@given(exponent=st.floats(100.0, 308.25), n=st.integers(2, 6), seed=st.integers(0, 2**32 - 1),
       method=st.sampled_from([None, "direct", "krylov", "neumann"]))
def test_solve_io_with_huge_demand_is_right_or_refused(exponent, n, seed, method):
    from innatura.planner.errors import InvalidInputError
    from innatura.planner.leontief import solve_io

    rng = np.random.default_rng(seed)
    A = rng.uniform(0.0, 1.0, (n, n))
    A *= 0.6 / np.max(np.abs(np.linalg.eigvals(A)))
    d = rng.uniform(0.1, 1.0, n) * 10.0**exponent
    scale = 2.0 ** -math.frexp(float(d.max()))[1]
    oracle = np.linalg.solve(np.eye(n) - A, d * scale)  # the same system, in range
    try:
        sol = solve_io(A, d, method=method)
    except InvalidInputError as exc:
        assert "overflows" in str(exc)
        assert not np.isfinite(oracle / scale).all()
        return
    assert np.isfinite(sol.x).all()
    np.testing.assert_allclose(sol.x * scale, oracle, rtol=1e-6)
    if sol.converged:
        assert sol.residual <= 1e-10


@pytest.mark.parametrize("rho", [-1e300, -1e5, -51.0])
def test_an_extreme_ces_market_is_refused(rho):
    from innatura.planner.errors import InvalidInputError
    from innatura.planner.exchange import market_from_dict

    with pytest.raises(InvalidInputError, match="rho"):
        market_from_dict({"utility": "ces", "rho": rho, "weights": [[1, 2], [2, 1]],
                          "endowments": [[1, 0.5], [0.5, 1]]})


def test_an_equilibrium_that_overflows_is_an_error():
    from innatura.planner.errors import InvalidInputError
    from innatura.planner.exchange import competitive_equilibrium, market_from_dict

    market = market_from_dict({"utility": "linear", "weights": [[1e308, 1e308], [1, 1]], "budgets": [1, 1],
                               "supply": [1, 1]})
    with pytest.raises(InvalidInputError, match="overflows"):
        competitive_equilibrium(market)


# -- valid edge cases run ----------------------------------------------------------------------------
EDGES = [
    ("every profile empty", [(("profiles", 0, "population"), 0), (("profiles", 1, "population"), 0)]),
    ("steepest curve", [(("units", 2, "inputs", "bread", "exponent"), 10.0),
                        (("units", 2, "inputs", "bread", "scale"), 1e9)]),
    ("flattest curve", [(("units", 2, "inputs", "bread", "exponent"), 1e-9)]),
    ("largest amounts", [(("inventory", "bread"), 1e9), (("labour", "Lb"), 1e9),
                         (("profiles", 1, "bundle", "milk"), 1e9), (("units", 0, "capacity"), 1e9)]),
    ("largest need", [(("profiles", 0, "population"), 10**6), (("profiles", 0, "bundle", "bread"), 1e6),
                      (("inventory", "bread"), 1e9), (("labour", "Lb"), 1e9)]),
    ("nothing at all", [(("inventory",), {}), (("labour", "Lb"), 0.0)]),
    ("certain losses", [(("losses", "events", 0, "probability"), 1.0), (("losses", "events", 0, "fraction"), 1.0)]),
    ("all investment", [(("planning", "investment_share"), 0.999999)]),
    ("largest seed", [(("scenario", "seed"), 2**63 - 1)]),
]


@pytest.mark.parametrize("label, changes", EDGES, ids=[e[0] for e in EDGES])
def test_valid_edge_scenarios_run_without_a_traceback(tmp_path, label, changes):
    data = json.loads(json.dumps(SCENARIO))
    for path, value in changes:
        node = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    scenario = write_scenario(tmp_path / "edge.toml", data)
    for planner in ("olin", "exchange"):
        status, _, err = call(["run", scenario, "--days", "3", "--planner", planner, "--out", tmp_path / planner,
                               "--quiet", "--no-plots"])
        assert status == 0, f"{label}, {planner}: {err}"
    for method in ("lp", "balanced", "scaled-demand"):
        status, out, err = call(["solve", scenario, "--json", "--method", method])
        assert status == 0, f"{label}, {method}: {err}"
        json.loads(out)


@settings(max_examples=examples(15), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=valid_edge_scenarios())
def test_valid_scenarios_at_their_bounds_never_give_a_traceback(data):
    """Any valid scenario runs, or (a solver that cannot meet its tolerance on an extreme one)
    stops with a clean error: exit 2, a message, no traceback."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = write_scenario(Path(tmp) / "edge.toml", data)
        for argv in (["solve", path, "--json"], ["solve", path, "--json", "--method", "scaled-demand"],
                     ["run", path, "--days", "2", "--out", Path(tmp) / "run", "--quiet", "--no-plots"]):
            status, out, err = call(argv)
            assert status in (0, 2) and "Traceback" not in err, (argv, err)
            if status == 0 and "--json" in argv:
                json.loads(out)
            if status == 2:
                assert err.startswith(f"innatura {argv[0]}: error: "), err


def test_a_model_refuses_an_int_and_a_population_the_machine_cannot_hold():
    from innatura.abm.model import PlanningEconomy
    from innatura.planner.errors import InnaturaError
    from innatura.scenarios import loads_toml

    with pytest.raises(InnaturaError, match="got int 42"):
        PlanningEconomy(42)
    data = json.loads(json.dumps(SCENARIO))
    data["profiles"][0]["population"] = 10**10
    spec = loads_toml(toml_text(data), "crowded.toml")
    with pytest.raises(InnaturaError, match=r"crowded\.toml: profiles: .* citizens .* this machine allows"):
        PlanningEconomy(spec)


# -- non-productive economies: every planning method ---------------------------------------------------
@settings(max_examples=examples(15), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=nonproductive_cases())
def test_every_planning_method_refuses_a_non_productive_economy(case):
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path = tmp / "np.toml"
        path.write_bytes(case.payload)
        commands = [["solve", path, "--method", m] for m in ("lp", "balanced", "scaled-demand")]
        commands += [["run", path, "--days", "1", "--planner", p, "--out", tmp / "run", "--quiet"]
                     for p in ("olin", "exchange")]
        commands.append(["run", path, "--days", "1", "--planner", "learned", "--model", tmp / "model", "--out",
                         tmp / "run", "--quiet"])
        commands.append(["experiment", "misreporting", "--local", "--scenario", path, "--planners", "olin,exchange",
                         "--days", "1", "--seeds", "1", "--shares", "0", "--defences", "none", "--out", tmp / "sweep",
                         "--quiet"])
        for argv in commands:
            status, _, err = call(argv)
            assert_refused(status, err, (str(path), *case.names), argv, case.label)
        assert not (tmp / "run").exists() and not (tmp / "sweep").exists()


# -- the tracebacks and hangs, each once through the real program --------------------------------
def test_the_reported_crashes_are_clean_errors(tmp_path):
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "empty").mkdir()
    cases = [
        (("run", "butter-village", "--seed", "-1"), "argument --seed"),
        (("run", "butter-village", "--planner", "learned", "--days", "1", "--out", tmp_path / "l"), "--model"),
        (("run", "--resume", tmp_path / "a-file"), "no checkpoint"),
        (("run", "--resume", tmp_path / "empty"), "no checkpoint"),
        (("solve", "/dev/zero"), "not a regular file"),
        (("experiment", "misreporting", "--workers", "-2", "--out", tmp_path / "w"), "argument --workers"),
        (("import-io", "test", "--format", "pymrio", "--out", tmp_path / "x.toml", "--days", "0"), "argument --days"),
        (("equilibrium", tmp_path / "a-file", "--tol", "nan"), "argument --tol"),
    ]
    for argv, named in cases:
        done = innatura(*argv, timeout=120)
        assert done.returncode == 2 and named in done.stderr and "Traceback" not in done.stderr, (argv, done.stderr)


def test_innatura_viz_takes_a_scenario_file(tmp_path):
    scenario = write_scenario(tmp_path / "mine.toml")
    with mock.patch("innatura.cli.viz.serve", return_value=0) as serve:
        assert call(["viz", scenario])[0] == 0
    env = serve.call_args.args[1]
    assert env["INNATURA_VIZ_SCENARIO"] == str(scenario.resolve())
    with mock.patch.dict(os.environ, {"INNATURA_VIZ_SCENARIO": str(scenario.resolve())}):
        from innatura.viz.view_model import EconomyView

        view = EconomyView(scenario_name=str(scenario.resolve()))
        assert view.errors == [] and view.economy is not None


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL])
def test_stopping_innatura_viz_frees_its_port(tmp_path, stop):
    pytest.importorskip("solara")
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "innatura", "viz", "butter-village", "--port", str(port)],
                            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not _listening(port):
            assert proc.poll() is None and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        proc.send_signal(stop)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 20
        while _listening(port) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _listening(port), "the solara server still holds the port"
    finally:
        proc.kill()
        proc.wait()


# -- a full disk loses nothing already written ---------------------------------------------------------
def _small_files(limit: int):
    def apply() -> None:  # in the child: files larger than ``limit`` bytes cannot be written
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    return apply


def test_a_write_that_fails_midway_is_an_error_and_keeps_the_old_file(tmp_path):
    market = tmp_path / "m.json"
    market.write_text(json.dumps({"utility": "linear", "weights": np.ones((30, 30)).tolist(),
                                  "budgets": [1.0] * 30, "supply": [1.0] * 30}))
    result = tmp_path / "out" / "result.json"
    result.parent.mkdir()
    result.write_text('{"old": true}')
    before = snapshot(tmp_path / "out")
    done = subprocess.run([sys.executable, "-m", "innatura", "equilibrium", str(market), "--out", str(result)],
                          capture_output=True, text=True, timeout=300, cwd=REPO, preexec_fn=_small_files(4096))
    assert done.returncode == 2, done.stderr
    assert f"{result}: cannot write: File too large" in done.stderr and "Traceback" not in done.stderr
    assert snapshot(tmp_path / "out") == before  # no half file, no temporary file left


def test_a_run_that_runs_out_of_disk_keeps_every_file_whole(tmp_path):
    out = tmp_path / "run"
    assert call(["run", "butter-village", "--days", "2", "--out", out, "--quiet", "--no-plots"])[0] == 0
    first = snapshot(out)
    done = subprocess.run([sys.executable, "-m", "innatura", "run", "butter-village", "--days", "4", "--out", str(out),
                           "--quiet", "--no-plots"], capture_output=True, text=True, timeout=300, cwd=REPO,
                          preexec_fn=_small_files(16_384))
    assert done.returncode == 2, done.stderr
    assert "cannot write: File too large" in done.stderr and str(out) in done.stderr
    assert "Traceback" not in done.stderr
    after = snapshot(out)
    assert set(after) == set(first)  # no temporary files left behind
    for name in after:
        if name.endswith(".csv"):
            pd.read_csv(out / name)  # every file is whole: the old one or a complete new one
        elif name.endswith(".json"):
            json.loads((out / name).read_text())
