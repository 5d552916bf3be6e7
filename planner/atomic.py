"""Atomic file writes: a reader never sees half a file, and an interrupted write leaves the old one.

Every layer writes results through these helpers (scenario files, checkpoints, run outputs,
sweep records, figures): the data go to a temporary file in the target's folder, are flushed
to disk, and replace the target with ``os.replace``. On any error the temporary file is
removed and the target is untouched; a failure of the file system (a full disk, a folder that
is not writable, a file where a folder should be) becomes an
:class:`~planner.errors.OutputError` naming the target.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from innatura.planner.errors import OutputError

__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_text"]

#: mode of written files (``mkstemp`` would leave them readable by their owner only).
FILE_MODE = 0o644


@contextmanager
def atomic_path(path: str | os.PathLike[str], *, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path beside ``path`` for a writer that wants a file name.

    When the ``with`` block ends normally, the temporary file is flushed to disk and replaces
    ``path``; when it raises, the temporary file is removed and ``path`` is left as it was.

    Args:
        path: the file to write; its folder is created if missing.
        suffix: suffix of the temporary name, for writers that infer the format from it
            (``".png"`` for matplotlib, ``".parquet"``, ``".npz"``).

    Example:
        >>> with atomic_path("out/figure.png", suffix=".png") as tmp:  # doctest: +SKIP
        ...     fig.savefig(tmp)
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=suffix)
    except OSError as exc:
        raise OutputError(target, exc.strerror or str(exc)) from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, target)
    except OSError as exc:
        raise OutputError(target, exc.strerror or str(exc)) from None
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; returns the path."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically; returns the path."""
    return atomic_write_bytes(path, text.encode(encoding))
