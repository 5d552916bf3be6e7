"""Errors raised while reading input-output tables: they name the file, the cell and the value."""

from __future__ import annotations

from pathlib import Path

from innatura.planner.errors import InvalidInputError

__all__ = ["TableFormatError"]


class TableFormatError(InvalidInputError):
    """An input-output table file is malformed.

    The message names the file and, where one is responsible, the line, the row label, the
    column label and the offending value, e.g.
    ``use.csv, line 7 (row '211', column '325'): non-numeric value 'n/a'``.

    Attributes:
        path: the file.
        line: 1-based line number in the file, when known.
        row: the row label, when known.
        column: the column label, when known.
        value: the offending text, when there is one.
    """

    def __init__(
        self,
        path: str | Path,
        problem: str,
        *,
        line: int | None = None,
        row: str | None = None,
        column: str | None = None,
        value: str | None = None,
    ):
        self.path = Path(path)
        self.line = line
        self.row = row
        self.column = column
        self.value = value
        where = [str(self.path)]
        if line is not None:
            where.append(f"line {line}")
        cell = []
        if row is not None:
            cell.append(f"row {row!r}")
        if column is not None:
            cell.append(f"column {column!r}")
        location = ", ".join(where) + (f" ({', '.join(cell)})" if cell else "")
        super().__init__(f"{location}: {problem}")
