"""The files of a checkpoint: written manifest-last, read with every byte checked.

A checkpoint lives in ``RUN/checkpoint/``: ``manifest.json`` (strict JSON) and the array files
it names, ``state-<hash>.npz`` and ``rows-<hash>.npz``, each named by the first 16 hex digits
of its SHA-256 and listed in the manifest with its full hash and size.

Writing (:func:`commit`) puts the array files down first (each atomically), then replaces
``manifest.json`` atomically, then removes the files the new manifest no longer names. The
manifest is the commit point: a save interrupted at any moment (an exception, ``SIGKILL``, a
full disk) leaves the previous manifest, and the files it names, untouched.

Reading never runs code: the manifest is parsed as JSON (:func:`scenarios.files.read_json`),
every array file is checked against its size and hash before it is opened, and arrays are
read from uncompressed ``.npy`` members with ``allow_pickle=False`` after their header (type
and shape) is checked (:class:`ArrayFile`). Every problem is an
:class:`~planner.errors.InputFileError` naming the file and the field.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from innatura.abm.checkpoint.tree import ARRAY_DTYPES
from innatura.planner.atomic import atomic_write_bytes
from innatura.planner.errors import InputFileError, OutputError
from innatura.scenarios.files import read_json

__all__ = [
    "CHECKPOINT_DIR",
    "MANIFEST",
    "ArrayFile",
    "Field",
    "commit",
    "npz_bytes",
    "read_array_file",
    "read_manifest",
]

logger = logging.getLogger(__name__)

#: the checkpoint's folder inside a run folder.
CHECKPOINT_DIR = "checkpoint"
#: the checkpoint's manifest, inside :data:`CHECKPOINT_DIR`.
MANIFEST = "manifest.json"
#: names of the array files a checkpoint writes (and may remove when it replaces them).
_ARRAY_FILE = re.compile(r"^[a-z]+-[0-9a-f]{16}\.npz$")
#: temporary files of an interrupted atomic write (:func:`planner.atomic.atomic_path`).
_TEMPORARY = re.compile(r"^\..+\.tmp$")
#: the date every member of an array file carries, so that equal arrays give equal bytes.
_EPOCH = (1980, 1, 1, 0, 0, 0)


def npz_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    """``arrays`` as the bytes of an uncompressed ``.npz`` file (``numpy.load`` reads it), the
    same bytes for the same arrays (members sorted, fixed dates, no pickled objects)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for key in sorted(arrays):
            info = zipfile.ZipInfo(f"{key}.npy", date_time=_EPOCH)
            with zf.open(info, "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, np.ascontiguousarray(arrays[key]), allow_pickle=False)
    return buf.getvalue()


def _rollback(written: list[Path], replaced: dict[Path, bytes | None]) -> None:
    """Undo an unfinished :func:`commit`: remove the files it added, put back those it replaced."""
    for path in written:
        path.unlink(missing_ok=True)
    for path, old in replaced.items():
        try:
            if old is None:
                path.unlink(missing_ok=True)
            else:
                atomic_write_bytes(path, old)
        except OSError as exc:  # pragma: no cover - the disk failed twice
            logger.error("%s: could not be put back (%s)", path, exc)


def commit(folder: Path, manifest: dict[str, Any], blobs: Mapping[str, bytes],
           beside: Mapping[Path, bytes] | None = None) -> Path:
    """Write the checkpoint of ``folder``: the array files ``blobs`` (role -> bytes), the files
    ``beside`` it (path -> bytes: the run's scenario copy), then the manifest listing the
    array files (the commit point), then remove what the new manifest does not name.

    An exception on the way (a full disk) removes what this call added and puts back what it
    replaced, so the previous checkpoint is left as it was; a process killed on the way
    leaves the previous manifest and its files in place (the next commit removes the rest).

    Returns:
        The checkpoint's folder.

    Raises:
        OutputError: a file cannot be written.
    """
    where = Path(folder) / CHECKPOINT_DIR
    if where.exists() and not where.is_dir():
        raise OutputError(where, "is a file; a checkpoint is a folder")
    files: dict[str, dict[str, Any]] = {}
    written: list[Path] = []
    replaced: dict[Path, bytes | None] = {}
    try:
        for role, data in blobs.items():
            digest = hashlib.sha256(data).hexdigest()
            target = where / f"{role}-{digest[:16]}.npz"
            if not target.exists():
                written.append(target)
            atomic_write_bytes(target, data)
            files[target.name] = {"role": role, "sha256": digest, "bytes": len(data)}
        for path, data in (beside or {}).items():
            replaced[path] = path.read_bytes() if path.exists() else None
            atomic_write_bytes(path, data)
        text = json.dumps({**manifest, "files": files}, indent=1, allow_nan=False)
        atomic_write_bytes(where / MANIFEST, (text + "\n").encode("utf-8"))
    except BaseException:
        _rollback(written, replaced)
        raise
    for old in where.iterdir():
        if old.name not in files and (_ARRAY_FILE.match(old.name) or _TEMPORARY.match(old.name)):
            old.unlink(missing_ok=True)
    return where


class Field:
    """Typed access to the fields of a parsed JSON document, with errors naming file and field.

    Args:
        path: the file, for messages.
        data: the parsed document (or a part of it).
        name: the dotted name of ``data`` inside the document (``""`` for the whole).
    """

    def __init__(self, path: Path, data: Any, name: str = "") -> None:
        self.path, self.data, self.name = Path(path), data, name

    def _full(self, key: str | int) -> str:
        return f"{self.name}.{key}" if self.name else str(key)

    def error(self, problem: str, key: str | int | None = None, **value: Any) -> InputFileError:
        """An :class:`InputFileError` about ``key`` (or this field)."""
        field = self.name if key is None else self._full(key)
        return InputFileError(self.path, problem, field=field or None, **value)

    def sub(self, key: str, kind: type | tuple[type, ...] = dict) -> Field:
        """The member ``key`` as a :class:`Field` (it must be a ``kind``)."""
        return Field(self.path, self.get(key, kind), self._full(key))

    def get(self, key: str, kind: type | tuple[type, ...], *, optional: bool = False) -> Any:
        """The member ``key``, which must be of ``kind`` (``int`` excludes booleans; ``float``
        takes whole numbers too); ``None`` is accepted when ``optional``."""
        if not isinstance(self.data, dict):
            raise self.error("expected a JSON object", value=self.data)
        if key not in self.data:
            raise self.error("missing", key)
        value = self.data[key]
        if value is None and optional:
            return None
        kinds = kind if isinstance(kind, tuple) else (kind,)
        ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
        if not ok and float in kinds and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if not ok:
            names = " or ".join(k.__name__ for k in kinds) + (" or null" if optional else "")
            raise self.error(f"expected {names}", key, value=value)
        return value


def read_manifest(folder: Path) -> Field:
    """The manifest of the checkpoint in ``folder`` (the run folder), parsed strictly."""
    path = Path(folder) / CHECKPOINT_DIR / MANIFEST
    return Field(path, read_json(path, "checkpoint manifest"))


def read_array_file(manifest: Field, role: str) -> ArrayFile:
    """The array file of ``role`` that ``manifest`` names, its size and SHA-256 checked."""
    files = manifest.sub("files")
    named = [n for n, entry in files.data.items() if isinstance(entry, dict) and entry.get("role") == role]
    if len(named) != 1:
        raise files.error(f"expected one file of role {role!r}, found {len(named)}")
    name = named[0]
    if not _ARRAY_FILE.match(name):
        raise files.error("not the name of a checkpoint's array file", name)
    entry = files.sub(name)
    size, digest = entry.get("bytes", int), entry.get("sha256", str)
    path = manifest.path.parent / name
    if not path.is_file():
        raise InputFileError(path, "missing: the checkpoint is incomplete (the manifest names it)")
    if path.stat().st_size != size:
        raise InputFileError(path, f"{path.stat().st_size} bytes, the manifest says {size}: the file was changed")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != digest:
        raise InputFileError(path, "its SHA-256 does not match the manifest's: the file was changed or damaged")
    return ArrayFile(path, data)


class ArrayFile:
    """The arrays of one checkpoint ``.npz`` file, each read with its type and shape checked.

    Args:
        path: the file, for messages.
        data: its bytes (already checked against the manifest).
    """

    def __init__(self, path: Path, data: bytes) -> None:
        self.path = Path(path)
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
            self._members = {info.filename: info for info in self._zip.infolist()}
        except (zipfile.BadZipFile, ValueError, OSError) as exc:
            raise InputFileError(self.path, f"not an .npz file ({exc})") from None

    def names(self) -> set[str]:
        """The names of the arrays in the file."""
        return {name[:-4] for name in self._members if name.endswith(".npy")}

    def _header(self, key: str) -> tuple[tuple[int, ...], np.dtype]:
        info = self._members.get(f"{key}.npy")
        if info is None:
            raise InputFileError(self.path, "missing", field=f"array {key!r}")
        if info.compress_type != zipfile.ZIP_STORED:
            raise InputFileError(self.path, "compressed; checkpoint arrays are stored uncompressed",
                                 field=f"array {key!r}")
        try:
            with self._zip.open(info) as fh:
                version = np.lib.format.read_magic(fh)
                reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                    np.lib.format.read_array_header_2_0
                shape, _, dtype = reader(fh)
        except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
            raise InputFileError(self.path, f"not a .npy array ({exc})", field=f"array {key!r}") from None
        return tuple(shape), np.dtype(dtype)

    def get(self, key: str, dtype: np.dtype | type | None = None,
            shape: Sequence[int | None] | None = None) -> np.ndarray:
        """The array ``key``, which must have ``dtype`` (``None``: any of
        :data:`~abm.checkpoint.tree.ARRAY_DTYPES`) and ``shape`` (``None`` on an axis: any
        length; ``shape=None``: any shape).

        Raises:
            InputFileError: the array is missing, of another type or shape, or unreadable.
        """
        got_shape, got_dtype = self._header(key)
        allowed = ARRAY_DTYPES if dtype is None else (np.dtype(dtype),)
        if got_dtype not in allowed or got_dtype not in ARRAY_DTYPES:
            names = " or ".join(str(d) for d in allowed)
            raise InputFileError(self.path, f"expected an array of {names}", field=f"array {key!r}",
                                 value=str(got_dtype))
        if shape is not None and (len(got_shape) != len(shape) or
                                  any(w is not None and w != g for w, g in zip(shape, got_shape, strict=True))):
            expected = "(" + ", ".join("any" if w is None else str(w) for w in shape) + ")"
            raise InputFileError(self.path, f"expected shape {expected}", field=f"array {key!r}", value=got_shape)
        try:
            with self._zip.open(self._members[f"{key}.npy"]) as fh:
                return np.lib.format.read_array(fh, allow_pickle=False)
        except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
            raise InputFileError(self.path, f"unreadable ({exc})", field=f"array {key!r}") from None
