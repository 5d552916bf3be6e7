"""WIOD national input-output tables (2016 release) -> an :class:`IOTable` for one year.

The file stacks one industry-by-industry table per year: label columns ``Year``, ``Code``,
``Description`` and ``Origin`` (``Domestic``; ``Imports`` rows, where present, are imported
intermediates; a ``VA`` row, where present, is value added; other rows are ignored), one
column per industry code, final-demand columns (``CONS_h``, ``CONS_np``, ``CONS_g``, ``GFCF``,
``INVEN``, ``EXP``) and gross output ``GO``. The domestic block gives
``A = Z diag(1/x)`` and final demand per component; WIOD balances exactly,
``x = Z 1 + F 1``. Without a ``VA`` row (as in the shipped USA file), value added is gross
output less domestic (and, where present, imported) intermediate inputs.

Credit: Timmer, Dietzenbacher, Los, Stehrer and de Vries (2015), "An Illustrated User Guide to
the World Input-Output Database: the Case of Global Automotive Production", Review of
International Economics 23: 575-605 (WIOD, CC BY 4.0).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from innatura.planner.errors import InputFileError
from innatura.scenarios.files import read_text
from innatura.scenarios.io_tables.csvgrid import TextGrid, read_grid
from innatura.scenarios.io_tables.errors import TableFormatError
from innatura.scenarios.io_tables.table import IOTable

__all__ = ["load_wiod", "wiod_years"]

logger = logging.getLogger(__name__)

_LABELS = ("Year", "Code", "Description", "Origin")
_GROSS_OUTPUT = ("GO",)
_FD_NAMES = {
    "CONS_h": "Final consumption expenditure by households",
    "CONS_np": "Final consumption expenditure by non-profit organisations serving households",
    "CONS_g": "Final consumption expenditure by government",
    "GFCF": "Gross fixed capital formation",
    "INVEN": "Changes in inventories and valuables",
    "EXP": "Exports",
}


def _read(path: Path) -> tuple[TextGrid, np.ndarray, int, int]:
    try:
        head = read_text(path, "WIOD table").split("\n", 1)[0]
    except InputFileError as exc:
        raise TableFormatError(path, exc.problem) from None
    n_labels = 0
    for cell in head.strip().split(","):
        if cell.strip().strip('"') in _LABELS:
            n_labels += 1
        else:
            break
    for need in ("Year", "Code"):
        if need not in [c.strip().strip('"') for c in head.split(",")[:n_labels]]:
            raise TableFormatError(path, f"missing label column {need!r}; a WIOD table starts with {list(_LABELS)}",
                                   line=1)
    label_header = [c.strip().strip('"') for c in head.split(",")[:n_labels]]
    yi, ci = label_header.index("Year"), label_header.index("Code")
    grid = read_grid(path, n_labels=n_labels, key=ci)
    years = []
    for lab, line in zip(grid.labels, grid.lines, strict=False):
        try:
            years.append(int(float(lab[yi])))
        except ValueError:
            raise TableFormatError(path, f"non-numeric year {lab[yi]!r}", line=line, row=lab[ci],
                                   column="Year", value=lab[yi]) from None
    return grid, np.array(years), yi, ci


def wiod_years(path: str | Path) -> list[int]:
    """The years a WIOD national table file holds, sorted."""
    _, years, _, _ = _read(Path(path))
    return sorted(set(years.tolist()))


def _choose_year(path: Path, years: np.ndarray, year: int | None) -> int:
    """``year``, checked against the file's years; the latest when ``None``."""
    available = sorted(set(years.tolist()))
    if year is None:
        logger.info("%s: no year given, using the latest, %d", path, available[-1])
        return int(available[-1])
    if year not in available:
        raise TableFormatError(path, f"unknown year {year}; the file holds {available[0]}-{available[-1]}"
                               if len(available) > 1 else f"unknown year {year}; the file holds {available}")
    return year


def _year_rows(grid: TextGrid, years: np.ndarray, year: int,
               ci: int) -> tuple[list[int], list[int], list[int], list[str]]:
    """The year's rows: domestic industries, imported inputs of those industries, value added,
    and the codes of the rows not used."""
    rows = np.flatnonzero(years == year).tolist()
    oi = grid.label_header.index("Origin") if "Origin" in grid.label_header else None
    origin = [grid.labels[r][oi].strip().lower() if oi is not None else "domestic" for r in rows]
    domestic = [r for r, o in zip(rows, origin, strict=False) if o == "domestic"]
    codes = [grid.labels[r][ci] for r in domestic]
    imported = [r for r, o in zip(rows, origin, strict=False) if o == "imports" and grid.labels[r][ci] in codes]
    va_rows = [r for r, o in zip(rows, origin, strict=False) if o != "domestic" and grid.labels[r][ci] == "VA"]
    ignored = sorted({grid.labels[r][ci] for r, o in zip(rows, origin, strict=False) if o != "domestic"}
                     - {grid.labels[r][ci] for r in imported + va_rows})
    return domestic, imported, va_rows, ignored


def _columns(path: Path, grid: TextGrid, year: int, domestic: list[int], codes: list[str], ci: int,
             go: int) -> tuple[list[int], list[int]]:
    """The industry columns (in the rows' order) and the final-demand columns, checked."""
    cols = list(grid.columns)
    if len(set(codes)) != len(codes):
        dup = sorted({c for c in codes if codes.count(c) > 1})
        raise TableFormatError(path, f"year {year}: duplicate industry rows {dup[:5]}", row=dup[0])
    missing = [c for c in codes if c not in cols]
    if missing:
        r = domestic[codes.index(missing[0])]
        raise TableFormatError(path, f"industry row {missing[0]!r} has no matching column", line=grid.lines[r],
                               row=missing[0])
    ind_cols = [cols.index(c) for c in codes]
    extra = [c for j, c in enumerate(cols) if j not in ind_cols and j != go and c not in _FD_NAMES
             and c in set(grid.row_keys(ci))]
    if extra:
        raise TableFormatError(path, f"year {year}: industry columns {extra[:5]} have no row", column=extra[0])
    fd_cols = [j for j, c in enumerate(cols) if j not in ind_cols and j != go and c not in set(grid.row_keys(ci))]
    return ind_cols, fd_cols


def load_wiod(path: str | Path, year: int | None = None) -> IOTable:
    """Load one year's domestic block of a WIOD national IO table.

    Args:
        path: the CSV file.
        year: the year to load; default the latest in the file.

    Returns:
        The :class:`IOTable` (negative cells kept; WIOD USA has none in ``A``).

    Raises:
        TableFormatError: missing ``GO`` column, unknown year (naming those available),
            ragged rows, non-numeric cells, rows that do not match the industry columns.
    """
    path = Path(path)
    grid, years, _yi, ci = _read(path)
    year = _choose_year(path, years, year)
    cols = list(grid.columns)
    go = next((cols.index(c) for c in _GROSS_OUTPUT if c in cols), None)
    if go is None:
        raise TableFormatError(path, "missing gross output column 'GO'")
    domestic, imported, va_rows, ignored = _year_rows(grid, years, year, ci)
    codes = [grid.labels[r][ci] for r in domestic]
    ind_cols, fd_cols = _columns(path, grid, year, domestic, codes, ci, go)
    Z = grid.numeric(domestic, ind_cols)
    F = grid.numeric(domestic, fd_cols)
    x = grid.numeric(domestic, [go])[:, 0]
    if (x < 0).any():
        i = int(np.flatnonzero(x < 0)[0])
        raise TableFormatError(path, f"negative gross output {float(x[i])!r}", line=grid.lines[domestic[i]],
                               row=codes[i], column="GO")
    imported_inputs = grid.numeric(imported, ind_cols).sum(axis=0) if imported else np.zeros(len(codes))
    notes = []
    gap = np.abs(Z.sum(axis=1) + F.sum(axis=1) - x)
    worst = int(np.argmax(gap))
    if gap[worst] > 1e-6 * max(abs(x[worst]), 1.0):
        raise TableFormatError(
            path, f"year {year}: gross output {float(x[worst])!r} differs from intermediate plus final use "
            f"{float(Z[worst].sum() + F[worst].sum())!r}",
            line=grid.lines[domestic[worst]], row=codes[worst], column="GO")
    notes.append(f"year {year}: rows balance (x = Z 1 + F 1) to within {gap.max():.3g}")
    zero = [codes[i] for i in np.flatnonzero(x == 0)]
    if zero:
        notes.append(f"industries with zero gross output (zero columns of A): {zero}")
    A = np.divide(Z, x[None, :], out=np.zeros_like(Z), where=x[None, :] > 0)
    di = grid.label_header.index("Description") if "Description" in grid.label_header else ci
    fd_codes = [cols[j] for j in fd_cols]
    if va_rows:
        value_added = grid.numeric(va_rows[:1], ind_cols)[0]
        notes.append("value added from the table's VA row")
    else:
        value_added = x - Z.sum(axis=0) - imported_inputs
        notes.append("value added = gross output - domestic intermediate inputs"
                     + (" - imported intermediate inputs" if imported else " (includes imported intermediates)"))
    if ignored:
        notes.append(f"rows not used (not domestic, imported or VA): {ignored}")
    return IOTable(
        name=f"WIOD national IO table {year} (domestic block)",
        source=str(path),
        format="wiod",
        year=int(year),
        industries=tuple(codes),
        industry_names=tuple(grid.labels[r][di] for r in domestic),
        A=sp.csr_matrix(A),
        final_demand=F,
        final_demand_codes=tuple(fd_codes),
        final_demand_names=tuple(_FD_NAMES.get(c, c) for c in fd_codes),
        value_added=value_added,
        gross_output=x,
        unit="US$ million per year",
        notes=tuple(notes),
    )
