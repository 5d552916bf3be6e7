"""pymrio systems: the project's solve of pymrio's test MRIO matches pymrio's own calc_all."""

from __future__ import annotations

import numpy as np
import pytest
from innatura.scenarios.io_tables import from_pymrio, load_table
from innatura.scenarios.io_tables.solve import solve_table

pymrio = pytest.importorskip("pymrio")


@pytest.fixture(scope="module")
def test_mrio():
    io = pymrio.load_test()
    io.calc_all()
    return io


def test_solve_matches_pymrio_calc_all(test_mrio):
    table = load_table(pymrio.load_test(), "pymrio")
    assert table.n == 48 and table.region_names == tuple(f"reg{i}" for i in range(1, 7))
    sol = solve_table(table)
    x_ref = test_mrio.x.to_numpy().ravel()
    assert np.max(np.abs(sol.x - x_ref)) / np.max(np.abs(x_ref)) <= 1e-10
    np.testing.assert_allclose(sol.x, x_ref, rtol=1e-10)
    np.testing.assert_allclose(table.A.toarray(), test_mrio.A.to_numpy(), rtol=1e-12, atol=0)
    # the Leontief inverse applied to total final demand, as pymrio computes it
    L_y = test_mrio.L.to_numpy() @ test_mrio.Y.to_numpy().sum(axis=1)
    np.testing.assert_allclose(sol.x, L_y, rtol=1e-10)
    assert sol.relative_error <= 1e-10


def test_inter_regional_blocks_and_regions(test_mrio):
    table = from_pymrio(pymrio.load_test())
    assert table.industries[0] == "reg1/food"
    assert table.regions[:8] == ("reg1",) * 8
    assert table.final_demand.shape == (48, 42)
    assert table.final_demand_regions[:7] == ("reg1",) * 7
    blocks = table.A.toarray().reshape(6, 8, 6, 8)
    off_diagonal = [blocks[r, :, s, :].sum() for r in range(6) for s in range(6) if r != s]
    assert min(off_diagonal) > 0  # every region buys from every other
    assert table.region_population is not None and table.region_population[1] == pytest.approx(3.7e9)


def test_system_is_not_modified_and_coefficients_only_works(test_mrio):
    io = pymrio.load_test()
    assert io.A is None and io.x is None
    from_pymrio(io)
    assert io.A is None and io.x is None  # nothing computed on the caller's object
    coeff = test_mrio.copy()
    coeff.Z = None
    coeff.x = None
    table = from_pymrio(coeff)
    np.testing.assert_allclose(table.gross_output, test_mrio.x.to_numpy().ravel(), rtol=1e-10)


def test_load_test_by_name_and_year_rejected():
    assert load_table("test", "pymrio").n == 48
    with pytest.raises(ValueError, match="--year does not apply"):
        load_table("test", "pymrio", year=2010)
