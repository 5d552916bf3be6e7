"""Market validation: ill-posed markets and refused methods give clear errors."""

from __future__ import annotations

import pytest
from innatura.planner.errors import InvalidInputError
from innatura.planner.exchange import (
    ExchangeMarket,
    FisherMarket,
    UnsupportedMethodError,
    competitive_equilibrium,
    market_from_dict,
)

W = [[1.0, 2.0], [2.0, 1.0]]
E = [[1.0, 0.5], [0.5, 1.0]]


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"endowments": [[0.0, 0.0], [1.0, 1.0]]}, r"endowments\[0\] is all zero: agent 0 has nothing to sell"),
        ({"weights": [[1.0, 0.0], [1.0, 0.0]]}, r"good 1 is wanted by nobody"),
        ({"weights": [[0.0, 0.0], [1.0, 1.0]]}, r"agent 0 values no good"),
        ({"weights": [[1.0, float("nan")], [1.0, 1.0]]}, r"weights\[0, 1\] = nan: must be finite"),
        ({"endowments": [[1.0, -1.0], [1.0, 1.0]]}, r"endowments\[0, 1\] = -1.0: must be >= 0"),
        ({"endowments": [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]}, r"endowments: shape \(2, 3\) does not match"),
        ({"weights": [1.0, 2.0]}, r"weights: expected a non-empty \[agent x good\] matrix"),
        ({"endowments": [[0.0, 0.0], [1.0, 0.0]], "weights": [[1.0, 1.0], [1.0, 1.0]]}, r"nothing to sell"),
        ({"endowments": [[1.0, 0.0], [0.0, 1.0]], "weights": [[1.0, 0.0], [0.0, 1.0]]}, r"reducible"),
    ],
)
def test_ill_posed_exchange(kwargs: dict, match: str) -> None:
    args = {"utility": "cobb-douglas", "weights": W, "endowments": E} | kwargs
    with pytest.raises(InvalidInputError, match=match):
        ExchangeMarket(**args)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"budgets": [1.0, 0.0]}, r"budgets\[1\] = 0.0: must be > 0"),
        ({"supply": [1.0]}, r"supply: expected 2 entries"),
        ({"utility": "ces"}, r"rho: missing"),
        ({"utility": "ces", "rho": 1.0}, r"use 'linear'"),
        ({"utility": "ces", "rho": 0.0}, r"use 'cobb-douglas'"),
        ({"rho": 0.5}, r"only a 'ces' utility takes rho"),
        ({"utility": "leontief"}, r"utility = 'leontief'"),
    ],
)
def test_ill_posed_fisher(kwargs: dict, match: str) -> None:
    args = {"utility": "linear", "weights": W, "budgets": [1.0, 2.0], "supply": [1.0, 1.0]} | kwargs
    with pytest.raises(InvalidInputError, match=match):
        FisherMarket(**args)


def test_market_arrays_are_read_only() -> None:
    m = ExchangeMarket("linear", W, E)
    with pytest.raises(ValueError):
        m.weights[0, 0] = 5.0


@pytest.mark.parametrize(
    "utility,rho,method",
    [("linear", None, "tatonnement"), ("ces", -0.5, "tatonnement"), ("linear", None, "newton"),
     ("ces", 0.5, "closed-form"), ("ces", 0.5, "no-such-method")],
)
def test_refused_methods(utility: str, rho: float | None, method: str) -> None:
    with pytest.raises(UnsupportedMethodError, match=f"method.*{method.split('-')[0]}"):
        competitive_equilibrium(ExchangeMarket(utility, W, E, rho), method)


def test_tatonnement_refused_for_linear_fisher_says_why() -> None:
    with pytest.raises(UnsupportedMethodError, match="gross substitutes"):
        competitive_equilibrium(FisherMarket("linear", W, [1.0, 1.0], [1.0, 1.0]), "tatonnement")


def test_market_from_dict() -> None:
    assert market_from_dict({"utility": "linear", "weights": W, "endowments": E}).kind == "exchange"
    assert market_from_dict({"utility": "linear", "weights": W, "budgets": [1, 1], "supply": [1, 1]}).kind == "fisher"
    with pytest.raises(InvalidInputError, match="supply: missing"):
        market_from_dict({"utility": "linear", "weights": W, "budgets": [1, 1]})
    with pytest.raises(InvalidInputError, match="prices: unknown field"):
        market_from_dict({"utility": "linear", "weights": W, "endowments": E, "prices": [1, 1]})
    with pytest.raises(InvalidInputError, match="endowments: missing"):
        market_from_dict({"utility": "linear", "weights": W})
    with pytest.raises(InvalidInputError, match="top level"):
        market_from_dict([1, 2])  # type: ignore[arg-type]
