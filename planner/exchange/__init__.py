"""Competitive equilibrium of exchange economies and Fisher markets; the Markov exchange economy.

Front door: :func:`competitive_equilibrium` (``method=None`` picks the default for the market).

==========================  ==============================================  =====================
market                      methods                                         default
==========================  ==============================================  =====================
Fisher, Cobb-Douglas        closed-form, eisenberg-gale, proportional-      closed-form
                            response, tatonnement
Fisher, CES                 eisenberg-gale, proportional-response           eisenberg-gale
                            (0 < rho < 1), tatonnement (0 < rho < 1)
Fisher, linear              eisenberg-gale, proportional-response           eisenberg-gale
exchange, Cobb-Douglas      closed-form, newton, proportional-response,     closed-form
                            tatonnement
exchange, CES               newton, tatonnement (0 < rho < 1)               newton
exchange, linear            fisher-fixed-point, proportional-response       fisher-fixed-point
==========================  ==============================================  =====================
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
from innatura.planner.errors import InvalidInputError
from innatura.planner.exchange.exchange import (
    cobb_douglas_exchange,
    fisher_fixed_point_exchange,
    newton_exchange,
    proportional_response_exchange,
)
from innatura.planner.exchange.fisher import cobb_douglas_fisher, eisenberg_gale, proportional_response
from innatura.planner.exchange.markets import (
    ExchangeMarket,
    FisherMarket,
    Market,
    UnsupportedMethodError,
    market_from_dict,
)
from innatura.planner.exchange.result import EquilibriumResult
from innatura.planner.exchange.tatonnement import has_gross_substitutes, tatonnement

__all__ = [
    "METHODS",
    "EquilibriumResult",
    "ExchangeMarket",
    "FisherMarket",
    "Market",
    "UnsupportedMethodError",
    "competitive_equilibrium",
    "has_gross_substitutes",
    "market_from_dict",
]

logger = logging.getLogger(__name__)

#: (market kind, method) -> solver
METHODS: dict[tuple[str, str], Callable[..., EquilibriumResult]] = {
    ("fisher", "closed-form"): cobb_douglas_fisher,
    ("fisher", "eisenberg-gale"): eisenberg_gale,
    ("fisher", "proportional-response"): proportional_response,
    ("fisher", "tatonnement"): tatonnement,
    ("exchange", "closed-form"): cobb_douglas_exchange,
    ("exchange", "newton"): newton_exchange,
    ("exchange", "proportional-response"): proportional_response_exchange,
    ("exchange", "tatonnement"): tatonnement,
    ("exchange", "fisher-fixed-point"): fisher_fixed_point_exchange,
}

_DEFAULTS = {
    ("fisher", "cobb-douglas"): "closed-form",
    ("fisher", "ces"): "eisenberg-gale",
    ("fisher", "linear"): "eisenberg-gale",
    ("exchange", "cobb-douglas"): "closed-form",
    ("exchange", "ces"): "newton",
    ("exchange", "linear"): "fisher-fixed-point",
}


def competitive_equilibrium(market: Market, method: str | None = None, **kwargs: Any) -> EquilibriumResult:
    """Competitive equilibrium of an exchange economy or a Fisher market.

    Args:
        market: an :class:`ExchangeMarket` or a :class:`FisherMarket` (validated on creation).
        method: one of the methods in the module table; ``None`` picks the default.
        **kwargs: passed to the method (``tol``, ``max_iter``, ...).

    Returns:
        A frozen :class:`EquilibriumResult`: prices summing to 1, allocations, the measured
        equilibrium error (relative excess demand, utility gap, Walras residual, budget balance),
        iterations, method, and whether it converged.

    Raises:
        UnsupportedMethodError: the method does not apply to the market (e.g. tatonnement
            without gross substitutes).
    """
    if not isinstance(market, (ExchangeMarket, FisherMarket)):
        raise TypeError(f"market: expected ExchangeMarket or FisherMarket, got {type(market).__name__}")
    name = method or _DEFAULTS[(market.kind, market.utility)]
    solver = METHODS.get((market.kind, name))
    if solver is None:
        known = sorted(m for k, m in METHODS if k == market.kind)
        raise UnsupportedMethodError(
            f"method = {name!r}: unknown for a {market.kind} market; one of {', '.join(known)}")
    if name == "closed-form" and market.utility != "cobb-douglas":
        raise UnsupportedMethodError(f"method 'closed-form': needs utility 'cobb-douglas', got {market.utility!r}")
    _check_options(kwargs)
    logger.debug("competitive equilibrium of a %s %s market %s by %s", market.utility, market.kind, market.shape, name)
    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        result = solver(market, **kwargs)
    _check_representable(result, market)
    return result


def _check_options(kwargs: dict[str, Any]) -> None:
    """``tol`` a finite number in (0, 1); ``max_iter`` a whole number >= 1."""
    tol = kwargs.get("tol")
    if tol is not None and not (isinstance(tol, (int, float)) and not isinstance(tol, bool) and 0 < tol < 1):
        raise InvalidInputError(f"tol = {tol!r}: expected a finite number in (0, 1)")
    it = kwargs.get("max_iter")
    if it is not None and not (isinstance(it, (int, np.integer)) and not isinstance(it, bool) and it >= 1):
        raise InvalidInputError(f"max_iter = {it!r}: expected a whole number >= 1")


def _check_representable(result: EquilibriumResult, market: Market) -> None:
    """Results that overflow or underflow are errors, not equilibria.

    Every price, allocation and utility must be finite, and an agent holding some of every good
    it values must have a positive utility: a zero there means ``x ** rho`` left double
    precision (a CES ``rho`` far below 0, or amounts far from 1).
    """
    arrays = {"prices": result.prices, "allocations": result.allocations, "utilities": result.utilities}
    for field, values in arrays.items():
        bad = np.argwhere(~np.isfinite(values))
        if bad.size:
            where = list(int(i) for i in bad[0])
            raise InvalidInputError(
                f"{field}{where}: the equilibrium overflows double precision ({float(values[tuple(bad[0])])!r}); "
                "measure the goods in units closer to 1" + _rho_hint(market)
            )
    valued = market.weights > 0
    holds_all = ((result.allocations > 0) | ~valued).all(axis=1)
    lost = np.flatnonzero(holds_all & (result.utilities <= 0))
    if lost.size:
        i = int(lost[0])
        raise InvalidInputError(
            f"utilities[{i}]: agent {i} holds some of every good it values, yet its utility computes as "
            f"{float(result.utilities[i])!r}: the equilibrium leaves double precision" + _rho_hint(market)
        )


def _rho_hint(market: Market) -> str:
    if market.rho is None:
        return ""
    return f" (rho = {market.rho!r} is too extreme: x ** rho over- or underflows; use a rho nearer 0)"
