"""``method="scaled-demand"``: scale all demand by one scalar until the requirement fits (the
baseline of the seed code).

The public code of OLIN-EP plans a bounded day by dividing the whole demand by a multiplier
``mu`` in ``[1, 10000]`` found with a bounded scalar search (Brent's method on a penalty:
the total violation of the upper bounds when positive, minus the citizens served
otherwise). :func:`scaled_demand_plan` reproduces that method on this project's semantics
(``docs/model.md``) so that the other methods of :func:`planner.plan.plan_day` can be compared
with it:

- the requirement of ``c = 1 / mu`` of every profile is the solution of the nonlinear IO
  system (Eq. 3) with industrial and labour columns empty (capital and labour are not
  produced), so that final-good rows give production, industrial rows the capital required
  and labour rows the labour required;
- it fits when final-good production is within ``(1 - sigma)`` of capacity, capital within
  ``(1 - sigma)`` of the stock and labour within ``(1 - sigma)`` of the supply. Final-good
  stocks are not drawn on (as in the seed, everything consumed is produced that day).

Every profile gets the same share ``c``; there is no investment stage.
"""

from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp
from innatura.planner.metrics import humanity
from innatura.planner.nonlinear import solve_nonlinear_io
from innatura.planner.plan.inputs import PlanInputs
from innatura.planner.plan.result import DailyPlan
from scipy.optimize import minimize_scalar

__all__ = ["scaled_demand_plan"]

logger = logging.getLogger(__name__)

#: a requirement fits when its total violation of the upper bounds is at most this (the seed's)
FIT_TOL = 1e-5
#: halvings of ``c`` allowed after Brent's search before giving up at ``c = 0``
MAX_HALVINGS = 60


class _Requirement:
    """The requirement of ``c`` times every profile's demand (goods, then profiles), memoised."""

    def __init__(self, inp: PlanInputs) -> None:
        n, m = inp.n, inp.m
        keep = 1.0 - inp.sigma
        produced = inp.final  # columns that are produced in this baseline
        A = inp.A0 @ sp.diags(produced.astype(float))
        self.store = inp.store.subset(produced[inp.curve_cols])
        self.A_full = sp.bmat([[A, sp.csr_matrix(inp.bundles)], [None, sp.csr_matrix((m, m))]], format="csr")
        self.d_full = np.concatenate([np.zeros(n), inp.population])
        self.names = tuple(inp.goods) + tuple(f"profile:{j}" for j in range(m))
        self.bound = np.where(
            inp.final, keep * inp.capacity, keep * np.where(inp.industrial, inp.stocks, inp.labour_supply)
        )
        self.n, self.m = n, m
        self.cache: dict[float, np.ndarray] = {}

    def __call__(self, c: float) -> np.ndarray:
        if c not in self.cache:
            if c <= 0:
                self.cache[c] = np.zeros(self.n + self.m)
            else:
                self.cache[c] = solve_nonlinear_io((self.A_full, self.store), c * self.d_full, names=self.names).x
        return self.cache[c]

    def violation(self, c: float) -> float:
        return float(np.maximum(self(c)[: self.n] - self.bound, 0.0).sum())


def _largest_share(req: _Requirement, total_population: float, bounds: tuple[float, float],
                   xatol: float) -> tuple[float, float, int]:
    """The seed's search: ``(c, mu, evaluations)`` with ``c = 1 / mu`` the share that fits."""

    def penalty(mu: float) -> float:  # the seed's objective
        c = 1.0 / mu
        v = req.violation(c)
        return v if v > FIT_TOL else -float(c * total_population)

    if req.violation(1.0) <= FIT_TOL:
        return 1.0, 1.0, 1
    res = minimize_scalar(penalty, bounds=bounds, method="bounded", options={"xatol": xatol})
    mu, nfev = float(res.x), int(res.nfev)
    c = 1.0 / mu
    halvings = 0
    while c > 0 and req.violation(c) > FIT_TOL:  # Brent may stop on the infeasible side of the boundary
        c = c / 2.0 if halvings < MAX_HALVINGS else 0.0
        halvings += 1
    return c, mu, nfev


def scaled_demand_plan(inp: PlanInputs, bounds: tuple[float, float] = (1.0, 1e4), xatol: float = 1e-5) -> DailyPlan:
    """Plan a day by scaling every profile's demand by ``1 / mu`` (the seed's method).

    Args:
        inp: the night's validated inputs (:func:`planner.plan.inputs.validate_plan_inputs`).
        bounds: search interval of the multiplier ``mu`` (the seed's ``[1, 10000]``).
        xatol: absolute tolerance of the bounded scalar search on ``mu``.

    Returns:
        A :class:`~planner.plan.result.DailyPlan` with equal fulfilment ``c = 1 / mu`` on
        every profile (``0`` when even ``1 / bounds[1]`` does not fit) and
        ``status="scaled-demand"``.
    """
    n = inp.n
    req = _Requirement(inp)
    c, mu, nfev = _largest_share(req, float(inp.population.sum()), bounds, xatol)
    x_req = req(c)[:n]
    x = np.where(inp.final, x_req, 0.0)
    need = inp.bundles * inp.population
    active = need.sum(axis=0) > 0
    fulfil = np.where(active, c, 1.0)
    allocation = need * fulfil
    use = inp.A0 @ x
    if inp.curves:
        slopes = inp.store.coefficients(x)
        use = use + np.bincount(inp.curve_rows, slopes * x[inp.curve_cols], minlength=n)
    consumption = allocation.sum(axis=1)
    closing = np.where(
        inp.final, np.maximum(inp.stocks + x - use - consumption, 0.0), np.where(inp.industrial, inp.stocks, 0.0)
    )
    logger.debug("scaled-demand plan: mu=%.6g c=%.6g", mu, c)
    return DailyPlan(
        production=x,
        consumption_production=x,
        investment_production=np.zeros(n),
        fulfilment=fulfil,
        allocation=allocation,
        planned_humanity=humanity(allocation, inp.bundles, inp.population),
        inputs_used=np.where(inp.final, use, 0.0),
        capital_required=np.where(inp.industrial, use, 0.0),
        labour_used=np.where(inp.labour, use, 0.0),
        closing_stocks_expected=closing,
        status="scaled-demand",
        lp_iterations=0,
        slp_iterations=nfev,
    )
