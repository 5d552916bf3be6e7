"""The daily plan's inputs, validated once into an immutable bundle of arrays, and the curve
linearisation every planning method shares (secant slopes, linearised input use)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from innatura.planner.curves import X_FLOOR, CurveMatrix, CurveStore
from innatura.planner.economy import CurveCell, Economy
from innatura.planner.errors import InvalidInputError

__all__ = [
    "PlanInputs",
    "check_goods_vector",
    "input_use",
    "safety_targets",
    "secant_slopes",
    "validate_plan_inputs",
    "validate_safety_stock",
]

#: a secant whose two points differ by less than this (relative to ``max(1, |base|)``) is
#: replaced by the derivative at the base point: the difference quotient would be rounding
SECANT_MIN_STEP = 1e-9


@dataclass(frozen=True)
class PlanInputs:
    """Validated arrays of one planning night (``n`` goods, ``m`` profiles).

    ``A0`` holds the constant coefficients with curve cells set to zero; ``A_struct`` the same
    pattern plus an explicit entry at every curve cell (values to be overwritten); both share
    one CSR structure, ``curve_pos`` is each curve cell's index in their ``data``. ``store``
    evaluates all curve cells at once.
    """

    goods: tuple[str, ...]
    final: np.ndarray
    industrial: np.ndarray
    labour: np.ndarray
    stocks: np.ndarray
    labour_supply: np.ndarray
    capacity: np.ndarray
    sigma: float
    A0: sp.csr_matrix
    A_struct: sp.csr_matrix
    curve_rows: np.ndarray
    curve_cols: np.ndarray
    bundles: np.ndarray
    population: np.ndarray
    store: CurveStore
    curve_pos: np.ndarray

    @property
    def curves(self) -> bool:
        """Whether any coefficient is a curve."""
        return self.store.n_cells > 0

    @property
    def n(self) -> int:
        return len(self.goods)

    @property
    def m(self) -> int:
        return self.bundles.shape[1]


def check_goods_vector(
    name: str, value: object, goods: Sequence[str], *, allow_inf: bool = False, nonneg: bool = True
) -> np.ndarray:
    """A float vector over goods; errors name the field, the good and the value."""
    try:
        v = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{name}: not a numeric vector ({exc})") from None
    if v.ndim == 0:
        v = np.full(len(goods), float(v))
    if v.shape != (len(goods),):
        raise InvalidInputError(f"{name}: shape {v.shape}, expected ({len(goods)},) (one value per good)")
    bad = np.isnan(v) | (np.isinf(v) if not allow_inf else np.isneginf(v))
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        raise InvalidInputError(f"{name}: invalid value {float(v[j])!r} for good {goods[j]!r}")
    if nonneg and (v < 0).any():
        j = int(np.flatnonzero(v < 0)[0])
        raise InvalidInputError(f"{name}: negative value {float(v[j])!r} for good {goods[j]!r}")
    return v


def _check_coefficients(economy: Economy, coefficients: object) -> sp.csr_matrix:
    """The reported constant coefficients (the economy's when ``None``), checked entry by entry."""
    goods, n = economy.goods, economy.n_goods
    if coefficients is None:
        return economy.coefficients
    A = sp.csr_matrix(coefficients, dtype=float)
    if A.shape != (n, n):
        raise InvalidInputError(f"coefficients: shape {A.shape}, expected {(n, n)}")
    bad = ~np.isfinite(A.data) | (A.data < 0)
    if bad.any():
        coo = A.tocoo()
        k = int(np.flatnonzero(~np.isfinite(coo.data) | (coo.data < 0))[0])
        raise InvalidInputError(
            f"coefficients: invalid value {float(coo.data[k])!r} for input {goods[coo.row[k]]!r} "
            f"of good {goods[coo.col[k]]!r}"
        )
    return A


def _check_share(investment_share: object) -> float:
    try:
        sigma = float(investment_share)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidInputError(f"investment_share: not a number: {investment_share!r}") from None
    if not (0.0 <= sigma < 1.0):
        raise InvalidInputError(f"investment_share: must be in [0, 1), got {investment_share!r}")
    return sigma


def _check_stocks(economy: Economy, stocks: object, labour_supply: object) -> tuple[np.ndarray, np.ndarray]:
    goods, n, labour = economy.goods, economy.n_goods, economy.mask("labour")
    s = np.asarray(stocks, dtype=float) if stocks is not None else None
    if s is None or s.shape != (n,):
        raise InvalidInputError(f"stocks: expected shape ({n},), got {None if s is None else s.shape}")
    s = np.where(labour, 0.0, s)  # stocks of labour goods are ignored
    s = check_goods_vector("stocks", s, goods)
    L = check_goods_vector("labour_supply", labour_supply, goods)
    wrong = np.flatnonzero((L != 0) & ~labour)
    if wrong.size:
        j = int(wrong[0])
        raise InvalidInputError(
            f"labour_supply: {float(L[j])!r} for good {goods[j]!r} of kind {economy.kinds[j]!r}; "
            "only labour goods have a supply"
        )
    return s, L


def _curve_store(economy: Economy, curves: Sequence[CurveCell] | CurveStore | None) -> CurveStore:
    """The curve cells to plan with as a store: ``curves`` (cells or a prebuilt store), else the
    economy's; every cell must lie inside the economy."""
    if isinstance(curves, CurveStore):
        store = curves
    else:
        store = CurveStore(economy.curves if curves is None else curves)
    n = economy.n_goods
    outside = np.flatnonzero((store.rows < 0) | (store.rows >= n) | (store.cols < 0) | (store.cols >= n))
    if outside.size:
        k = int(outside[0])
        raise InvalidInputError(f"curves: cell ({int(store.rows[k])}, {int(store.cols[k])}) outside {n} goods")
    return store


def validate_plan_inputs(
    economy: Economy,
    stocks: object,
    labour_supply: object,
    capacity: object,
    investment_share: object,
    coefficients: object = None,
    curves: Sequence[CurveCell] | CurveStore | None = None,
) -> PlanInputs:
    """Check every input of :func:`planner.plan.plan_day` and build :class:`PlanInputs`.

    ``curves``: the reported curve cells (default the economy's), or a prebuilt
    :class:`~planner.curves.CurveStore` of them (for instance from a caller's
    :class:`~planner.curves.CurveCache`).
    """
    if not isinstance(economy, Economy):
        raise InvalidInputError(f"economy: expected a planner.economy.Economy, got {type(economy).__name__}")
    goods = economy.goods
    n = economy.n_goods
    final, industrial, labour = economy.mask("final"), economy.mask("industrial"), economy.mask("labour")
    s, L = _check_stocks(economy, stocks, labour_supply)
    cap = np.full(n, np.inf) if capacity is None else check_goods_vector("capacity", capacity, goods, allow_inf=True)
    sigma = _check_share(investment_share)
    A = _check_coefficients(economy, coefficients)
    store = _curve_store(economy, curves)
    cm = CurveMatrix(A, store)
    A_struct = cm.base
    if not store.n_cells and not A_struct.has_canonical_format:
        A_struct = A_struct.copy()
        A_struct.sum_duplicates()
    A0 = A_struct.copy()
    A0.data[cm.positions] = 0.0
    B = economy.bundles
    off = np.flatnonzero((B > 0).any(axis=1) & ~final)
    if off.size:
        j = int(off[0])
        raise InvalidInputError(
            f"bundles: good {goods[j]!r} of kind {economy.kinds[j]!r} is in a profile; bundles hold final goods only"
        )
    return PlanInputs(
        goods=goods,
        final=final,
        industrial=industrial,
        labour=labour,
        stocks=s,
        labour_supply=L,
        capacity=cap,
        sigma=sigma,
        A0=A0,
        A_struct=A_struct,
        curve_rows=store.rows,
        curve_cols=store.cols,
        bundles=B,
        population=economy.population,
        store=store,
        curve_pos=np.asarray(cm.positions, dtype=np.int64),
    )


def secant_slopes(inp: PlanInputs, base: np.ndarray, point: np.ndarray) -> np.ndarray:
    """Slope of each curve cell's input use ``g(x) = f(x) x`` between ``base`` and ``point``.

    Where ``point`` and ``base`` (nearly) coincide, the derivative ``g'(base)`` is used.
    Negative slopes (input use falling with output) are clipped to 0.

    Shapes:
        ``base``, ``point``: ``(n,)``; returns ``(n_curves,)``.
    """
    if not inp.curves:
        return np.zeros(0)
    store = inp.store
    base = np.asarray(base, dtype=float)
    point = np.asarray(point, dtype=float)
    b, p = base[inp.curve_cols], point[inp.curve_cols]
    far = np.abs(p - b) > SECANT_MIN_STEP * np.maximum(1.0, np.abs(b))
    out = np.empty(b.size)
    if far.any():
        g1 = store.input_use(point)
        g0 = store.input_use(base)
        out[far] = (g1[far] - g0[far]) / (p[far] - b[far])
    if not far.all():
        bb = np.maximum(base, X_FLOOR)
        near = ~far
        out[near] = (store.coefficients(bb) + store.derivatives(bb) * base[inp.curve_cols])[near]
    return np.maximum(out, 0.0)


def input_use(inp: PlanInputs, slopes: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Input use of every good at production ``x``, each curve cell linearised at ``slopes``
    (its input use is ``slope * x_col``; exact when ``slopes`` are the secants through 0 and
    ``x``, or through a base point ``b`` and ``b + x`` for the use of the step ``x``).

    Shapes:
        ``slopes``: ``(n_curves,)``; ``x``: ``(n,)``; returns ``(n,)``.
    """
    use = inp.A0 @ x
    if inp.curves:
        use = use + np.bincount(inp.curve_rows, slopes * x[inp.curve_cols], minlength=inp.n)
    return use


def validate_safety_stock(value: object, n: int) -> float | np.ndarray:
    """Validate ``safety_stock``: a finite number ``>= 0`` or a finite array ``(n,)`` ``>= 0``."""
    if np.isscalar(value):
        try:
            beta = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            beta = float("nan")
        if not (np.isfinite(beta) and beta >= 0.0):
            raise InvalidInputError(f"safety_stock: must be a finite number >= 0 (days of cover), got {value!r}")
        return beta
    arr = np.asarray(value, dtype=float)
    if arr.shape != (n,):
        raise InvalidInputError(f"safety_stock: an array of target stocks must have shape ({n},), got {arr.shape}")
    bad = np.flatnonzero(~np.isfinite(arr) | (arr < 0))
    if bad.size:
        raise InvalidInputError(
            f"safety_stock: target stocks must be finite and >= 0; entry {int(bad[0])} is {arr[bad[0]]!r}"
        )
    return arr


def safety_targets(
    inp: PlanInputs, use_C: np.ndarray, consumption: np.ndarray, beta: float | np.ndarray
) -> np.ndarray:
    """The safety stock of every final good, zero on other goods, ``(n,)``: ``beta`` times the
    consumption stage's draw on it (input use plus consumption), or the given target array."""
    if np.isscalar(beta):
        return np.where(inp.final, beta * np.maximum(use_C + consumption, 0.0), 0.0)
    return np.where(inp.final, np.asarray(beta, dtype=float), 0.0)
