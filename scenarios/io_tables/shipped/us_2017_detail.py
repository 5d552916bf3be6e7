"""Shipped scenario ``us-2017-detail`` (see :mod:`scenarios.io_tables.shipped`)."""

from __future__ import annotations

from typing import Any

from innatura.scenarios.io_tables.shipped import build_shipped

__all__ = ["DESCRIPTION", "build"]

DESCRIPTION = (
    "US economy 2017 from the BEA detail Make/Use tables: "
    "402 industries as goods, money flows as physical units"
)


def build(**options: Any):
    """Build ``us-2017-detail``; options as :func:`scenarios.io_tables.to_scenario.table_to_dict`."""
    return build_shipped("us-2017-detail", **options)
