"""Checkpoints as data: a resume is bit-identical from any day (also after SIGKILL, also mid-save),
a crafted run folder cannot run code, a broken checkpoint is refused naming file and field, a
resume cannot mix economies, and an interrupted save keeps the previous checkpoint."""

from __future__ import annotations

import ast
import hashlib
import io
import json
import random
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from bad_inputs import assert_refused, call, snapshot
from innatura.abm import checkpoint as ck
from innatura.abm.checkpoint import files as ck_files
from innatura.abm.checkpoint.files import CHECKPOINT_DIR, MANIFEST, npz_bytes
from innatura.abm.model import PlanningEconomy
from innatura.abm.outputs import write_agent_tables, write_model_csv
from innatura.abm.planning import METHODS
from innatura.planner.errors import InvalidInputError

from innatura.cli.resume import FREE_ON_RESUME, RUN_FLAGS

pytestmark = pytest.mark.filterwarnings("ignore")

REPO = Path(__file__).resolve().parents[1]
OUTPUTS = ("model.csv", "units.parquet", "regions.parquet", "citizens.parquet")
QUIET = ["--quiet", "--no-plots"]


def outputs(folder: Path) -> dict[str, bytes]:
    """The bytes of the result files a run writes."""
    return {name: (folder / name).read_bytes() for name in OUTPUTS}


def written(model: PlanningEconomy, folder: Path) -> dict[str, bytes]:
    """Write ``model``'s result files into ``folder`` as ``innatura run`` does; their bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    write_model_csv(model, folder)
    write_agent_tables(model, folder)
    return outputs(folder)


def contents(folder: Path) -> dict[str, tuple]:
    """Every file under ``folder``: its size and content hash."""
    return {name: entry[:2] for name, entry in snapshot(folder).items()}


def innatura(*argv: object, **kwargs: object) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "innatura", *map(str, argv)], capture_output=True, text=True,
                          timeout=600, cwd=kwargs.pop("cwd", REPO), **kwargs)


def manifest_day(run: Path) -> int | None:
    try:
        return json.loads((run / CHECKPOINT_DIR / MANIFEST).read_text())["day"]
    except (OSError, ValueError, KeyError):
        return None


# -- bit-identical from any day -------------------------------------------------------------------
RESUMED = {
    "butter-village with misreporting, an audit and losses": (
        "butter-village", dict(misreport_share=0.3, defences=("audit(0.5)",), noise=0.3, citizen_strategy="noise",
                               unit_strategy="ratchet(1.3, ramp_days=2)")),
    "archipelago with losses": ("archipelago", dict(noise=0.2)),
    "selviaria, exchange planner, robust aggregation, belief updates, noisy queries": (
        "selviaria", dict(planner="exchange", misreport_share=0.2, defences="robust+belief", query_noise=0.05)),
    "butter-village with adaptive adversaries on both sides (UCB1 citizens, EXP3 per unit) and the IC penalty": (
        "butter-village", dict(misreport_share=0.3, defences="ic", noise=0.3,
                               citizen_strategy="adaptive_inflate(high=2.0, step=0.25, learner='ucb')",
                               unit_strategy="adaptive_inputs(learner='exp3', shared=False)")),
}


@pytest.mark.parametrize("label", list(RESUMED))
def test_a_model_resumed_from_any_day_writes_the_same_bytes(tmp_path, label):
    scenario, options = RESUMED[label]
    days = 9
    whole = PlanningEconomy(scenario, rng=5, days=days, **options)
    saved = []
    while whole.running:
        whole.step()
        if whole.day < days:
            saved.append(tmp_path / f"day-{whole.day}")
            ck.save_checkpoint(whole, saved[-1])
    expected = written(whole, tmp_path / "whole")
    for folder in saved:
        model, _ = ck.load_checkpoint(folder)
        model.run_model()
        assert written(model, folder / "out") == expected, f"resumed from {folder.name}"
        assert model.rng.bit_generator.state == whole.rng.bit_generator.state
        assert model.random.getstate() == whole.random.getstate()


def test_the_reports_in_use_are_restored_exactly(tmp_path):
    """The root of the old difference from day 2 on: a unit's report stays the fit it made when
    its samples' version last changed, while an observation within 1e-12 of a sample replaces
    that sample's values; a report refitted from the samples differs in the last digits."""
    model = PlanningEconomy("archipelago", rng=1, days=30)
    for _ in range(4):
        model.step()
    stale = [u for u, (key, fits) in model.curves._fits.items()
             if fits and key[0] == model.state.sample_version[u]
             and not all(np.array_equal(f.values, model.state.samples[u].values[:, j]) for j, f in enumerate(fits))]
    assert stale, "no report differs from a fresh fit of its unit's samples: the test shows nothing"
    ck.save_checkpoint(model, tmp_path / "run")
    again, _ = ck.load_checkpoint(tmp_path / "run")
    for u in stale:
        for a, b in zip(model.curves._fits[u][1], again.curves._fits[u][1], strict=True):
            assert a.values == b.values and a.qs == b.qs and a.factor == b.factor


KILL_WHILE_SAVING = """
import json, os, signal, sys
from innatura.abm.checkpoint import files
write = files.atomic_write_bytes
def killing_write(path, data):
    if path.name == "manifest.json" and json.loads(data)["day"] == {day}:
        os.kill(os.getpid(), signal.SIGKILL)  # the array files of day {day} are written, its manifest is not
    return write(path, data)
files.atomic_write_bytes = killing_write
from innatura.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_run_killed_while_it_saves_resumes_from_the_previous_checkpoint_bit_identically(tmp_path):
    common = ["archipelago", "--seed", "3", "--noise", "0.2", "--days", "12", *QUIET]
    assert call(["run", *common, "--out", tmp_path / "whole"])[0] == 0
    run = tmp_path / "killed"
    done = subprocess.run([sys.executable, "-c", KILL_WHILE_SAVING.format(day=7), "run", *common,
                           "--checkpoint-every", "1", "--out", str(run)], capture_output=True, timeout=600, cwd=REPO)
    assert done.returncode == -signal.SIGKILL
    assert manifest_day(run) == 6  # the previous checkpoint is whole
    assert len(list((run / CHECKPOINT_DIR).glob("state-*.npz"))) == 2  # and day 7's array file an orphan
    status, _, err = call(["run", "--resume", run, *QUIET])
    assert status == 0, err
    assert outputs(run) == outputs(tmp_path / "whole")
    named = set(json.loads((run / CHECKPOINT_DIR / MANIFEST).read_text())["files"])
    assert {p.name for p in (run / CHECKPOINT_DIR).iterdir()} == named | {MANIFEST}  # the orphan is gone


RESUME_DAYS = (1, 7, 23, 50)
#: the flags of the 60-day runs of each scenario (seed 4)
SIXTY_DAYS = {
    "archipelago": ["--noise", "0.2"],
    "butter-village": ["--misreport-share", "0.3", "--defence", "audit(0.5)", "--noise", "0.3"],
}


def sixty_day_run(out: Path, scenario: str) -> Path:
    """``innatura run SCENARIO --days 60`` into ``out/whole``; after day 1, 7, 23 and 50 the run
    is also saved, as ``innatura run`` saves a run, into ``out/from-DAY``. The folder ``out``."""
    from innatura.cli.run import RunWriter

    start, whole = RunWriter.__init__, []

    def saving_writer(writer: RunWriter, *args: object, **kwargs: object) -> None:
        start(writer, *args, **kwargs)
        if whole:  # a writer of one of the saved folders
            return
        whole.append(writer)
        model, step = writer.model, writer.model.step

        def saving_step() -> None:
            step()
            if model.state.day in RESUME_DAYS and model.running:
                (out / f"from-{model.state.day}").mkdir()
                part = RunWriter(model, out / f"from-{model.state.day}", writer.settings, plots=False,
                                 replaces=True)
                part.rows()
                part.checkpoint()

        model.step = saving_step  # type: ignore[method-assign]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(RunWriter, "__init__", saving_writer)
        status, _, err = call(["run", scenario, "--seed", "4", *SIXTY_DAYS[scenario], *QUIET, "--days", "60",
                               "--out", out / "whole"])
    assert status == 0, err
    assert sorted(p.name for p in out.glob("from-*")) == sorted(f"from-{day}" for day in RESUME_DAYS)
    return out


@pytest.fixture(scope="module")
def sixty_days(tmp_path_factory):
    """The 60-day run of a scenario of :data:`SIXTY_DAYS`, made once per module (and worker)."""
    made: dict[str, Path] = {}

    def get(scenario: str) -> Path:
        if scenario not in made:
            made[scenario] = sixty_day_run(tmp_path_factory.mktemp(f"sixty-{scenario}"), scenario)
        return made[scenario]

    return get


#: the tests that share the 60-day butter-village run run in one worker
BUTTER_60 = pytest.mark.xdist_group("checkpoints-butter-village-60-days")


@pytest.mark.slow
@pytest.mark.parametrize("scenario", [pytest.param("archipelago"), pytest.param("butter-village", marks=BUTTER_60)])
def test_resume_from_days_1_7_23_50_of_a_60_day_run_writes_the_same_bytes(sixty_days, tmp_path, scenario):
    """One 60-day run, also saved after day 1, 7, 23 and 50 into folders of their own; each of
    these folders, resumed to day 60, writes the bytes of the whole run."""
    runs = sixty_days(scenario)
    for day in RESUME_DAYS:
        part = copy_run(runs / f"from-{day}", tmp_path / f"from-{day}")
        assert manifest_day(part) == day
        status, _, err = call(["run", "--resume", part, "--days", "60", *QUIET])
        assert status == 0, err
        assert outputs(part) == outputs(runs / "whole"), f"resumed from day {day}"


@pytest.mark.slow
@BUTTER_60
def test_a_run_killed_at_random_moments_resumes_bit_identically(sixty_days, tmp_path):
    """SIGKILL from outside, while the run steps or writes, three times; each time the run
    resumes from its last checkpoint; the finished run writes the bytes of one that never stopped."""
    common = ["butter-village", "--seed", "4", *SIXTY_DAYS["butter-village"], "--days", "60", *QUIET]
    run, rng = tmp_path / "killed", random.Random(18)
    argv = ["run", *common, "--checkpoint-every", "1", "--out", run]
    for target in (8, 25, 41):
        child = subprocess.Popen([sys.executable, "-m", "innatura", *map(str, argv)], cwd=REPO,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 300
        while (manifest_day(run) or 0) < target and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 0.05))
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=60) == -signal.SIGKILL, "the run ended before it was killed"
        assert manifest_day(run) >= target - 1
        argv = ["run", "--resume", run, "--checkpoint-every", "1", *QUIET]
    status, _, err = call(["run", "--resume", run, *QUIET])
    assert status == 0, err
    assert outputs(run) == outputs(sixty_days("butter-village") / "whole")


# -- an interrupted save keeps the previous checkpoint ----------------------------------------------
@pytest.mark.parametrize("stage", ["state", "rows", "scenario.toml", MANIFEST])
def test_a_save_that_fails_midway_keeps_the_previous_checkpoint(tmp_path, monkeypatch, stage):
    run = tmp_path / "run"
    old = PlanningEconomy("selviaria", rng=2, days=8, misreport_share=0.2)
    old.step()
    ck.save_checkpoint(old, run)
    before = contents(run)
    new = PlanningEconomy("butter-village", rng=2, days=8)  # another run, replacing it: the scenario copy changes
    for _ in range(3):
        new.step()
    write = ck_files.atomic_write_bytes

    def failing_write(path: Path, data: bytes) -> Path:
        if path.name == stage or path.name.startswith(f"{stage}-"):
            raise KeyboardInterrupt  # the worst moment: after everything before it was written
        return write(path, data)

    monkeypatch.setattr(ck_files, "atomic_write_bytes", failing_write)
    with pytest.raises(KeyboardInterrupt):
        ck.save_checkpoint(new, run, replace_run=True)
    monkeypatch.undo()
    assert contents(run) == before  # the scenario copy was put back
    model, _ = ck.load_checkpoint(run)
    assert model.spec.name == "selviaria" and model.day == 1


def test_save_checkpoint_never_replaces_another_run(tmp_path):
    run = tmp_path / "run"
    a = PlanningEconomy("butter-village", rng=1, days=4)
    a.step()
    ck.save_checkpoint(a, run)
    before = snapshot(run)
    for other in (PlanningEconomy("butter-village", rng=2, days=4), PlanningEconomy("selviaria", rng=1, days=4),
                  PlanningEconomy("butter-village", rng=1, days=4, noise=0.1)):
        with pytest.raises(InvalidInputError, match="another run"):
            ck.save_checkpoint(other, run)
    assert snapshot(run) == before
    a.step()
    a.run_until(6)  # the same run, further along and with more days: it replaces its own checkpoint
    ck.save_checkpoint(a, run)
    assert ck.open_checkpoint(run).day == 2


# -- a crafted run folder cannot run code ------------------------------------------------------------
def legacy_pickle(marker: Path) -> bytes:
    """A checkpoint.pkl of innatura 0.1 as a hostile folder would hold it: unpickling it creates
    ``marker`` (a pickle is a program; written here opcode by opcode, without the pickle module)."""
    return b"cbuiltins\nopen\n(V" + str(marker).encode() + b"\nVw\ntR."


def saved_run(tmp_path: Path, scenario: str = "butter-village", days: int = 2, **options: object) -> Path:
    model = PlanningEconomy(scenario, rng=3, days=6, misreport_share=0.3, defences=("audit(0.5)",), **options)
    for _ in range(days):
        model.step()
    run = tmp_path / "run"
    ck.save_checkpoint(model, run)
    return run


def test_an_old_pickled_checkpoint_is_refused_and_never_opened(tmp_path):
    marker = tmp_path / "pwned"
    old = tmp_path / "old"
    old.mkdir()
    (old / "checkpoint.pkl").write_bytes(legacy_pickle(marker))
    for target in (old, old / "checkpoint.pkl"):
        status, _, err = call(["run", "--resume", target, *QUIET])
        assert_refused(status, err, ("checkpoint.pkl", "old", "pickle", "never opens it"), ["run", "--resume", target])
    both = saved_run(tmp_path)  # a current checkpoint beside an old one: the old one is not touched either
    (both / "checkpoint.pkl").write_bytes(legacy_pickle(marker))
    assert call(["run", "--resume", both, *QUIET])[0] == 0
    assert not marker.exists()


def arrays_of(run: Path, role: str) -> dict[str, np.ndarray]:
    where = run / CHECKPOINT_DIR
    (name,) = [n for n, e in json.loads((where / MANIFEST).read_text())["files"].items() if e["role"] == role]
    with np.load(where / name, allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, array, allow_pickle=False)
    return buf.getvalue()


def zipped(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def replace_file(run: Path, role: str, data: bytes) -> Path:
    """Put ``data`` in place of the ``role`` array file, and list it in the manifest with its
    right name, hash and size: only the content is wrong."""
    where = run / CHECKPOINT_DIR
    manifest = json.loads((where / MANIFEST).read_text())
    (old,) = [n for n, e in manifest["files"].items() if e["role"] == role]
    digest = hashlib.sha256(data).hexdigest()
    path = where / f"{role}-{digest[:16]}.npz"
    (where / old).unlink()
    path.write_bytes(data)
    del manifest["files"][old]
    manifest["files"][path.name] = {"role": role, "sha256": digest, "bytes": len(data)}
    (where / MANIFEST).write_text(json.dumps(manifest))
    return path


def test_a_crafted_run_folder_cannot_run_code(tmp_path):
    marker = tmp_path / "pwned"
    # a strategy class in a module of the run folder (the current directory, so on the path)
    run = saved_run(tmp_path / "a")
    (run / "innatura_evil_module.py").write_text(f"open({str(marker)!r}, 'w').close()\nclass Evil:\n    pass\n")
    manifest = json.loads((run / CHECKPOINT_DIR / MANIFEST).read_text())
    manifest["state"]["unit_strategies"].append({"name": "evil", "class": "innatura_evil_module:Evil"})
    (run / CHECKPOINT_DIR / MANIFEST).write_text(json.dumps(manifest))
    done = innatura("run", "--resume", ".", *QUIET, cwd=run)
    assert_refused(done.returncode, done.stderr, ("manifest.json", "state.unit_strategies[2].class",
                                                  "never imports code"), ["run", "--resume", run])
    # a pickled object where the stocks should be
    run = saved_run(tmp_path / "b")
    members = {f"{k}.npy": npy(v) for k, v in arrays_of(run, "state").items()}
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|O", "fortran_order": False, "shape": (1,)})
    members["state/stocks.npy"] = header.getvalue() + legacy_pickle(marker)
    path = replace_file(run, "state", zipped(members))
    status, _, err = call(["run", "--resume", run, *QUIET])
    assert_refused(status, err, (path.name, "state/stocks", "float64"), ["run", "--resume", run])
    assert not marker.exists()


# -- a broken checkpoint is refused, naming the file and the field ------------------------------------
def leaves(data: object, path: tuple = ()) -> list[tuple]:
    """Every leaf of parsed JSON (empty lists and dicts count), as a path of keys."""
    if isinstance(data, dict) and data:
        return [leaf for k, v in data.items() for leaf in leaves(v, (*path, k))]
    if isinstance(data, list) and data:
        return [leaf for i, v in enumerate(data) for leaf in leaves(v, (*path, i))]
    return [path]


def other_type(value: object) -> object:
    """A value of another JSON type than ``value``."""
    if isinstance(value, bool):
        return "yes"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return 7
    if value is None:
        return "none"
    return [1] if isinstance(value, dict) else {"x": 1}


#: fields any value may take: what the caller keeps with a checkpoint, a plan's diagnostics.
FREE_FIELDS = (("extra",), ("memory", "last_decision", "info"))


@pytest.fixture(scope="module")
def good_run(tmp_path_factory) -> Path:
    run = saved_run(tmp_path_factory.mktemp("good"), noise=0.3, citizen_strategy="adaptive_inflate(step=0.25)",
                    unit_strategy="adaptive_inputs(shared=False)")
    ck.load_checkpoint(run)  # it is good
    return run


def copy_run(run: Path, dest: Path) -> Path:
    import shutil

    return Path(shutil.copytree(run, dest))


def test_every_field_of_the_manifest_with_a_wrong_type_is_refused_naming_it(good_run, tmp_path):
    manifest = json.loads((good_run / CHECKPOINT_DIR / MANIFEST).read_text())
    found = [p for p in leaves(manifest) if p[:len(FREE_FIELDS[0])] != FREE_FIELDS[0]
             and p[:len(FREE_FIELDS[1])] != FREE_FIELDS[1]
             and not (p[:3] == ("memory", "generators", "python") and len(p) == 5 and p[4] > 2)]
    assert len(found) > 60
    for path in found:
        run = copy_run(good_run, tmp_path / "-".join(map(str, path)))
        broken = json.loads(json.dumps(manifest))
        parent = broken
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = other_type(parent[path[-1]])
        (run / CHECKPOINT_DIR / MANIFEST).write_text(json.dumps(broken))
        with pytest.raises(InvalidInputError) as err:
            model, _ = ck.load_checkpoint(run)
            model.step()  # a planning method checks what depends on the economy on its first night
        assert str(run) in str(err.value), (path, str(err.value))


def test_every_array_of_another_type_or_shape_is_refused_naming_it(good_run, tmp_path):
    for role in ("state", "rows"):
        arrays = arrays_of(good_run, role)
        for key, value in arrays.items():
            wrong = {"type": value.astype(np.float64 if value.dtype != np.float64 else np.int64),
                     "shape": np.concatenate([value.ravel(), value.ravel()[:1]]) if value.size else np.zeros(3),
                     "missing": None}
            for label, change in wrong.items():
                run = copy_run(good_run, tmp_path / f"{key.replace('/', '-')}-{label}")
                changed = {k: v for k, v in arrays.items() if k != key}
                if change is not None:
                    changed[key] = change
                replace_file(run, role, npz_bytes(changed))
                with pytest.raises(InvalidInputError) as err:
                    model, _ = ck.load_checkpoint(run)
                    model.step()
                # the planning method's state is checked against the economy on its first night
                where = "planner" if key.startswith("memory/planner/") else str(run)
                assert where in str(err.value), (key, label, err.value)


@pytest.mark.parametrize("damage", ["no manifest", "no state file", "no rows file", "no scenario copy",
                                    "a changed byte", "another format version", "not JSON", "a folder of manifests"])
def test_a_damaged_checkpoint_is_refused_by_innatura_run(good_run, tmp_path, damage):
    run = copy_run(good_run, tmp_path / "run")
    where = run / CHECKPOINT_DIR
    state = next(where.glob("state-*.npz"))
    manifest = json.loads((where / MANIFEST).read_text())
    if damage == "no manifest":
        (where / MANIFEST).unlink()
    elif damage == "no state file":
        state.unlink()
    elif damage == "no rows file":
        next(where.glob("rows-*.npz")).unlink()
    elif damage == "no scenario copy":
        (run / "scenario.toml").unlink()
    elif damage == "a changed byte":
        raw = bytearray(state.read_bytes())
        raw[len(raw) // 2] ^= 1
        state.write_bytes(bytes(raw))
    elif damage == "another format version":
        (where / MANIFEST).write_text(json.dumps({**manifest, "format_version": 3}))
    elif damage == "not JSON":
        (where / MANIFEST).write_text("{" * 100_000)
    else:
        (where / MANIFEST).unlink()
        (where / MANIFEST).mkdir()
    before = snapshot(run)
    status, _, err = call(["run", "--resume", run, *QUIET])
    assert_refused(status, err, (str(run),), ["run", "--resume", run], damage)
    assert snapshot(run) == before


# -- a resume cannot mix economies ------------------------------------------------------------------
def test_every_flag_of_innatura_run_is_kept_or_free_on_resume():
    import argparse

    from innatura.cli import run as run_command

    parser = argparse.ArgumentParser()
    run_command.configure(parser)
    flags = set(vars(parser.parse_args([])))
    assert flags == set(RUN_FLAGS) | set(FREE_ON_RESUME) and not set(RUN_FLAGS) & set(FREE_ON_RESUME)


#: a value of each run flag that disagrees with the saved run of :func:`saved_cli_run`.
CONFLICTS = {
    "scenario": ["selviaria"], "seed": ["--seed", "9"], "planner": ["--planner", "exchange"],
    "model": ["--model", "trained"], "investment": ["--investment", "0.2"], "safety_stock": ["--safety-stock", "3"],
    "noise": ["--noise", "0.5"], "misreport_share": ["--misreport-share", "0.1"],
    "citizen_strategy": ["--citizen-strategy", "deflate"], "unit_strategy": ["--unit-strategy", "collude"],
    "defence": ["--defence", "robust"], "query_budget": ["--query-budget", "5"],
    "single_region": ["--single-region"], "staffed_capacity": ["--staffed-capacity"],
    "regional_dispatch": ["--regional-dispatch"], "regional_labour_rounds": ["--regional-labour-rounds", "1"],
    "plan": ["--plan", "regional"], "regional_method": ["--regional-method", "lp"],
    "regional_layers": ["--regional-layers", "2"],
}
SAVED = ["butter-village", "--seed", "4", "--misreport-share", "0.3", "--defence", "audit(0.5)", "--noise", "0.3"]


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("cli") / "run"
    assert call(["run", *SAVED, "--days", "3", "--out", run, *QUIET])[0] == 0
    return run


def test_a_conflicts_table_covers_every_run_flag():
    assert set(CONFLICTS) == set(RUN_FLAGS)


@pytest.mark.parametrize("dest", list(CONFLICTS))
def test_a_flag_that_conflicts_with_the_saved_run_is_refused_naming_both_values(cli_run, dest):
    flag = RUN_FLAGS[dest][0]
    argv = ["run", *(CONFLICTS[dest][:1] if dest == "scenario" else []), "--resume", cli_run,
            *([] if dest == "scenario" else CONFLICTS[dest]), "--days", "5", *QUIET]
    before = snapshot(cli_run)
    status, _, err = call(argv)
    names = ("scenario selviaria", "butter-village") if dest == "scenario" else (flag, "saved:", "given:")
    assert_refused(status, err, (*names, "conflicts with the saved run"), argv)
    assert snapshot(cli_run) == before


def test_flags_that_agree_with_the_saved_run_change_nothing(cli_run, tmp_path):
    whole = tmp_path / "whole"
    assert call(["run", *SAVED, "--days", "5", "--out", whole, *QUIET])[0] == 0
    run = copy_run(cli_run, tmp_path / "run")
    argv = ["run", *SAVED, "--resume", run, "--days", "5", "--strict", "--checkpoint-every", "1", *QUIET]
    status, _, err = call(argv)
    assert status == 0, err
    assert outputs(run) == outputs(whole)


def test_a_run_resumes_from_its_own_scenario_copy(tmp_path):
    original = tmp_path / "mine.toml"
    original.write_text((REPO / "scenarios" / "builtin" / "butter-village.toml").read_text())
    common = [original, "--seed", "2", "--noise", "0.3", *QUIET]
    assert call(["run", *common, "--days", "6", "--out", tmp_path / "whole"])[0] == 0
    run = tmp_path / "run"
    assert call(["run", *common, "--days", "3", "--out", run])[0] == 0
    text = original.read_text()
    original.write_text(text.replace("population = ", "population = 1", 1))  # edited after the run started
    assert call(["run", "--resume", run, "--days", "6", *QUIET])[0] == 0
    assert outputs(run) == outputs(tmp_path / "whole")
    # a comment in the copy changes nothing; a value is refused
    copy = run / "scenario.toml"
    copy.write_text("# my notes\n" + copy.read_text())
    assert call(["run", "--resume", run, "--days", "7", *QUIET])[0] == 0
    copy.write_text(copy.read_text().replace("population = ", "population = 1", 1))
    before = snapshot(run)
    status, _, err = call(["run", "--resume", run, "--days", "8", *QUIET])
    assert_refused(status, err, ("scenario.toml", "content changed since the run was saved"), ["run", "--resume"])
    assert snapshot(run) == before


def test_resume_with_out_copies_the_run_and_never_writes_over_another(cli_run, tmp_path):
    whole = tmp_path / "whole"
    assert call(["run", *SAVED, "--days", "5", "--out", whole, *QUIET])[0] == 0
    before = snapshot(cli_run)
    fork = tmp_path / "fork"
    assert call(["run", "--resume", cli_run, "--days", "5", "--out", fork, *QUIET])[0] == 0
    assert snapshot(cli_run) == before  # the saved run is as it was
    assert outputs(fork) == outputs(whole) and ck.open_checkpoint(fork).day == 5
    for other in (whole, tmp_path / "a-file-inside"):
        if not other.exists():
            other.mkdir()
            (other / "notes.txt").write_text("mine")
        held = snapshot(other)
        argv = ["run", "--resume", cli_run, "--days", "6", "--out", other, *QUIET]
        status, _, err = call(argv)
        assert_refused(status, err, ("--out", str(other), "not empty"), argv)
        assert snapshot(other) == held and snapshot(cli_run) == before


def test_a_resume_never_goes_back(cli_run):
    before = snapshot(cli_run)
    argv = ["run", "--resume", cli_run, "--days", "2", *QUIET]
    status, _, err = call(argv)
    assert_refused(status, err, ("--days 2", "at day 3"), argv)
    assert snapshot(cli_run) == before


def test_a_new_run_into_the_folder_of_another_run_replaces_it_whole(cli_run, tmp_path):
    run = copy_run(cli_run, tmp_path / "run")
    assert call(["run", "selviaria", "--days", "2", "--seed", "1", "--out", run, *QUIET])[0] == 0
    checkpoint = ck.open_checkpoint(run)
    assert checkpoint.spec.name == "selviaria" and checkpoint.seed == 1 and checkpoint.day == 2
    assert len(list((run / CHECKPOINT_DIR).glob("*.npz"))) == 2


# -- what cannot be saved is refused at save --------------------------------------------------------
class Forgetful:
    """A planning method without state_dict (it wraps OLIN-EP, whose warm start is memory)."""

    name = "forgetful"

    def __init__(self) -> None:
        from innatura.abm.planning import make_method

        self.olin = make_method("olin")

    def plan(self, inputs):
        return self.olin.plan(inputs)


class Remembering(Forgetful):
    name = "remembering"

    def state_dict(self) -> dict:
        return {"olin": self.olin.state_dict(), "nights": 1}

    def load_state_dict(self, state) -> None:
        self.olin.load_state_dict(state["olin"])


def test_a_planning_method_without_state_dict_is_refused_at_save(tmp_path, monkeypatch):
    monkeypatch.setitem(METHODS, "forgetful", Forgetful)
    monkeypatch.setitem(METHODS, "remembering", Remembering)
    model = PlanningEconomy("butter-village", rng=1, days=4, planner="forgetful")
    model.step()
    with pytest.raises(InvalidInputError, match=r"'forgetful' .*cannot be checkpointed: it has no state_dict\(\)"):
        ck.save_checkpoint(model, tmp_path / "run")
    assert not (tmp_path / "run").exists()
    whole = PlanningEconomy("butter-village", rng=1, days=4, planner="remembering")
    whole.run_model()
    part = PlanningEconomy("butter-village", rng=1, days=4, planner="remembering")
    part.step()
    ck.save_checkpoint(part, tmp_path / "run")
    again, _ = ck.load_checkpoint(tmp_path / "run")
    again.run_model()
    assert again.model_frame().equals(whole.model_frame())


# -- no pickle anywhere ------------------------------------------------------------------------------
UNPICKLING_MODULES = {"pickle", "cPickle", "_pickle", "cloudpickle", "dill", "shelve", "joblib", "marshal"}


def _problems(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name.split(".")[0] for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module.split(".")[0]]
        found += [f"line {node.lineno}: imports {n}" for n in names if n in UNPICKLING_MODULES]
        if isinstance(node, ast.Attribute) and node.attr in ("read_pickle", "to_pickle"):
            found.append(f"line {node.lineno}: {node.attr}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "load":
            keywords = {k.arg: k.value for k in node.keywords}
            base = ast.unparse(node.func.value)
            if base == "torch" and not (isinstance(keywords.get("weights_only"), ast.Constant)
                                        and keywords["weights_only"].value is True):
                found.append(f"line {node.lineno}: torch.load without weights_only=True")
            if base in ("np", "numpy") and isinstance(keywords.get("allow_pickle"), ast.Constant) \
                    and keywords["allow_pickle"].value is True:
                found.append(f"line {node.lineno}: np.load with allow_pickle=True")
    return found


def test_no_code_in_the_repository_pickles_or_unpickles():
    skip = {".venv", "build", "site", ".git", "node_modules"}
    sources = [p for p in REPO.rglob("*.py") if not skip & set(p.relative_to(REPO).parts)]
    assert len(sources) > 100
    problems = {str(p.relative_to(REPO)): _problems(ast.parse(p.read_text(encoding="utf-8"))) for p in sources}
    assert {k: v for k, v in problems.items() if v} == {}
    assert _problems(ast.parse("import pickle\ntorch.load(f)\nnp.load(f, allow_pickle=True)")) != []
