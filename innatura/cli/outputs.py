"""Where commands write: output paths checked before any work, and one writer per run folder.

* :func:`check_output_dir` / :func:`check_output_file`: a path a command will write must be
  a folder (or a regular file) or not exist yet, and the folder that will hold it must be
  writable; checked before the command computes anything, so a bad ``--out`` costs nothing
  and changes nothing (failures name the flag, the path and the reason).
* :class:`FolderLock`: an exclusive lock on a run folder, so that a second ``innatura run``
  (or sweep) into the same ``--out`` is refused instead of mixing its files with the first's.
  It is a ``flock`` on the folder itself: no lock file is left behind, and the operating
  system releases it when the process ends, however it ends (a killed run never blocks the
  next one).
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import tempfile
from pathlib import Path
from types import TracebackType

from innatura.planner.errors import InvalidInputError

__all__ = ["FolderLock", "FolderLockedError", "check_output_dir", "check_output_file"]

logger = logging.getLogger(__name__)


class FolderLockedError(InvalidInputError):
    """Another process holds the lock of the folder."""


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if os.path.lexists(candidate):
            return candidate
    return Path(".")  # pragma: no cover - "/" always exists


def _check_writable_folder(folder: Path, flag: str, target: Path) -> None:
    """``folder`` exists: it must be a folder in which this process can create files."""
    if not folder.is_dir():
        raise InvalidInputError(f"{flag} {target}: {folder} is a file, not a folder")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise InvalidInputError(f"{flag} {target}: cannot write in {folder} ({exc.strerror or exc})") from None


def check_output_dir(path: str | os.PathLike[str], flag: str = "--out") -> Path:
    """Check that ``path`` can be a command's output folder; returns it as a :class:`Path`.

    Nothing is created: an existing folder must be writable; for a new one, the nearest
    existing folder above it must be.

    Raises:
        InvalidInputError: ``path`` is a file (or a file lies where a parent folder should be),
            or the folder that will hold it is not writable.
    """
    target = Path(path)
    if os.path.lexists(target) and not target.is_dir():
        raise InvalidInputError(f"{flag} {target}: exists and is not a folder; give a folder for the results")
    _check_writable_folder(_nearest_existing(target), flag, target)
    return target


def check_output_file(path: str | os.PathLike[str], flag: str = "--out") -> Path:
    """Check that ``path`` can be written as a regular file (replaced atomically); returns it.

    Raises:
        InvalidInputError: ``path`` is a folder or a device, pipe or socket (replacing it would
            destroy it), a parent is a file, or the folder that will hold it is not writable.
    """
    target = Path(path)
    if target.is_dir():
        raise InvalidInputError(f"{flag} {target}: is a folder; give a file name")
    if target.exists() and not target.is_file():
        raise InvalidInputError(f"{flag} {target}: is not a regular file (a device, pipe or socket)")
    _check_writable_folder(_nearest_existing(target.parent), flag, target)
    return target


class FolderLock:
    """An exclusive, non-blocking lock on a folder, held while the ``with`` block runs.

    Args:
        folder: the folder (created if missing).
        what: what is being written, for the message (``"a run"``, ``"a sweep"``).

    Raises:
        FolderLockedError: on entry, when another process holds the lock.
    """

    def __init__(self, folder: str | os.PathLike[str], what: str = "a run") -> None:
        self.folder = Path(folder)
        self.what = what
        self._fd: int | None = None

    def __enter__(self) -> FolderLock:
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.folder, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise FolderLockedError(
                    f"{self.folder}: another innatura process is writing {self.what} there; wait for it to finish "
                    "or give another --out (the lock goes when that process ends, even if it is killed)"
                ) from None
            logger.debug("%s: cannot lock the folder (%s); going on without a lock", self.folder, exc)
            return self
        self._fd = fd
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None
