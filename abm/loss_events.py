"""The scenario's stochastic loss events (spoilage, fire, theft): each strikes a share of the
stocks of its goods, in one region or the whole economy, with its daily probability."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from innatura.abm.model import PlanningEconomy

__all__ = ["strike_losses"]


def strike_losses(model: PlanningEconomy, stocks: np.ndarray) -> np.ndarray:
    """The scenario's loss events (``settings.noise``: their daily probability) take their share
    of ``stocks`` (in place); returns what was lost, ``(R, n)``."""
    lay, noise = model.layout, model.settings.noise
    R = stocks.shape[0]
    stock_lost = np.zeros_like(stocks)
    for ev in lay.loss_events if (noise is not None or lay.losses_enabled) else ():
        p = noise if noise is not None else ev.probability
        draws = model.rng.random(1 if ev.scope == "economy" else R)
        hit = np.broadcast_to(draws < p, (R,))
        lost = stocks[:, ev.goods] * ev.fraction * hit[:, None]
        stock_lost[:, ev.goods] += lost
        stocks[:, ev.goods] -= lost
    return stock_lost
