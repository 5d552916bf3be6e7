"""The regional plan: production, stocks, labour and shipments on the region graph.

Front door: :func:`plan_regional` (``docs/model.md``, "The regional plan"). The problem is a
:class:`RegionalProblem` of arrays (units with their input use, regional stocks, labour and
demand, directed edges with capacities and losses); the result a frozen
:class:`RegionalPlan` that execution can follow: each unit's target, each region's
fulfilment per profile, and the shipments of every good along every edge, in the morning
(from the opening stocks, in time for production) and in the evening (after production, in
time for deliveries and the closing stock). :func:`constraint_table` lists what binds.

Methods: ``"lp"`` (:mod:`.exact`: lexicographic LPs by HiGHS, with the LP's duals as
:class:`Valuations`) and ``"decomposed"`` (:mod:`.decomposed`: least production by fixed
point and per-good routing, for thousands of goods over many regions).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
from innatura.planner.errors import InvalidInputError
from innatura.planner.regional.decomposed import plan_decomposed
from innatura.planner.regional.diagnostics import constraint_table
from innatura.planner.regional.exact import plan_exact
from innatura.planner.regional.input_use import InputUse
from innatura.planner.regional.problem import RegionalProblem
from innatura.planner.regional.result import RegionalPlan, Valuations

__all__ = [
    "LP_MAX_VARIABLES",
    "METHODS",
    "InputUse",
    "RegionalPlan",
    "RegionalProblem",
    "Valuations",
    "constraint_table",
    "lp_size",
    "plan_regional",
]

logger = logging.getLogger(__name__)

#: the method names :func:`plan_regional` accepts
METHODS = ("lp", "decomposed")
#: ``method=None`` solves the exact LPs up to this many LP columns
LP_MAX_VARIABLES = 2_000


def lp_size(problem: RegionalProblem) -> int:
    """Columns of the exact method's LPs: units, morning and evening shipments of every
    shippable good on every edge, region-profile fulfilments and two shares."""
    ns = int((~problem.labour_mask).sum())
    return problem.n_units + 2 * problem.n_edges * ns + problem.n_regions * problem.n_profiles + 2


def plan_regional(problem: RegionalProblem, method: str | None = None, *, max_slp_iter: int = 50,
                  tol: float = 1e-6, x_start: np.ndarray | None = None, pipeline: bool | None = None,
                  warm: Mapping[str, float] | None = None) -> RegionalPlan:
    """Plan one night on the region graph (``docs/model.md``, "The regional plan").

    Args:
        problem: the night's :class:`RegionalProblem`.
        method: ``"lp"`` (exact lexicographic LPs, one per objective, solved by HiGHS; with
            curves, successive LPs), ``"decomposed"`` (least production by fixed point and
            per-good routing, for large economies), or ``None``: ``"lp"`` while the LPs have at
            most :data:`LP_MAX_VARIABLES` columns (:func:`lp_size`), ``"decomposed"`` above.
        max_slp_iter: successive-LP iterations per stage (``"lp"``).
        tol: the successive LPs' tolerance (``"lp"``).
        x_start: first linearisation point of the consumption stage, per unit (``"lp"``; e.g.
            yesterday's targets).
        pipeline: the investment stage's closing targets include, on top of
            ``problem.closing_target``, the inputs each region's units take today of goods made
            in other regions (what tomorrow's production needs on hand in the morning);
            ``None``: with the ``"overnight"`` and ``"layers"`` timings (``problem.timing``; with
            layers the same reserve and targets, measured in docs/model.md, "Timing").
        warm: the previous night's :attr:`RegionalPlan.warm` (``"decomposed"``: where its
            searches start; a warm start changes how fast, not what is found).

    Returns:
        :class:`RegionalPlan`.

    Raises:
        InvalidInputError: unknown method, bad options, or a stage that is unbounded.
    """
    if not isinstance(problem, RegionalProblem):
        raise InvalidInputError(f"problem: expected a RegionalProblem, got {type(problem).__name__}")
    if method is None:
        method = "lp" if lp_size(problem) <= LP_MAX_VARIABLES else "decomposed"
    if method not in METHODS:
        raise InvalidInputError(f"method: {method!r}; expected one of {METHODS} or None")
    if max_slp_iter < 1 or not tol > 0:
        raise InvalidInputError(f"max_slp_iter/tol: must be positive, got {max_slp_iter!r}/{tol!r}")
    if x_start is not None:
        x_start = np.asarray(x_start, dtype=float)
        if x_start.shape != (problem.n_units,):
            raise InvalidInputError(f"x_start: shape {x_start.shape}, expected ({problem.n_units},)")
    if method == "decomposed" and problem.timing == "layers" and problem.layers > 1:
        raise InvalidInputError(f"timing: 'layers' ({problem.layers} layers) is planned by the 'lp' method only; "
                                "the 'decomposed' method plans the 'overnight' timing (layers=1)")
    if pipeline is None:
        pipeline = problem.timing in ("overnight", "layers")
    if method == "lp":
        return plan_exact(problem, max_slp_iter=max_slp_iter, tol=tol, x_start=x_start, pipeline=pipeline)
    return plan_decomposed(problem, pipeline=pipeline, warm=warm)
