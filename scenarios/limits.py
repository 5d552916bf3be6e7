"""Upper bounds on the sizes and magnitudes of economies.

Two kinds of limit:

* **Format limits** (constants, the same on every machine, documented in
  ``scenarios/FORMAT.md``): magnitudes beyond which double-precision arithmetic and the
  planner's tolerances no longer hold (:data:`MAX_AMOUNT`, :data:`MAX_EXPONENT`), and sizes
  beyond which a scenario cannot be meant (:data:`MAX_POPULATION`, :data:`MAX_REGIONS`).
* **Machine limits**: what this machine's memory can hold (:func:`memory_budget`, half of the
  physical memory). :func:`check_fits` turns an estimate of the bytes a request needs into an
  error that says the limit, before anything is allocated; :func:`max_workers` bounds worker
  processes by the CPUs.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping
from typing import Any

from innatura.planner.errors import InvalidInputError

__all__ = [
    "BYTES_PER_CITIZEN",
    "MAX_AMOUNT",
    "MAX_DAYS",
    "MAX_EXPONENT",
    "MAX_NEED",
    "MAX_POPULATION",
    "MAX_REGIONS",
    "MAX_REGION_EDGES",
    "MAX_SEED",
    "check_fits",
    "check_model_fits",
    "format_bytes",
    "generated_size",
    "machine_memory",
    "max_workers",
    "memory_budget",
    "model_bytes",
]

logger = logging.getLogger(__name__)

#: largest finite amount (stock, bundle, labour, capacity, coefficient, scale) a scenario may
#: give: the planning LPs mix such amounts with coefficients of 1e-3 and below, and HiGHS's
#: tolerances (and its infinity, 1e20) hold only while that spread stays within about 1e12.
MAX_AMOUNT = 1e9
#: largest daily need of one good, summed over the profiles (population times bundle).
MAX_NEED = 1e12
#: largest power-law exponent: ``scale * q ** exponent`` stays finite for orders up to 1e30.
MAX_EXPONENT = 10.0
#: most citizens on one profile (the world has fewer people).
MAX_POPULATION = 10**10
#: most regions of a region graph (routes between every pair of regions are kept).
MAX_REGIONS = 2_000
#: most edges of a region graph.
MAX_REGION_EDGES = 200_000
#: longest run in days (a run keeps rows for every day; a million days is 2700 years).
MAX_DAYS = 1_000_000
#: largest seed: seeds are stored as signed 64-bit integers (Parquet, JSON readers).
MAX_SEED = 2**63 - 1
#: memory one citizen takes in the agent model (agent object, state arrays, reports), measured.
BYTES_PER_CITIZEN = 1024


def machine_memory() -> int:
    """Physical memory of this machine in bytes (8 GiB when the system does not say)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return 8 * 1024**3


def memory_budget() -> int:
    """Bytes one request may plan to use: half of the physical memory."""
    return machine_memory() // 2


def format_bytes(n: float) -> str:
    """``12.0 GiB``, ``512.0 MiB``, ..."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.1f} PiB"  # pragma: no cover


def check_fits(need_bytes: float, what: str, where: str = "") -> None:
    """Raise :class:`InvalidInputError` when ``need_bytes`` exceed :func:`memory_budget`.

    Args:
        need_bytes: estimated bytes the request needs.
        what: the request, e.g. ``"1e11 citizens"``.
        where: the file and field, or the command-line flag, responsible (starts the message;
            empty where the caller names it itself).
    """
    budget = memory_budget()
    if not need_bytes <= budget:  # also catches NaN
        raise InvalidInputError(
            f"{where + ': ' if where else ''}{what} need about {format_bytes(need_bytes)}; this machine allows "
            f"{format_bytes(budget)} (half of its {format_bytes(machine_memory())} of memory)"
        )


def max_workers() -> int:
    """Most worker processes this machine runs side by side: its CPU count."""
    return max(os.cpu_count() or 1, 1)


def _as_count(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan


def generated_size(generator: str, params: Mapping[str, Any]) -> tuple[float, float]:
    """``(nodes, edges)`` a networkx generator will make, computed from its parameters alone.

    Upper bounds where the count is random; ``nan`` where the parameters do not say (the
    generator then rejects them itself).
    """
    p = {k: _as_count(v) for k, v in params.items()}
    n = p.get("n", math.nan)
    if generator == "grid_2d_graph":
        rows, cols = p.get("m", math.nan), n
        return rows * cols, 2 * rows * cols
    if generator == "balanced_tree":
        r, h = p.get("r", math.nan), p.get("h", math.nan)
        if not (r >= 0 and h >= 0):
            return math.nan, math.nan
        nodes = h + 1 if r == 1 else (r ** (h + 1) - 1) / (r - 1) if r > 1 and h < 200 else math.inf
        return nodes, nodes
    if generator in ("star_graph", "wheel_graph"):
        return n + 1, 2 * n
    if generator == "complete_graph":
        return n, n * (n - 1) / 2
    if generator == "gnm_random_graph":
        return n, p.get("m", math.nan)
    if generator == "gnp_random_graph":
        return n, n * (n - 1) / 2 * min(max(p.get("p", 1.0), 0.0), 1.0)
    if generator == "random_geometric_graph":
        return n, n * (n - 1) / 2 * min(math.pi * p.get("radius", 1.0) ** 2, 1.0)
    if generator in ("barabasi_albert_graph", "powerlaw_cluster_graph"):
        return n, n * p.get("m", math.nan)
    if generator in ("watts_strogatz_graph", "connected_watts_strogatz_graph", "random_regular_graph"):
        k = p.get("k", p.get("d", math.nan))
        return n, n * k
    return n, n  # path_graph, cycle_graph


def model_bytes(citizens: float, regions: int, directed_edges: int, units: int, goods: int) -> float:
    """Estimated peak memory of the agent model of an economy, in bytes.

    Citizens (:data:`BYTES_PER_CITIZEN` each), the route-incidence table of every pair of
    regions (a dense ``R * R`` by ``D`` table while it is built, 9 bytes a cell), per-unit
    input tables (``U * n``) and per-region stocks (``R * n``), a few copies of each.
    """
    R, D = float(regions), float(directed_edges)
    return citizens * BYTES_PER_CITIZEN + 9.0 * R * R * D + 48.0 * float(units) * goods + 80.0 * R * goods


def check_model_fits(spec: Any) -> Any:
    """Return ``spec``; raise :class:`InvalidInputError` when the agent model of ``spec`` would
    not fit in :func:`memory_budget` (the message names the scenario's file, the field and the
    limit)."""
    citizens = float(sum(p.population for p in spec.profiles))
    graph = spec.graph()
    R, D = graph.number_of_nodes(), 2 * graph.number_of_edges()
    U, n = len(spec.units) + len(spec.goods), len(spec.goods)
    need = model_bytes(citizens, R, D, U, n)
    if need <= memory_budget():
        return spec
    if citizens * BYTES_PER_CITIZEN >= 0.5 * need:
        most = int(max(memory_budget() - (need - citizens * BYTES_PER_CITIZEN), 0) // BYTES_PER_CITIZEN)
        where, what = "profiles", f"{int(citizens)} citizens (at most {most} fit)"
    else:
        where, what = "regions", f"{R} regions joined by {D // 2} edges (routes between every pair)"
    check_fits(need, what, f"{spec.source}: {where}")
    return spec  # pragma: no cover - check_fits raised
