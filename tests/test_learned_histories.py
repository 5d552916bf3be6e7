"""Unit histories from the agent model: what the recorder reads, that it changes nothing, and
that datasets round-trip without pickle."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

pytest.importorskip("torch")  # innatura.planner.learned loads its torch models with the package

from innatura.abm.learning.dataset import (
    MisreportMix,
    build_model,
    generate_dataset,
    parse_mixes,
    parse_scenario,
)
from innatura.abm.learning.histories import HistoryRecorder, record_run
from innatura.abm.model import PlanningEconomy
from innatura.planner.errors import InvalidInputError
from innatura.planner.learned.histories import (
    EDGE_KINDS,
    FIELDS,
    HistoryDataset,
    load_histories,
    save_histories,
)

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture(scope="module")
def islands():
    """A small archipelago: units on every island, stacked, trading inputs."""
    from innatura import scenarios

    return scenarios.load("archipelago", regions=6, citizens=600)


def test_recording_a_run_changes_nothing_in_it(islands):
    plain = PlanningEconomy(islands, rng=4, days=4, misreport_share=0.3, unit_strategy="ratchet(1.3)")
    plain.run_model()
    watched = PlanningEconomy(islands, rng=4, days=4, misreport_share=0.3, unit_strategy="ratchet(1.3)")
    h = record_run(watched)
    assert h.values.shape == (4, h.units, len(FIELDS))
    assert plain.model_frame().equals(watched.model_frame())
    assert np.array_equal(plain.state.stocks, watched.state.stocks)


def test_the_truth_is_the_factor_a_liar_reports():
    mix = MisreportMix("all", "overstate_inputs(1.3)", 1.0)
    model = build_model("five-regions", 0, mix, days=6)
    h = record_run(model)
    assert h.misreport.all() and h.strategy_names[h.strategy[0]] == "overstate_inputs"
    # tonight's report is 1.3 times what the unit knows; what it knows is its true curve near
    # its operating point, so the truth is -log 1.3 there
    assert np.nanmax(np.abs(h.log_scale + math.log(1.3))) < 0.05
    honest = record_run(build_model("five-regions", 0, parse_mixes("honest")[0], days=6))
    assert not honest.misreport.any()
    assert np.nanmax(np.abs(honest.log_scale)) < 0.05


def test_execution_reveals_the_inputs_drawn():
    h = record_run(PlanningEconomy("selviaria", rng=0, days=3))
    out, drawn, rep = h.column("output"), h.column("drawn"), h.column("reported_use_output")
    assert (out > 0).any()
    # an honest unit's report at its output is close to what it drew
    ok = out > 0
    assert np.allclose(drawn[ok], rep[ok], rtol=0.05)
    assert np.isnan(h.column("reported_prev_ref")[0]).all() and np.isfinite(h.column("reported_prev_ref")[1:]).all()


def test_audits_appear_when_a_defence_audits():
    mix = MisreportMix("audited", "overstate_inputs(1.3)", 1.0, defences=("audit(probability=1.0)",))
    h = record_run(build_model("five-regions", 1, mix, days=3))
    assert h.has_audit
    assert h.column("audited").sum() > 0 and h.column("caught")[0].sum() > 0


def test_the_units_graph_links_suppliers_regions_and_goods(islands):
    h = record_run(PlanningEconomy(islands, rng=0, days=1))
    kinds = np.bincount(h.edge_kind, minlength=len(EDGE_KINDS))
    assert (kinds > 0).all()
    src, dst = h.edges
    region = h.edges[:, h.edge_kind == EDGE_KINDS.index("region")]
    assert np.array_equal(h.region[region[0]], h.region[region[1]])
    sup = h.edge_kind == EDGE_KINDS.index("supplier")
    cus = h.edge_kind == EDGE_KINDS.index("customer")
    assert sup.sum() == cus.sum()
    assert set(zip(src[sup].tolist(), dst[sup].tolist(), strict=True)) == set(zip(dst[cus].tolist(), src[cus].tolist(),
                                                                              strict=True))


def test_online_recording_from_a_planning_method_matches_the_offline_one(islands):
    class Watching:
        """A planning method that records tonight's reports before planning (as phase 2's would)."""

        def __init__(self, inner, recorder):
            self.inner, self.recorder, self.name = inner, recorder, "watching"

        def plan(self, inputs):
            self.recorder.sync()
            return self.inner.plan(inputs)

    offline = record_run(PlanningEconomy(islands, rng=2, days=3, misreport_share=0.3))
    model = PlanningEconomy(islands, rng=2, days=3, misreport_share=0.3)
    recorder = HistoryRecorder(model)
    model.central_planner.method = Watching(model.central_planner.method, recorder)
    model.run_model()
    tonight = recorder.histories(include_tonight=True)
    recorder.after_day()
    online = recorder.histories()
    assert tonight.nights == 3 and np.isnan(tonight.column("output")[-1]).all()
    assert np.allclose(online.values, offline.values, equal_nan=True)
    assert np.allclose(online.log_scale, offline.log_scale, equal_nan=True)


def test_datasets_round_trip_as_npz_without_pickle(tmp_path):
    ds = generate_dataset(["selviaria", "five-regions:seed=3"], [0, 1], ["honest", "overstate"], 3, out=tmp_path)
    assert len(ds) == 8 and (tmp_path / "index.json").is_file()
    back = HistoryDataset.load(tmp_path)
    assert back.names == ds.names
    for a, b in zip(ds.runs, back.runs, strict=True):
        assert np.array_equal(a.values, b.values, equal_nan=True)
        assert np.array_equal(a.log_scale, b.log_scale, equal_nan=True)
        assert np.array_equal(a.edges, b.edges) and a.strategy_names == b.strategy_names
        assert dict(a.meta) == dict(b.meta)
    with np.load(tmp_path / "runs" / f"{ds.names[0]}.npz", allow_pickle=False) as data:
        assert json.loads(str(data["header"]))["fields"] == list(FIELDS)


def test_bad_histories_files_are_refused_by_name(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(InvalidInputError, match=r"bad\.npz"):
        load_histories(bad)
    with pytest.raises(InvalidInputError, match=r"index\.json"):
        HistoryDataset.load(tmp_path)
    h = record_run(PlanningEconomy("selviaria", rng=0, days=1))
    save_histories(tmp_path / "ok.npz", h)
    assert load_histories(tmp_path / "ok.npz").units == h.units


def test_a_scenario_without_curves_has_nothing_to_infer():
    with pytest.raises(InvalidInputError, match="nothing to infer"):
        HistoryRecorder(PlanningEconomy("us-2022", rng=0, days=1))


def test_scenario_and_mix_names():
    assert parse_scenario("archipelago:seed=5,regions=8") == ("archipelago", {"seed": 5, "regions": 8})
    assert parse_scenario("selviaria") == ("selviaria", {})
    with pytest.raises(InvalidInputError, match="key=value"):
        parse_scenario("archipelago:seed")
    with pytest.raises(InvalidInputError, match="overstate"):
        parse_mixes("honest,nonsense")
    with pytest.raises(InvalidInputError, match="share"):
        MisreportMix("x", "collude", 1.5)
