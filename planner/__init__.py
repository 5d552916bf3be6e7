"""innatura's numerical core: pure numpy / scipy, no simulation code.

The front doors of OLIN-EP planning:

- :func:`solve_io`: the linear Leontief system ``(I - A) x = d`` (direct, triangular, Krylov,
  Neumann; the default chooses).
- :func:`solve_nonlinear_io`: ``(I - F(x)) x = d`` with coefficient curves (OLIN-EP Eq. 3).
- :func:`plan_day`: the bounded nightly plan under stocks, capital, labour and capacities.
- :func:`humanity` (Eq. 5) and :func:`externalities` (Eq. 6).

The learned planner (:mod:`planner.learned`, needs torch) and the exchange-economy planner
(:mod:`planner.exchange`) are subpackages imported on demand.
"""

from planner.daily_plan import DailyPlan, plan_day
from planner.economy import CoefficientCurve, CurveCell, Economy
from planner.errors import (
    ConvergenceError,
    InfeasiblePlanError,
    InnaturaError,
    InvalidInputError,
    NonProductiveError,
)
from planner.leontief import IOSolution, check_productive, solve_io, spectral_radius
from planner.metrics import externalities, humanity
from planner.nonlinear import NonlinearIOSolution, solve_nonlinear_io

__all__ = [
    "Economy",
    "CoefficientCurve",
    "CurveCell",
    "solve_io",
    "IOSolution",
    "check_productive",
    "spectral_radius",
    "solve_nonlinear_io",
    "NonlinearIOSolution",
    "plan_day",
    "DailyPlan",
    "humanity",
    "externalities",
    "InnaturaError",
    "InvalidInputError",
    "NonProductiveError",
    "ConvergenceError",
    "InfeasiblePlanError",
]
