"""US BEA Make and Use tables (summary or detail) -> an industry-by-industry :class:`IOTable`.

The BEA Use table is commodity x industry; the Make table is industry x commodity. Under the
industry-technology assumption (Miller and Blair, *Input-Output Analysis*, 2nd ed., Sec. 5.3):

* ``B = U diag(1/g)``: commodity inputs per unit of industry output (``g`` industry output);
* ``D = V diag(1/q)``: market shares, industry ``i``'s share of commodity ``j``'s output
  (``q`` commodity output);
* ``A = D B``: industry-by-industry coefficients, and ``f = D e``: final demand per industry
  (``e`` commodity final demand, net of imports).

The table is a folder holding ``use.csv`` and ``make.csv`` (or the path of ``use.csv``, with
``make.csv`` beside it). Labels follow BEA: the Use table's commodity rows end at the total
intermediate row (``Total Intermediate`` / ``T005``), followed by value-added rows (``V...``)
and the industry output row (``Total Industry Output`` / ``T008``); its industry columns end at
the total intermediate column (``Total Intermediate`` / ``T001``), followed by final-demand
columns (``F...``) and totals. The Make table's last row is total commodity output
(``Total Commodity Output`` / ``T007``), its last column total industry output. Optional
``*IndustryCodeName*.csv`` and ``*FinalDemandCodeName*.csv`` files (code, name) give names.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from innatura.scenarios.io_tables.csvgrid import TextGrid, read_grid
from innatura.scenarios.io_tables.errors import TableFormatError
from innatura.scenarios.io_tables.table import IOTable

__all__ = ["bea_paths", "load_bea"]

logger = logging.getLogger(__name__)

_INTERMEDIATE_ROW = ("Total Intermediate", "T005")
_INTERMEDIATE_COL = ("Total Intermediate", "T001")
_VALUE_ADDED_TOTAL = ("Total Value Added", "T006")
_INDUSTRY_OUTPUT = ("Total Industry Output", "T008")
_COMMODITY_OUTPUT = ("Total Commodity Output", "T007")
_FINAL_USES_TOTAL = ("Total Final Uses (GDP)", "T019", "T004")


def bea_paths(table: str | Path) -> tuple[Path, Path]:
    """The ``(use.csv, make.csv)`` paths for a BEA table folder or its ``use.csv``.

    Raises:
        TableFormatError: the folder or a file is missing.
    """
    table = Path(table)
    if table.is_dir():
        use, make = table / "use.csv", table / "make.csv"
    else:
        use, make = table, table.with_name("make.csv")
    for p, what in ((use, "the Use table"), (make, "the Make table")):
        if not p.is_file():
            raise TableFormatError(p, f"missing: {what} of a BEA table (a folder with use.csv and make.csv)")
    return use, make


def _find(labels: list[str] | tuple[str, ...], names: tuple[str, ...]) -> int | None:
    for name in names:
        if name in labels:
            return list(labels).index(name)
    return None


def _require(grid: TextGrid, labels: list[str], names: tuple[str, ...], what: str, axis: str) -> int:
    pos = _find(labels, names)
    if pos is None:
        alts = " or ".join(repr(n) for n in names)
        raise TableFormatError(grid.path, f"missing total {axis} {alts} ({what})")
    return pos


def _check_total(path: Path, parts: np.ndarray, total: np.ndarray, labels: list[str], axis: str, what: str,
                 notes: list[str], n_cells: int) -> None:
    """Compare a stated total with the sum of its ``n_cells`` cells. BEA rounds cells to whole
    units, so half a unit per cell is rounding; beyond that plus 1% of the total is an error."""
    diff = np.abs(parts - total)
    bad = np.flatnonzero(diff > 0.01 * np.abs(total) + 0.5 * n_cells + 1e-9)
    if bad.size:
        i = bad[np.argmax(diff[bad])]
        raise TableFormatError(
            path, f"{what}: the total {float(total[i])!r} differs from the sum of the cells {float(parts[i])!r}",
            **{axis: labels[i]}, value=repr(float(total[i])),
        )
    worst = float(diff.max()) if diff.size else 0.0
    if worst > 0:
        notes.append(f"{path.name}: {what} matches the sum of its cells to within {worst:g} (rounding)")


def _unique_rows(grid: TextGrid, labels: list[str], what: str) -> None:
    """A row label that repeats is an error in the file that holds it, at its second line."""
    seen: dict[str, int] = {}
    for k, label in enumerate(labels):
        if label in seen:
            raise TableFormatError(grid.path, f"duplicate {what} row {label!r} (also line {grid.lines[seen[label]]})",
                                   line=grid.lines[k], row=label)
        seen[label] = k


def _names(folder: Path, pattern: str, codes: list[str]) -> list[str]:
    for p in sorted(folder.glob(pattern)):
        grid = read_grid(p)
        mapping = {lab[0]: cells[0].strip() for lab, cells in zip(grid.labels, grid.cells, strict=False)}
        return [mapping.get(c, c) for c in codes]
    return list(codes)


def _year(folder: Path, year: int | None) -> int | None:
    found = re.findall(r"(?<!\d)(19\d\d|20\d\d)(?!\d)", folder.name)
    detected = int(found[-1]) if found else None
    if year is not None and detected is not None and year != detected:
        raise TableFormatError(folder, f"unknown year {year}: this BEA table is for {detected}")
    return year if year is not None else detected


@dataclass(frozen=True, eq=False)
class _Use:
    """What the use table gives: its labels, the intermediate use ``U`` (commodities x
    industries), final demand ``E``, value added ``VA`` and industry output ``g``."""

    grid: TextGrid
    cols: list[str]
    commodities: list[str]
    industries: list[str]
    fd_codes: list[str]
    U: np.ndarray
    E: np.ndarray
    VA: np.ndarray
    g: np.ndarray


def _read_use(use_path: Path, notes: list[str]) -> _Use:
    """Read and check ``use.csv`` (its totals against its cells)."""
    use = read_grid(use_path)
    rows, cols = use.row_keys(), list(use.columns)
    r_int = _require(use, rows, _INTERMEDIATE_ROW, "the commodity rows end above it", "row")
    c_int = _require(use, cols, _INTERMEDIATE_COL, "the industry columns end before it", "column")
    r_out = _require(use, rows, _INDUSTRY_OUTPUT, "industry output, the gross output of each industry", "row")
    commodities, industries = rows[:r_int], cols[:c_int]
    if not commodities or not industries:
        raise TableFormatError(use_path, "no commodity rows or industry columns before the totals")
    _unique_rows(use, commodities, "commodity")
    va_rows = [i for i in range(r_int + 1, len(rows)) if rows[i].startswith("V")]
    if not va_rows:
        raise TableFormatError(use_path, "no value-added rows (codes starting with 'V') below the total "
                               "intermediate row")
    totals = set(_FINAL_USES_TOTAL + _COMMODITY_OUTPUT)
    fd_cols = [j for j in range(c_int + 1, len(cols)) if cols[j] not in totals]
    if not fd_cols:
        raise TableFormatError(use_path, "no final-demand columns after the total intermediate column")
    com_idx, ind_idx = list(range(r_int)), list(range(c_int))
    U = use.numeric(com_idx, ind_idx)
    E = use.numeric(com_idx, fd_cols)
    VA = use.numeric(va_rows, ind_idx)
    g = use.numeric([r_out], ind_idx)[0]
    _check_total(use_path, U.sum(axis=1), use.numeric(com_idx, [c_int])[:, 0], commodities, "row",
                 "total intermediate use", notes, len(industries))
    _check_total(use_path, U.sum(axis=0) + VA.sum(axis=0), g, industries, "column",
                 "industry output (intermediate inputs + value added)", notes, len(commodities) + len(va_rows))
    r_va = _find(rows, _VALUE_ADDED_TOTAL)
    if r_va is not None:
        _check_total(use_path, VA.sum(axis=0), use.numeric([r_va], ind_idx)[0], industries, "column",
                     "total value added", notes, len(va_rows))
    return _Use(use, cols, commodities, industries, [cols[j] for j in fd_cols], U, E, VA, g)


def _read_make(make_path: Path, u: _Use, notes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Read and check ``make.csv`` against the use table: ``(V, commodity output q)``."""
    commodities, industries = u.commodities, u.industries
    make = read_grid(make_path)
    m_rows, m_cols = make.row_keys(), list(make.columns)
    r_q = _require(make, m_rows, _COMMODITY_OUTPUT, "commodity output, the make table's column totals", "row")
    c_g = _require(make, m_cols, _INDUSTRY_OUTPUT, "industry output, the make table's row totals", "column")
    m_ind = [r for i, r in enumerate(m_rows) if i != r_q]
    m_com = [c for j, c in enumerate(m_cols) if j != c_g]
    for have, want, axis, what in ((m_ind, industries, "row", "industries"),
                                   (m_com, commodities, "column", "commodities")):
        missing, extra = sorted(set(want) - set(have)), sorted(set(have) - set(want))
        if missing or extra:
            raise TableFormatError(
                make_path, f"the make table's {what} differ from the use table's: "
                f"missing {missing[:5]}, not in use.csv {extra[:5]}",
            )
        if len(set(have)) != len(have):
            dup = sorted({h for h in have if have.count(h) > 1})
            raise TableFormatError(make_path, f"duplicate {what} {dup[:5]}", row=dup[0] if axis == "row" else None,
                                   column=dup[0] if axis == "column" else None)
    row_pos = [m_rows.index(i) for i in industries]
    col_pos = [m_cols.index(c) for c in commodities]
    V = make.numeric(row_pos, col_pos)
    q = make.numeric([r_q], col_pos)[0]
    _check_total(make_path, V.sum(axis=0), q, commodities, "column", "commodity output", notes, len(industries))
    _check_total(make_path, V.sum(axis=1), make.numeric(row_pos, [c_g])[:, 0], industries, "row",
                 "industry output (make row totals)", notes, len(commodities))
    _check_total(make_path, V.sum(axis=1), u.g, industries, "row",
                 "make row totals against the use table's industry output", notes, len(commodities))
    return V, q


def load_bea(table: str | Path, year: int | None = None) -> IOTable:
    """Load a BEA Make/Use pair into an industry-by-industry table (industry technology).

    Args:
        table: folder holding ``use.csv`` and ``make.csv``, or the path of ``use.csv``.
        year: the table's year; checked against a year in the folder name when there is one.

    Returns:
        The :class:`IOTable` with ``A = D B``, final demand ``D E`` per component, value added
        from the ``V`` rows and gross output from the industry output row. Negative cells are
        kept; apply :func:`~scenarios.io_tables.policy.apply_negative_policy` (the front door
        :func:`~scenarios.io_tables.load_table` does).

    Raises:
        TableFormatError: missing files or totals, ragged rows, non-numeric cells, make and use
            codes that disagree, totals that contradict their cells, or a wrong year.
    """
    use_path, make_path = bea_paths(table)
    year = _year(use_path.parent, year)
    notes: list[str] = []
    u = _read_use(use_path, notes)
    commodities, industries, U, E, VA, g = u.commodities, u.industries, u.U, u.E, u.VA, u.g
    V, q = _read_make(make_path, u, notes)
    c_q = _find(u.cols, _COMMODITY_OUTPUT)
    if c_q is not None:
        _check_total(use_path, u.grid.numeric(list(range(len(commodities))), [c_q])[:, 0], q, commodities, "row",
                     "the use table's commodity output against the make table's", notes, 1)
    if (g < 0).any() or (q < 0).any():
        raise TableFormatError(use_path, "negative industry or commodity output")

    B = np.divide(U, g[None, :], out=np.zeros_like(U), where=g[None, :] > 0)
    D = np.divide(V, q[None, :], out=np.zeros_like(V), where=q[None, :] > 0)
    A = D @ B
    F = D @ E
    zero_q = [commodities[j] for j in np.flatnonzero(q == 0)]
    if zero_q:
        notes.append(f"commodities with zero output (no market shares): {zero_q}")
    folder = use_path.parent
    level = "detail" if len(industries) > 100 else "summary"
    fd_codes = list(u.fd_codes)
    return IOTable(
        name=f"BEA {level} Make/Use{'' if year is None else f' {year}'} (industry technology)",
        source=str(folder),
        format="bea",
        year=year,
        industries=tuple(industries),
        industry_names=tuple(_names(folder, "*IndustryCodeName*.csv", industries)),
        A=sp.csr_matrix(A),
        final_demand=F,
        final_demand_codes=tuple(fd_codes),
        final_demand_names=tuple(_names(folder, "*FinalDemandCodeName*.csv", fd_codes)),
        value_added=VA.sum(axis=0),
        gross_output=g,
        unit="US$ million per year",
        notes=tuple(notes),
    )
