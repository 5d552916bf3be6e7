"""BEA Make/Use loading: the shipped tables reproduce their gross output; malformed files fail clearly."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from innatura.scenarios.io_tables import TableFormatError, data_path, load_table
from innatura.scenarios.io_tables.solve import solve_table

SUMMARY = data_path("bea_summary_2022")
DETAIL = data_path("bea_detail_2017")


def _oracle(folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Industry-technology A, f and g computed independently with pandas and dense numpy."""
    use = pd.read_csv(folder / "use.csv", index_col=0)
    make = pd.read_csv(folder / "make.csv", index_col=0)
    industries, commodities = list(make.index[:-1]), list(make.columns[:-1])
    fd = [c for c in use.columns if c.startswith("F")]
    U = use.loc[commodities, industries].to_numpy()
    g = use.iloc[-1][industries].to_numpy()
    V = make.loc[industries, commodities].to_numpy()
    q = make.iloc[-1][commodities].to_numpy()
    D = V / np.where(q > 0, q, np.inf)
    return D @ (U / g), D @ use.loc[commodities, fd].to_numpy().sum(axis=1), g


@pytest.mark.parametrize("folder, n", [(SUMMARY, 71), (DETAIL, 402)])
def test_shipped_table_reproduces_its_gross_output(folder, n):
    table = load_table(folder, "bea", negative_policy="keep")
    assert table.n == n
    sol = solve_table(table)
    assert sol.relative_error <= 1e-4
    A, f, g = _oracle(folder)
    np.testing.assert_allclose(table.A.toarray(), A, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(table.f, f, rtol=1e-9, atol=1e-6)
    np.testing.assert_array_equal(table.gross_output, g)
    x = np.linalg.solve(np.eye(n) - A, f)
    np.testing.assert_allclose(sol.x, x, rtol=1e-8)
    assert sol.spectral_radius == pytest.approx(np.abs(np.linalg.eigvals(A)).max(), rel=1e-6)


def test_summary_facts():
    table = load_table(SUMMARY, "bea")
    sol = solve_table(table)
    assert table.year == 2022
    assert table.max_column_sum == pytest.approx(0.896, abs=1e-3)
    assert sol.spectral_radius == pytest.approx(0.495, abs=1e-3)
    assert sol.relative_error == pytest.approx(3.26e-6, rel=0.01)
    assert table.industry_names[0] == "Farms"
    assert table.final_demand_codes[0] == "F010"
    assert table.negatives.count("A") == 5
    assert {"211", "331"} <= {c.row for c in table.negatives.cells if c.where == "final demand"}
    # value added + intermediate inputs (incl. scrap/used/other rows) = gross output, to rounding
    assert np.all(table.value_added > 0)


def test_use_csv_path_and_year():
    by_file = load_table(SUMMARY / "use.csv", "bea", year=2022)
    by_folder = load_table(SUMMARY, "bea")
    assert (by_file.A != by_folder.A).nnz == 0
    with pytest.raises(TableFormatError, match="unknown year 2019"):
        load_table(SUMMARY, "bea", year=2019)


# -- malformed tables --------------------------------------------------------------------
def _write(path: Path, rows: list[list]) -> None:
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)


def _tiny(tmp_path: Path) -> Path:
    """A consistent 2-commodity x 2-industry Make/Use pair in the BEA summary layout."""
    folder = tmp_path / "bea_tiny_2020"
    folder.mkdir()
    use = [
        ["code", "I1", "I2", "Total Intermediate", "F010", "F050", "Total Final Uses (GDP)", "Total Commodity Output"],
        ["C1", 10, 20, 30, 80, -10, 70, 100],
        ["C2", 30, 10, 40, 170, -10, 160, 200],
        ["Total Intermediate", 40, 30, 70, 250, -20, 230, 300],
        ["V001", 40, 120, 160, "", "", "", ""],
        ["V003", 10, 60, 70, "", "", "", ""],
        ["Total Value Added", 50, 180, 230, "", "", "", ""],
        ["Total Industry Output", 90, 210, 300, "", "", "", ""],
    ]
    make = [
        ["code", "C1", "C2", "Total Industry Output"],
        ["I1", 90, 0, 90],
        ["I2", 10, 200, 210],
        ["Total Commodity Output", 100, 200, 300],
    ]
    _write(folder / "use.csv", use)
    _write(folder / "make.csv", make)
    return folder


def test_tiny_table_loads_and_balances(tmp_path):
    table = load_table(_tiny(tmp_path), "bea")
    assert table.industries == ("I1", "I2")
    assert solve_table(table).relative_error < 1e-12
    assert table.year == 2020


def _edit(path: Path, fn) -> None:
    rows = list(csv.reader(path.open()))
    _write(path, fn(rows))


@pytest.mark.parametrize(
    "file, edit, pattern",
    [
        ("use.csv", lambda r: [x for x in r if x[0] != "Total Industry Output"],
         r"use\.csv: missing total row 'Total Industry Output' or 'T008'"),
        ("use.csv", lambda r: [[c for j, c in enumerate(x) if j != 3] for x in r],
         r"use\.csv: missing total column 'Total Intermediate' or 'T001'"),
        ("make.csv", lambda r: r[:-1], r"make\.csv: missing total row 'Total Commodity Output' or 'T007'"),
        ("use.csv", lambda r: [*r[:2], r[2][:-2], *r[3:]],
         r"use\.csv, line 3 \(row 'C2'\): ragged row: 6 cells, the header has 8"),
        ("use.csv", lambda r: [*r[:2], [r[2][0], "n/a", *r[2][2:]], *r[3:]],
         r"use\.csv, line 3 \(row 'C2', column 'I1'\): non-numeric value 'n/a'"),
        ("make.csv", lambda r: [*r[:2], [r[2][0], r[2][1], "", r[2][3]], *r[3:]],
         r"make\.csv, line 3 \(row 'I2', column 'C2'\): empty cell"),
        ("use.csv", lambda r: [*r[:-1], ["Total Industry Output", 90, 999, 300, "", "", "", ""]],
         r"use\.csv \(column 'I2'\): industry output .* the total 999\.0 differs"),
        ("make.csv", lambda r: [r[0], ["I9", *r[1][1:]], *r[2:]], r"make\.csv: the make table's industries differ"),
    ],
)
def test_malformed_tables_name_file_cell_and_value(tmp_path, file, edit, pattern):
    folder = _tiny(tmp_path)
    _edit(folder / file, edit)
    with pytest.raises(TableFormatError, match=pattern) as info:
        load_table(folder, "bea")
    assert info.value.path.name == file


def test_missing_make_file(tmp_path):
    folder = _tiny(tmp_path)
    (folder / "make.csv").unlink()
    with pytest.raises(TableFormatError, match=r"make\.csv: missing: the Make table"):
        load_table(folder, "bea")


def test_unknown_format_and_policy():
    with pytest.raises(ValueError, match="unknown table format 'xls'"):
        load_table(SUMMARY, "xls")
    with pytest.raises(ValueError, match="negative policy 'zero' is unknown"):
        load_table(SUMMARY, "bea", negative_policy="zero")
