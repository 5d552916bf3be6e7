"""Checkpoints of a run: a model saved as data, resumed with results identical to a run that
never stopped, and read like every other input (a crafted run folder cannot run code).

A checkpoint lives in the run folder (``RUN``)::

    RUN/scenario.toml                 the run's own copy of its scenario (scenarios.dump_toml)
    RUN/checkpoint/manifest.json      format and innatura version, day, seed, settings, the
                                      scenario's content hash, strategies, defences' memory,
                                      generator states, the planning method's state, and the
                                      SHA-256 and size of each file below
    RUN/checkpoint/state-<hash>.npz   the State arrays, the units' samples, the reports in use,
                                      and the arrays of the memory above
    RUN/checkpoint/rows-<hash>.npz    the rows collected so far (model, units, regions)

:func:`save_checkpoint` writes the array files first and the manifest last (its replacement
is the commit: an interrupted save leaves the previous checkpoint whole; :mod:`.files`).
:func:`open_checkpoint` reads and checks the manifest, the files' hashes and the scenario copy
(whose content hash must be the one saved: an edited copy is refused, an edited original file
changes nothing) without building the model; :meth:`Checkpoint.restore` builds the model from
the copy, the seed and the settings, and puts back everything saved, so that stepping on gives
byte for byte what the uninterrupted run gives. Arrays are read with ``allow_pickle=False``
after their type and shape are checked; classes are never imported (:mod:`.guard`); every
problem is an :class:`~planner.errors.InvalidInputError` naming the file and the field.

What is saved, and why it is enough: the model is a function of its scenario, seed and
settings, its :class:`~abm.state.State`, its generators, the memory of its defences and of its
planning method (``state_dict()``, :class:`abm.planning.StatefulMethod`), the reports in use
(:meth:`abm.reported_curves.ReportedCurves.state_dict`) and the central planner's last plan
(kept when a night's method fails). Caches that give the same numbers when rebuilt (the
stacked curve cells, the planner's curve store) are rebuilt. A checkpoint written by an older
innatura as a Python pickle (``checkpoint.pkl``) is refused and never opened.

    >>> import tempfile
    >>> from innatura.abm.model import PlanningEconomy
    >>> model = PlanningEconomy("butter-village", rng=1, days=4)
    >>> model.step(); model.step()
    >>> folder = tempfile.mkdtemp()
    >>> _ = save_checkpoint(model, folder)
    >>> again = load_checkpoint(folder)[0]
    >>> model.run_model(); again.run_model()
    >>> again.model_frame().equals(model.model_frame())
    True
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from innatura.abm.checkpoint.files import (
    CHECKPOINT_DIR,
    MANIFEST,
    ArrayFile,
    Field,
    commit,
    npz_bytes,
    read_array_file,
    read_manifest,
)
from innatura.abm.checkpoint.guard import check_exact, check_no_import
from innatura.abm.checkpoint.memory import capture_memory, restore_memory
from innatura.abm.checkpoint.rows import capture_rows, restore_rows
from innatura.abm.checkpoint.state_io import capture_state, restore_state
from innatura.abm.settings import RunSettings
from innatura.planner.atomic import atomic_write_bytes
from innatura.planner.errors import InputFileError, InvalidInputError
from innatura.scenarios.errors import ScenarioError
from innatura.scenarios.limits import MAX_SEED

if TYPE_CHECKING:  # pragma: no cover
    from innatura.abm.model import PlanningEconomy
    from innatura.scenarios.spec import ScenarioSpec

__all__ = [
    "CHECKPOINT_DIR",
    "CHECKPOINT_VERSION",
    "FIELDS_FREE_ON_RESUME",
    "LEGACY_FILE",
    "SCENARIO_FILE",
    "Checkpoint",
    "load_checkpoint",
    "open_checkpoint",
    "save_checkpoint",
]

logger = logging.getLogger(__name__)

#: version of the checkpoint format (1 was the pickle of innatura 0.1.0, never read).
CHECKPOINT_VERSION = 2
#: what the manifest says it is.
FORMAT = "innatura-checkpoint"
#: the run's own copy of its scenario, in the run folder.
SCENARIO_FILE = "scenario.toml"
#: the checkpoint file of older versions: a pickle, refused and never opened.
LEGACY_FILE = "checkpoint.pkl"
#: settings that a run may change when it resumes: how far it runs and whether a broken
#: invariant stops it. Every other setting is the run's: resuming with another is another run.
FIELDS_FREE_ON_RESUME = ("days", "strict")
#: the arrays of the reports in use (:meth:`abm.reported_curves.ReportedCurves.state_dict`).
_CURVE_ARRAYS = {"unit": np.int64, "version": np.int64, "factor": np.float64, "count": np.int64,
                 "qs": np.float64, "values": np.float64}


def _innatura_version() -> str:
    try:
        return version("innatura")
    except PackageNotFoundError:  # pragma: no cover - a source tree that is not installed
        return "0+unknown"


def _identity(scenario_hash: str, seed: int | None, settings: dict[str, Any]) -> dict[str, Any]:
    """What makes two checkpoints checkpoints of the same run (at any day)."""
    kept = {k: v for k, v in settings.items() if k not in FIELDS_FREE_ON_RESUME}
    return json.loads(json.dumps({"scenario": scenario_hash, "seed": seed, "settings": kept}))


@dataclass(frozen=True, eq=False)
class Checkpoint:
    """A checked checkpoint, read but not yet turned into a model (:func:`open_checkpoint`).

    Attributes:
        folder: the run folder.
        day: the day it was saved at (days simulated).
        seed: the run's seed (``None`` when the model was given a generator).
        spec: the scenario, read from the run's copy (its content hash checked).
        settings: the run's settings.
        extra: what the caller saved with it (``innatura run`` keeps its summary settings).
        innatura_version: the version that wrote it.
    """

    folder: Path
    day: int
    seed: int | None
    spec: ScenarioSpec
    settings: RunSettings
    extra: dict[str, Any]
    innatura_version: str
    manifest: Field
    state_file: ArrayFile
    rows_file: ArrayFile

    def identity(self) -> dict[str, Any]:
        """The scenario's content hash, the seed and the settings but ``days`` and ``strict``."""
        return _identity(self.spec.content_hash, self.seed, self.settings.to_dict())

    def restore(self) -> PlanningEconomy:
        """The model as it was saved: stepping it on gives what the uninterrupted run gives.

        Raises:
            InvalidInputError: a field of the checkpoint is malformed (naming file and field),
                or the model cannot be built (an unknown planning method, ...).
        """
        from innatura.abm.model import PlanningEconomy

        if self.innatura_version != _innatura_version():
            logger.warning("%s was written by innatura %s, this is %s: the run goes on, but its results need not "
                           "be those the other version would give", self.manifest.path, self.innatura_version,
                           _innatura_version())
        model = PlanningEconomy(self.spec, rng=self.seed, settings=self.settings)
        self._check_sizes(model)
        restore_state(model, self.manifest.sub("state"), self.state_file)
        if model.state.day != self.day:
            raise self.manifest.error(f"the state is at day {model.state.day}", "day", value=self.day)
        curves = {key: self.state_file.get(f"curves/{key}", dtype, (None,)) for key, dtype in _CURVE_ARRAYS.items()}
        try:
            model.curves.load_state_dict(curves)
        except (InvalidInputError, KeyError) as exc:
            raise InputFileError(self.state_file.path, str(exc), field="arrays 'curves/*'") from None
        restore_memory(model, self.manifest, self.state_file)
        restore_rows(model, self.manifest, self.rows_file)
        model.steps = self.day
        model.running = self.day < model.settings.require("days")
        logger.info("resumed %s at day %d from %s", self.spec.name, self.day, self.folder)
        return model

    def _check_sizes(self, model: PlanningEconomy) -> None:
        lay = model.layout
        sizes = self.manifest.sub("sizes")
        for key, value in (("citizens", lay.n_citizens), ("units", lay.n_units), ("goods", lay.n_goods),
                           ("regions", lay.n_regions)):
            if sizes.get(key, int) != value:
                raise sizes.error(f"the scenario copy gives {value}", key, value=sizes.data[key])
        if self.manifest.sub("scenario").get("name", str) != self.spec.name:
            raise self.manifest.error(f"the scenario copy is {self.spec.name!r}", "scenario.name",
                                      value=self.manifest.data["scenario"]["name"])

    def copy_to(self, folder: str | os.PathLike[str]) -> Path:
        """Copy the checkpoint and the scenario copy into ``folder`` (the manifest last);
        returns ``folder``. ``folder`` must hold no run (see :func:`save_checkpoint`)."""
        dest = Path(folder)
        atomic_write_bytes(dest / SCENARIO_FILE, (self.folder / SCENARIO_FILE).read_bytes())
        for npz in (self.state_file, self.rows_file):
            atomic_write_bytes(dest / CHECKPOINT_DIR / npz.path.name, npz.path.read_bytes())
        atomic_write_bytes(dest / CHECKPOINT_DIR / MANIFEST, self.manifest.path.read_bytes())
        return dest


# -- saving -------------------------------------------------------------------------------------
def _saved_identity(folder: Path) -> dict[str, Any] | None:
    """The identity of the run whose checkpoint ``folder`` holds (``None``: none)."""
    if not (folder / CHECKPOINT_DIR / MANIFEST).exists():
        return None
    try:
        manifest = read_manifest(folder)
        scenario = manifest.sub("scenario")
        return _identity(scenario.get("content_hash", str), manifest.get("seed", int, optional=True),
                         manifest.get("settings", dict))
    except InvalidInputError as exc:
        raise InvalidInputError(f"{folder}: holds a checkpoint that cannot be read ({exc}); give another folder "
                                "or remove its checkpoint/") from None


def _scenario_copy(model: PlanningEconomy, folder: Path, held: dict[str, Any] | None) -> dict[Path, bytes]:
    """The run's copy of its scenario to write with the checkpoint (nothing when the folder
    holds it already).

    Args:
        held: the identity of the run whose checkpoint the folder holds (``None``: none).

    Raises:
        InvalidInputError: the folder holds a ``scenario.toml`` of another scenario that is no
            run's copy (a file of the user's).
    """
    from innatura.scenarios.loader import dumps_toml, load_toml

    path = folder / SCENARIO_FILE
    mine = model.spec.content_hash
    if path.exists() and held is None:
        try:
            theirs = load_toml(path).content_hash
        except ScenarioError:
            theirs = None
        if theirs != mine:
            raise InvalidInputError(f"{path}: a scenario file that is not this run's; a run keeps its own copy of "
                                    f"its scenario under that name: give another folder")
        return {}
    if held is not None and held["scenario"] == mine and path.exists():
        return {}
    header = ("# The scenario of this run, as it was when the run started: innatura run --resume reads this copy,\n"
              f"# and refuses it if its content changes (content hash {mine}).\n")
    return {path: (header + dumps_toml(model.spec)).encode("utf-8")}


def save_checkpoint(model: PlanningEconomy, folder: str | os.PathLike[str], extra: dict[str, Any] | None = None,
                    *, replace_run: bool = False) -> Path:
    """Save ``model`` into the run folder ``folder``; returns the checkpoint's folder.

    The previous checkpoint of the same run is replaced at once (manifest last); the run's
    copy of its scenario is written with the first checkpoint.

    Args:
        model: a :class:`~abm.model.PlanningEconomy`.
        folder: the run folder (created if missing).
        extra: JSON-safe data to keep with the checkpoint (returned by :func:`load_checkpoint`).
        replace_run: the folder may hold the checkpoint of another run, which this one
            replaces (a new ``innatura run`` into an old ``--out``); the other run stays whole
            until this checkpoint is complete.

    Raises:
        InvalidInputError: ``folder`` holds another run (another scenario, seed or settings)
            and ``replace_run`` is false, or something in the model cannot be saved as data
            (a planning method without ``state_dict()``; the message says what and why).
            Nothing is written then.
        OutputError: a file cannot be written; the previous checkpoint stays as it was.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InvalidInputError(f"{folder}: is a file; a checkpoint is saved into a run folder")
    mine = _identity(model.spec.content_hash, model.seed, model.settings.to_dict())
    held = _saved_identity(folder)
    if held is not None and held != mine and not replace_run:
        raise InvalidInputError(f"{folder}: holds the checkpoint of another run (another scenario, seed or "
                                "settings); give another folder")
    manifest, blobs = _capture(model, extra)
    beside = _scenario_copy(model, folder, held)
    where = commit(folder, manifest, blobs, beside)
    logger.info("checkpoint of day %d written to %s", model.state.day, where)
    return where


def _capture(model: PlanningEconomy, extra: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The manifest (without its file list) and the array files of ``model``."""
    extra = dict(extra or {})
    try:
        json.dumps(extra, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"checkpoint extra data: not plain JSON ({exc})") from None
    state, state_arrays = capture_state(model.state)
    memory, memory_arrays = capture_memory(model)
    rows, row_arrays = capture_rows(model)
    curves = {f"curves/{k}": v for k, v in model.curves.state_dict().items()}
    lay = model.layout
    manifest = {
        "format": FORMAT, "format_version": CHECKPOINT_VERSION, "innatura_version": _innatura_version(),
        "day": int(model.state.day), "seed": model.seed,
        "scenario": {"file": SCENARIO_FILE, "name": model.spec.name, "content_hash": model.spec.content_hash},
        "settings": model.settings.to_dict(),
        "sizes": {"citizens": lay.n_citizens, "units": lay.n_units, "goods": lay.n_goods,
                  "regions": lay.n_regions},
        "state": state, "memory": memory, "rows": rows, "extra": extra,
    }
    blobs = {"state": npz_bytes({**state_arrays, **curves, **memory_arrays}), "rows": npz_bytes(row_arrays)}
    return manifest, blobs


# -- reading ------------------------------------------------------------------------------------
def _run_folder(folder: Path) -> Path:
    """``folder`` if it holds a checkpoint; otherwise a clear error (never opening a pickle)."""
    legacy = (folder.parent if folder.is_file() else folder) / LEGACY_FILE
    old = (f"{legacy}: a checkpoint in the old format of innatura 0.1 (a Python pickle, which can run code "
           "when it is opened); innatura never opens it. Run the simulation again to get a checkpoint in the "
           "current format (checkpoint/manifest.json)")
    if not folder.exists():
        raise InvalidInputError(f"{folder}: no such folder, so no checkpoint to continue from")
    if folder.is_file():
        if folder.name == LEGACY_FILE or folder.suffix in (".pkl", ".pickle"):
            raise InvalidInputError(old)
        raise InvalidInputError(f"{folder}: a file, not a run folder, so no checkpoint to continue from; give the "
                                "output folder (--out) of an earlier run")
    if not (folder / CHECKPOINT_DIR / MANIFEST).exists():
        if legacy.exists():
            raise InvalidInputError(old)
        raise InvalidInputError(f"{folder}: no checkpoint there ({CHECKPOINT_DIR}/{MANIFEST}), so no run to "
                                "continue (innatura run writes one every --checkpoint-every days and at the end)")
    return folder


def _scenario(folder: Path, manifest: Field) -> ScenarioSpec:
    from innatura.scenarios.loader import load_toml

    scenario = manifest.sub("scenario")
    expected = scenario.get("content_hash", str)
    if scenario.get("file", str) != SCENARIO_FILE:
        raise scenario.error(f"expected {SCENARIO_FILE!r}", "file", value=scenario.data["file"])
    path = folder / SCENARIO_FILE
    spec = load_toml(path)
    if spec.content_hash != expected:
        raise InputFileError(path, f"its content changed since the run was saved (content hash {spec.content_hash}, "
                             f"saved {expected}); a run resumes only with its own scenario", field="content hash")
    return spec


def _settings(manifest: Field) -> RunSettings:
    data = manifest.get("settings", dict)
    check_no_import(data, manifest.path, "settings")
    try:
        settings = RunSettings.from_dict(data)
    except InvalidInputError as exc:
        raise InputFileError(manifest.path, str(exc), field="settings") from None
    check_exact(data, settings.to_dict(), manifest.path, "settings")
    if settings.days is None or settings.investment_share is None or settings.safety_stock is None:
        raise manifest.error("days, investment_share and safety_stock must be set (resolved settings)", "settings")
    return settings


def open_checkpoint(folder: str | os.PathLike[str]) -> Checkpoint:
    """Read and check the checkpoint of the run folder ``folder`` (no model is built yet).

    Raises:
        InvalidInputError: no checkpoint there, an old pickled one (never opened), or a
            missing file, a hash that does not match, another format version, a field of the
            wrong type or shape; the message names the file and the field.
    """
    folder = _run_folder(Path(folder))
    manifest = read_manifest(folder)
    if manifest.get("format", str) != FORMAT:
        raise manifest.error(f"expected {FORMAT!r}", "format", value=manifest.data["format"])
    if manifest.get("format_version", int) != CHECKPOINT_VERSION:
        raise manifest.error(f"this innatura reads checkpoints of version {CHECKPOINT_VERSION}", "format_version",
                             value=manifest.data["format_version"])
    day, seed = manifest.get("day", int), manifest.get("seed", int, optional=True)
    if day < 0 or (seed is not None and not 0 <= seed <= MAX_SEED):
        raise manifest.error(f"day >= 0 and seed in [0, {MAX_SEED}]", "day", value=(day, seed))
    return Checkpoint(folder=folder, day=day, seed=seed, spec=_scenario(folder, manifest),
                      settings=_settings(manifest), extra=manifest.get("extra", dict),
                      innatura_version=manifest.get("innatura_version", str), manifest=manifest,
                      state_file=read_array_file(manifest, "state"), rows_file=read_array_file(manifest, "rows"))


def load_checkpoint(folder: str | os.PathLike[str]) -> tuple[PlanningEconomy, dict[str, Any]]:
    """The model saved in the run folder ``folder``, and the extra data saved with it.

    Raises:
        InvalidInputError: as :func:`open_checkpoint` and :meth:`Checkpoint.restore`.
    """
    checkpoint = open_checkpoint(folder)
    return checkpoint.restore(), dict(checkpoint.extra)
