"""Ready-made economies: validated scenario specs from TOML files and Python builders.

    import scenarios
    scenarios.available()                 # [(name, one-line description), ...]
    spec = scenarios.load("selviaria")     # or a path to a .toml file
    economy = spec.to_economy()            # planner.economy.Economy

The file format is documented in ``scenarios/FORMAT.md``; :mod:`scenarios.spec` holds the
typed, frozen models, :mod:`scenarios.economy` the arrays the planner and the agents need.
"""

from scenarios.economy import UnitArrays
from scenarios.errors import ScenarioError, UnknownScenarioError
from scenarios.loader import dump_toml, dumps_toml, load_toml, loads_toml, spec_from_dict
from scenarios.registry import BUILDERS, DEFAULT_SCENARIO, available, load, names
from scenarios.spec import ScenarioSpec

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
