"""Market specifications: pure exchange (Arrow-Debreu) economies and Fisher markets.

A market is a frozen, validated set of arrays. Validation rejects ill-posed markets with an
:class:`~planner.errors.InvalidInputError` naming the field, the index and the value: NaN or
negative entries, wrong shapes, an agent who values nothing, a good nobody wants, an agent with
nothing to sell (zero endowment) or no money (zero budget), a good with no supply, and (for
exchange economies) an economy whose "who wants what others own" graph is not strongly
connected, where no equilibrium with positive prices is guaranteed.

Utilities (agent ``i``, good ``j``, weights ``a_ij >= 0``):

- ``"cobb-douglas"``: ``u_i(x) = prod_j x_ij ** (a_ij / sum_k a_ik)``;
- ``"ces"``: ``u_i(x) = (sum_j a_ij x_ij ** rho) ** (1 / rho)``, ``-50 <= rho < 1``, ``rho != 0``;
- ``"linear"``: ``u_i(x) = sum_j a_ij x_ij``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
from innatura.planner.errors import InvalidInputError
from scipy.sparse.csgraph import connected_components

__all__ = [
    "RHO_MIN",
    "UTILITIES",
    "ExchangeMarket",
    "FisherMarket",
    "Market",
    "UnsupportedMethodError",
    "Utility",
    "market_from_dict",
]

logger = logging.getLogger(__name__)

#: the most complementary CES exponent: ``x ** -50`` stays finite for ``x >= 1e-6``.
RHO_MIN = -50.0

Utility = Literal["cobb-douglas", "ces", "linear"]
UTILITIES: tuple[str, ...] = ("cobb-douglas", "ces", "linear")


class UnsupportedMethodError(InvalidInputError):
    """A solution method was asked for a market it does not apply to (e.g. tatonnement without
    gross substitutes)."""


def _matrix(name: str, value: Any, shape: tuple[int, int] | None = None) -> np.ndarray:
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{name}: not a numeric matrix ({exc})") from None
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise InvalidInputError(f"{name}: expected a non-empty [agent x good] matrix, got shape {arr.shape}")
    if shape is not None and arr.shape != shape:
        raise InvalidInputError(f"{name}: shape {arr.shape} does not match weights' shape {shape}")
    _finite_nonneg(name, arr)
    arr.setflags(write=False)
    return arr


def _vector(name: str, value: Any, size: int, what: str) -> np.ndarray:
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{name}: not a numeric vector ({exc})") from None
    if arr.shape != (size,):
        raise InvalidInputError(f"{name}: expected {size} entries (one per {what}), got shape {arr.shape}")
    _finite_nonneg(name, arr)
    bad = np.flatnonzero(arr <= 0)
    if bad.size:
        raise InvalidInputError(f"{name}[{bad[0]}] = {float(arr[bad[0]])!r}: must be > 0")
    arr.setflags(write=False)
    return arr


def _finite_nonneg(name: str, arr: np.ndarray) -> None:
    bad = np.argwhere(~np.isfinite(arr))
    if bad.size:
        idx = tuple(int(i) for i in bad[0])
        raise InvalidInputError(f"{name}{list(idx)} = {float(arr[idx])!r}: must be finite")
    bad = np.argwhere(arr < 0)
    if bad.size:
        idx = tuple(int(i) for i in bad[0])
        raise InvalidInputError(f"{name}{list(idx)} = {float(arr[idx])!r}: must be >= 0")


def _check_rho(utility: str, rho: float | None) -> float | None:
    if utility not in UTILITIES:
        raise InvalidInputError(f"utility = {utility!r}: expected one of {', '.join(UTILITIES)}")
    if utility != "ces":
        if rho is not None:
            raise InvalidInputError(f"rho = {rho!r}: only a 'ces' utility takes rho (utility is {utility!r})")
        return None
    if rho is None:
        raise InvalidInputError("rho: missing; a 'ces' utility needs rho < 1, rho != 0")
    try:
        r = float(rho)
    except (TypeError, ValueError):
        raise InvalidInputError(f"rho = {rho!r}: not a number") from None
    if not np.isfinite(r) or r >= 1 or r == 0:
        hint = " (use 'linear')" if r == 1 else " (use 'cobb-douglas')" if r == 0 else ""
        raise InvalidInputError(f"rho = {rho!r}: a 'ces' utility needs a finite rho < 1, rho != 0{hint}")
    if r < RHO_MIN:
        raise InvalidInputError(
            f"rho = {rho!r}: at most {-RHO_MIN:g} below 0; x ** rho leaves double precision for amounts "
            f"between 1e-6 and 1e6 beyond that (the utility is then Leontief to double precision)")
    return r


def _check_wants(weights: np.ndarray) -> None:
    dead = np.flatnonzero(weights.sum(axis=1) <= 0)
    if dead.size:
        raise InvalidInputError(f"weights[{dead[0]}] is all zero: agent {dead[0]} values no good")
    unwanted = np.flatnonzero(weights.sum(axis=0) <= 0)
    if unwanted.size:
        raise InvalidInputError(
            f"weights[:, {unwanted[0]}] is all zero: good {unwanted[0]} is wanted by nobody"
        )


@dataclass(frozen=True, eq=False)
class ExchangeMarket:
    """A pure exchange (Arrow-Debreu) economy: agents sell their endowments and buy bundles.

    Attributes:
        utility: ``"cobb-douglas"``, ``"ces"`` or ``"linear"``.
        weights: utility weights ``a``, shape ``(n_agents, n_goods)``.
        endowments: endowments ``e``, shape ``(n_agents, n_goods)``.
        rho: the CES exponent (``"ces"`` only).
    """

    utility: Utility
    weights: np.ndarray
    endowments: np.ndarray
    rho: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "rho", _check_rho(self.utility, self.rho))
        w = _matrix("weights", self.weights)
        e = _matrix("endowments", self.endowments, w.shape)
        object.__setattr__(self, "weights", w)
        object.__setattr__(self, "endowments", e)
        _check_wants(w)
        poor = np.flatnonzero(e.sum(axis=1) <= 0)
        if poor.size:
            raise InvalidInputError(
                f"endowments[{poor[0]}] is all zero: agent {poor[0]} has nothing to sell"
            )
        absent = np.flatnonzero(e.sum(axis=0) <= 0)
        if absent.size:
            raise InvalidInputError(f"endowments[:, {absent[0]}] is all zero: nobody owns good {absent[0]}")
        # agent i -> agent k when i wants a good that k owns: strongly connected or no CE with
        # positive prices is guaranteed (Gale's irreducibility condition).
        graph = sp.csr_matrix((w > 0).astype(np.float64) @ (e > 0).T.astype(np.float64))
        ncomp, labels = connected_components(graph, directed=True, connection="strong")
        if ncomp > 1:
            first = [int(np.flatnonzero(labels == c)[0]) for c in range(min(ncomp, 2))]
            raise InvalidInputError(
                f"weights/endowments: the economy is reducible ({ncomp} groups of agents; e.g. agents "
                f"{first[0]} and {first[1]} are in different groups): some group wants nothing the "
                "others own, so no equilibrium with positive prices is guaranteed"
            )

    @property
    def kind(self) -> str:
        return "exchange"

    @property
    def shape(self) -> tuple[int, int]:
        rows, cols = self.weights.shape
        return int(rows), int(cols)

    @property
    def supply(self) -> np.ndarray:
        """Total endowment of each good, shape ``(n_goods,)``."""
        return self.endowments.sum(axis=0)


@dataclass(frozen=True, eq=False)
class FisherMarket:
    """A Fisher market: buyers with fixed budgets buy a fixed supply of goods.

    Attributes:
        utility: ``"cobb-douglas"``, ``"ces"`` or ``"linear"``.
        weights: utility weights ``a``, shape ``(n_buyers, n_goods)``.
        budgets: money of each buyer, shape ``(n_buyers,)``, all ``> 0``.
        supply: quantity of each good, shape ``(n_goods,)``, all ``> 0``.
        rho: the CES exponent (``"ces"`` only).
    """

    utility: Utility
    weights: np.ndarray
    budgets: np.ndarray
    supply: np.ndarray
    rho: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "rho", _check_rho(self.utility, self.rho))
        w = _matrix("weights", self.weights)
        object.__setattr__(self, "weights", w)
        object.__setattr__(self, "budgets", _vector("budgets", self.budgets, w.shape[0], "buyer"))
        object.__setattr__(self, "supply", _vector("supply", self.supply, w.shape[1], "good"))
        _check_wants(w)

    @property
    def kind(self) -> str:
        return "fisher"

    @property
    def shape(self) -> tuple[int, int]:
        rows, cols = self.weights.shape
        return int(rows), int(cols)


Market = ExchangeMarket | FisherMarket

_FIELDS_EXCHANGE = {"utility", "rho", "weights", "endowments"}
_FIELDS_FISHER = {"utility", "rho", "weights", "budgets", "supply"}


def market_from_dict(data: Mapping[str, Any]) -> Market:
    """Build a market from the JSON schema of ``innatura equilibrium``.

    ``{"utility", "weights", "endowments"[, "rho"]}`` is an exchange economy;
    ``{"utility", "weights", "budgets", "supply"[, "rho"]}`` is a Fisher market.

    Raises:
        InvalidInputError: unknown or missing fields, or an ill-posed market.
    """
    if not isinstance(data, Mapping):
        raise InvalidInputError(f"top level: expected a JSON object, got {type(data).__name__}")
    for key in ("utility", "weights"):
        if key not in data:
            raise InvalidInputError(f"{key}: missing")
    fisher = "budgets" in data or "supply" in data
    allowed = _FIELDS_FISHER if fisher else _FIELDS_EXCHANGE
    unknown = sorted(set(data) - allowed)
    if unknown:
        kind = "a Fisher market (budgets + supply)" if fisher else "an exchange economy (endowments)"
        raise InvalidInputError(f"{unknown[0]}: unknown field for {kind}; allowed: {', '.join(sorted(allowed))}")
    utility = data["utility"]
    if not isinstance(utility, str):
        raise InvalidInputError(f"utility = {utility!r}: expected one of {', '.join(UTILITIES)}")
    if fisher:
        for key in ("budgets", "supply"):
            if key not in data:
                raise InvalidInputError(f"{key}: missing (a Fisher market needs both budgets and supply)")
        return FisherMarket(utility, data["weights"], data["budgets"], data["supply"], data.get("rho"))  # type: ignore[arg-type]
    if "endowments" not in data:
        raise InvalidInputError("endowments: missing (or give budgets + supply for a Fisher market)")
    return ExchangeMarket(utility, data["weights"], data["endowments"], data.get("rho"))  # type: ignore[arg-type]
