"""The exchange planner: production as OLIN-EP plans it, allocation by a market at a CE.

Each night (``planner="exchange"``):

1. Production and the units' targets come from OLIN-EP's bounded daily plan
   (:class:`~abm.planning.olin.OlinMethod`); the goods it hands to the profiles form the pool
   to be shared.
2. Each profile is an agent of a pure exchange economy. Its endowment is its claim on the
   pool: every region owns a share of each good in proportion to its opening stock of it (equal
   shares where no region holds any), split among the region's profiles by their demand weights.
3. The planner redistributes: a share ``redistribution`` of every claim is pooled and handed
   out per citizen (the Markov exchange economy's action; Liu et al. 2022).
4. Profiles trade to the competitive equilibrium of Cobb-Douglas utilities whose weights are
   their reported bundles (expenditure shares proportional to the bundle's quantities), solved
   by :func:`planner.exchange.competitive_equilibrium`. The CE allocation is the night's
   allocation; goods nobody consumes are not traded.

Fulfilment and planned humanity are measured on the CE allocation as for every planner.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
from innatura.abm.planning.base import PlanDecision, PlanningInputs, check_state
from innatura.abm.planning.olin import OlinMethod
from innatura.planner.errors import InvalidInputError
from innatura.planner.exchange import ExchangeMarket, competitive_equilibrium
from innatura.planner.metrics import humanity

__all__ = ["ExchangeMethod", "profile_endowments"]

logger = logging.getLogger(__name__)


def profile_endowments(pool: np.ndarray, regional_stocks: np.ndarray, regional_demand: np.ndarray,
                       population: np.ndarray, redistribution: float) -> np.ndarray:
    """Each profile's claim on the pooled goods after redistribution.

    Args:
        pool: units of each traded good, ``(g,)``.
        regional_stocks: regions' opening stocks of the traded goods, ``(R, g)``.
        regional_demand: regions' demand weights per profile, ``(R, m)``.
        population: citizens per profile (reported demand), ``(m,)``.
        redistribution: share of every claim handed out per citizen instead, in ``[0, 1]``.

    Returns:
        Endowments, ``(m, g)``; each column sums to ``pool``.
    """
    r = regional_stocks.shape[0]
    held = regional_stocks.sum(axis=0)
    region_share = np.where(held > 0, regional_stocks / np.where(held > 0, held, 1.0), 1.0 / r)  # (R, g)
    dem = regional_demand / np.maximum(regional_demand.sum(axis=1, keepdims=True), 1e-300)  # (R, m)
    # a region with no demand weight passes its share on to everyone per citizen
    orphan = regional_demand.sum(axis=1) <= 0
    claim = dem.T @ region_share  # (m, g)
    total = population.sum()
    per_citizen = population / total if total > 0 else np.full(population.size, 1.0 / population.size)
    claim += np.outer(per_citizen, region_share[orphan].sum(axis=0))
    claim = (1.0 - redistribution) * claim + redistribution * per_citizen[:, None]
    return claim * pool[None, :]


class ExchangeMethod:
    """OLIN-EP production with a competitive-equilibrium allocation after redistribution.

    Args:
        redistribution: share of every profile's claim pooled and handed out per citizen
            (``0 < redistribution <= 1``; at 0 a profile whose region holds nothing would have
            nothing to sell).
        method: CE method (default: the closed form for Cobb-Douglas).
        options: passed to :class:`~abm.planning.olin.OlinMethod`.
    """

    name = "exchange"

    def __init__(self, redistribution: float = 0.5, method: str | None = None, **options: Any) -> None:
        r = float(redistribution)
        if not 0.0 < r <= 1.0:
            raise InvalidInputError(f"redistribution = {redistribution!r}: must be in (0, 1]")
        self.redistribution = r
        self.method = method
        self.production = OlinMethod(**options)

    def state_dict(self) -> dict[str, Any]:
        """The memory of the production plan (the CE solve keeps none)."""
        return {"production": self.production.state_dict()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` gave."""
        check_state(self.name, state, {"production"})
        self.production.load_state_dict(state["production"])

    def plan(self, inputs: PlanningInputs) -> PlanDecision:
        base = self.production.plan(inputs)
        eco = inputs.economy
        bundles = np.asarray(eco.bundles, dtype=float)  # (n, m)
        population = np.asarray(eco.population, dtype=float)
        pool = base.allocation.sum(axis=1)  # (n,)
        need = bundles * population[None, :]
        wanted = need.sum(axis=1) > 0
        traded = np.flatnonzero(wanted & (pool > 0))
        people = np.flatnonzero(population > 0)
        allocation = np.zeros_like(base.allocation)
        info = dict(base.info, planner="exchange", redistribution=self.redistribution)
        if traded.size and people.size:
            weights = need[np.ix_(traded, people)].T  # (m', g): Cobb-Douglas expenditure weights
            keep = weights.sum(axis=1) > 0
            people, weights = people[keep], weights[keep]
            ends = profile_endowments(pool[traded], inputs.regional_stocks[:, traded],
                                      inputs.regional_demand[:, people], population[people], self.redistribution)
            res = competitive_equilibrium(ExchangeMarket("cobb-douglas", weights, ends), self.method)
            allocation[np.ix_(traded, people)] = res.allocations.T
            info.update(prices=res.prices.tolist(), max_excess_demand=res.max_excess_demand,
                        ce_method=res.method, ce_converged=res.converged)
        # goods nobody consumes stay as the production plan left them
        untraded = np.setdiff1d(np.arange(pool.size), traded)
        allocation[untraded] = base.allocation[untraded]
        delivered_need = np.where(need > 0, allocation / np.where(need > 0, need, 1.0), np.inf)
        fulfilment = np.where(np.isfinite(delivered_need.min(axis=0)), delivered_need.min(axis=0), 1.0)
        return PlanDecision(
            production=base.production, allocation=allocation, fulfilment=np.minimum(fulfilment, 1.0),
            planned_humanity=humanity(allocation, bundles, population), unit_targets=base.unit_targets,
            info=info,
        )
