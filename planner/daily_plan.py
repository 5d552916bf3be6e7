"""The bounded daily plan of OLIN-EP (``docs/model.md``, "The bounded daily plan").

Every night the planner chooses production ``x`` and a fulfilment level ``c_p`` per profile
from opening stocks, labour supply, unit capacities, the profiles and the (reported)
coefficients, in two stages solved as lexicographic LPs with HiGHS:

1. **Consumption.** Maximise ``min_p c_p``, then ``sum_p c_p``, then (to waste nothing)
   minimise ``sum_j x_j``, using at most ``1 - sigma`` of every capital stock, labour supply
   and capacity, and the final-good stocks. Profile ``p`` receives ``c_p b_ip n_p`` of good ``i``.
2. **Investment.** With everything stage 1 left (at least the ``sigma`` share), maximise the
   relative growth of capital ``sum_k x^I_k / (s_k + 1)``, then the relative growth of the
   final-good stocks kept for tomorrow's inputs, ``sum_i (x^I - F x^I)_i / (s_i + 1)``.

Constraints per good kind: final goods balance ``s + x - F x - consumption >= 0``;
industrial rows are capacity requirements ``(F x)_k <= s_k`` (capital is not used up);
labour rows ``(F x)_l <= L_l``; ``x_j <=`` capacity; labour is never produced.

With coefficient curves each stage is a sequence of LPs (successive linear programming):
the input use ``g(x_j) = f(x_j) x_j`` of every curve cell is replaced by its secant through
the stage's base point (``0`` for stage 1, ``x^C`` for stage 2) and the current iterate,
which is exact at both; the LP is re-solved, the iterate moves (damped when it oscillates)
until it changes by less than ``tol``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from planner._plan_inputs import PlanInputs, validate_plan_inputs
from planner.curves import X_FLOOR
from planner.errors import InvalidInputError
from planner.lp import LexicographicLP, UnboundedLPError
from planner.metrics import humanity

__all__ = ["DailyPlan", "plan_day"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DailyPlan:
    """The night's plan. Arrays over goods have shape ``(n,)``; ``allocation`` is ``(n, m)``.

    Attributes:
        production: ``x = x^C + x^I`` per good (zero on labour goods).
        consumption_production: ``x^C``, production of the consumption stage.
        investment_production: ``x^I``, production of the investment stage.
        fulfilment: ``c_p`` per profile, in ``[0, 1]`` (``1`` for a profile with no need).
        allocation: units of good ``i`` planned for profile ``p``, ``c_p b_ip n_p``.
        planned_humanity: Eq. 5 of the plan (:func:`planner.metrics.humanity`).
        inputs_used: circulating inputs used up, on final goods.
        capital_required: capital needed in stock, on industrial goods.
        labour_used: labour needed, on labour goods.
        closing_stocks_expected: final: ``s + x - inputs - consumption``; industrial:
            ``s + x``; labour: 0.
        status: ``"optimal"`` or ``"slp-not-converged"`` (last iterate returned).
        lp_iterations: simplex iterations over all LPs solved.
        slp_iterations: successive-LP iterations (consumption + investment stages).
    """

    production: np.ndarray
    consumption_production: np.ndarray
    investment_production: np.ndarray
    fulfilment: np.ndarray
    allocation: np.ndarray
    planned_humanity: float
    inputs_used: np.ndarray
    capital_required: np.ndarray
    labour_used: np.ndarray
    closing_stocks_expected: np.ndarray
    status: str
    lp_iterations: int
    slp_iterations: int = 0


def secant_slopes(inp: PlanInputs, base: np.ndarray, point: np.ndarray) -> np.ndarray:
    """Slope of each curve cell's input use ``g(x) = f(x) x`` between ``base`` and ``point``.

    Where ``point`` and ``base`` (nearly) coincide, the derivative ``g'(base)`` is used.
    Negative slopes (input use falling with output) are clipped to 0.

    Shapes:
        ``base``, ``point``: ``(n,)``; returns ``(n_curves,)``.
    """
    out = np.empty(len(inp.curves))
    for k, (_, col, curve) in enumerate(inp.curves):
        b, p = float(base[col]), float(point[col])
        if abs(p - b) > 1e-9 * max(1.0, abs(b)):
            g1 = float(curve(p)) * p
            g0 = float(curve(b)) * b
            out[k] = (g1 - g0) / (p - b)
        else:
            bb = max(b, X_FLOOR)
            out[k] = float(curve(bb)) + float(curve.derivative(bb)) * b
    return np.maximum(out, 0.0)


def _usage(inp: PlanInputs, slopes: np.ndarray, x: np.ndarray) -> np.ndarray:
    use = inp.A0 @ x
    if inp.curves:
        use = use + np.bincount(inp.curve_rows, slopes * x[inp.curve_cols], minlength=inp.n)
    return use


def _unbounded_message(inp: PlanInputs, stage: str) -> str:
    bounded_rows = inp.industrial | inp.labour
    A = (inp.A0 != 0).astype(float).tocsc()
    limited = np.asarray(A[bounded_rows].sum(axis=0)).ravel() > 0
    limited[inp.curve_cols[bounded_rows[inp.curve_rows]]] = True
    goods = [inp.goods[j] for j in np.flatnonzero(np.isinf(inp.capacity) & ~limited & ~inp.labour)]
    return (
        f"{stage} stage is unbounded: some goods can be produced without limit; give them a "
        f"capacity or a labour/capital input. Candidates: {goods[:20]}"
    )


def _slp(lp: LexicographicLP, inp: PlanInputs, objectives_at, base, start, diag_f, max_iter, tol, stage):
    """Successive LPs of one stage around ``base``, from the iterate ``start``.

    ``objectives_at(slopes)`` gives the stage's objectives for the current linearisation.
    Returns (LP values, curve slopes used, SLP iterations, simplex iterations, converged).
    """
    n = inp.n
    cells_on_diag = (inp.curve_rows == inp.curve_cols) & inp.final[inp.curve_rows]
    xbar = start.copy()
    w, prev_step, lp_iters = 1.0, np.inf, 0
    for it in range(1, max_iter + 1):
        slopes = secant_slopes(inp, base, base + xbar)
        if inp.curves:
            lp.set_coefficients(inp.curve_rows, inp.curve_cols, slopes - cells_on_diag * diag_f)
        try:
            res = lp.solve(objectives_at(slopes))
        except UnboundedLPError:
            raise InvalidInputError(_unbounded_message(inp, stage)) from None
        lp_iters += res.iterations
        x = res.values[:n]
        if not inp.curves:
            return res.values, slopes, it, lp_iters, True
        step = float(np.max(np.abs(x - xbar), initial=0.0))
        if step <= tol * max(1.0, float(np.max(np.abs(x), initial=0.0))):
            return res.values, slopes, it, lp_iters, True
        if step >= prev_step:
            w = max(0.5 * w, 0.05)
        prev_step = step
        xbar = xbar + w * (x - xbar)
    logger.warning("%s stage: successive LP did not converge in %d iterations", stage, max_iter)
    return res.values, slopes, max_iter, lp_iters, False


def plan_day(
    economy,
    stocks: np.ndarray,
    labour_supply: np.ndarray,
    capacity: np.ndarray | None = None,
    investment_share: float = 0.0,
    *,
    coefficients=None,
    curves=None,
    max_slp_iter: int = 50,
    tol: float = 1e-6,
    x_start: np.ndarray | None = None,
) -> DailyPlan:
    """Plan one day: consumption stage, then investment stage (see the module docstring).

    Args:
        economy: the :class:`~planner.economy.Economy` (goods, kinds, profiles, coefficients).
        stocks: opening stock per good, shape ``(n,)``, ``>= 0``; labour entries are ignored.
        labour_supply: labour available today, shape ``(n,)``, zero except on labour goods.
        capacity: reported capacity per good (upper bound on ``x_j``), ``inf`` for none;
            ``None``: unbounded.
        investment_share: ``sigma`` in ``[0, 1)``.
        coefficients: reported constant coefficients ``(n, n)`` overriding the economy's.
        curves: reported curve cells overriding the economy's.
        max_slp_iter: successive-LP iterations allowed per stage.
        tol: successive-LP tolerance on the change of ``x`` (relative to ``max(1, |x|)``).
        x_start: first linearisation point of the consumption stage (e.g. yesterday's plan).

    Returns:
        :class:`DailyPlan`.

    Raises:
        InvalidInputError: malformed or out-of-range inputs (the message names the field and
            good), or an unbounded stage.
        InfeasiblePlanError: the LP solver failed.
    """
    inp = validate_plan_inputs(economy, stocks, labour_supply, capacity, investment_share, coefficients, curves)
    if max_slp_iter < 1 or not tol > 0:
        raise InvalidInputError(f"max_slp_iter/tol: must be positive, got {max_slp_iter!r}/{tol!r}")
    n, m, sigma = inp.n, inp.m, inp.sigma
    keep = 1.0 - sigma
    need = inp.bundles * inp.population  # (n, m)
    active = need.sum(axis=0) > 0
    act_idx = np.flatnonzero(active)
    ma = act_idx.size
    F = inp.final.astype(float)

    # ---- stage 1: consumption ---------------------------------------------------------------
    goods_block = sp.hstack([inp.A_struct - sp.diags(F), sp.csr_matrix(need), sp.csr_matrix((n, 1))])
    prof_block = sp.hstack(
        [sp.csr_matrix((ma, n)), -sp.csr_matrix((np.ones(ma), (np.arange(ma), act_idx)), shape=(ma, m)),
         sp.csr_matrix(np.ones((ma, 1)))]
    )
    M1 = sp.vstack([goods_block, prof_block], format="csc")
    ub_goods = np.where(inp.final, inp.stocks, keep * np.where(inp.industrial, inp.stocks, inp.labour_supply))
    row_hi = np.concatenate([ub_goods, np.zeros(ma)])
    cap_x = np.where(inp.labour, 0.0, keep * inp.capacity)
    c_lo = np.where(active, 0.0, 1.0)
    col_lo = np.concatenate([np.zeros(n), c_lo, [0.0]])
    col_hi = np.concatenate([cap_x, np.ones(m), [1.0 if ma else 0.0]])
    lp1 = LexicographicLP(M1, np.full(n + ma, -np.inf), row_hi, col_lo, col_hi)
    nv = n + m + 1
    obj_t = np.zeros(nv)
    obj_t[-1] = 1.0
    obj_c = np.zeros(nv)
    obj_c[n + act_idx] = 1.0
    obj_x = np.zeros(nv)
    obj_x[:n] = 1.0
    objs1 = [("max", obj_t), ("max", obj_c), ("min", obj_x)] if ma else [("min", obj_x)]
    start = np.zeros(n) if x_start is None else np.clip(np.asarray(x_start, float), 0.0, cap_x)
    zero = np.zeros(n)
    v1, slopes1, it1, lpi1, ok1 = _slp(lp1, inp, lambda _s: objs1, zero, start, F[inp.curve_rows], max_slp_iter, tol, "consumption")
    xC = np.clip(v1[:n], 0.0, cap_x)
    fulfil = np.clip(v1[n : n + m], 0.0, 1.0)
    fulfil[~active] = 1.0
    allocation = need * fulfil
    consumption = allocation.sum(axis=1)
    use_C = _usage(inp, slopes1, xC)

    # ---- stage 2: investment ----------------------------------------------------------------
    left = np.where(
        inp.final,
        inp.stocks + xC - use_C - consumption,
        np.where(inp.industrial, inp.stocks, inp.labour_supply) - use_C,
    )
    left = np.maximum(left, 0.0)
    cap_y = np.where(inp.labour, 0.0, np.maximum(inp.capacity - xC, 0.0))
    M2 = (inp.A_struct - sp.diags(F)).tocsc()
    lp2 = LexicographicLP(M2, np.full(n, -np.inf), left, np.zeros(n), cap_y)
    w_cap = np.where(inp.industrial, 1.0 / (inp.stocks + 1.0), 0.0)
    w_fin = np.where(inp.final, 1.0 / (inp.stocks + 1.0), 0.0)
    objs2_base = [o for o in (w_cap,) if o.any()]
    v2, slopes2, it2, lpi2 = np.zeros(n), np.zeros(len(inp.curves)), 0, 0
    ok2 = True
    if w_fin.any() or objs2_base:
        # the final-stock objective depends on the linearised coefficients: rebuilt per iteration
        def objectives_at(slopes):
            A2 = inp.A0 + sp.csr_matrix((slopes, (inp.curve_rows, inp.curve_cols)), shape=(n, n))
            net_fin = w_fin - A2.T @ w_fin
            return [("max", o) for o in objs2_base] + ([("max", net_fin)] if w_fin.any() else [])

        v2, slopes2, it2, lpi2, ok2 = _slp(
            lp2, inp, objectives_at, xC, np.zeros(n), F[inp.curve_rows], max_slp_iter, tol, "investment"
        )
    xI = np.clip(v2[:n], 0.0, cap_y)
    use_I = _usage(inp, slopes2, xI)

    # ---- assemble ---------------------------------------------------------------------------
    x = xC + xI
    use = use_C + use_I
    closing = np.where(
        inp.final, np.maximum(inp.stocks + x - use - consumption, 0.0), np.where(inp.industrial, inp.stocks + x, 0.0)
    )
    return DailyPlan(
        production=x,
        consumption_production=xC,
        investment_production=xI,
        fulfilment=fulfil,
        allocation=allocation,
        planned_humanity=humanity(allocation, inp.bundles, inp.population),
        inputs_used=np.where(inp.final, use, 0.0),
        capital_required=np.where(inp.industrial, use, 0.0),
        labour_used=np.where(inp.labour, use, 0.0),
        closing_stocks_expected=closing,
        status="optimal" if (ok1 and ok2) else "slp-not-converged",
        lp_iterations=lpi1 + lpi2,
        slp_iterations=it1 + it2,
    )
