"""abm.plots: figures drawn from small model-level DataFrames (docs/model.md columns)."""

from __future__ import annotations

import matplotlib.image
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from innatura.abm import plots, region_map
from matplotlib import colormaps
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.figure import Figure


@pytest.fixture
def frame() -> pd.DataFrame:
    days = np.arange(1, 11)
    humanity = 0.0005 * np.exp(0.9 * (days - 1))  # spans more than three decades
    return pd.DataFrame(
        {
            "day": days,
            "humanity": np.minimum(humanity, 1.0),
            "planned_humanity": np.minimum(1.2 * humanity, 1.0),
            "min_fulfilment": np.minimum(humanity, 1.0),
            "externalities": np.cumsum(days * 2.0),
            "externalities_today": days * 2.0,
            "plan_error": np.linspace(0.3, 0.05, 10),
            "misreport_flags": [0, 1, 2, 0, 3, 1, 0, 0, 4, 2],
            "fulfilment:p0": np.linspace(0, 1, 10),
            "fulfilment:p1": np.linspace(0, 0.5, 10),
            "inventory:milk": np.linspace(10, 100, 10),
            "inventory:butter": np.linspace(1, 2, 10),
            "inventory:churn": np.linspace(5, 7, 10),
            "planned:milk": np.linspace(10, 20, 10),
            "executed:milk": np.linspace(9, 19, 10),
            "planned:butter": np.linspace(1, 2, 10),
            "executed:butter": np.linspace(1, 1.5, 10),
        }
    )


def _lines(ax):
    return [line for line in ax.get_lines() if line.get_label() and not line.get_label().startswith("_child")]


def test_humanity_figure_draws_executed_planned_and_externalities(frame):
    fig = plots.humanity_figure(frame)
    assert isinstance(fig, Figure)
    top, bottom = fig.axes[:2]
    labels = [line.get_label() for line in top.get_lines()]
    assert labels == ["executed", "planned", "min. fulfilment"]
    np.testing.assert_allclose(top.get_lines()[0].get_ydata(), frame["humanity"])
    np.testing.assert_allclose(top.get_lines()[0].get_xdata(), frame["day"])
    assert top.get_yscale() == "log"  # 0.0005 .. 1 spans more than 1e3
    np.testing.assert_allclose(bottom.get_lines()[0].get_ydata(), frame["externalities"])


def test_humanity_axis_is_linear_when_values_are_close(frame):
    flat = frame.assign(humanity=0.5, planned_humanity=0.6, min_fulfilment=0.4)
    assert plots.humanity_figure(flat).axes[0].get_yscale() == "linear"


def test_inventory_figure_picks_goods_with_largest_peak(frame):
    fig = plots.inventory_figure(frame, max_goods=2)
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.get_lines()] == ["milk", "churn"]
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), frame["inventory:milk"])
    chosen = plots.inventory_figure(frame, goods=["butter"]).axes[0]
    assert [line.get_label() for line in chosen.get_lines()] == ["butter"]


def test_production_figure_pairs_planned_and_executed(frame):
    ax = plots.production_figure(frame).axes[0]
    lines = ax.get_lines()
    assert len(lines) == 4  # two goods, planned and executed each
    solid = [line for line in lines if line.get_linestyle() == "-"]
    dashed = [line for line in lines if line.get_linestyle() == "--"]
    assert len(solid) == len(dashed) == 2
    for s, d in zip(solid, dashed, strict=False):
        assert s.get_color() == d.get_color()
    np.testing.assert_allclose(solid[0].get_ydata(), frame["executed:milk"])
    np.testing.assert_allclose(dashed[0].get_ydata(), frame["planned:milk"])


def test_misreport_figure_shows_detection_when_something_was_flagged(frame):
    detection = frame.assign(misreporters=5.0, detection_precision=np.linspace(0.5, 1.0, 10),
                             detection_recall=np.linspace(0.1, 0.3, 10))
    fig = plots.misreport_figure(detection)
    ax, twin = fig.axes[:2]
    heights = [patch.get_height() for patch in ax.patches]
    assert heights == list(frame["misreport_flags"].astype(float))
    assert [line.get_label() for line in twin.get_lines()] == ["precision", "recall"]
    np.testing.assert_allclose(twin.get_lines()[1].get_ydata(), detection["detection_recall"])
    assert twin.get_ylim() == (0.0, 1.05)


def test_misreport_figure_shows_the_gap_to_the_truth_when_nothing_was_flagged(frame):
    quiet = frame.assign(misreport_flags=0, report_demand_factor=1.15, report_input_factor=1.09,
                         report_capacity_ratio=1.0, liars_gain=0.4)
    fig = plots.misreport_figure(quiet)
    assert len(fig.axes) == 1 and not fig.axes[0].patches
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    np.testing.assert_allclose(lines["citizens' demand (reported / true)"].get_ydata(), 1.15)
    np.testing.assert_allclose(lines["1 + liars' gain (share of need over the truthful)"].get_ydata(), 1.4)
    assert "reported vs true" in fig.axes[0].get_title(loc="left")


def test_fulfilment_figure_has_one_line_per_profile(frame):
    ax = plots.fulfilment_figure(frame).axes[0]
    assert [line.get_label() for line in ax.get_lines()] == ["p0", "p1"]


@pytest.mark.parametrize(
    "make", [plots.humanity_figure, plots.inventory_figure, plots.production_figure,
             plots.misreport_figure, plots.fulfilment_figure, plots.detection_figure, plots.report_gap_figure]
)
def test_empty_frame_gives_a_figure_that_says_so(make):
    fig = make(pd.DataFrame())
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert any(t.startswith("no ") for t in texts), texts


def test_single_day_gets_a_readable_day_axis(frame):
    ax = plots.inventory_figure(frame.iloc[:1]).axes[0]
    low, high = ax.get_xlim()
    assert high - low >= 4
    ticks = [t for t in ax.get_xticks() if low <= t <= high]
    assert all(float(t).is_integer() for t in ticks)


def test_region_network_colour_size_and_width_follow_the_data():
    graph = nx.path_graph(["north", "centre", "south"])
    value = {"north": 0.0, "centre": 0.5, "south": 1.0}
    population = {"north": 100, "centre": 400, "south": 900}
    shipped = {("centre", "north"): 10.0, ("centre", "south"): 0.0}
    fig = region_map.region_network_figure(graph, value, population, shipped)
    ax = fig.axes[0]
    nodes = next(c for c in ax.collections if isinstance(c, PathCollection))
    cmap = colormaps["RdYlGn"]
    np.testing.assert_allclose(nodes.get_facecolors(), [cmap(0.0), cmap(0.5), cmap(1.0)])
    sizes = nodes.get_sizes()
    assert sizes[0] < sizes[1] < sizes[2]
    edges = next(c for c in ax.collections if isinstance(c, LineCollection))
    widths = edges.get_linewidths()
    assert widths[0] > widths[1]  # the edge that shipped goods is wider
    texts = " ".join(t.get_text() for t in ax.texts)
    for name in graph:
        assert name in texts
    assert "50%" in texts


def test_region_network_without_values_is_grey():
    graph = nx.Graph([(0, 1)])
    fig = region_map.region_network_figure(graph, {}, {0: 1, 1: 1})
    nodes = next(c for c in fig.axes[0].collections if isinstance(c, PathCollection))
    np.testing.assert_allclose(nodes.get_facecolors()[:, :3], 0.75)


def test_write_run_figures_writes_pngs_atomically(frame, tmp_path):
    written = plots.write_run_figures(frame, tmp_path / "out")
    names = sorted(p.name for p in written)
    assert names == sorted(plots.RUN_FIGURES)
    for path in written:
        image = matplotlib.image.imread(path)
        assert image.ndim == 3 and image.shape[0] > 200 and image.shape[1] > 400
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == names  # no temporary files left


def test_write_run_figures_skips_figures_without_columns(tmp_path):
    df = pd.DataFrame({"day": [1, 2], "humanity": [0.1, 0.2]})
    written = plots.write_run_figures(df, tmp_path)
    assert [p.name for p in written] == ["humanity.png"]
