"""Shipments per edge and good (abm.shipments), their maps and PNGs (abm.region_map,
abm.shipment_plots) and what the browser view shows of the regional plan (viz.regional)."""

from __future__ import annotations

import matplotlib.image
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from innatura.abm import region_map
from innatura.abm.model import PlanningEconomy
from innatura.abm.shipment_plots import (
    daily_edge_totals,
    shipment_map_of_day,
    shipments_figure,
    write_shipment_figures,
)
from innatura.planner.errors import InvalidInputError
from matplotlib.patches import FancyArrowPatch

from innatura.cli import main

SCENARIO = "butter-village"  # three regions, four directed edges; a regional night takes ~1 s


def _arrows(ax) -> list[FancyArrowPatch]:
    return [p for p in ax.patches if isinstance(p, FancyArrowPatch)]


def _texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


@pytest.fixture(scope="module")
def regional() -> PlanningEconomy:
    model = PlanningEconomy(SCENARIO, rng=0, days=3, plan="regional")
    for _ in range(3):
        model.step()
    return model


# -- the drawing ---------------------------------------------------------------------------------
EDGES = [("north", "centre"), ("centre", "north"), ("centre", "south"), ("south", "centre")]


def _small_map(planned, executed, **kw):
    graph = nx.path_graph(["north", "centre", "south"])
    return region_map.shipment_map_figure(graph, EDGES, planned, executed, {"north": 1.0, "centre": 0.5}, **kw)


def test_shipment_map_widths_and_labels_follow_planned_and_executed():
    planned = np.array([10.0, 0.0, 5.0, 0.0])
    executed = np.array([8.0, 0.0, 5.0, 1.0])
    fig = _small_map(planned, executed)
    left, right = fig.axes[:2]
    for ax, flow in ((left, planned), (right, executed)):
        arrows = _arrows(ax)
        assert len(arrows) == len(EDGES)
        # one width scale for both maps: the largest shipment of either (10) is the widest line
        np.testing.assert_allclose([a.get_linewidth() for a in arrows], region_map.edge_widths(flow, 10.0))
        assert [a.get_linestyle() == "solid" for a in arrows] == list(flow > 0)
    assert left.get_title(loc="left") == "planned: 15 units" and right.get_title(loc="left") == "executed: 14 units"
    assert sorted(_texts(left)[-2:]) == ["10", "5"]  # labels of the arcs that ship
    assert sorted(_texts(right)[-3:]) == ["1", "5", "8"]
    assert max(a.get_linewidth() for a in _arrows(left)) == pytest.approx(7.8)


def test_shipment_map_without_planned_shipments_says_so():
    fig = _small_map(None, np.array([0.0, 3.0, 0.0, 0.0]), what="Butter")
    left, right = fig.axes[:2]
    assert "no planned shipments (national plan)" in _texts(left)
    assert left.get_title(loc="left") == "planned: n/a units"
    assert [a.get_linewidth() for a in _arrows(right)][1] == pytest.approx(7.8)
    assert "Butter" in fig.texts[0].get_text()


def test_edge_widths_are_linear_in_the_units():
    np.testing.assert_allclose(region_map.edge_widths(np.array([0.0, 5.0, 10.0])), [0.8, 4.3, 7.8])
    np.testing.assert_allclose(region_map.edge_widths(np.zeros(2)), [0.8, 0.8])


# -- the model's read-only shipments -------------------------------------------------------------
def test_last_shipments_are_the_days_planned_and_executed_shipments(regional):
    shipments = regional.last_shipments
    out = regional.last_outcome
    D, n = regional.layout.edge_src.size, regional.layout.n_goods
    assert shipments.planned.shape == shipments.executed.shape == (D, n)
    np.testing.assert_allclose(shipments.planned, out.decision.morning_shipments + out.decision.evening_shipments)
    np.testing.assert_allclose(shipments.executed, out.shipped_goods)
    np.testing.assert_allclose(shipments.carried, out.edge_load)
    last = regional.edge_log[-1]  # edges.parquet's rows of the day agree
    planned, carried = shipments.of_good(None)
    np.testing.assert_allclose(planned, last["planned"])
    np.testing.assert_allclose(carried, last["carried"])
    np.testing.assert_allclose(shipments.executed.sum(axis=1), last["followed"])
    with pytest.raises(ValueError):
        shipments.planned[0, 0] = 1.0  # read-only
    assert shipments.planned.sum() > 0
    order = shipments.goods_by_volume()
    volume = (shipments.planned + shipments.executed).sum(axis=0)
    assert list(order) == sorted(np.flatnonzero(volume > 0), key=lambda g: -volume[g])


def test_last_shipments_of_a_national_plan_have_no_goods():
    model = PlanningEconomy(SCENARIO, rng=0, days=1, plan="national")
    assert model.last_shipments is None
    model.step()
    shipments = model.last_shipments
    assert shipments.planned is None and shipments.executed is None
    assert shipments.of_good(0) == (None, None)
    np.testing.assert_allclose(shipments.of_good(None)[1], model.last_outcome.edge_load)


# -- the run's figures ---------------------------------------------------------------------------
def test_shipments_figure_draws_the_daily_totals(regional):
    totals = daily_edge_totals(regional.edge_log)
    assert list(totals["day"]) == [1, 2, 3]
    df = regional.model_frame()
    np.testing.assert_allclose(totals["carried"], df["shipped"])
    fig = shipments_figure(df, totals)
    top, bottom = fig.axes
    lines = {line.get_label(): line.get_ydata() for line in top.get_lines()}
    np.testing.assert_allclose(lines["planned by the plan"], totals["planned"])
    np.testing.assert_allclose(lines["executed of the plan's shipments"], totals["followed"])
    np.testing.assert_allclose(bottom.get_lines()[0].get_ydata(), df["transport_losses"])


def test_shipment_map_of_one_good_draws_that_good(regional):
    lay = regional.layout
    good = int(regional.last_shipments.goods_by_volume()[0])
    fig = shipment_map_of_day(regional, lay.goods[good])
    planned = regional.last_shipments.planned[:, good]
    executed = regional.last_shipments.executed[:, good]
    top = max(planned.max(), executed.max())
    for ax, flow in zip(fig.axes[:2], (planned, executed), strict=False):
        flow = np.where(flow > 1e-6 * top, flow, 0.0)
        np.testing.assert_allclose([a.get_linewidth() for a in _arrows(ax)], region_map.edge_widths(flow, top))
    with pytest.raises(InvalidInputError, match="'Gold' is not one of the economy's goods"):
        shipment_map_of_day(regional, "Gold")


def test_write_shipment_figures_writes_the_pngs(regional, tmp_path):
    written = write_shipment_figures(regional, tmp_path, goods=["Butter"])
    assert [p.name for p in written] == ["shipments.png", "shipment_map.png", "shipment_map_Butter.png"]
    for path in written:
        assert matplotlib.image.imread(path).shape[0] > 300


def test_regional_run_writes_the_shipment_pngs(tmp_path):
    out = tmp_path / "run"
    assert main(["run", SCENARIO, "--plan", "regional", "--days", "2", "--out", str(out), "--quiet",
                 "--shipment-map", "Butter"]) == 0
    for png in ("shipments.png", "shipment_map.png", "shipment_map_Butter.png"):
        assert (out / png).stat().st_size > 10_000
    alone = tmp_path / "alone"
    assert main(["run", SCENARIO, "--single-region", "--days", "1", "--out", str(alone), "--quiet"]) == 0
    assert not (alone / "shipments.png").exists()  # one region: no edges, no shipments
    assert (alone / "humanity.png").exists()


def test_an_unknown_good_to_map_is_refused_before_the_run(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", SCENARIO, "--days", "1", "--out", str(out), "--quiet", "--shipment-map", "Gold"]) == 2
    assert "--shipment-map: 'Gold' is not one of the economy's goods (Milk" in capsys.readouterr().err
    assert not (out / "model.csv").exists()


# -- the browser view ----------------------------------------------------------------------------
viz_regional = pytest.importorskip("innatura.viz.regional", exc_type=ImportError)


@pytest.fixture(scope="module")
def view():
    from innatura.viz.view_model import EconomyView

    v = EconomyView(scenario_name=SCENARIO, seed=0, plan="regional")
    v.step()
    v.step()
    return v


def test_view_goods_selector_lists_the_shipped_goods(view):
    choices = viz_regional.shipment_choices(view)
    lay = view.economy.layout
    assert choices[0] == viz_regional.ALL_GOODS
    assert choices[1:] == [lay.goods[g] for g in view.economy.last_shipments.goods_by_volume()]


def test_view_map_follows_the_selected_good(view):
    shipments = view.economy.last_shipments
    all_fig = viz_regional.shipment_figure(view)
    np.testing.assert_allclose(
        [a.get_linewidth() for a in _arrows(all_fig.axes[1])],
        region_map.edge_widths(shipments.carried, max(shipments.carried.max(), shipments.planned.sum(axis=1).max())))
    name = viz_regional.shipment_choices(view)[-1]
    good = view.economy.layout.goods.index(name)
    one = viz_regional.shipment_figure(view, name)
    assert name in one.texts[0].get_text()
    assert one.axes[0].get_title(loc="left") == f"planned: {shipments.planned[:, good].sum():,.4g} units"
    assert one.axes[0].get_title(loc="left") != all_fig.axes[0].get_title(loc="left")


def test_view_diagnostics_table_and_what_holds_each_region_back(view):
    rows = pd.DataFrame(view.economy.last_outcome.decision.diagnostics)
    table = viz_regional.diagnostics_table(view)
    assert len(table) == len(rows) > 0
    prices = pd.to_numeric(table["shadow_price"].replace("-", np.nan))
    priced = prices[table["constraint"] != "bottleneck"].dropna().to_numpy()
    assert (np.diff(priced) <= 0).all()  # highest shadow price first
    held = viz_regional.region_holdbacks(view)
    assert set(held["region"]) <= set(view.economy.layout.regions)
    for _, row in held.iterrows():
        mine = rows[rows["region"] == row["region"]]
        best = mine.loc[mine["shadow_price"].idxmax()]
        assert row["holds back"] == f"{best['constraint']}: {best['item']}"
        assert row["binding"] == len(mine)


def test_view_without_a_regional_plan_has_no_diagnostics():
    from innatura.viz.view_model import EconomyView

    v = EconomyView(scenario_name=SCENARIO, seed=0, plan="national")
    assert viz_regional.diagnostics_table(v) is None
    v.step()
    assert viz_regional.diagnostics_table(v) is None and viz_regional.region_holdbacks(v) is None
    assert viz_regional.shipment_choices(v) == [viz_regional.ALL_GOODS]
    fig = viz_regional.shipment_figure(v)
    assert "no planned shipments (national plan)" in _texts(fig.axes[0])
