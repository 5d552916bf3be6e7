"""The negative-value policy is explicit: ``keep`` changes nothing, ``clip`` clips and reports."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from innatura.planner.errors import InvalidInputError
from innatura.scenarios.io_tables import data_path, load_table
from innatura.scenarios.io_tables.policy import POLICIES, apply_negative_policy
from innatura.scenarios.io_tables.solve import solve_table

A = np.array([[0.1, -0.002, 0.0], [0.2, 0.1, 0.3], [0.0, 0.05, 0.1]])
# components: households, exports, imports (net of imports: industry 2 is a net importer)
F = np.array([[50.0, 10.0, -20.0], [30.0, 0.0, -40.0], [20.0, 5.0, 0.0]])
NAMES = ("a", "b", "c")
COMPONENTS = ("F010", "F040", "F050")


def test_policies_are_named():
    assert set(POLICIES) == {"keep", "clip"}
    with pytest.raises(InvalidInputError, match="negative policy 'drop' is unknown"):
        apply_negative_policy(sp.csr_matrix(A), F, NAMES, COMPONENTS, "drop")


def test_keep_changes_nothing_and_lists_every_negative():
    A2, F2, report = apply_negative_policy(sp.csr_matrix(A), F, NAMES, COMPONENTS, "keep")
    np.testing.assert_array_equal(A2.toarray(), A)
    np.testing.assert_array_equal(F2, F)
    assert not report.changed
    assert [(c.where, c.row, c.column, c.value) for c in report.cells] == [
        ("A", "a", "b", -0.002),
        ("final demand", "b", "net", -10.0),
        ("component", "a", "F050", -20.0),
        ("component", "b", "F050", -40.0),
    ]
    assert report.coefficient_mass == -0.002 and report.final_demand_mass == -10.0
    assert "kept" in report.summary()


def test_clip_clips_nets_and_reports():
    A2, F2, report = apply_negative_policy(sp.csr_matrix(A), F, NAMES, COMPONENTS, "clip")
    assert report.changed and report.count("A") == 1 and report.count("final demand") == 1
    expected = A.copy()
    expected[0, 1] = 0.0
    np.testing.assert_array_equal(A2.toarray(), expected)
    assert (F2 >= 0).all()
    np.testing.assert_allclose(F2.sum(axis=1), np.clip(F.sum(axis=1), 0, None))
    # industry a: imports (-20) netted out of households (50) and exports (10) in proportion
    np.testing.assert_allclose(F2[0], [50 * 40 / 60, 10 * 40 / 60, 0.0])
    np.testing.assert_allclose(F2[1], [0.0, 0.0, 0.0])  # net importer: clipped to 0
    np.testing.assert_allclose(F2[2], F[2])  # untouched
    assert "clipped to 0" in report.summary()
    assert report.to_dict()["coefficients"] == [{"row": "a", "column": "b", "value": -0.002}]


def test_inputs_are_not_modified():
    Ain, Fin = sp.csr_matrix(A), F.copy()
    apply_negative_policy(Ain, Fin, NAMES, COMPONENTS, "clip")
    np.testing.assert_array_equal(Ain.toarray(), A)
    np.testing.assert_array_equal(Fin, F)


def test_both_policies_on_the_bea_table():
    kept = load_table(data_path("bea_summary_2022"), "bea", negative_policy="keep")
    clipped = load_table(data_path("bea_summary_2022"), "bea", negative_policy="clip")
    assert kept.negatives.count("A") == clipped.negatives.count("A") == 5
    assert kept.A.data.min() < 0 <= clipped.A.data.min()
    assert kept.f.min() < 0 <= clipped.f.min()
    sol_keep, sol_clip = solve_table(kept), solve_table(clipped)
    assert sol_keep.method == "direct (signed A)"
    assert sol_keep.relative_error <= 1e-4
    # clipping net-importer demand to zero moves the solution away from the table's output:
    # the report says so rather than hiding it
    assert 1e-3 < sol_clip.relative_error < 0.1
    assert (sol_clip.x >= 0).all()
    with pytest.raises(InvalidInputError, match="direct method only"):
        solve_table(kept, method="neumann")
