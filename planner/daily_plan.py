"""The bounded daily plan of OLIN-EP (``docs/model.md``, "The bounded daily plan").

Every night the planner chooses production ``x`` and a fulfilment level ``c_p`` per profile
from opening stocks, labour supply, unit capacities, the profiles and the (reported)
coefficients, in two stages solved as lexicographic LPs with HiGHS:

1. **Consumption.** Maximise ``min_p c_p``, then ``sum_p c_p``, then (to waste nothing)
   minimise ``sum_j x_j``, using at most ``1 - sigma`` of every capital stock, labour supply
   and capacity, and the final-good stocks. Profile ``p`` receives ``c_p b_ip n_p`` of good ``i``.
2. **Investment.** With everything stage 1 left (at least the ``sigma`` share), first rebuild
   the safety stocks: the largest common share ``tau`` in ``[0, 1]`` such that every final
   good closes with at least ``tau * beta * (stage-1 input use + consumption)`` in stock
   (``beta = safety_stock``, days of cover; ``beta = 0`` skips this), then at that ``tau``
   maximise the relative growth of capital ``sum_k x^I_k / (s_k + 1)``, then the relative
   growth of the final-good stocks kept for tomorrow's inputs,
   ``sum_i (x^I - F x^I)_i / (s_i + 1)``.

Stage 1 produces final goods only (capital made today serves from tomorrow, so industrial
output cannot raise today's fulfilment and the third objective would set it to zero).

Constraints per good kind: final goods balance ``s + x - F x - consumption >= 0``;
industrial rows are capacity requirements ``(F x)_k <= s_k`` (capital is not used up);
labour rows ``(F x)_l <= L_l``; ``x_j <=`` capacity; labour is never produced.

With coefficient curves each stage is a sequence of LPs (successive linear programming):
the input use ``g(x_j) = f(x_j) x_j`` of every curve cell is replaced by its secant through
the stage's base point (``0`` for stage 1, ``x^C`` for stage 2) and the current iterate,
which is exact at both; the LP is re-solved, the iterate moves (damped while it oscillates)
until it changes by less than ``tol``, the secant slopes at the LP solution equal, to
``tol``, the slopes the LP used (the solution is its own linearisation point), or the first
objective has changed by less than ``10 tol`` (relative) over two successive LPs (on degenerate
LPs the iterate may keep moving between alternative optima of the later objectives).

``method="balanced"`` (:mod:`planner.balanced_plan`, the default above
:data:`LP_MAX_GOODS` produced goods) keeps the constraints and the stage-1 maximin value
but replaces the LPs by scalar searches over sparse products, for economies of thousands of
goods.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from innatura.planner._investment_fallback import OVERDRAFT_FALLBACK, relative_overdraft, repair_investment
from innatura.planner._plan_inputs import (
    PlanInputs,
    safety_targets,
    secant_slopes,
    validate_plan_inputs,
    validate_safety_stock,
)
from innatura.planner._slp import _slp, _usage
from innatura.planner.balanced_plan import balanced_stages
from innatura.planner.errors import InfeasiblePlanError, InvalidInputError
from innatura.planner.lp import LexicographicLP
from innatura.planner.metrics import humanity

__all__ = ["LP_MAX_GOODS", "METHODS", "DailyPlan", "plan_day", "secant_slopes"]

logger = logging.getLogger(__name__)

#: HiGHS options of the planning LPs: primal simplex (each stage starts from a feasible
#: point, and it was several times faster than dual simplex or IPM on seed-style economies).
_LP_OPTIONS = {"simplex_strategy": 4}

METHODS = ("lp", "balanced")
#: ``method=None`` uses the exact LPs up to this many produced (final + industrial) goods.
LP_MAX_GOODS = 1000


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
        status: ``"optimal"``, ``"slp-not-converged"`` (last iterate returned: the
            iteration limit was reached, or the solution still overdraws a good under the
            curves by more than the tolerance after the reserve rounds),
            ``"investment-fallback"`` (the consumption stage converged; the investment
            stage's successive LPs ended on a production the curves do not allow, and the
            better of its largest feasible scale and the balanced method's investment stage
            was taken),
            ``"balanced"`` (``method="balanced"``), ``"balanced-fallback"`` (every HiGHS
            solver failed numerically on the LPs; the balanced method planned the night) or
            ``"scaled-demand"`` (the baseline).
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
    method: str | None = None,
    safety_stock: float | np.ndarray = 0.0,
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
        tol: successive-LP tolerance on the change of ``x`` (relative to ``max(1, |x|)``);
            a stage also stops when its first objective changed by less than ``10 tol``
            (relative) over two successive LPs.
        x_start: first linearisation point of the consumption stage (e.g. yesterday's plan).
        method: ``"lp"`` (the exact lexicographic LPs above), ``"balanced"`` (equal
            fulfilment and balanced capital growth by scalar search, for large economies; see
            :mod:`planner.balanced_plan`), or ``None``: ``"lp"`` up to
            :data:`LP_MAX_GOODS` produced goods, ``"balanced"`` above.
        safety_stock: the safety stocks the investment stage first keeps of final goods
            (docs/model.md, "Safety stocks"): a number ``beta >= 0``, days of cover of the
            consumption stage's draw on each good (input use plus consumption), or an array
            ``(n,)`` of target stocks in units (e.g. ``beta`` times yesterday's whole draw,
            investment included). A plan without buffers is exact only if the reported
            coefficients are: a closed chain of goods with no stock collapses under true
            input use a little above the report.

    Returns:
        :class:`DailyPlan`.

    Raises:
        InvalidInputError: malformed or out-of-range inputs (the message names the field and
            good), or an unbounded stage.
        InfeasiblePlanError: never for ``method="lp"`` (a failed LP falls back to the
            balanced method: the zero plan is always feasible).
    """
    inp = validate_plan_inputs(economy, stocks, labour_supply, capacity, investment_share, coefficients, curves)
    if max_slp_iter < 1 or not tol > 0:
        raise InvalidInputError(f"max_slp_iter/tol: must be positive, got {max_slp_iter!r}/{tol!r}")
    if method is None:
        method = "lp" if int((~inp.labour).sum()) <= LP_MAX_GOODS else "balanced"
    if method not in METHODS:
        raise InvalidInputError(f"method: {method!r}; expected one of {METHODS} or None")
    beta = validate_safety_stock(safety_stock, inp.n)
    if method == "lp":
        try:
            return _lp_plan(inp, x_start, max_slp_iter, tol, beta)
        except InfeasiblePlanError as exc:
            # zero production and zero fulfilment are always feasible, so this is a numerical
            # failure of every HiGHS solver: plan the night with the balanced method instead
            logger.warning("planning LP failed (%s); using method='balanced' tonight", exc)
            status = "balanced-fallback"
    else:
        status = "balanced"
    r = balanced_stages(inp, beta)
    return _assemble(inp, r["xC"], r["xI"], r["fulfil"], r["use_C"], r["use_I"], status, 0, r["sweeps"])


def _lp_plan(inp: PlanInputs, x_start, max_slp_iter: int, tol: float, beta: float | np.ndarray = 0.0) -> DailyPlan:
    """Both stages as lexicographic (successive) LPs."""
    n, m, sigma = inp.n, inp.m, inp.sigma
    keep = 1.0 - sigma
    need = inp.bundles * inp.population  # (n, m)
    active = need.sum(axis=0) > 0
    act_idx = np.flatnonzero(active)
    ma = act_idx.size
    F = inp.final.astype(float)

    # ---- stage 1: consumption ---------------------------------------------------------------
    # Only final goods are produced: capital made today serves from tomorrow, so industrial
    # output cannot raise today's fulfilment (the third objective would set it to zero).
    cols1 = np.flatnonzero(inp.final)
    n1 = cols1.size
    goods_block = sp.hstack(
        [(inp.A_struct - sp.diags(F)).tocsc()[:, cols1], sp.csr_matrix(need), sp.csr_matrix((n, 1))]
    )
    prof_block = sp.hstack(
        [sp.csr_matrix((ma, n1)), -sp.csr_matrix((np.ones(ma), (np.arange(ma), act_idx)), shape=(ma, m)),
         sp.csr_matrix(np.ones((ma, 1)))]
    )
    M1 = sp.vstack([goods_block, prof_block], format="csc")
    ub_goods = np.where(inp.final, inp.stocks, keep * np.where(inp.industrial, inp.stocks, inp.labour_supply))
    row_hi = np.concatenate([ub_goods, np.zeros(ma)])
    cap_x = np.where(inp.final, keep * inp.capacity, 0.0)
    c_lo = np.where(active, 0.0, 1.0)
    col_lo = np.concatenate([np.zeros(n1), c_lo, [0.0]])
    col_hi = np.concatenate([cap_x[cols1], np.ones(m), [1.0 if ma else 0.0]])
    lp1 = LexicographicLP(M1, np.full(n + ma, -np.inf), row_hi, col_lo, col_hi, options=_LP_OPTIONS)
    nv = n1 + m + 1
    obj_t = np.zeros(nv)
    obj_t[-1] = 1.0
    obj_c = np.zeros(nv)
    obj_c[n1 + act_idx] = 1.0
    obj_x = np.zeros(nv)
    obj_x[:n1] = 1.0
    objs1 = [("max", obj_t), ("max", obj_c), ("min", obj_x)] if ma else [("min", obj_x)]
    start = np.zeros(n) if x_start is None else np.clip(np.asarray(x_start, float), 0.0, cap_x)
    xC, v1, slopes1, it1, lpi1, ok1 = _slp(
        lp1, inp, cols1, lambda _s: objs1, np.zeros(n), start, max_slp_iter, tol, "consumption", row_hi
    )
    xC = np.clip(xC, 0.0, cap_x)
    fulfil = np.clip(v1[n1 : n1 + m], 0.0, 1.0)
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
    cols2 = np.flatnonzero(~inp.labour)
    # the safety-stock share tau is one more column: closing stock >= tau * safety target
    safety = safety_targets(inp, use_C, consumption, beta)
    buffered = bool(safety.any())
    M2 = (inp.A_struct - sp.diags(F)).tocsc()[:, cols2]
    if buffered:
        M2 = sp.hstack([M2, sp.csc_matrix(safety[:, None])], format="csc")
    k2 = cols2.size + int(buffered)
    lo2 = np.zeros(k2)
    hi2 = np.concatenate([cap_y[cols2], [1.0]]) if buffered else cap_y[cols2]
    lp2 = LexicographicLP(M2, np.full(n, -np.inf), left, lo2, hi2, options=_LP_OPTIONS)
    w_cap = np.where(inp.industrial, 1.0 / (inp.stocks + 1.0), 0.0)
    w_fin = np.where(inp.final, 1.0 / (inp.stocks + 1.0), 0.0)

    def padded(cost: np.ndarray) -> np.ndarray:
        return np.concatenate([cost, [0.0]]) if buffered else cost

    def objectives_at(slopes):
        # the final-stock objective depends on the linearised coefficients
        objs = [("max", padded(np.zeros(cols2.size)) + (np.arange(k2) == cols2.size))] if buffered else []
        if w_cap.any():
            objs.append(("max", padded(w_cap[cols2])))
        if w_fin.any():
            A2 = inp.A0 + sp.csr_matrix((slopes, (inp.curve_rows, inp.curve_cols)), shape=(n, n))
            objs.append(("max", padded((w_fin - A2.T @ w_fin)[cols2])))
        return objs

    if cols2.size and (w_cap.any() or w_fin.any()):
        xI, _, slopes2, it2, lpi2, ok2 = _slp(
            lp2, inp, cols2, objectives_at, xC, np.zeros(n), max_slp_iter, tol, "investment", left,
            settle_objective=int(buffered),
        )
    else:
        xI, slopes2, it2, lpi2, ok2 = np.zeros(n), secant_slopes(inp, xC, xC), 0, 0, True
    xI = np.clip(xI, 0.0, cap_y)
    use_I = _usage(inp, slopes2, xI)
    overdraft = relative_overdraft(inp, left, xI, use_I)
    investment_fallback = not ok2 and overdraft > OVERDRAFT_FALLBACK
    if investment_fallback:
        logger.info("investment stage: successive LPs ended %.3g over a bound under the curves", overdraft)
        xI, use_I = repair_investment(inp, xC, xI, use_C, consumption, left, safety, w_cap, beta, tol)

    status = "optimal" if (ok1 and ok2) else "slp-not-converged"
    if ok1 and investment_fallback:
        status = "investment-fallback"
    return _assemble(inp, xC, xI, fulfil, use_C, use_I, status, lpi1 + lpi2, it1 + it2)


def _assemble(inp, xC, xI, fulfil, use_C, use_I, status, lp_iterations, slp_iterations) -> DailyPlan:
    need = inp.bundles * inp.population
    allocation = need * fulfil
    consumption = allocation.sum(axis=1)
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
        status=status,
        lp_iterations=lp_iterations,
        slp_iterations=slp_iterations,
    )
