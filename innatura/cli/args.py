"""Argument types of the command line: every number is checked where it is parsed.

Each function here returns an ``argparse`` ``type=`` callable that turns the text of one
argument into a value or raises :class:`argparse.ArgumentTypeError`; argparse then prints
``innatura CMD: error: argument --FLAG: <why>`` and exits with status 2. So every flag of
every command names itself, its bounds and the value it got, before any work starts:

* :func:`whole`: an integer in ``[lo, hi]`` (``hi`` may be a function, for limits that
  depend on the machine, such as :func:`worker_count`);
* :func:`real`: a finite float in an interval (open or closed at each end; ``nan`` and
  ``inf`` never pass);
* :data:`seed`: a seed, ``0 <= seed <= 2**63 - 1``;
* :func:`worker_count`: worker processes, ``1`` to the CPUs of this machine;
* :func:`memory_count`: a size whose memory must fit in this machine (citizens, buyers, ...);
* :func:`real_list`, :func:`whole_list`: comma-separated lists of those.
"""

from __future__ import annotations

import argparse
import logging
import math
from collections.abc import Callable

from innatura.planner.errors import InvalidInputError
from innatura.scenarios.limits import MAX_SEED, check_fits, max_workers

__all__ = ["memory_count", "real", "real_list", "seed", "whole", "whole_list", "worker_count"]

logger = logging.getLogger(__name__)

Bound = int | Callable[[], int] | None


def _bound(value: Bound) -> int | None:
    return value() if callable(value) else value


def _parse_int(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def whole(lo: Bound = None, hi: Bound = None, why: str = "") -> Callable[[str], int]:
    """An integer in ``[lo, hi]`` (either end may be ``None``: unbounded; or a function).

    Args:
        lo, hi: the bounds, inclusive.
        why: said after the bounds when the value is above ``hi`` (``"this machine has 2 CPUs"``).
    """

    def parse(text: str) -> int:
        value = _parse_int(text)
        low, high = _bound(lo), _bound(hi)
        if (low is not None and value < low) or (high is not None and value > high):
            if high is None:
                span = f">= {low}"
            elif low is None:
                span = f"<= {high}"
            else:
                span = f"in [{low}, {high}]"
            reason = f"; {why}" if why and high is not None and value > high else ""
            raise argparse.ArgumentTypeError(f"expected a whole number {span}, got {text.strip()}{reason}")
        return value

    parse.__name__ = "whole number"
    return parse


def real(lo: float | None = None, hi: float | None = None, *, lo_open: bool = False,
         hi_open: bool = False) -> Callable[[str], float]:
    """A finite float in the interval from ``lo`` to ``hi`` (closed unless ``*_open``)."""

    def parse(text: str) -> float:
        try:
            value = float(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        ok = math.isfinite(value)
        ok = ok and (lo is None or (value > lo if lo_open else value >= lo))
        ok = ok and (hi is None or (value < hi if hi_open else value <= hi))
        if not ok:
            left = "-inf" if lo is None else f"{lo:g}"
            right = "inf" if hi is None else f"{hi:g}"
            span = f"{'(' if lo_open or lo is None else '['}{left}, {right}{')' if hi_open or hi is None else ']'}"
            raise argparse.ArgumentTypeError(f"expected a finite number in {span}, got {text.strip()}")
        return value

    parse.__name__ = "number"
    return parse


#: a seed: ``0 <= seed <= 2**63 - 1`` (seeds are stored as signed 64-bit integers).
seed = whole(0, MAX_SEED)


def worker_count() -> Callable[[str], int]:
    """Worker processes: 1 to the CPUs of this machine."""
    cpus = max_workers()
    return whole(1, cpus, f"this machine has {cpus} CPUs")


def memory_count(lo: int, bytes_each: float, what: str) -> Callable[[str], int]:
    """A count ``>= lo`` of things of ``bytes_each`` bytes each that must fit in this machine's memory."""
    base = whole(lo)

    def parse(text: str) -> int:
        value = base(text)
        try:
            check_fits(value * float(bytes_each), f"{value} {what}")
        except InvalidInputError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return value

    parse.__name__ = "count"
    return parse


def _listed(item: Callable[[str], float | int], text: str) -> list:
    parts = [p for p in text.split(",") if p.strip()]
    if not parts:
        raise argparse.ArgumentTypeError(f"expected values separated by commas, got {text!r}")
    return [item(p) for p in parts]


def real_list(lo: float | None = None, hi: float | None = None) -> Callable[[str], list[float]]:
    """Comma-separated finite numbers in ``[lo, hi]``."""
    item = real(lo, hi)

    def parse(text: str) -> list[float]:
        return [float(v) for v in _listed(item, text)]

    parse.__name__ = "list of numbers"
    return parse


def whole_list(lo: Bound = None, hi: Bound = None) -> Callable[[str], list[int]]:
    """Comma-separated integers in ``[lo, hi]``."""
    item = whole(lo, hi)

    def parse(text: str) -> list[int]:
        return [int(v) for v in _listed(item, text)]

    parse.__name__ = "list of whole numbers"
    return parse
