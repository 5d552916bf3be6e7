"""The bounded daily plan of OLIN-EP (``docs/model.md``, "The bounded daily plan").

Every night the planner chooses production ``x`` and a fulfilment level ``c_p`` per profile
from opening stocks, labour supply, unit capacities, the profiles and the (reported)
coefficients, in two stages:

1. **Consumption.** As much fulfilment as the stocks, ``1 - sigma`` of every capital stock,
   labour supply and capacity allow; profile ``p`` receives ``c_p b_ip n_p`` of good ``i``.
2. **Investment.** With everything stage 1 left (at least the ``sigma`` share), first rebuild
   the safety stocks (``docs/model.md``, "Safety stocks"), then grow capital, then the
   final-good stocks kept for tomorrow's inputs.

Constraints per good kind: final goods balance ``s + x - F x - consumption >= 0``;
industrial rows are capacity requirements ``(F x)_k <= s_k`` (capital is not used up);
labour rows ``(F x)_l <= L_l``; ``x_j <=`` capacity; labour is never produced.

Front door: :func:`plan_day` with ``method=``. One module per method:

- :mod:`.lp` (``"lp"``): both stages as exact lexicographic LPs (HiGHS); with coefficient
  curves, successive LPs (:mod:`.slp`), repaired by :mod:`.investment_repair` when the
  investment stage ends outside the curves.
- :mod:`.balanced` (``"balanced"``): equal fulfilment and balanced capital growth by scalar
  searches over sparse products, for economies of thousands of goods.
- :mod:`.scaled` (``"scaled-demand"``): the seed code's baseline, one scalar scaling of all
  demand.

:mod:`.inputs` validates the inputs once (:class:`~.inputs.PlanInputs`); :mod:`.result` holds
the :class:`~.result.DailyPlan`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
from innatura.planner.curves import CurveStore
from innatura.planner.economy import CurveCell, Economy
from innatura.planner.errors import InfeasiblePlanError, InvalidInputError
from innatura.planner.plan.balanced import balanced_stages
from innatura.planner.plan.inputs import PlanInputs, validate_plan_inputs, validate_safety_stock
from innatura.planner.plan.lp import lp_plan
from innatura.planner.plan.result import DailyPlan, assemble
from innatura.planner.plan.scaled import scaled_demand_plan

__all__ = ["LP_MAX_GOODS", "METHODS", "OPTIONS", "DailyPlan", "plan_day"]

logger = logging.getLogger(__name__)

#: the method names :func:`plan_day` accepts
METHODS: tuple[str, ...] = ("lp", "balanced", "scaled-demand")
#: ``method=None`` uses the exact LPs up to this many produced (final + industrial) goods.
LP_MAX_GOODS = 1000
#: the options (keyword arguments beyond the common ones) each method takes, with defaults
OPTIONS: dict[str, dict[str, Any]] = {
    "lp": {"max_slp_iter": 50, "tol": 1e-6},
    "balanced": {},
    "scaled-demand": {"bounds": (1.0, 1e4), "xatol": 1e-5},
}


def _check_options(options: dict[str, Any]) -> None:
    known = {k for opts in OPTIONS.values() for k in opts}
    unknown = sorted(set(options) - known)
    if unknown:
        raise InvalidInputError(
            f"plan_day: unknown option {', '.join(map(repr, unknown))}; the methods' options: "
            + "; ".join(f"{m}: {', '.join(o) or 'none'}" for m, o in OPTIONS.items())
        )
    max_slp_iter = options.get("max_slp_iter", 1)
    tol = options.get("tol", 1.0)
    if max_slp_iter < 1 or not tol > 0:
        raise InvalidInputError(f"max_slp_iter/tol: must be positive, got {max_slp_iter!r}/{tol!r}")


def _lp(inp: PlanInputs, x_start: np.ndarray | None, beta: float | np.ndarray, options: dict[str, Any]) -> DailyPlan:
    opts = {**OPTIONS["lp"], **{k: v for k, v in options.items() if k in OPTIONS["lp"]}}
    try:
        return lp_plan(inp, x_start, opts["max_slp_iter"], opts["tol"], beta)
    except InfeasiblePlanError as exc:
        # zero production and zero fulfilment are always feasible, so this is a numerical
        # failure of every HiGHS solver: plan the night with the balanced method instead
        logger.warning("planning LP failed (%s); using method='balanced' tonight", exc)
        return _balanced(inp, beta, status="balanced-fallback")


def _balanced(inp: PlanInputs, beta: float | np.ndarray, status: str = "balanced") -> DailyPlan:
    r = balanced_stages(inp, beta)
    return assemble(inp, r.stages, status, 0, r.sweeps)


def _scaled(inp: PlanInputs, options: dict[str, Any]) -> DailyPlan:
    return scaled_demand_plan(inp, **{k: v for k, v in options.items() if k in OPTIONS["scaled-demand"]})


def plan_day(
    economy: Economy,
    stocks: np.ndarray,
    labour_supply: np.ndarray,
    capacity: np.ndarray | None = None,
    investment_share: float = 0.0,
    *,
    method: str | None = None,
    coefficients: Any = None,
    curves: Sequence[CurveCell] | CurveStore | None = None,
    x_start: np.ndarray | None = None,
    safety_stock: float | np.ndarray = 0.0,
    **options: Any,
) -> DailyPlan:
    """Plan one day: consumption stage, then investment stage (see the module docstring).

    The methods (``method=``):

    - ``"lp"``: the exact lexicographic LPs (:mod:`planner.plan.lp`); successive LPs with
      coefficient curves. Falls back to ``"balanced"`` (``status="balanced-fallback"``) if
      every HiGHS solver fails numerically.
    - ``"balanced"``: equal fulfilment and balanced capital growth by scalar search, for large
      economies (:mod:`planner.plan.balanced`).
    - ``"scaled-demand"``: the seed code's baseline, every profile's demand scaled by one
      scalar until the requirement fits; no investment stage (``x_start`` and ``safety_stock``
      are not used) (:mod:`planner.plan.scaled`).

    The default (``method=None``) is ``"lp"`` up to :data:`LP_MAX_GOODS` produced goods,
    ``"balanced"`` above.

    Args:
        economy: the :class:`~planner.economy.Economy` (goods, kinds, profiles, coefficients).
        stocks: opening stock per good, shape ``(n,)``, ``>= 0``; labour entries are ignored.
        labour_supply: labour available today, shape ``(n,)``, zero except on labour goods.
        capacity: reported capacity per good (upper bound on ``x_j``), ``inf`` for none;
            ``None``: unbounded.
        investment_share: ``sigma`` in ``[0, 1)``.
        method: one of :data:`METHODS`, or None to choose as above.
        coefficients: reported constant coefficients ``(n, n)`` overriding the economy's.
        curves: reported curve cells overriding the economy's, or a prebuilt
            :class:`~planner.curves.CurveStore` of them (a caller that plans night after night
            keeps a :class:`~planner.curves.CurveCache` and hands over ``cache.store(cells)``).
        x_start: first linearisation point of the consumption stage (e.g. yesterday's plan).
        safety_stock: the safety stocks the investment stage first keeps of final goods
            (docs/model.md, "Safety stocks"): a number ``beta >= 0``, days of cover of the
            consumption stage's draw on each good (input use plus consumption), or an array
            ``(n,)`` of target stocks in units (e.g. ``beta`` times yesterday's whole draw,
            investment included). A plan without buffers is exact only if the reported
            coefficients are: a closed chain of goods with no stock collapses under true
            input use a little above the report.
        **options: the methods' own options (:data:`OPTIONS`); a method ignores the others,
            so that ``method=None`` takes them all. ``"lp"``: ``max_slp_iter`` (successive-LP
            iterations per stage, default 50) and ``tol`` (successive-LP tolerance on the
            change of ``x`` relative to ``max(1, |x|)``, default ``1e-6``; a stage also stops
            when its first objective changed by less than ``10 tol`` over two successive
            LPs). ``"scaled-demand"``: ``bounds`` (search interval of the multiplier, default
            ``(1, 1e4)``) and ``xatol`` (its absolute tolerance, default ``1e-5``).

    Returns:
        :class:`~planner.plan.result.DailyPlan`.

    Raises:
        InvalidInputError: malformed or out-of-range inputs (the message names the field and
            good), an unknown method or option, or an unbounded stage.
    """
    inp = validate_plan_inputs(economy, stocks, labour_supply, capacity, investment_share, coefficients, curves)
    _check_options(options)
    if method is None:
        method = "lp" if int((~inp.labour).sum()) <= LP_MAX_GOODS else "balanced"
    if method not in METHODS:
        raise InvalidInputError(f"method: {method!r}; expected one of {METHODS} or None")
    beta = validate_safety_stock(safety_stock, inp.n)
    if method == "lp":
        return _lp(inp, x_start, beta, options)
    if method == "balanced":
        return _balanced(inp, beta)
    return _scaled(inp, options)

