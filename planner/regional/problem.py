"""The regional planning problem of one night as arrays (``docs/model.md``, "The regional plan").

:class:`RegionalProblem` is what :func:`innatura.planner.regional.plan_regional` takes: goods
and their kinds, regions and the directed edges between them (daily capacity and loss per
good), production units (good, region, capacity, input use), opening stocks and labour supply
per region, and the demand of every region's citizens per profile. It holds no agent state;
the agent model builds one every night from the reports.

Conventions: ``n`` goods, ``R`` regions, ``m`` profiles, ``U`` units, ``D`` directed edges.
Arrays over regions and goods are ``[region, good]``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from innatura.planner.errors import InvalidInputError
from innatura.planner.regional.input_use import InputUse

__all__ = ["KINDS", "TIMINGS", "RegionalProblem"]

logger = logging.getLogger(__name__)

KINDS = ("final", "industrial", "labour")
#: when goods shipped from one region can serve another region's units (docs/model.md, "Timing")
TIMINGS = ("shifts", "overnight", "layers")


def _array(name: str, value, shape: tuple[int, ...], *, allow_inf: bool = False) -> np.ndarray:  # noqa: ANN001
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{name}: not a numeric array ({exc})") from None
    if arr.shape != shape:
        raise InvalidInputError(f"{name}: shape {arr.shape}, expected {shape}")
    bad = np.isnan(arr) | (np.isneginf(arr) if allow_inf else ~np.isfinite(arr)) | (arr < 0)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise InvalidInputError(f"{name}: invalid value {float(arr[idx])!r} at {idx} (must be finite"
                                f"{' or inf' if allow_inf else ''} and >= 0)")
    return arr


def _names(name: str, value) -> tuple[str, ...]:  # noqa: ANN001
    out = tuple(str(v) for v in value)
    if len(set(out)) != len(out):
        raise InvalidInputError(f"{name}: duplicate names in {list(out)[:20]!r}")
    return out


def _index(name: str, value, size: int, bound: int, what: str) -> np.ndarray:  # noqa: ANN001
    arr = np.asarray(value)
    if arr.size == 0:
        arr = arr.astype(np.int64).reshape(0)
    if arr.shape != (size,) or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise InvalidInputError(f"{name}: expected {size} integer indices, got shape {arr.shape} ({arr.dtype})")
    bad = np.flatnonzero((arr < 0) | (arr >= bound))
    if bad.size:
        raise InvalidInputError(f"{name}: entry {int(bad[0])} is {int(arr[bad[0]])}, not one of the {bound} {what}")
    return arr.astype(np.int64)


@dataclass(frozen=True, eq=False)
class RegionalProblem:
    """One night's regional planning problem (see the module docstring and ``docs/model.md``).

    Attributes:
        goods, kinds: names and kinds (``"final"``, ``"industrial"``, ``"labour"``) of the
            ``n`` goods.
        regions: names of the ``R`` regions.
        profiles: names of the ``m`` consumption profiles.
        bundles: per-citizen daily need of each good in each profile, ``(n, m)``, final goods only.
        demand: (reported) citizens of each profile in each region, ``(R, m)``.
        stocks: opening stock per region and good, ``(R, n)``, zero on labour goods.
        labour: labour supply per region, ``(R, n)``, zero off labour goods.
        unit_good, unit_region: good and region of each of the ``U`` units, ``(U,)``.
        unit_capacity: (reported) capacity of each unit, ``(U,)``, ``inf`` for none.
        inputs: the units' input use (:class:`InputUse`: public constant coefficients and
            reported curves).
        edge_src, edge_dst: the ``D`` directed edges ``src -> dst``, ``(D,)``.
        edge_capacity: units (of all goods together) an edge can carry a day, ``(D,)``, ``inf``
            for none.
        edge_loss: share of good ``i`` lost on edge ``e``, ``(D, n)`` (a ``(D,)`` array is
            broadcast over goods), in ``[0, 1)``.
        investment_share: ``sigma`` in ``[0, 1)``: the share of labour, capital and unit capacity
            kept from the consumption stage for investment.
        closing_target: the safety stock of each region and good, ``(R, n)``: the investment
            stage first maximises the common share ``tau`` of it that closes in stock; ``None``
            (default) for zeros.
        unit_names: unit names (for diagnostics); ``None`` (default) for ``"u<k>"``.
        timing: ``"overnight"`` (default: only the morning shipments, from the opening stocks,
            reach other regions' units; what is made today reaches them tomorrow) or
            ``"shifts"`` (the day's shipments leave as goods are made and reach other regions'
            units a shift later: a unit may use what another region makes today) or
            ``"layers"`` (the day in ``layers`` layers with shipments between them: what a
            region makes in one layer reaches other regions' units in the next;
            :mod:`~innatura.planner.regional.layered`).
        layers: ``L >= 1``, the layers of the ``"layers"`` timing (``1``: the ``"overnight"``
            plan); ignored by the other timings.

    Shapes:
        ``n = len(goods)``, ``R = len(regions)``, ``m = len(profiles)``,
        ``U = len(unit_good)``, ``D = len(edge_src)``.
    """

    goods: tuple[str, ...]
    kinds: tuple[str, ...]
    regions: tuple[str, ...]
    profiles: tuple[str, ...]
    bundles: np.ndarray
    demand: np.ndarray
    stocks: np.ndarray
    labour: np.ndarray
    unit_good: np.ndarray
    unit_region: np.ndarray
    unit_capacity: np.ndarray
    inputs: InputUse
    edge_src: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    edge_dst: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    edge_capacity: np.ndarray = field(default_factory=lambda: np.zeros(0))
    edge_loss: np.ndarray = field(default_factory=lambda: np.zeros(0))
    investment_share: float = 0.0
    # ``None`` is accepted and normalised in ``__post_init__`` (zeros, ``"u<k>"``): never None after
    closing_target: np.ndarray = None  # type: ignore[assignment]
    unit_names: tuple[str, ...] = None  # type: ignore[assignment]
    timing: str = "overnight"
    layers: int = 1

    def __post_init__(self) -> None:
        self._check_names()
        n, R, m = len(self.goods), len(self.regions), len(self.profiles)
        self._set("bundles", _array("bundles", self.bundles, (n, m)))
        self._set("demand", _array("demand", self.demand, (R, m)))
        self._set("stocks", _array("stocks", self.stocks, (R, n)))
        self._set("labour", _array("labour", self.labour, (R, n)))
        target = np.zeros((R, n)) if self.closing_target is None else self.closing_target
        self._set("closing_target", _array("closing_target", target, (R, n)))
        self._check_kinds()
        self._check_units()
        self._check_edges()
        try:
            sigma = float(self.investment_share)
        except (TypeError, ValueError):
            raise InvalidInputError(f"investment_share: not a number: {self.investment_share!r}") from None
        if not 0.0 <= sigma < 1.0:
            raise InvalidInputError(f"investment_share: must be in [0, 1), got {self.investment_share!r}")
        self._set("investment_share", sigma)
        if self.timing not in TIMINGS:
            raise InvalidInputError(f"timing: {self.timing!r}; expected one of {TIMINGS}")
        if isinstance(self.layers, bool) or not isinstance(self.layers, (int, np.integer)) or self.layers < 1:
            raise InvalidInputError(f"layers: {self.layers!r}; expected a whole number >= 1")
        self._set("layers", int(self.layers))

    def _set(self, name: str, value) -> None:  # noqa: ANN001
        object.__setattr__(self, name, value)

    def _check_names(self) -> None:
        self._set("goods", _names("goods", self.goods))
        self._set("regions", _names("regions", self.regions))
        self._set("profiles", _names("profiles", self.profiles))
        kinds = tuple(str(k) for k in self.kinds)
        if len(kinds) != len(self.goods):
            raise InvalidInputError(f"kinds: {len(kinds)} kinds for {len(self.goods)} goods")
        bad = [k for k in kinds if k not in KINDS]
        if bad:
            raise InvalidInputError(f"kinds: unknown kind {bad[0]!r}; expected one of {KINDS}")
        self._set("kinds", kinds)
        if not self.regions:
            raise InvalidInputError("regions: at least one region is needed")

    def _check_kinds(self) -> None:
        lab = self.labour_mask
        for name, arr, wrong in (("stocks", self.stocks, lab), ("labour", self.labour, ~lab),
                                 ("closing_target", self.closing_target, lab)):
            hit = np.argwhere((arr != 0) & wrong[None, :])
            if hit.size:
                r, j = (int(v) for v in hit[0])
                raise InvalidInputError(f"{name}: {float(arr[r, j])!r} for good {self.goods[j]!r} "
                                        f"(kind {self.kinds[j]!r}) in region {self.regions[r]!r}")
        off = np.flatnonzero((self.bundles > 0).any(axis=1) & ~self.final)
        if off.size:
            j = int(off[0])
            raise InvalidInputError(f"bundles: good {self.goods[j]!r} of kind {self.kinds[j]!r} is in a profile; "
                                    "bundles hold final goods only")

    def _check_units(self) -> None:
        n, R = len(self.goods), len(self.regions)
        good = np.asarray(self.unit_good)
        U = good.size
        self._set("unit_good", _index("unit_good", good, U, n, "goods"))
        self._set("unit_region", _index("unit_region", self.unit_region, U, R, "regions"))
        self._set("unit_capacity", _array("unit_capacity", self.unit_capacity, (U,), allow_inf=True))
        lab = np.flatnonzero(self.labour_mask[self.unit_good])
        if lab.size:
            u = int(lab[0])
            raise InvalidInputError(f"unit_good: unit {u} makes labour good {self.goods[self.unit_good[u]]!r}; "
                                    "labour is supplied, not produced")
        if not isinstance(self.inputs, InputUse):
            raise InvalidInputError(f"inputs: expected an InputUse, got {type(self.inputs).__name__}")
        inp = self.inputs
        _index("inputs.unit", inp.unit, inp.unit.size, U, "units")
        _index("inputs.good", inp.good, inp.good.size, n, "goods")
        _index("inputs.curve_unit", inp.curve_unit, inp.curve_unit.size, U, "units")
        _index("inputs.curve_good", inp.curve_good, inp.curve_good.size, n, "goods")
        names = tuple(f"u{k}" for k in range(U)) if self.unit_names is None else tuple(map(str, self.unit_names))
        if len(names) != U:
            raise InvalidInputError(f"unit_names: {len(names)} names for {U} units")
        self._set("unit_names", names)

    def _check_edges(self) -> None:
        n, R = len(self.goods), len(self.regions)
        src = np.asarray(self.edge_src)
        D = src.size
        self._set("edge_src", _index("edge_src", src, D, R, "regions"))
        self._set("edge_dst", _index("edge_dst", self.edge_dst, D, R, "regions"))
        loops = np.flatnonzero(self.edge_src == self.edge_dst)
        if loops.size:
            raise InvalidInputError(f"edge_src/edge_dst: edge {int(loops[0])} is a loop at region "
                                    f"{self.regions[self.edge_src[loops[0]]]!r}")
        self._set("edge_capacity", _array("edge_capacity", self.edge_capacity, (D,), allow_inf=True))
        loss = np.asarray(self.edge_loss, dtype=float)
        if loss.shape == (D,):
            loss = np.repeat(loss[:, None], n, axis=1)
        loss = _array("edge_loss", loss, (D, n))
        if (loss >= 1.0).any():
            e, j = (int(v) for v in np.argwhere(loss >= 1.0)[0])
            raise InvalidInputError(f"edge_loss: {float(loss[e, j])!r} on edge {e} for good {self.goods[j]!r}; "
                                    "must be below 1")
        self._set("edge_loss", loss)

    # -- sizes and masks ---------------------------------------------------------------------
    @property
    def n_goods(self) -> int:
        return len(self.goods)

    @property
    def n_regions(self) -> int:
        return len(self.regions)

    @property
    def n_profiles(self) -> int:
        return len(self.profiles)

    @property
    def n_units(self) -> int:
        return int(self.unit_good.size)

    @property
    def n_edges(self) -> int:
        return int(self.edge_src.size)

    @cached_property
    def final(self) -> np.ndarray:
        return np.array([k == "final" for k in self.kinds], dtype=bool)

    @cached_property
    def industrial(self) -> np.ndarray:
        return np.array([k == "industrial" for k in self.kinds], dtype=bool)

    @cached_property
    def labour_mask(self) -> np.ndarray:
        return np.array([k == "labour" for k in self.kinds], dtype=bool)

    @cached_property
    def keep(self) -> np.ndarray:
        """Share of good ``i`` that arrives over edge ``e``, ``1 - edge_loss``, ``(D, n)``."""
        return 1.0 - self.edge_loss

    def need(self, fulfilment: np.ndarray) -> np.ndarray:
        """Deliveries per region and good when region ``r`` gives profile ``p`` the share
        ``fulfilment[r, p]`` of its bundle: ``sum_p b_ip w_rp c_rp``, ``(R, n)``."""
        return (self.demand * np.asarray(fulfilment, dtype=float)) @ self.bundles.T

    @cached_property
    def active(self) -> np.ndarray:
        """Region-profile pairs with a need, ``(R, m)``: the pairs the max-min is over."""
        return (self.demand > 0) & (self.bundles.sum(axis=0) > 0)[None, :]
