"""innatura: agent-based simulation of economic planning in natura under imperfect information.

The public front door. The layers are subpackages:

- :mod:`innatura.planner`: pure numerics (Leontief and nonlinear IO solvers, the nightly plan,
  metrics, the learned and the exchange-economy planners);
- :mod:`innatura.scenarios`: ready-made economies as validated data files, builders, real IO tables;
- :mod:`innatura.abm`: the Mesa model and its agents, the day pipeline, data collection;
- :mod:`innatura.viz`: the Mesa browser view.

The names below are the ones most scripts need; each is imported on first use, so
``import innatura`` stays light (no mesa, scipy or torch until they are needed).

    >>> import innatura
    >>> spec = innatura.load_scenario("selviaria")
    >>> spec.name
    'selviaria'
    >>> model = innatura.PlanningEconomy(spec, rng=1)
    >>> model.step()
    >>> model.day
    1
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("innatura")
except PackageNotFoundError:  # pragma: no cover - running from a source tree that is not installed
    __version__ = "0+unknown"

#: public name -> (module, attribute)
_EXPORTS: dict[str, tuple[str, str]] = {
    "PlanningEconomy": ("innatura.abm.model", "PlanningEconomy"),
    "RunSettings": ("innatura.abm.settings", "RunSettings"),
    "load_scenario": ("innatura.scenarios.registry", "load"),
    "scenario_names": ("innatura.scenarios.registry", "names"),
    "ScenarioSpec": ("innatura.scenarios.spec", "ScenarioSpec"),
    "Economy": ("innatura.planner.economy", "Economy"),
    "solve_io": ("innatura.planner.leontief", "solve_io"),
    "solve_nonlinear_io": ("innatura.planner.nonlinear", "solve_nonlinear_io"),
    "plan_day": ("innatura.planner.plan", "plan_day"),
    "humanity": ("innatura.planner.metrics", "humanity"),
    "externalities": ("innatura.planner.metrics", "externalities"),
    "InnaturaError": ("innatura.planner.errors", "InnaturaError"),
    "InvalidInputError": ("innatura.planner.errors", "InvalidInputError"),
    "NonProductiveError": ("innatura.planner.errors", "NonProductiveError"),
    "ConvergenceError": ("innatura.planner.errors", "ConvergenceError"),
    "ScenarioError": ("innatura.scenarios.errors", "ScenarioError"),
}
_SUBPACKAGES = ("planner", "scenarios", "abm", "viz", "cli")

__all__ = [
    "ConvergenceError",
    "Economy",
    "InnaturaError",
    "InvalidInputError",
    "NonProductiveError",
    "PlanningEconomy",
    "RunSettings",
    "ScenarioError",
    "ScenarioSpec",
    "__version__",
    "externalities",
    "humanity",
    "load_scenario",
    "plan_day",
    "scenario_names",
    "solve_io",
    "solve_nonlinear_io",
]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs (``import x as x``: a re-export)
    from innatura.abm.model import PlanningEconomy as PlanningEconomy
    from innatura.abm.settings import RunSettings as RunSettings
    from innatura.planner.economy import Economy as Economy
    from innatura.planner.errors import ConvergenceError as ConvergenceError
    from innatura.planner.errors import InnaturaError as InnaturaError
    from innatura.planner.errors import InvalidInputError as InvalidInputError
    from innatura.planner.errors import NonProductiveError as NonProductiveError
    from innatura.planner.leontief import solve_io as solve_io
    from innatura.planner.metrics import externalities as externalities
    from innatura.planner.metrics import humanity as humanity
    from innatura.planner.nonlinear import solve_nonlinear_io as solve_nonlinear_io
    from innatura.planner.plan import plan_day as plan_day
    from innatura.scenarios.errors import ScenarioError as ScenarioError
    from innatura.scenarios.registry import load as load_scenario
    from innatura.scenarios.registry import names as scenario_names
    from innatura.scenarios.spec import ScenarioSpec as ScenarioSpec


def __getattr__(name: str) -> Any:
    """Import a public name (or a layer subpackage) on first use (PEP 562)."""
    if name in _EXPORTS:
        module, attr = _EXPORTS[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    if name in _SUBPACKAGES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'innatura' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS, *_SUBPACKAGES])
