"""pymrio ``IOSystem`` objects -> a multi-regional :class:`IOTable`.

Anything pymrio parses (its test MRIO via ``pymrio.load_test()``, EXIOBASE, OECD ICIO, Eora,
a saved system via ``pymrio.load_all``) becomes a table whose industries are the
``(region, sector)`` pairs, coded ``"region/sector"``, in pymrio's row order. ``A`` keeps the
inter-regional blocks: ``A[(r, i), (s, j)]`` is the input of sector ``i`` from region ``r`` per
unit of sector ``j``'s output in region ``s``. Final demand keeps pymrio's ``Y`` columns
``(region, category)``: the component ``"region/category"`` is bought by ``region``.

The system is read, never changed: missing accounts are computed here as pymrio defines them
(``x = Z 1 + Y 1``, ``A = Z diag(1/x)``; with coefficients only, ``x`` solves ``(I - A) x = Y 1``).
Value added is gross output less intermediate inputs (``x - 1^T Z``), the primary-input residual.
pymrio is imported only when a system is loaded from a path.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from innatura.planner.errors import InvalidInputError
from innatura.scenarios.io_tables.table import IOTable

__all__ = ["from_pymrio", "load_pymrio"]

logger = logging.getLogger(__name__)


def from_pymrio(io: Any, name: str | None = None) -> IOTable:
    """Convert a pymrio ``IOSystem`` into an :class:`IOTable` (the system is not modified).

    Args:
        io: a ``pymrio.IOSystem`` with ``Y`` and either ``Z`` or ``A`` (``x`` optional).
        name: table name; default the system's ``name``.

    Returns:
        The multi-regional :class:`IOTable` (``regions`` set, negative cells kept).

    Raises:
        InvalidInputError: the system has no final demand ``Y`` or neither ``Z`` nor ``A``,
            or its row and column labels disagree.
    """
    Z, A_df, Y, x_df = (getattr(io, k, None) for k in ("Z", "A", "Y", "x"))
    label = name or getattr(io, "name", None) or "pymrio system"
    if Y is None:
        raise InvalidInputError(f"pymrio system {label!r}: no final demand Y; load or calculate it first")
    core = Z if Z is not None else A_df
    if core is None:
        raise InvalidInputError(f"pymrio system {label!r}: neither flows Z nor coefficients A are present")
    index = core.index
    if not core.columns.equals(index):
        which = "Z" if Z is not None else "A"
        raise InvalidInputError(f"pymrio system {label!r}: the rows and columns of {which} differ")
    if not Y.index.equals(index):
        Y = Y.reindex(index)
        if Y.isna().any().any():
            raise InvalidInputError(f"pymrio system {label!r}: Y rows do not match the sectors of Z/A")
    F = Y.to_numpy(dtype=float)
    notes = []
    if x_df is not None:
        x = x_df.reindex(index).to_numpy(dtype=float).ravel()
    elif Z is not None:
        x = Z.to_numpy(dtype=float).sum(axis=1) + F.sum(axis=1)
        notes.append("gross output computed as x = Z 1 + Y 1 (pymrio calc_x)")
    else:
        from innatura.planner.leontief import solve_io

        x = np.asarray(solve_io(sp.csr_matrix(core.to_numpy(dtype=float)), F.sum(axis=1)).x)
        notes.append("gross output computed from coefficients: (I - A) x = Y 1")
    if Z is not None:
        Zm = Z.to_numpy(dtype=float)
        A = np.divide(Zm, x[None, :], out=np.zeros_like(Zm), where=x[None, :] != 0)
        intermediate = Zm.sum(axis=0)
    else:
        A = core.to_numpy(dtype=float)
        intermediate = A.sum(axis=0) * x
    regions = tuple(str(r) for r in index.get_level_values(0))
    sectors = tuple(str(s) for s in index.get_level_values(-1))
    codes = tuple(f"{r}/{s}" for r, s in zip(regions, sectors, strict=False))
    ycols = Y.columns
    fd_regions = tuple(str(c[0]) if isinstance(c, tuple) else "" for c in ycols)
    fd_codes = tuple("/".join(str(p) for p in c) if isinstance(c, tuple) else str(c) for c in ycols)
    return IOTable(
        name=str(label),
        source=f"pymrio:{label}",
        format="pymrio",
        year=None,
        industries=codes,
        industry_names=codes,
        A=sp.csr_matrix(A),
        final_demand=F,
        final_demand_codes=fd_codes,
        final_demand_names=fd_codes,
        value_added=x - intermediate,
        gross_output=x,
        unit=_unit(io),
        regions=regions,
        final_demand_regions=fd_regions,
        region_population=_population(io, regions),
        notes=tuple(notes),
    )


def _unit(io: Any) -> str:
    """The system's monetary unit, per year."""
    u = getattr(io, "unit", None)
    if u is not None and hasattr(u, "iloc") and len(u):
        return f"{u.iloc[0, 0]} per year"
    return "monetary units per year"


def _population(io: Any, regions: tuple[str, ...]) -> tuple[float, ...] | None:
    """Each region's population, when the system gives all of them (in the regions' order)."""
    pop = getattr(io, "population", None)
    if pop is None or not hasattr(pop, "columns"):
        return None
    names = tuple(dict.fromkeys(regions))
    values = [float(pop[r].iloc[0]) if r in pop.columns else float("nan") for r in names]
    return tuple(values) if all(np.isfinite(values)) and sum(values) > 0 else None


def load_pymrio(path: str | Path) -> IOTable:
    """Load a pymrio system from ``path`` (a folder or archive saved by pymrio, or ``"test"``
    for pymrio's shipped test MRIO) and convert it with :func:`from_pymrio`.

    Raises:
        InvalidInputError: pymrio is not installed or cannot read ``path``.
    """
    try:
        import pymrio
    except ImportError:  # pragma: no cover - depends on the environment
        raise InvalidInputError("reading pymrio systems needs pymrio: pip install 'innatura[io]'") from None
    if str(path) == "test":
        return from_pymrio(pymrio.load_test())
    p = Path(path)
    if not p.exists():
        raise InvalidInputError(f"{p}: no such pymrio system (a folder or archive saved by pymrio, or 'test')")
    try:
        io = pymrio.load_all(p)
    except Exception as exc:  # pymrio raises a variety of errors on unreadable input
        raise InvalidInputError(f"{p}: pymrio cannot load it: {exc}") from exc
    return from_pymrio(io)
