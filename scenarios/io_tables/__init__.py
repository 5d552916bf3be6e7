"""Real input-output tables as economies: BEA Make/Use, WIOD national tables, pymrio systems.

The front door is :func:`load_table`::

    from innatura.scenarios.io_tables import load_table
    table = load_table("scenarios/data/io/bea_summary_2022", format="bea", negative_policy="clip")
    table.A, table.f, table.gross_output

Each loader returns an :class:`IOTable` (industry-by-industry coefficients, final-demand
components, value added, gross output). Negative cells are handled by the named policy of
:mod:`scenarios.io_tables.policy` and reported in ``table.negatives``.
:func:`~scenarios.io_tables.to_scenario.table_to_spec` turns a table into a scenario.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from innatura.planner.errors import InvalidInputError
from innatura.scenarios.io_tables.bea import load_bea
from innatura.scenarios.io_tables.errors import TableFormatError
from innatura.scenarios.io_tables.policy import POLICIES, NegativeReport, apply_negative_policy
from innatura.scenarios.io_tables.pymrio_adapter import from_pymrio, load_pymrio
from innatura.scenarios.io_tables.table import IOTable
from innatura.scenarios.io_tables.wiod import load_wiod

__all__ = [
    "FORMATS",
    "POLICIES",
    "IOTable",
    "NegativeReport",
    "TableFormatError",
    "apply_policy",
    "data_path",
    "from_pymrio",
    "load_bea",
    "load_pymrio",
    "load_table",
    "load_wiod",
]

logger = logging.getLogger(__name__)


def _load_pymrio(table: Any, year: int | None) -> IOTable:
    if year is not None:
        raise InvalidInputError("--year does not apply to pymrio systems; load the year's system instead")
    if isinstance(table, (str, Path)):
        return load_pymrio(table)
    return from_pymrio(table)


#: format name -> loader ``(table, year) -> IOTable``.
FORMATS: dict[str, Callable[[Any, int | None], IOTable]] = {
    "bea": lambda table, year: load_bea(table, year=year),
    "wiod": lambda table, year: load_wiod(table, year=year),
    "pymrio": _load_pymrio,
}


def data_path(name: str = "") -> Path:
    """Path of the tables shipped in ``scenarios/data/io`` (``name``: a folder or file in it)."""
    return Path(__file__).resolve().parent.parent / "data" / "io" / name


def apply_policy(table: IOTable, negative_policy: str) -> IOTable:
    """Return ``table`` with the negative-value policy applied and recorded in ``negatives``."""
    A, F, report = apply_negative_policy(table.A, table.final_demand, table.industries,
                                         table.final_demand_codes, negative_policy)
    return dataclasses.replace(table, A=A, final_demand=F, negatives=report)


def load_table(table: Any, format: str, year: int | None = None, negative_policy: str = "keep") -> IOTable:
    """Load an input-output table and apply the negative-value policy.

    Args:
        table: BEA: the folder with ``use.csv`` and ``make.csv`` (or the ``use.csv`` path);
            WIOD: the CSV file; pymrio: an ``IOSystem``, a saved system's path, or ``"test"``.
        format: ``"bea"``, ``"wiod"`` or ``"pymrio"``.
        year: the year (WIOD: which year of the file, default the latest; BEA: checked against
            the folder name).
        negative_policy: ``"keep"`` or ``"clip"`` (:mod:`scenarios.io_tables.policy`).

    Returns:
        The :class:`IOTable`, with ``negatives`` reporting what the policy found and did.

    Raises:
        InvalidInputError: unknown format or policy; :class:`TableFormatError` for malformed files.
    """
    if format not in FORMATS:
        raise InvalidInputError(f"unknown table format {format!r}; choose one of {sorted(FORMATS)}")
    if negative_policy not in POLICIES:
        raise InvalidInputError(f"negative policy {negative_policy!r} is unknown; choose one of {sorted(POLICIES)}")
    loaded = FORMATS[format](table, year)
    return apply_policy(loaded, negative_policy)
