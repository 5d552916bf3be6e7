"""Mesa habits hold: agents carry their behaviour and a subclass changes it, setting an agent's
strategy changes its reports, agents cannot leave the arrays behind, the model stops after its
days (``run_model``, ``mesa.batch_run``), the DataCollector has agent reporters, the
constructor's help is its own and unknown options are named."""

from __future__ import annotations

import logging

import mesa
import numpy as np
import pytest
from innatura.abm.adversarial import Honest, Inflate
from innatura.abm.agents import Citizen, ProductionUnit, Region
from innatura.abm.model import PlanningEconomy
from innatura.abm.settings import RunSettings
from innatura.planner.errors import InvalidInputError

logging.getLogger("innatura.planner").setLevel(logging.ERROR)


class Cautious(Citizen):
    """Reports 40% of its need in its first region, its need elsewhere: plain Python, per agent."""

    def report_demand(self) -> float:
        return 0.4 if self.region.index == 0 else 1.0


class CautiousEconomy(PlanningEconomy):
    citizen_type = Cautious


class Modest(ProductionUnit):
    """A unit that claims twice its inputs when it made nothing yesterday."""

    def report_factors(self) -> tuple[float, float]:
        return (2.0 if self.output == 0.0 else 1.0), 1.0


def test_a_citizen_subclass_reports_per_agent_and_changes_the_plan():
    base = PlanningEconomy("selviaria", rng=0, collect_agents=False)
    model = CautiousEconomy("selviaria", rng=0, collect_agents=False)
    assert all(type(c) is Cautious for c in model.citizens)
    assert [cls for cls, _ in model.groups(Citizen)] == [Cautious]
    base.step()
    model.step()
    home = model.layout.citizen_region == 0
    np.testing.assert_array_equal(model.state.citizen_factor, np.where(home, 0.4, 1.0))
    np.testing.assert_array_equal(base.state.citizen_factor, 1.0)
    # the planner saw less demand in region 0: the plan claims a higher fulfilment, and region 0
    # receives a smaller part of what is handed out
    w = model.central_planner.last_inputs.regional_demand
    np.testing.assert_allclose(w[0], 0.4 * model.layout.population[0])
    assert model.last_outcome.decision.planned_humanity > 1.1 * base.last_outcome.decision.planned_humanity
    mine = model.last_outcome.delivery.delivered
    theirs = base.last_outcome.delivery.delivered
    assert mine[0].sum() / mine.sum() < 0.6 * theirs[0].sum() / theirs.sum()


def test_a_unit_subclass_reports_per_agent():
    class ModestEconomy(PlanningEconomy):
        unit_type = Modest

    model = ModestEconomy("selviaria", rng=0, collect_agents=False)
    model.step()
    np.testing.assert_array_equal(model.state.unit_input_factor, 2.0)  # nothing made before the first night
    model.step()
    made = model.state.unit_output > 0
    assert made.any()
    model.step()
    np.testing.assert_array_equal(model.state.unit_input_factor[made], 1.0)


def test_setting_a_citizens_strategy_changes_what_it_reports():
    model = PlanningEconomy("selviaria", rng=0, collect_agents=False)
    c = model.citizens[5]
    assert c.strategy == Honest()
    c.strategy = "inflate(2.0)"
    assert c.strategy == Inflate(2.0) and c.report_demand() == 2.0
    model.units[0].strategy = "overstate_capacity(3.0)"
    model.step()
    assert model.state.citizen_factor[5] == 2.0
    assert np.count_nonzero(model.state.citizen_factor != 1.0) == 1
    assert model.state.unit_reported_capacity[0] == pytest.approx(3.0 * model.layout.unit_capacity[0])
    with pytest.raises(InvalidInputError, match="is a unit strategy"):
        c.strategy = "ratchet"


def test_agents_know_their_region_and_are_in_its_cell():
    model = PlanningEconomy("selviaria", rng=0, collect_agents=False)
    lay = model.layout
    for i in (0, 700, 1299):
        c = model.citizens[i]
        assert isinstance(c.region, Region) and c.region.index == lay.citizen_region[i]
        assert c.cell is c.region.cell and c in c.cell.agents
    u = model.units[2]
    assert u.region.name == lay.regions[lay.unit_region[2]] and u in u.cell.agents


def test_remove_is_refused_and_leaves_agents_and_arrays_in_step():
    model = PlanningEconomy("selviaria", rng=0, collect_agents=False)
    n_agents = len(model.agents)
    for agent in (model.citizens[3], model.units[0], model.regions[1], model.central_planner):
        with pytest.raises(InvalidInputError, match="cannot be removed"):
            agent.remove()
    with pytest.raises(InvalidInputError, match="cannot be removed"):
        model.remove_all_agents()
    assert len(model.agents) == n_agents
    assert len(model.agents_by_type[Citizen]) == model.layout.n_citizens == model.state.citizen_code.size
    assert model.citizens[3] in model.citizens[3].cell.agents
    model.step()  # the model still runs
    # an agent created from outside the model does not join its arrays unnoticed
    Citizen(model, 0, model.regions[0].cell)
    with pytest.raises(InvalidInputError, match="agents are created by the model only"):
        model.step()


def test_model_stops_after_its_days():
    model = PlanningEconomy("butter-village", rng=0, days=3, collect_agents=False)
    assert model.running
    model.run_model()
    assert model.day == 3 and not model.running
    assert PlanningEconomy("five-regions", rng=0).settings.days == 10  # the scenario's days by default
    model.run_until(5)
    assert model.running
    model.run_model()
    assert model.day == 5


def test_batch_run_ends_at_the_days():
    rows = mesa.batch_run(PlanningEconomy, {"scenario": "butter-village", "rng": [0, 1], "days": 2,
                                            "misreport_share": [0.0, 0.3], "collect_agents": False},
                          max_steps=1000, display_progress=False)
    assert len(rows) == 4
    assert {r["day"] for r in rows} == {2}  # the last collected day of each run (Mesa numbers its "Step" by version)
    assert {r["misreport_share"] for r in rows} == {0.0, 0.3}
    assert all(np.isfinite(r["humanity"]) for r in rows)


def test_datacollector_has_unit_and_region_reporters():
    model = PlanningEconomy("selviaria", rng=0, days=2)
    model.run_model()
    units = model.datacollector.get_agenttype_vars_dataframe(ProductionUnit)
    regions = model.datacollector.get_agenttype_vars_dataframe(Region)
    assert len(units) == 2 * model.layout.n_units and len(regions) == 2 * model.layout.n_regions
    last = units.xs(2, level="Step")
    np.testing.assert_allclose(last["output"].to_numpy(), model.state.unit_output)
    np.testing.assert_allclose(last["target"].to_numpy(), model.state.unit_target)
    assert {"final_stock", "capital_stock", "delivered"} <= set(regions.columns)


def test_help_is_the_models_own_and_lists_every_option():
    doc = PlanningEconomy.__init__.__doc__
    assert "Mesa" not in doc.splitlines()[0]
    for name in RunSettings.names():
        assert f"``{name}``" in doc, name
    with pytest.raises(InvalidInputError, match=r"unknown option 'plannr' \(did you mean 'planner'\?\); known options: "
                                                r"planner, planner_options, days"):
        PlanningEconomy("selviaria", plannr="olin")
    with pytest.raises(InvalidInputError, match="not both"):
        PlanningEconomy("selviaria", settings=RunSettings(), days=3)
    with pytest.raises(InvalidInputError, match="misreport_share: a number in"):
        PlanningEconomy("selviaria", misreport_share=1.5)


def test_settings_object_and_keywords_give_the_same_run():
    a = PlanningEconomy("selviaria", rng=4, misreport_share=0.3, noise=0.2, days=3, collect_agents=False)
    b = PlanningEconomy("selviaria", rng=4, settings=RunSettings(misreport_share=0.3, noise=0.2, days=3,
                                                                 collect_agents=False))
    a.run_model()
    b.run_model()
    assert a.model_frame().equals(b.model_frame())
    assert a.settings == b.settings and a.settings.investment_share == a.layout.investment_share


def test_older_spelling_of_the_misreport_options_is_read():
    s = RunSettings.from_options(citizen_misreport=("inflate", 1.7), unit_misreport=("overstate_inputs", 1.2))
    assert s.citizen_strategy == Inflate(1.7) and str(s.unit_strategy) == "overstate_inputs(factor=1.2)"
