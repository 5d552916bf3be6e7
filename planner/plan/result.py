"""The night's plan as a frozen result, and its assembly from what the two stages decided."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from innatura.planner.metrics import humanity
from innatura.planner.plan.inputs import PlanInputs

__all__ = ["DailyPlan", "StagePlan", "assemble"]


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
        slp_iterations: successive-LP iterations (consumption + investment stages); the
            balanced method's sweeps; the scaled-demand baseline's evaluations of the
            multiplier.
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


@dataclass(frozen=True)
class StagePlan:
    """What a planning method decided, before assembly into a :class:`DailyPlan`.

    Attributes:
        consumption_production: ``x^C`` ``(n,)``.
        investment_production: ``x^I`` ``(n,)``.
        fulfilment: ``c_p`` per profile ``(m,)``.
        consumption_use: exact input use of ``x^C`` ``(n,)`` (under the curves).
        investment_use: exact input use of ``x^I`` on top of ``x^C`` ``(n,)``.
    """

    consumption_production: np.ndarray
    investment_production: np.ndarray
    fulfilment: np.ndarray
    consumption_use: np.ndarray
    investment_use: np.ndarray


def assemble(inp: PlanInputs, stages: StagePlan, status: str, lp_iterations: int, slp_iterations: int) -> DailyPlan:
    """The :class:`DailyPlan` of both stages: allocation, use by kind, expected closing stocks."""
    need = inp.bundles * inp.population
    allocation = need * stages.fulfilment
    consumption = allocation.sum(axis=1)
    x = stages.consumption_production + stages.investment_production
    use = stages.consumption_use + stages.investment_use
    closing = np.where(
        inp.final, np.maximum(inp.stocks + x - use - consumption, 0.0), np.where(inp.industrial, inp.stocks + x, 0.0)
    )
    return DailyPlan(
        production=x,
        consumption_production=stages.consumption_production,
        investment_production=stages.investment_production,
        fulfilment=stages.fulfilment,
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
