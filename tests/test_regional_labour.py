"""Regional labour in the national plan (docs/model.md, "Regional friction"): the night is
re-planned until no region is asked for more labour than it has."""

from __future__ import annotations

import numpy as np
import pytest
from innatura.abm.model import PlanningEconomy
from innatura.abm.night import regional_labour_cut
from innatura.planner.errors import InvalidInputError


def _nights(model: PlanningEconomy, days: int) -> list:
    cuts = []
    for _ in range(days):
        model.step()
        cuts.append(regional_labour_cut(model.layout, model.last_outcome.decision.unit_inputs))
    return cuts


def test_cut_brings_every_region_within_its_labour():
    model = PlanningEconomy("archipelago", rng=1, collect_agents=False, regional_labour_rounds=0)
    model.step()
    use = model.last_outcome.decision.unit_inputs
    assert regional_labour_cut(model.layout, np.zeros_like(use)) is None
    lay = model.layout
    ti = lay.true_inputs
    heavy = use * 50.0  # every region overdrawn
    cut = regional_labour_cut(model.layout, heavy)
    assert cut is not None and cut.min() < 1.0 and cut.max() <= 1.0
    # labour use is linear in the target here (constant coefficients): cutting every unit by
    # its factor brings each (region, labour type) within its supply
    lab = lay.labour_mask[ti.good]
    R, n = lay.labour_supply.shape
    cell = lay.unit_region[ti.unit] * n + ti.good
    after = np.bincount(cell[lab], (heavy * cut[ti.unit])[lab], minlength=R * n).reshape(R, n)
    assert np.all(after <= lay.labour_supply * (1 + 1e-9) + 1e-9)


def test_archipelago_plans_within_regional_labour():
    national = _nights(PlanningEconomy("archipelago", rng=1, collect_agents=False, regional_labour_rounds=0), 5)
    assert any(c is not None for c in national)  # the national plan overdraws some island
    model = PlanningEconomy("archipelago", rng=1, collect_agents=False, strict=True)
    assert model.settings.regional_labour_rounds == 3
    cuts = _nights(model, 10)
    assert all(c is None for c in cuts)
    errors = model.model_frame()["plan_error"]
    assert errors.mean() < 0.01


def test_butter_village_plan_is_executed():
    """Butter-village's churns sit in one region: the national plan's error was 0.39 a day."""
    model = PlanningEconomy("butter-village", rng=1, collect_agents=False)
    for _ in range(10):
        model.step()
    assert model.model_frame()["plan_error"].iloc[1:].max() < 1e-3


@pytest.mark.parametrize("bad", [-1, 1.5, True, "3"])
def test_bad_rounds_are_refused(bad):
    with pytest.raises(InvalidInputError, match="regional_labour_rounds"):
        PlanningEconomy("selviaria", rng=0, regional_labour_rounds=bad)
