"""Coefficient curves ``f_ij(x_j)`` (OLIN-EP Eq. 4, Fig. 1) and their evaluation at scale.

- :mod:`.stacked`: the production units' input functions (:class:`PowerLawInput`) and the
  coefficient of units stacked by output (:class:`StackedCurve`), plus :class:`ConstantCurve`.
- :mod:`.fits`: curves fitted to sampled points, what units report after active learning
  (:class:`PiecewiseLinearCurve`, :class:`SmoothCurve`).
- :mod:`.store`: many curve cells as arrays, evaluated at once (:class:`CurveStore`), and the
  caller-owned :class:`CurveCache` of the last store built; :mod:`.kernels` holds the
  elementwise evaluations of units it shares with the execution of a plan (:func:`power_input`,
  :func:`power_slope`, :func:`stack_orders`), :mod:`.knots` those of learned knot tables.
- :mod:`.matrix`: ``F(x)`` as a sparse matrix whose curve cells are refreshed in place
  (:class:`CurveMatrix`).

The curve classes are the scalar reference; the store is what the solvers use.
"""

from innatura.planner.curves.fits import PiecewiseLinearCurve, SmoothCurve
from innatura.planner.curves.kernels import power_input, power_slope, stack_orders
from innatura.planner.curves.matrix import CurveMatrix
from innatura.planner.curves.stacked import X_FLOOR, ConstantCurve, InputFunction, PowerLawInput, StackedCurve
from innatura.planner.curves.store import CurveCache, CurveStore

__all__ = [
    "X_FLOOR",
    "ConstantCurve",
    "CurveCache",
    "CurveMatrix",
    "CurveStore",
    "InputFunction",
    "PiecewiseLinearCurve",
    "PowerLawInput",
    "SmoothCurve",
    "StackedCurve",
    "power_input",
    "power_slope",
    "stack_orders",
]
