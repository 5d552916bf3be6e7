"""The exact regional plan: both stages as lexicographic (successive) LPs solved by HiGHS.

1. **Consumption.** Maximise the smallest fulfilment ``t = min_rp c_rp`` over region-profile
   pairs with a need, then the total ``sum_rp c_rp``, then (to waste nothing) minimise the
   activity ``sum_u x_u + sum (morning + evening shipments)``; units make final goods only and
   use at most ``1 - sigma`` of their capacity, of every region's labour and of the capital on
   hand.
2. **Investment.** The consumption stage's fulfilment is kept and every unit makes at least
   its consumption-stage output; with all labour, capital and capacity: first the largest
   common share ``tau`` in ``[0, 1]`` of the closing targets, then the relative growth of
   capital ``sum_u x_u / (S_k + 1)`` over units making industrial goods ``k`` (``S_k``: the
   national stock), then the relative growth of the final-good closing stocks
   ``sum_ri z_ri / (S_i + 1)`` less ``1e-6`` of the smallest such weight per unit shipped (the
   least shipments among equal stocks).

With reported curves each stage is a sequence of LPs (successive linear programming, as the
national plan): every curve entry's input use ``g(x_u)`` is replaced by its secant through the
stage's base point (``0``, then the consumption stage's outputs) and the current iterate, the
LP is re-solved and the iterate moves (damped while it oscillates) until it settles; a row that
the solution overdraws under the curves themselves gets a reserve and the stage is solved again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import scipy.sparse as sp
from innatura.planner.errors import InfeasiblePlanError, InvalidInputError
from innatura.planner.lp import LexicographicLP, LexResult, UnboundedLPError
from innatura.planner.regional.decomposed import merged, reserve
from innatura.planner.regional.layered import layer_row_kind, stage_model
from innatura.planner.regional.lp_model import ROW_KINDS, StageLP
from innatura.planner.regional.problem import RegionalProblem
from innatura.planner.regional.result import RegionalPlan, Valuations, assemble_plan, pipeline_targets

__all__ = ["plan_exact"]

logger = logging.getLogger(__name__)

#: times a stage re-solves with reserves on the rows its solution overdraws under the curves
RESERVE_ROUNDS = 5
#: HiGHS options of the stage LPs: the primal simplex. Between a stage's solves only the
#: objective (the next lexicographic objective) or a few curve cells and row bounds (the next
#: linearisation) change, so the last basis stays primal feasible or nearly so; the dual simplex
#: (HiGHS's default) restarts far from the optimum on these degenerate transport LPs (on a night
#: of ``archipelago``, 7272 columns: 11 s for the consumption stage against 0.4 s). Its primal
#: feasibility tolerance is tightened from 1e-7 to 1e-9, so that shipments do not plan more than
#: a stock holds by HiGHS's tolerance (execution follows them to 1e-9).
HIGHS_OPTIONS = {"simplex_strategy": 4, "primal_feasibility_tolerance": 1e-9}


class _SLP:
    """Successive LPs of one stage around the base point ``base`` (unit outputs)."""

    def __init__(self, model: StageLP, lp: LexicographicLP, base: np.ndarray, tol: float):
        self.model, self.lp, self.base, self.tol = model, lp, base, tol
        self.inputs = model.problem.inputs
        self.g_base = self.inputs.curve_values(base[self.inputs.curve_unit])[0] if self.inputs.n_curves else None
        self.lp_iterations = 0

    def _linearise(self, slopes: np.ndarray, reserve: np.ndarray) -> None:
        rows, cols, vals = self.model.curve_entries(slopes)
        self.lp.set_coefficients(rows, cols, vals)
        offsets = self.model.row_offsets(self.g_base - slopes * self.base[self.inputs.curve_unit])
        self.lp.set_row_bounds(self.lp.row_lower, self.model.row_upper - offsets - reserve)

    def overdraft(self, res: LexResult, slopes: np.ndarray, x: np.ndarray) -> np.ndarray:
        """How far each row's activity under the curves themselves exceeds its bound at ``x``."""
        activity = res.row_values + self.model.curve_gap(res.values, slopes)
        return np.where(np.isfinite(self.model.row_upper), activity - self.model.row_upper, 0.0)

    def _solve(self, objectives: list) -> LexResult:
        try:
            res = self.lp.solve(objectives, rel_slack=self.model.kept_slack)
        except UnboundedLPError:
            raise InvalidInputError(
                "regional plan: a stage is unbounded; some units can produce without limit (give them a "
                "capacity or a labour or capital input)"
            ) from None
        self.lp_iterations += res.iterations
        return res

    def run(self, objectives_at: Callable[[np.ndarray], list], start: np.ndarray, max_iter: int,
            settle: int = 0) -> tuple[LexResult, np.ndarray, int, bool]:
        """Iterate; returns (last LP result, the slopes it used, iterations, converged)."""
        inp, tol, U = self.inputs, self.tol, self.model.problem.n_units
        if not inp.n_curves:
            return self._solve(objectives_at(np.zeros(0))), np.zeros(0), 1, True
        xbar, w, prev_dir, z_prev, settled = start.copy(), 1.0, None, None, 0
        reserve = np.zeros(self.model.n_rows)
        rounds, it = 0, 0
        while it < max_iter:
            it += 1
            slopes = inp.secant_slopes(self.base, xbar)
            self._linearise(slopes, reserve)
            res = self._solve(objectives_at(slopes))
            x = res.values[:U]
            step = float(np.max(np.abs(x - xbar), initial=0.0))
            z = res.objective_values[min(settle, len(res.objective_values) - 1)]
            settled = settled + 1 if z_prev is not None and abs(z - z_prev) <= 10 * tol * max(1.0, abs(z)) else 0
            z_prev = z
            fixed = np.allclose(inp.secant_slopes(self.base, x), slopes, rtol=tol, atol=1e-15)
            if step <= tol * max(1.0, float(np.max(np.abs(x), initial=0.0))) or settled >= 2 or fixed or rounds:
                over = self.overdraft(res, slopes, x)
                bad = over > 10 * tol * (1.0 + np.abs(np.where(np.isfinite(self.model.row_upper),
                                                                   self.model.row_upper, 0.0)))
                if not bad.any() or rounds >= RESERVE_ROUNDS:
                    return res, slopes, it, not bad.any()
                rounds += 1
                reserve = reserve + np.where(bad, over * (1.0 + 1e-6), 0.0)
                xbar, w, prev_dir, z_prev, settled = x.copy(), 1.0, None, None, 0
                continue
            direction = x - xbar
            if prev_dir is not None:
                w = max(0.5 * w, 1e-4) if float(direction @ prev_dir) < 0 else min(1.0, 1.25 * w)
            prev_dir = direction
            xbar = xbar + w * direction
        logger.info("regional plan: successive LPs did not converge in %d iterations", max_iter)
        return res, slopes, it, False


def _consumption_stage(p: RegionalProblem, max_iter: int, tol: float, x_start: np.ndarray | None,  # noqa: ANN202
                       tied: bool = False):
    """The consumption stage's LPs; ``tied``: ``t`` times ``p.closing_target`` is held in closing
    stock (the share ``tau`` is the fulfilment ``t`` itself: the closing rows' ``tau`` entries move
    to the ``t`` column), else nothing is."""
    model = stage_model(p, 1)
    keep = 1.0 - p.investment_share
    x_hi = np.where(p.final[p.unit_good], keep * p.unit_capacity, 0.0)
    act = p.active
    lo, hi = model.column_bounds(np.zeros(p.n_units), x_hi, np.where(act, 0.0, 1.0), np.ones(act.shape),
                                 1.0 if act.any() else 0.0, 0.0)
    matrix = model.matrix
    if tied:
        # A @ M with M the identity whose tau column is added to the t column and then dropped
        move = sp.identity(model.n_var, format="lil")
        move[model.tau, model.t] = 1.0
        move[model.tau, model.tau] = 0.0
        matrix = sp.csc_matrix(model.matrix @ move.tocsc())
        matrix.eliminate_zeros()
    lp = LexicographicLP(matrix, np.full(model.n_rows, -np.inf), model.row_upper, lo, hi, options=HIGHS_OPTIONS)
    objs = []
    if act.any():
        obj_t = np.zeros(model.n_var)
        obj_t[model.t] = 1.0
        obj_c = np.zeros(model.n_var)
        obj_c[model.c:model.t] = act.ravel().astype(float)
        objs = [("max", obj_t), ("max", obj_c)]
    obj_act = np.zeros(model.n_var)
    obj_act[: model.c] = 1.0
    obj_act[model.n_base:] = model.activity_weights()  # a layered model's phase shipments
    objs.append(("min", obj_act))
    slp = _SLP(model, lp, np.zeros(p.n_units), tol)
    start = np.zeros(p.n_units) if x_start is None else np.clip(np.asarray(x_start, float), 0.0, x_hi)
    res, _, it, ok = slp.run(lambda _slopes: objs, start, max_iter)
    return model, res, it, slp.lp_iterations, ok


def _with_reserve(p: RegionalProblem, first: tuple, max_iter: int, tol: float, x_start: np.ndarray | None) -> tuple:
    """The consumption stage again, keeping in closing stock ``t`` times tomorrow's inputs from
    other regions per unit of fulfilment (:func:`~innatura.planner.regional.decomposed.reserve`)
    at the fulfilment ``t`` it plans, in one lexicographic LP: the largest ``t`` such that today
    fulfils ``t`` and tomorrow's inputs for ``t`` stay on hand (tomorrow can repeat today). With
    ``t(k)`` the max-min fulfilment when ``k`` times the reserve is kept (non-increasing in
    ``k``), this is the fixed point ``t(k) = k`` that a search over ``k`` approaches from above.
    The first solution where nothing is to keep or only ``t = 0`` keeps it; and the closing
    stocks kept, ``t`` times the reserve ``(R, n)``."""
    t1 = float(first[1].objective_values[0])
    per_t = reserve(p)
    if t1 <= 0.0 or not per_t.any():
        return first, np.zeros(per_t.shape)
    try:
        stage = _consumption_stage(replace(p, closing_target=per_t), max_iter, tol, x_start, tied=True)
    except InfeasiblePlanError:
        stage = None
    k = float(stage[1].values[stage[0].t]) if stage is not None else 0.0
    if k <= 1e-9 * t1:
        logger.info("regional plan: tomorrow's inputs cannot be kept at fulfilment %.4g; planning today alone", t1)
        return first, np.zeros(per_t.shape)
    return stage, k * per_t


def _investment_objectives(p: RegionalProblem, model: StageLP, slopes: np.ndarray):  # noqa: ANN202
    """The investment stage's objectives at the curve entries' ``slopes``."""
    national = p.stocks.sum(axis=0)
    objs = []
    if p.closing_target.any():
        tau = np.zeros(model.n_var)
        tau[model.tau] = 1.0
        objs.append(("max", tau))
    ind_units = p.industrial[p.unit_good]
    if ind_units.any():
        cap = np.zeros(model.n_var)
        cap[: p.n_units] = np.where(ind_units, 1.0 / (national[p.unit_good] + 1.0), 0.0)
        objs.append(("max", cap))
    closing = model.rows_of("closing")
    good = model.row_item[closing]
    weight = np.where(p.final[good], 1.0 / (national[good] + 1.0), 0.0)
    # the closing stocks, less a tie-break on shipments (one LP: a kept optimum of this dense
    # row would leave the shipments' LP badly conditioned)
    y = np.zeros(model.n_rows)
    y[closing] = weight
    cost = model.transpose_product(y, slopes)
    cost[model.c:] = 0.0
    ship = np.zeros(model.n_var)
    ship[model.m:model.c] = 1.0
    ship[model.n_base:] = model.activity_weights()
    tie = 1e-6 * float(weight[weight > 0].min()) if weight.any() else 1.0
    objs.append(("min", cost + tie * ship))
    return objs


def _investment_stage(p: RegionalProblem, c1: np.ndarray, xC: np.ndarray, max_iter: int, tol: float,  # noqa: ANN202
                      held: np.ndarray | None = None):
    """The investment stage's LPs; ``held`` ``(R, n)``: closing stocks kept whatever the share
    ``tau`` (the consumption stage's reserve, which its solution keeps), on which ``tau`` times
    ``p.closing_target`` comes."""
    model = stage_model(p, 2)
    if held is not None and held.any():
        closing = model.rows_of("closing")
        model.row_upper[closing] -= held[model.row_region[closing], model.row_item[closing]]
    cap = np.where(p.unit_capacity >= xC, p.unit_capacity, xC)
    lo, hi = model.column_bounds(xC, cap, c1, c1, 0.0, 1.0 if p.closing_target.any() else 0.0)
    lp = LexicographicLP(model.matrix, np.full(model.n_rows, -np.inf), model.row_upper, lo, hi,
                         options=HIGHS_OPTIONS)
    slp = _SLP(model, lp, xC, tol)
    res, _, it, ok = slp.run(lambda slopes: _investment_objectives(p, model, slopes), xC.copy(), max_iter,
                             settle=int(p.closing_target.any()))
    return model, res, it, slp.lp_iterations, ok


def _valuations(p: RegionalProblem, model: StageLP, res: LexResult) -> Valuations:
    """Derivatives of the max-min fulfilment from the first objective's duals."""
    R, n = p.n_regions, p.n_goods
    t = res.objective_values[0] if p.active.any() else 1.0
    dual = res.row_duals[0] if res.row_duals and p.active.any() else np.zeros(model.n_rows)
    kind, region, item = model.row_kind, model.row_region, model.row_item
    # the opening stocks bound the morning, capital, production and closing rows and the layers'
    layer_rows = [layer_row_kind("layer"), layer_row_kind("phase")]
    goods_rows = (kind <= ROW_KINDS.index("closing")) | np.isin(kind, layer_rows)
    stock = np.bincount(region[goods_rows] * n + item[goods_rows], dual[goods_rows], minlength=R * n)
    lab = kind == ROW_KINDS.index("labour")
    labour = np.bincount(region[lab] * n + item[lab], dual[lab], minlength=R * n)
    edge_rows = kind == ROW_KINDS.index("edge")
    edge = np.bincount(item[edge_rows], dual[edge_rows], minlength=p.n_edges).astype(float)
    fr = kind == ROW_KINDS.index("fulfilment")
    weight = np.bincount(region[fr] * p.n_profiles + item[fr], dual[fr], minlength=R * p.n_profiles)
    capacity = np.zeros(p.n_units)
    if res.col_duals and p.active.any():
        keep = 1.0 - p.investment_share
        x = res.values[: p.n_units]
        at_cap = np.isfinite(p.unit_capacity) & (x >= keep * p.unit_capacity * (1 - 1e-9) - 1e-12)
        capacity = np.where(at_cap & p.final[p.unit_good], keep * res.col_duals[0][: p.n_units], 0.0)
    if t >= 1.0 - 1e-9:
        weight[:] = 0.0  # nobody is held at a minimum below 1
    return Valuations(fulfilment=float(t), stock=stock.reshape(R, n), labour=labour.reshape(R, n), edge=edge,
                      capacity=np.maximum(capacity, 0.0), profile_weight=weight.reshape(R, p.n_profiles))


def plan_exact(problem: RegionalProblem, *, max_slp_iter: int = 50, tol: float = 1e-6,
               x_start: np.ndarray | None = None, pipeline: bool = True) -> RegionalPlan:
    """Both stages as lexicographic LPs (see the module docstring); returns the plan with its
    :class:`~innatura.planner.regional.result.Valuations`. ``pipeline``: the closing targets
    include the consumption stage's inputs from other regions
    (:func:`~innatura.planner.regional.result.pipeline_targets`)."""
    first = _consumption_stage(problem, max_slp_iter, tol, x_start)
    tries = [(first, np.zeros(problem.stocks.shape))]
    if pipeline and problem.n_regions > 1 and problem.active.any():
        kept = _with_reserve(problem, first, max_slp_iter, tol, x_start)
        if kept[0] is not first:
            tries.insert(0, kept)
    for stage1, held in tries:
        try:
            return _plan_from(problem, stage1, held, pipeline, max_slp_iter, tol)
        except InfeasiblePlanError:
            logger.info("regional plan: the investment stage has no feasible point%s",
                        " after keeping tomorrow's inputs" if held.any() else "; keeping the consumption stage")
    # the consumption stage alone, with its reserve of tomorrow's inputs where it kept one
    return _plan_from(problem, tries[0][0], tries[0][1], pipeline, max_slp_iter, tol, investment=False)


def _plan_from(problem: RegionalProblem, stage1: tuple, held: np.ndarray, pipeline: bool, max_slp_iter: int,
               tol: float, investment: bool = True) -> RegionalPlan:
    """The plan after the consumption stage ``stage1``, the investment stage keeping ``held``
    ``(R, n)`` and (``pipeline``) the consumption stage's inputs from other regions in closing
    stock; without ``investment``, the consumption stage alone (status ``slp-not-converged``)."""
    p = problem
    m1, res1, it1, lpi1, ok1 = stage1
    s1 = m1.split(res1.values)
    xC = np.clip(s1["x"], 0.0, None)
    c1 = np.where(p.active, np.clip(s1["c"], 0.0, 1.0), 1.0)
    valuations = _valuations(p, m1, res1)
    if pipeline:
        p = replace(p, closing_target=p.closing_target + np.maximum(pipeline_targets(p, xC), held))
    if investment:
        # the reserve the consumption stage kept stays kept (a hair below it, to HiGHS's
        # feasibility tolerance, so that the consumption stage's solution stays feasible); tau
        # shares the rest of the targets
        held = np.maximum((1.0 - 1e-6) * held - 1e-6, 0.0)
        rest = replace(p, closing_target=np.maximum(p.closing_target - held, 0.0)) if held.any() else p
        m2, res2, it2, lpi2, ok2 = _investment_stage(rest, c1, xC, max_slp_iter, tol, held=held)
        s2 = m2.split(res2.values)
    else:
        s2, it2, lpi2, ok2 = {**s1, "tau": 0.0}, 0, 0, False
    tau = s2["tau"]
    if investment and held.any():
        # the common share of the whole targets: the reserve kept and tau of the rest
        target = p.closing_target
        shares = (held + tau * np.maximum(target - held, 0.0))[target > 0] / target[target > 0]
        tau = float(np.clip(shares.min(initial=1.0), 0.0, 1.0))
    status = "optimal" if ok1 and ok2 else "slp-not-converged"
    national = valuations.fulfilment
    if national < 1.0 - 1e-9 and p.n_regions > 1:
        pooled = _consumption_stage(merged(problem), max_slp_iter, tol, None)[1]
        national = max(national, float(pooled.objective_values[0]))
    return assemble_plan(
        p, np.maximum(s2["x"], xC), xC, c1, (s2["m"], s2["v"]), tau, phases=s2.get("phases"), method="lp",
        status=status,
        national_fulfilment=national, valuations=valuations, lp_iterations=lpi1 + lpi2, slp_iterations=it1 + it2,
    )
