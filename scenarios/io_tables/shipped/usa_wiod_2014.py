"""Shipped scenario ``usa-wiod-2014`` (see :mod:`scenarios.io_tables.shipped`)."""

from __future__ import annotations

from typing import Any

from innatura.scenarios.io_tables.shipped import build_shipped

__all__ = ["DESCRIPTION", "build"]

DESCRIPTION = (
    "US economy 2014 from the WIOD national IO table (domestic block): "
    "56 industries as goods (55 with output), money flows as physical units"
)


def build(**options: Any):
    """Build ``usa-wiod-2014``; options as :func:`scenarios.io_tables.to_scenario.table_to_dict`."""
    return build_shipped("usa-wiod-2014", **options)
