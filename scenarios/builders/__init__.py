"""Python builders of synthetic scenarios.

Each module defines ``DESCRIPTION`` (one line) and a function returning a
:class:`~scenarios.spec.ScenarioSpec`; :data:`scenarios.registry.BUILDERS` names them
explicitly (importing this package registers nothing).
"""
