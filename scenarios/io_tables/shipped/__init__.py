"""The real-economy scenarios that ship with innatura, built from ``scenarios/data/io``.

Each module (``us_2022``, ``us_2017_detail``, ``usa_wiod_2014``) defines ``DESCRIPTION`` and
``build(**options)`` for :data:`scenarios.registry.BUILDERS`; :func:`build_shipped` does the
work: load the table with the ``clip`` negative policy and map it with
:func:`~scenarios.io_tables.to_scenario.table_to_spec` (options: ``population``,
``returns_to_scale``, ``investment_share``, ``inventory_days``, ``capacity_factor``,
``labour_margin``, ``days``, ``seed``); any other option (``method``, ``losses_enabled``) is a
run-setting override (:meth:`~scenarios.spec.ScenarioSpec.with_overrides`).
"""

from __future__ import annotations

from typing import Any

from innatura.scenarios.io_tables import data_path, load_table
from innatura.scenarios.io_tables.to_scenario import MAPPING_OPTIONS, table_to_spec

__all__ = ["SHIPPED", "build_shipped"]

#: scenario name -> (table path relative to scenarios/data/io, format, year).
SHIPPED: dict[str, tuple[str, str, int]] = {
    "us-2022": ("bea_summary_2022", "bea", 2022),
    "us-2017-detail": ("bea_detail_2017", "bea", 2017),
    "usa-wiod-2014": ("wiod_niot_usa_2000_2014/USA_NIOT_domestic_2000-2014.csv", "wiod", 2014),
}


def build_shipped(name: str, **options: Any):
    """The :class:`~scenarios.spec.ScenarioSpec` of shipped scenario ``name``."""
    path, fmt, year = SHIPPED[name]
    table = load_table(data_path(path), fmt, year=year, negative_policy="clip")
    mapping = {k: v for k, v in options.items() if k in MAPPING_OPTIONS}
    overrides = {k: v for k, v in options.items() if k not in MAPPING_OPTIONS}
    spec = table_to_spec(table, name, **mapping)
    return spec.with_overrides(**overrides) if overrides else spec
