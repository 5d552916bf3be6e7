"""Ready-made economies: validated scenario specs from TOML files and Python builders.

    from innatura import scenarios
    scenarios.available()                 # [(name, one-line description), ...]
    spec = scenarios.load("selviaria")     # or a path to a .toml file
    economy = spec.to_economy()            # planner.economy.Economy

The file format is documented in ``scenarios/FORMAT.md``; :mod:`scenarios.spec` holds the
typed, frozen models, :mod:`scenarios.arrays` the arrays the planner and the agents need.
"""

from innatura.scenarios.arrays import UnitArrays
from innatura.scenarios.errors import ScenarioError, UnknownScenarioError
from innatura.scenarios.loader import dump_toml, dumps_toml, load_toml, loads_toml, spec_from_dict
from innatura.scenarios.registry import BUILDERS, DEFAULT_SCENARIO, available, load, names
from innatura.scenarios.spec import ScenarioSpec

__all__ = [
    "BUILDERS",
    "DEFAULT_SCENARIO",
    "ScenarioError",
    "ScenarioSpec",
    "UnitArrays",
    "UnknownScenarioError",
    "available",
    "dump_toml",
    "dumps_toml",
    "load",
    "load_toml",
    "loads_toml",
    "names",
    "spec_from_dict",
]
