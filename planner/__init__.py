"""innatura's numerical core: pure numpy / scipy, no simulation code.

The front doors of OLIN-EP planning, each with a ``method=`` choice:

- :func:`solve_io` (:mod:`planner.leontief`): the linear Leontief system ``(I - A) x = d``
  (direct, triangular, Krylov, Neumann; the default chooses).
- :func:`solve_nonlinear_io` (:mod:`planner.nonlinear`): ``(I - F(x)) x = d`` with coefficient
  curves (OLIN-EP Eq. 3), by Newton-Krylov or the damped fixed point.
- :func:`plan_day` (:mod:`planner.plan`): the bounded nightly plan under stocks, capital,
  labour and capacities (exact lexicographic LPs, the balanced method, the scaled-demand
  baseline).
- :func:`humanity` (Eq. 5) and :func:`externalities` (Eq. 6).

:mod:`planner.curves` holds the coefficient curves (Eq. 4) and the array store that evaluates
many of them at once. The learned planner (:mod:`planner.learned`, needs torch) and the
exchange-economy planner (:mod:`planner.exchange`) are subpackages imported on demand.
"""

from innatura.planner.economy import CoefficientCurve, CurveCell, Economy
from innatura.planner.errors import (
    ConvergenceError,
    InfeasiblePlanError,
    InnaturaError,
    InvalidInputError,
    NonProductiveError,
)
from innatura.planner.leontief import IOSolution, check_productive, solve_io, spectral_radius
from innatura.planner.metrics import externalities, humanity
from innatura.planner.nonlinear import NonlinearIOSolution, solve_nonlinear_io
from innatura.planner.plan import DailyPlan, plan_day

__all__ = [
    "CoefficientCurve",
    "ConvergenceError",
    "CurveCell",
    "DailyPlan",
    "Economy",
    "IOSolution",
    "InfeasiblePlanError",
    "InnaturaError",
    "InvalidInputError",
    "NonProductiveError",
    "NonlinearIOSolution",
    "check_productive",
    "externalities",
    "humanity",
    "plan_day",
    "solve_io",
    "solve_nonlinear_io",
    "spectral_radius",
]
