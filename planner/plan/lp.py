"""``method="lp"``: both stages of the daily plan as lexicographic (successive) LPs.

1. **Consumption.** Maximise ``min_p c_p``, then ``sum_p c_p``, then (to waste nothing)
   minimise ``sum_j x_j``, using at most ``1 - sigma`` of every capital stock, labour supply
   and capacity, and the final-good stocks. Only final goods are produced: capital made today
   serves from tomorrow, so industrial output cannot raise today's fulfilment (the third
   objective would set it to zero).
2. **Investment.** With everything stage 1 left, first the largest common share ``tau`` of the
   safety stocks, then the relative growth of capital ``sum_k x^I_k / (s_k + 1)``, then the
   relative growth of the final-good stocks kept for tomorrow's inputs.

With coefficient curves each stage is a sequence of LPs (:func:`planner.plan.slp.solve_slp`).
An investment stage whose successive LPs end on a production the curves do not allow is
repaired (:func:`planner.plan.investment_repair.repair_investment`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from innatura.planner.lp import LexicographicLP
from innatura.planner.plan.inputs import PlanInputs, input_use, safety_targets, secant_slopes
from innatura.planner.plan.investment_repair import (
    OVERDRAFT_FALLBACK,
    InvestmentStage,
    relative_overdraft,
    repair_investment,
)
from innatura.planner.plan.result import DailyPlan, StagePlan, assemble
from innatura.planner.plan.slp import Objective, SLPStage, solve_slp

__all__ = ["LP_OPTIONS", "lp_plan"]

logger = logging.getLogger(__name__)

#: HiGHS options of the planning LPs: primal simplex (each stage starts from a feasible
#: point, and it was several times faster than dual simplex or IPM on seed-style economies).
LP_OPTIONS = {"simplex_strategy": 4}


@dataclass(frozen=True)
class _Consumption:
    production: np.ndarray
    fulfilment: np.ndarray
    use: np.ndarray
    consumption: np.ndarray
    iterations: int
    lp_iterations: int
    converged: bool


@dataclass(frozen=True)
class _Investment:
    production: np.ndarray
    use: np.ndarray
    iterations: int
    lp_iterations: int
    converged: bool
    repaired: bool


def _consumption_stage(inp: PlanInputs, x_start: np.ndarray | None, max_iter: int, tol: float) -> _Consumption:
    """Stage 1: maximin fulfilment, then total fulfilment, then least production."""
    n, m, keep = inp.n, inp.m, 1.0 - inp.sigma
    need = inp.bundles * inp.population  # (n, m)
    active = need.sum(axis=0) > 0
    act_idx = np.flatnonzero(active)
    ma = act_idx.size
    F = inp.final.astype(float)
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
    col_lo = np.concatenate([np.zeros(n1), np.where(active, 0.0, 1.0), [0.0]])
    col_hi = np.concatenate([cap_x[cols1], np.ones(m), [1.0 if ma else 0.0]])
    lp1 = LexicographicLP(M1, np.full(n + ma, -np.inf), row_hi, col_lo, col_hi, options=LP_OPTIONS)
    nv = n1 + m + 1
    obj_t, obj_c, obj_x = np.zeros(nv), np.zeros(nv), np.zeros(nv)
    obj_t[-1] = 1.0
    obj_c[n1 + act_idx] = 1.0
    obj_x[:n1] = 1.0
    objs1 = [("max", obj_t), ("max", obj_c), ("min", obj_x)] if ma else [("min", obj_x)]
    start = np.zeros(n) if x_start is None else np.clip(np.asarray(x_start, float), 0.0, cap_x)
    stage = SLPStage("consumption", lp1, cols1, lambda _s: objs1, np.zeros(n), start, row_hi)
    r = solve_slp(stage, inp, max_iter, tol)
    xC = np.clip(r.production, 0.0, cap_x)
    fulfil = np.clip(r.values[n1 : n1 + m], 0.0, 1.0)
    fulfil[~active] = 1.0
    consumption = (need * fulfil).sum(axis=1)
    use = input_use(inp, r.slopes, xC)
    return _Consumption(xC, fulfil, use, consumption, r.iterations, r.lp_iterations, r.converged)


def _investment_objectives(
    inp: PlanInputs, cols2: np.ndarray, buffered: bool
) -> tuple[Callable[[np.ndarray], Sequence[Objective]], np.ndarray, bool]:
    """The investment stage's objectives as a function of the curve slopes."""
    n = inp.n
    k2 = cols2.size + int(buffered)
    w_cap = np.where(inp.industrial, 1.0 / (inp.stocks + 1.0), 0.0)
    w_fin = np.where(inp.final, 1.0 / (inp.stocks + 1.0), 0.0)

    def padded(cost: np.ndarray) -> np.ndarray:
        return np.concatenate([cost, [0.0]]) if buffered else cost

    def objectives_at(slopes: np.ndarray) -> Sequence[Objective]:
        # the final-stock objective depends on the linearised coefficients
        objs: list[Objective] = []
        if buffered:
            objs.append(("max", padded(np.zeros(cols2.size)) + (np.arange(k2) == cols2.size)))
        if w_cap.any():
            objs.append(("max", padded(w_cap[cols2])))
        if w_fin.any():
            A2 = inp.A0 + sp.csr_matrix((slopes, (inp.curve_rows, inp.curve_cols)), shape=(n, n))
            objs.append(("max", padded((w_fin - A2.T @ w_fin)[cols2])))
        return objs

    return objectives_at, w_cap, bool(w_cap.any() or w_fin.any())


def _investment_stage(
    inp: PlanInputs, c: _Consumption, beta: float | np.ndarray, max_iter: int, tol: float
) -> _Investment:
    """Stage 2: safety stocks, then capital growth, then final-stock growth, on what stage 1 left."""
    n, xC, use_C = inp.n, c.production, c.use
    F = inp.final.astype(float)
    left = np.where(
        inp.final,
        inp.stocks + xC - use_C - c.consumption,
        np.where(inp.industrial, inp.stocks, inp.labour_supply) - use_C,
    )
    left = np.maximum(left, 0.0)
    cap_y = np.where(inp.labour, 0.0, np.maximum(inp.capacity - xC, 0.0))
    cols2 = np.flatnonzero(~inp.labour)
    # the safety-stock share tau is one more column: closing stock >= tau * safety target
    safety = safety_targets(inp, use_C, c.consumption, beta)
    buffered = bool(safety.any())
    M2 = (inp.A_struct - sp.diags(F)).tocsc()[:, cols2]
    if buffered:
        M2 = sp.hstack([M2, sp.csc_matrix(safety[:, None])], format="csc")
    hi2 = np.concatenate([cap_y[cols2], [1.0]]) if buffered else cap_y[cols2]
    lp2 = LexicographicLP(M2, np.full(n, -np.inf), left, np.zeros(hi2.size), hi2, options=LP_OPTIONS)
    objectives_at, w_cap, any_goal = _investment_objectives(inp, cols2, buffered)
    if cols2.size and any_goal:
        stage = SLPStage("investment", lp2, cols2, objectives_at, xC, np.zeros(n), left, int(buffered))
        r = solve_slp(stage, inp, max_iter, tol)
        xI, slopes2, it2, lpi2, ok2 = r.production, r.slopes, r.iterations, r.lp_iterations, r.converged
    else:
        xI, slopes2, it2, lpi2, ok2 = np.zeros(n), secant_slopes(inp, xC, xC), 0, 0, True
    xI = np.clip(xI, 0.0, cap_y)
    use_I = input_use(inp, slopes2, xI)
    overdraft = relative_overdraft(inp, left, xI, use_I)
    repaired = not ok2 and overdraft > OVERDRAFT_FALLBACK
    if repaired:
        logger.info("investment stage: successive LPs ended %.3g over a bound under the curves", overdraft)
        need = InvestmentStage(xC, use_C, c.consumption, left, safety, w_cap, beta)
        xI, use_I = repair_investment(inp, need, xI, tol)
    return _Investment(xI, use_I, it2, lpi2, ok2, repaired)


def lp_plan(inp: PlanInputs, x_start: np.ndarray | None, max_slp_iter: int, tol: float,
            beta: float | np.ndarray = 0.0) -> DailyPlan:
    """Both stages as lexicographic (successive) LPs (see the module docstring).

    Args:
        inp: the night's validated inputs.
        x_start: first linearisation point of the consumption stage (e.g. yesterday's plan).
        max_slp_iter: successive-LP iterations allowed per stage.
        tol: successive-LP tolerance (:func:`planner.plan.slp.solve_slp`).
        beta: the validated ``safety_stock`` (days of cover, or target stocks ``(n,)``).

    Raises:
        InfeasiblePlanError: every HiGHS solver failed numerically on an LP.
        InvalidInputError: a stage is unbounded.
    """
    c = _consumption_stage(inp, x_start, max_slp_iter, tol)
    i = _investment_stage(inp, c, beta, max_slp_iter, tol)
    status = "optimal" if (c.converged and i.converged) else "slp-not-converged"
    if c.converged and i.repaired:
        status = "investment-fallback"
    stages = StagePlan(c.production, i.production, c.fulfilment, c.use, i.use)
    return assemble(inp, stages, status, c.lp_iterations + i.lp_iterations, c.iterations + i.iterations)
