"""WIOD national tables: every year balances to machine precision; malformed files fail clearly."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from innatura.scenarios.io_tables import TableFormatError, data_path, load_table
from innatura.scenarios.io_tables.solve import solve_table
from innatura.scenarios.io_tables.wiod import wiod_years

WIOD = data_path("wiod_niot_usa_2000_2014/USA_NIOT_domestic_2000-2014.csv")


def test_years_and_default():
    assert wiod_years(WIOD) == list(range(2000, 2015))
    assert load_table(WIOD, "wiod").year == 2014


@pytest.mark.parametrize("year", [2000, 2007, 2014])
def test_shipped_year_reproduces_gross_output(year):
    table = load_table(WIOD, "wiod", year=year, negative_policy="keep")
    assert table.n == 56
    sol = solve_table(table)
    assert sol.relative_error <= 1e-9
    frame = pd.read_csv(WIOD)
    block = frame[frame.Year == year]
    codes = list(block.Code)
    Z, x = block[codes].to_numpy(), block.GO.to_numpy()
    A = Z / np.where(x > 0, x, np.inf)
    np.testing.assert_allclose(table.A.toarray(), A, rtol=1e-13, atol=0)
    np.testing.assert_allclose(sol.x, x, rtol=1e-9, atol=1e-6)
    assert table.A.data.min() > 0
    assert sol.spectral_radius == pytest.approx(np.abs(np.linalg.eigvals(A)).max(), rel=1e-6)
    np.testing.assert_allclose(table.value_added, x - Z.sum(axis=0), rtol=1e-12, atol=1e-6)


def test_clip_policy_leaves_wiod_gross_output_intact():
    kept = load_table(WIOD, "wiod", negative_policy="keep")
    clipped = load_table(WIOD, "wiod", negative_policy="clip")
    assert kept.negatives.count("A") == 0 and kept.negatives.count("final demand") == 0
    assert kept.negatives.count("component") > 0  # inventory draw-downs
    assert (clipped.final_demand >= 0).all()
    np.testing.assert_allclose(clipped.f, kept.f, rtol=1e-12)
    assert solve_table(clipped).relative_error <= 1e-9


def _small(tmp_path: Path) -> Path:
    rows = [["Year", "Code", "Description", "Origin", "X1", "X2", "CONS_h", "EXP", "GO"]]
    for year in (2010.0, 2011.0):
        rows += [[year, "X1", "Farming", "Domestic", 10, 20, 60, 10, 100],
                 [year, "X2", "Making", "Domestic", 30, 40, 100, 30, 200]]
    path = tmp_path / "small.csv"
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def _rewrite(path: Path, fn) -> None:
    rows = list(csv.reader(path.open()))
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows(fn(rows))


def test_small_file(tmp_path):
    table = load_table(_small(tmp_path), "wiod", year=2010)
    assert table.industries == ("X1", "X2")
    assert table.industry_names == ("Farming", "Making")
    assert solve_table(table).relative_error < 1e-14


@pytest.mark.parametrize(
    "edit, year, pattern",
    [
        (lambda r: r, 2015, r"small\.csv: unknown year 2015; the file holds 2010-2011"),
        (lambda r: [x[:-1] for x in r], 2010, r"small\.csv: missing gross output column 'GO'"),
        (lambda r: [*r[:2], r[2][:-1], *r[3:]], 2010,
         r"small\.csv, line 3 \(row 'X2'\): ragged row: 8 cells, the header has 9"),
        (lambda r: [*r[:1], [*r[1][:5], "1,5", *r[1][6:]], *r[2:]], 2010,
         r"small\.csv, line 2 \(row 'X1', column 'X2'\): non-numeric value '1,5'"),
        (lambda r: [*r[:1], ["year?", *r[1][1:]], *r[2:]], 2010,
         r"line 2 \(row 'X1', column 'Year'\): non-numeric year"),
        (lambda r: [*r[:1], [*r[1][:8], "150"], *r[2:]], 2010,
         r"line 2 \(row 'X1', column 'GO'\): year 2010: gross output 150\.0 differs"),
    ],
)
def test_malformed_wiod(tmp_path, edit, year, pattern):
    path = _small(tmp_path)
    _rewrite(path, edit)
    with pytest.raises(TableFormatError, match=pattern):
        load_table(path, "wiod", year=year)


def test_imports_and_value_added_rows(tmp_path):
    """Full NIOT layout: imported-intermediate rows and a VA row sit below the domestic block."""
    path = _small(tmp_path)
    _rewrite(path, lambda r: [*r[:3], ["2010.0", "X1", "Farming", "Imports", 5, 5, 3, 0, 13],
                              ["2010.0", "X2", "Making", "Imports", 5, 5, 3, 0, 13],
                              ["2010.0", "VA", "Value added", "TotSupply", 50, 140, 0, 0, 190],
                              ["2010.0", "TXSP", "Taxes less subsidies", "TotSupply", 0, 0, 0, 0, 0], *r[3:]])
    table = load_table(path, "wiod", year=2010)
    assert table.industries == ("X1", "X2")
    np.testing.assert_array_equal(table.value_added, [50.0, 140.0])
    assert any("TXSP" in note for note in table.notes)
    assert solve_table(table).relative_error < 1e-14
