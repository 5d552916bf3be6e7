"""``innatura solve SCENARIO``: the first night's plan as a table or JSON."""

from __future__ import annotations

import json

import pytest

from innatura.cli import main


def test_solve_selviaria_json(capsys):
    assert main(["solve", "selviaria", "--json", "--investment", "0"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["scenario"] == "selviaria" and out["investment_share"] == 0.0
    c = (2 + 10 * 0.999) / 3400  # see test_daily_plan_lp.test_selviaria_first_night_by_hand
    assert out["humanity"] == pytest.approx(c, rel=1e-6)
    assert set(out["fulfilment"]) == {"Profile 0", "Profile 1"}
    goods = {g["good"]: g for g in out["goods"]}
    assert goods["Lucloelium"]["production"] == pytest.approx(10.0, rel=1e-6)
    assert all(g["closing_stock"] >= 0 for g in out["goods"])


def test_solve_table_and_methods(capsys):
    assert main(["solve", "butter-village"]) == 0
    text = capsys.readouterr().out
    assert "humanity (Eq. 5)" in text and "externalities (Eq. 6)" in text and "Butter churn" in text
    assert main(["solve", "selviaria", "--method", "scaled-demand", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "scaled-demand"


def test_solve_errors_exit_2(capsys):
    assert main(["solve", "no-such-scenario"]) == 2
    assert "unknown scenario" in capsys.readouterr().err
    assert main(["solve", "selviaria", "--investment", "1.5"]) == 2
    assert "argument --investment: expected a finite number in [0, 1), got 1.5" in capsys.readouterr().err
