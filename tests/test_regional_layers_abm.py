"""A regional plan in layers in the agent model (docs/model.md, "Timing", "In the agent
model"): the decision carries the phase shipments, execution sends them before their shifts and
makes what the plan planned, and a layered run resumes identical."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from innatura.abm import checkpoint as ck
from innatura.abm.day import phase_shifts
from innatura.abm.model import PlanningEconomy
from innatura.planner.errors import InvalidInputError

LAYERED = {"plan": "regional", "planner_options": {"regional_method": "lp", "regional_layers": 2}}


def _run(days: int = 6, **options) -> PlanningEconomy:
    model = PlanningEconomy("butter-village", rng=3, days=days, strict=True, **{**LAYERED, **options})
    while model.running:
        model.step()  # strict: a broken invariant raises
    return model


@pytest.fixture(scope="module")
def layered() -> PlanningEconomy:
    return _run()


def test_phases_leave_before_the_first_shift_of_their_layer():
    np.testing.assert_array_equal(phase_shifts(2, 8), [4])
    np.testing.assert_array_equal(phase_shifts(4, 8), [2, 4, 6])
    np.testing.assert_array_equal(phase_shifts(8, 8), np.arange(1, 8))
    np.testing.assert_array_equal(phase_shifts(3, 2), [1, 1])


def test_the_decision_carries_the_phase_shipments_and_execution_follows_them(layered):
    d = layered.last_outcome.decision
    lay = layered.layout
    assert d.phase_shipments.shape == (1, lay.edge_src.size, lay.n_goods)
    edges = pd.concat([pd.DataFrame(r) for r in layered.edge_log])
    per_day = edges.groupby("day")[["planned", "followed", "carried"]].sum()
    np.testing.assert_allclose(per_day["followed"], per_day["planned"], rtol=1e-9)
    frame = layered.model_frame()
    assert (frame["invariant_violations"] == 0).all()
    # without losses or misreports, execution makes what the layered plan planned
    assert frame["plan_error"].max() < 1e-6


def test_a_layered_run_resumes_day_by_day_identical(tmp_path, layered):
    half = PlanningEconomy("butter-village", rng=3, days=3, strict=True, **LAYERED)
    while half.running:
        half.step()
    ck.save_checkpoint(half, tmp_path / "run")
    resumed, _ = ck.load_checkpoint(tmp_path / "run")
    assert resumed.central_planner.last_decision.phase_shipments is not None
    resumed.run_until(6)
    while resumed.running:
        resumed.step()
    pd.testing.assert_frame_equal(resumed.model_frame(), layered.model_frame())
    for a, b in zip(resumed.edge_log, layered.edge_log, strict=True):
        for column in a:
            np.testing.assert_array_equal(a[column], b[column])


def test_bad_layers_are_refused_by_name():
    with pytest.raises(InvalidInputError, match="regional_layers"):
        PlanningEconomy("butter-village", rng=0, days=1, plan="regional",
                        planner_options={"regional_layers": 0})
