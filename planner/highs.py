"""A HiGHS instance that keeps quiet: its banner goes to the log, never to standard output.

``highspy.Highs()`` prints ``Running HiGHS ...: Copyright ...`` on the process's standard
output the first time it is constructed, before any option can be set, so a command that
prints JSON would print something else first. :func:`new_highs` constructs the instance with
file descriptor 1 pointed at a temporary file, logs what HiGHS wrote there at DEBUG level,
and switches HiGHS's own output off.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import sys
import tempfile
import threading

import highspy

__all__ = ["new_highs"]

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_banner_done = False


def _flush_c_stdout() -> None:
    with contextlib.suppress(OSError, AttributeError):  # no C library: nothing to flush
        ctypes.CDLL(None).fflush(None)


def new_highs() -> highspy.Highs:
    """A ``highspy.Highs()`` with ``output_flag`` off, whose start-up banner went to the log."""
    global _banner_done
    if _banner_done:
        h = highspy.Highs()
    else:
        with _lock:
            h = _construct_captured()
            _banner_done = True
    h.setOptionValue("output_flag", False)
    return h


def _construct_captured() -> highspy.Highs:
    """Construct the first instance with standard output captured at the descriptor level."""
    with contextlib.suppress(OSError, ValueError):  # a closed or broken stdout: nothing to keep apart
        sys.stdout.flush()
    _flush_c_stdout()
    try:
        saved = os.dup(1)
    except OSError:  # no descriptor 1 at all: nothing can be printed on it
        return highspy.Highs()
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 1)
        try:
            h = highspy.Highs()
            _flush_c_stdout()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        capture.seek(0)
        text = capture.read().decode("utf-8", "replace").strip()
    if text:
        logger.debug("HiGHS: %s", text)
    return h
