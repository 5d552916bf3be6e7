"""The real-economy scenarios that ship with innatura, built from ``scenarios/data/io``.

:data:`SHIPPED` is the one place a shipped table is registered: its scenario name, where the
table lies, its format, its year and its one-line description. :data:`scenarios.registry`
lists these names next to its builders, and :func:`build_shipped` does the work: load the
table with the ``clip`` negative policy and map it with
:func:`~scenarios.io_tables.to_scenario.table_to_spec` (options: ``population``,
``returns_to_scale``, ``investment_share``, ``inventory_days``, ``capacity_factor``,
``labour_margin``, ``days``, ``seed``); any other option (``method``, ``losses_enabled``) is a
run-setting override (:meth:`~scenarios.spec.ScenarioSpec.with_overrides`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from innatura.scenarios.spec import ScenarioSpec

__all__ = ["SHIPPED", "ShippedTable", "build_shipped"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ShippedTable:
    """A table under ``scenarios/data/io`` that ships as a scenario.

    Attributes:
        path: the table's folder or file, relative to ``scenarios/data/io``.
        format: its reader (``"bea"``, ``"wiod"``).
        year: the year read from it.
        description: the scenario's one-line description.
    """

    path: str
    format: str
    year: int
    description: str


#: scenario name -> the table it is built from.
SHIPPED: dict[str, ShippedTable] = {
    "us-2022": ShippedTable(
        "bea_summary_2022", "bea", 2022,
        "US economy 2022 from the BEA summary Make/Use tables: 71 industries as goods, money flows as physical units"),
    "us-2017-detail": ShippedTable(
        "bea_detail_2017", "bea", 2017,
        "US economy 2017 from the BEA detail Make/Use tables: 402 industries as goods, money flows as physical units"),
    "usa-wiod-2014": ShippedTable(
        "wiod_niot_usa_2000_2014/USA_NIOT_domestic_2000-2014.csv", "wiod", 2014,
        "US economy 2014 from the WIOD national IO table (domestic block): 56 industries as goods (55 with output), "
        "money flows as physical units"),
}


def build_shipped(name: str, **options: Any) -> ScenarioSpec:
    """The :class:`~scenarios.spec.ScenarioSpec` of shipped scenario ``name``."""
    from innatura.scenarios.io_tables import data_path, load_table
    from innatura.scenarios.io_tables.to_scenario import MAPPING_OPTIONS, table_to_spec

    table_info = SHIPPED[name]
    table = load_table(data_path(table_info.path), table_info.format, year=table_info.year, negative_policy="clip")
    mapping = {k: v for k, v in options.items() if k in MAPPING_OPTIONS}
    overrides = {k: v for k, v in options.items() if k not in MAPPING_OPTIONS}
    spec = table_to_spec(table, name, **mapping)
    return spec.with_overrides(**overrides) if overrides else spec
