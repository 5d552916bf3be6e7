"""Parts of the regional plan: vectorised input use, routes and routing, LP duals, the bench command."""

from __future__ import annotations

import json

import numpy as np
import pytest
from innatura.abm.active_learning import SampledInput
from innatura.planner.curves import PowerLawInput
from innatura.planner.lp import LexicographicLP
from innatura.planner.regional import InputUse, RegionalProblem
from innatura.planner.regional.routing import Routes, route


class Quadratic:
    """An input function that neither is a power law nor offers knots (evaluated one by one)."""

    def __call__(self, q):
        return 0.5 * np.asarray(q, dtype=float) ** 2 + q

    def derivative(self, q):
        return np.asarray(q, dtype=float) + 1.0


def test_input_use_evaluates_every_kind_of_input_function_as_the_function_itself():
    funcs = (PowerLawInput(0.3, 0.8), SampledInput((2.0, 5.0, 9.0), (1.0, 3.0, 4.0)), Quadratic())
    inp = InputUse(unit=[0], good=[1], coefficient=[0.5], curve_unit=[0, 1, 1], curve_good=[1, 1, 2], curves=funcs)
    q = np.array([0.0, 0.7, 3.0, 9.0, 14.0])
    for k, g in enumerate(funcs):
        for qq in q:
            v, d = inp.curve_values(np.full(inp.n_curves, qq))
            assert v[k] == pytest.approx(float(g(qq)), rel=1e-12, abs=1e-15)
            if qq > 0 and not (isinstance(g, SampledInput) and qq in (2.0, 5.0, 9.0)):
                assert d[k] == pytest.approx(float(g.derivative(qq)), rel=1e-9)
    use = inp.use(np.array([3.0, 4.0]), np.array([0, 1]), 2, 3)
    assert use[0, 1] == pytest.approx(0.5 * 3.0 + float(funcs[0](3.0)))
    assert use[1, 1] == pytest.approx(float(funcs[1](4.0)))
    assert use[1, 2] == pytest.approx(float(funcs[2](4.0)))
    # secants are exact at both ends
    s = inp.secant_slopes(np.array([1.0, 2.0]), np.array([3.0, 6.0]))
    assert s[1] == pytest.approx((float(funcs[1](6.0)) - float(funcs[1](2.0))) / 4.0)


def _ring(R=4, loss=0.1, cap=np.inf):
    src = [k for k in range(R) for _ in (0,)] + [(k + 1) % R for k in range(R)]
    dst = [(k + 1) % R for k in range(R)] + list(range(R))
    goods, kinds = ("a", "b", "L"), ("final", "final", "labour")
    return RegionalProblem(goods, kinds, tuple(f"r{k}" for k in range(R)), ("p",), np.zeros((3, 1)),
                           np.zeros((R, 1)), np.zeros((R, 3)), np.zeros((R, 3)), np.zeros(0, dtype=np.int64),
                           np.zeros(0, dtype=np.int64), np.zeros(0), InputUse([], [], []), np.array(src),
                           np.array(dst), np.full(2 * R, cap), np.full(2 * R, loss))


def test_routes_are_shortest_paths_with_the_keep_of_their_edges():
    routes = Routes(_ring())
    assert routes.factored
    assert routes.hops[0, 2] == 2 and routes.hops[0, 1] == 1 and routes.hops[0, 0] == 0
    keep = routes.keep(np.array([0]))
    assert keep[0, 2, 0] == pytest.approx(0.81)


def test_route_serves_the_nearest_first_and_conserves_goods():
    p = _ring()
    routes = Routes(p)
    supply = np.array([[10.0], [0.0], [0.0], [0.0]])
    demand = np.array([[0.0], [2.0], [1.0], [2.0]])
    res = route(routes, supply, demand, np.array([0]), p.edge_capacity, with_flows=True)
    assert res.unmet.sum() == pytest.approx(0.0, abs=1e-12)
    assert res.received[:, 0] == pytest.approx([0.0, 2.0, 1.0, 2.0])
    assert res.sent[0, 0] == pytest.approx(2 / 0.9 + 1 / 0.81 + 2 / 0.9)
    ships = routes.edge_flows(res.parts[0][1], p.keep[:, [0]])
    out = np.zeros(4)
    arrive = np.zeros(4)
    np.add.at(out, p.edge_src, ships[:, 0])
    np.add.at(arrive, p.edge_dst, ships[:, 0] * 0.9)
    assert (arrive - out) == pytest.approx(res.received[:, 0] - res.sent[:, 0])


def test_route_serves_what_over_asked_sources_left_from_the_others():
    # a 20-region small world: the sources nearest to some destinations are asked by several
    # and serve in proportion; further passes bring the rest from the sources that still have it
    pairs = [(0, 1), (0, 2), (0, 18), (0, 19), (1, 2), (1, 3), (1, 19), (2, 3), (2, 4), (3, 4), (3, 5), (4, 5),
             (4, 6), (5, 6), (5, 13), (6, 7), (6, 8), (7, 8), (7, 9), (8, 9), (8, 10), (9, 10), (9, 11), (10, 11),
             (10, 12), (11, 12), (11, 13), (12, 13), (12, 14), (12, 17), (13, 14), (13, 15), (14, 15), (15, 16),
             (15, 17), (16, 17), (16, 18), (17, 18), (17, 19), (18, 19)]
    R = 20
    src = np.array([a for a, _ in pairs] + [b for _, b in pairs])
    dst = np.array([b for _, b in pairs] + [a for a, _ in pairs])
    p = RegionalProblem(("a", "L"), ("final", "labour"), tuple(f"r{k}" for k in range(R)), ("p",), np.zeros((2, 1)),
                        np.zeros((R, 1)), np.zeros((R, 2)), np.zeros((R, 2)), np.zeros(0, dtype=np.int64),
                        np.zeros(0, dtype=np.int64), np.zeros(0), InputUse([], [], []), src, dst,
                        np.full(src.size, np.inf), np.full(src.size, 0.01))
    supply = np.array([0, 0, 0, 0, 0, 0, 0, 3.2, 2.6, 2.2, 3.7, 1.6, 1.3, 1.0, 0.8, 0.5, 0.3, 0, 0, 0])[:, None]
    demand = np.array([1.7, 2.1, 4.5, 4.6, 1.0, 0.8, 0.9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.3, 0.7])[:, None]
    res = route(Routes(p), supply, demand, np.array([0]), p.edge_capacity)
    assert res.unmet.max() <= 1e-12
    assert res.received[:, 0] == pytest.approx(demand[:, 0], abs=1e-12)
    assert (res.sent <= supply + 1e-12).all()


def test_route_keeps_to_the_edges_capacity():
    p = _ring(cap=1.0)
    res = route(Routes(p), np.array([[10.0], [0.0], [0.0], [0.0]]), np.array([[0.0], [5.0], [0.0], [0.0]]),
                np.array([0]), p.edge_capacity)
    assert res.edge_load.max() <= 1.0 + 1e-9
    assert res.unmet[1, 0] == pytest.approx(5.0 - 0.9, rel=1e-9)


def test_lexicographic_lp_reports_duals_of_each_objective():
    # max x + y  s.t.  x + 2y <= 4,  x <= 3:  x = 3, y = 0.5; d z / d b = (0.5, 0.5)
    lp = LexicographicLP(np.array([[1.0, 2.0], [1.0, 0.0]]), [-np.inf, -np.inf], [4.0, 3.0], [0.0, 0.0],
                         [np.inf, np.inf])
    res = lp.solve([("max", np.array([1.0, 1.0])), ("min", np.array([0.0, 1.0]))])
    assert res.objective_values[0] == pytest.approx(3.5)
    assert res.row_duals[0] == pytest.approx([0.5, 0.5])
    assert len(res.row_duals) == 2 and len(res.col_duals) == 2


def test_bench_regional_command(tmp_path, capsys):
    from innatura.cli import main

    out = tmp_path / "bench.json"
    rc = main(["bench", "regional", "--goods", "30", "--regions", "3", "--citizens", "300", "--units", "10",
               "--profiles", "4", "--nights", "2", "--exact", "--json", str(out)])
    assert rc == 0
    rec = json.loads(out.read_text())
    assert len(rec["nights"]) == 2
    assert rec["decomposed_to_national"] > 0 and rec["lp_to_national"] > 0
    for night in rec["nights"]:
        assert night["decomposed_planned_humanity"] <= night["lp_planned_humanity"] + 1e-6
    assert "decomposed / national" in capsys.readouterr().out
