"""A strict reader for labelled numeric CSV tables.

Input-output tables arrive as CSV files whose first column(s) hold row labels and whose
header holds column labels. Every problem is reported with the file, line, row and column
label and the offending text (:class:`~scenarios.io_tables.errors.TableFormatError`): a
ragged row, an empty or non-numeric cell, a duplicate label. Nothing is silently filled in.
"""

from __future__ import annotations

import csv
import io
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from innatura.planner.errors import InputFileError
from innatura.scenarios.files import read_text
from innatura.scenarios.io_tables.errors import TableFormatError

__all__ = ["TextGrid", "read_grid"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TextGrid:
    """A CSV file read as text, checked to be rectangular.

    Attributes:
        path: the file.
        label_header: header cells of the label columns.
        columns: header cells of the value columns.
        labels: per data row, its label cells (a tuple of ``len(label_header)`` strings).
        cells: per data row, its value cells as text.
        lines: per data row, its 1-based line number in the file.
        key: which label cell names a row in error messages.
    """

    path: Path
    label_header: tuple[str, ...]
    columns: tuple[str, ...]
    labels: tuple[tuple[str, ...], ...]
    cells: tuple[tuple[str, ...], ...]
    lines: tuple[int, ...]
    key: int = 0

    def row_keys(self, which: int = 0) -> list[str]:
        """The ``which``-th label of every data row."""
        return [lab[which] for lab in self.labels]

    def column_index(self, name: str) -> int | None:
        """Position of value column ``name``, or ``None``."""
        try:
            return self.columns.index(name)
        except ValueError:
            return None

    def numeric(self, rows: Sequence[int] | None = None, cols: Sequence[int] | None = None) -> np.ndarray:
        """Parse the chosen value cells as floats.

        Args:
            rows: data-row positions (default: all).
            cols: value-column positions (default: all).

        Returns:
            Array of shape ``(len(rows), len(cols))``.

        Raises:
            TableFormatError: on an empty, non-numeric or non-finite cell, naming it.
        """
        rows = range(len(self.cells)) if rows is None else rows
        cols = range(len(self.columns)) if cols is None else cols
        out = np.empty((len(rows), len(cols)))
        for a, r in enumerate(rows):
            text_row = self.cells[r]
            for b, c in enumerate(cols):
                text = text_row[c].strip()
                try:
                    value = float(text)
                except ValueError:
                    problem = "empty cell" if not text else "non-numeric value"
                    raise TableFormatError(
                        self.path, f"{problem} {text_row[c]!r}; expected a number",
                        line=self.lines[r], row=self.labels[r][self.key], column=self.columns[c], value=text_row[c],
                    ) from None
                if not math.isfinite(value):
                    raise TableFormatError(
                        self.path, f"non-finite value {text_row[c]!r}",
                        line=self.lines[r], row=self.labels[r][self.key], column=self.columns[c], value=text_row[c],
                    )
                out[a, b] = value
        return out


def read_grid(path: str | Path, n_labels: int = 1, key: int = 0) -> TextGrid:
    """Read a labelled CSV table as text and check that it is rectangular.

    Args:
        path: the CSV file.
        n_labels: how many leading columns hold row labels.
        key: which of them names a row in error messages.

    Returns:
        The :class:`TextGrid`.

    Raises:
        TableFormatError: the file is missing, empty, has no data rows, has a ragged row
            (naming the line, the row label and both lengths) or duplicate column labels.
    """
    path = Path(path)
    try:
        text = read_text(path, "CSV table")
    except InputFileError as exc:
        raise TableFormatError(path, exc.problem) from None
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise TableFormatError(path, f"cannot be read as CSV text: {exc}") from None
    while rows and not any(cell.strip() for cell in rows[-1]):
        rows.pop()
    if not rows:
        raise TableFormatError(path, "the file is empty; expected a header row of column labels")
    header = [h.strip() for h in rows[0]]
    if len(header) <= n_labels:
        raise TableFormatError(path, f"the header has {len(header)} cells; expected labels and value columns",
                               line=1)
    columns = tuple(header[n_labels:])
    seen: dict[str, int] = {}
    for pos, name in enumerate(columns):
        if not name:
            raise TableFormatError(path, f"empty column label at position {pos + n_labels + 1}", line=1)
        if name in seen:
            raise TableFormatError(path, f"duplicate column label {name!r}", line=1, column=name)
        seen[name] = pos
    labels, cells, lines = [], [], []
    for lineno, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            label = row[key].strip() if len(row) > key else ""
            raise TableFormatError(
                path, f"ragged row: {len(row)} cells, the header has {len(header)}", line=lineno, row=label,
            )
        labels.append(tuple(cell.strip() for cell in row[:n_labels]))
        cells.append(tuple(row[n_labels:]))
        lines.append(lineno)
    if not cells:
        raise TableFormatError(path, "no data rows below the header")
    logger.debug("read %s: %d rows x %d columns", path, len(cells), len(columns))
    return TextGrid(path, tuple(header[:n_labels]), columns, tuple(labels), tuple(cells), tuple(lines), key)
