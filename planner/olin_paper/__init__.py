"""OLIN-EP Fig. 3 as the authors' public code computes it: the *paper's dynamics*.

This module reproduces, as pure numerics, the simulation behind Fig. 3 of *Open Loop In
Natura Economic Planning* (the alien village Selviaria under investment shares 0.51 to
0.60). It is a labelled reproduction of a published computation, beside innatura's own
model, and it **does not conserve goods**: the stocks are booked by the paper's rule, not by
a stock-flow balance, so it is exempt from the invariants of ``docs/model.md`` and must not
be read as a simulation of an economy that could exist. ``docs/fig3.md`` sets it beside the
conserving agent model.

The computation, as the code has it:

* **Matrix.** 8 x 8: six goods (Lucloelium, Vorpal Pick +1, T-ring and their three labour
  rows) and two profile columns; final demand is zero on the goods and 800 / 500 (citizens)
  on the profile rows. Column ``j`` says what one unit of ``j`` needs (Table 1): Lucloelium
  (0.001, 0.07, 1) over Lucloelium, Vorpal Pick, T-ring; Vorpal Pick 0.5 per Lucloelium;
  labour 0.001 / 0.012 / 0.001 on its own good; the profiles (3, 0.1) and (2, 0.2) of
  (Lucloelium, T-ring) per citizen.
* **Curve.** One coefficient curve, Vorpal Pick per Vorpal Pick (:func:`vorpal_curve`),
  written to Vorpal Pick's own cell ``(1, 1)``. The code fits two curves but writes both to
  that cell, the Vorpal one last, so the Lucloelium curve is never used and Lucloelium per
  Vorpal Pick stays the constant 0.07.
* **Plan** (Eq. 3 scaled): ``x = (I - A(x))^{-1} d / mu``, with three fixed-point solves
  for the curve from ``d / mu + 0.001``, and ``mu`` in ``[1, 1e4]`` the smallest value whose
  plan keeps every good's output within its own opening stock (total excess at most
  :data:`EXCESS_TOLERANCE`). Humanity (Eq. 5) of that plan is ``1 / mu``: both profiles get
  the share ``1 / mu`` of their bundles. The investment share plays no part in the plan.
* **Booking** after each tick: the Vorpal Pick stock grows by the whole output ``x_1``; the
  Lucloelium stock by ``sigma x_0 - (1 - sigma) x_0 = (2 sigma - 1) x_0``. Inputs used and
  consumption are never subtracted, T-ring and labour are never drawn down. Under the plan's
  own balance ``(I - A) x = 0`` on the goods, a conserving ledger would leave every stock
  where it was (the opening stock bounds output like a capacity); :attr:`PaperDynamics.ledger_gap`
  records, per run, how far the booked stocks run ahead of that ledger.
* **Noise** (Fig. 3b): with probability 0.1 per tick both booked stocks are multiplied by
  0.8 after booking. The run stops once humanity exceeds 0.999.

With ``sigma`` = 0.51 the Lucloelium bound binds on every tick but the last, so the stock
follows ``s <- 2 sigma s`` from 2 and the first tick above 0.999 is
``ceil(ln(0.999 X / 2) / ln(2 sigma))`` with ``X`` = 3714.05 the full Lucloelium requirement:
381, 192, 79, 42 for 0.51, 0.52, 0.55, 0.60, the published figure. Under noise the log
stock drifts by ``ln(2 sigma) + 0.1 ln 0.8`` a tick, negative for ``sigma < 0.5113``: 0.51
collapses.

Two numerical choices differ from the code without changing what it computes: each of the
three solves is exact by a rank-one (Sherman-Morrison) update of one precomputed inverse
(only cell ``(1, 1)`` varies), and ``mu`` is found by a bounded multi-point bisection on
``log mu`` to ``1e-10`` instead of the code's bounded Brent search on a penalty whose
minimum is the same boundary (tolerance ``1e-5`` in ``mu``). Humanity agrees with the
published series to a relative ``1e-5``.

Shapes: ``R`` runs (one per noise generator), ``T`` ticks (``max_ticks``), ``N = 8``.


Modules: :mod:`.plan` (the matrix, the curve, the plan and ``mu``), :mod:`.dynamics` (the
ticks, the booking and the noise).
"""

from __future__ import annotations

from innatura.planner.olin_paper.dynamics import PaperDynamics, paper_dynamics
from innatura.planner.olin_paper.plan import (
    CITIZENS,
    EXCESS_TOLERANCE,
    FIXED_POINT_SOLVES,
    GOODS,
    LOSS_FACTOR,
    LOSS_PROBABILITY,
    MU_BOUNDS,
    OPENING_STOCKS,
    PROFILES,
    THRESHOLD,
    paper_matrix,
    paper_plan,
    smallest_mu,
    vorpal_curve,
)

__all__ = [
    "CITIZENS",
    "EXCESS_TOLERANCE",
    "FIXED_POINT_SOLVES",
    "GOODS",
    "LOSS_FACTOR",
    "LOSS_PROBABILITY",
    "MU_BOUNDS",
    "OPENING_STOCKS",
    "PROFILES",
    "THRESHOLD",
    "PaperDynamics",
    "paper_dynamics",
    "paper_matrix",
    "paper_plan",
    "smallest_mu",
    "vorpal_curve",
]
