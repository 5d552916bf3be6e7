"""The result of loading an input-output table: :class:`IOTable`.

Every loader (:mod:`~scenarios.io_tables.bea`, :mod:`~scenarios.io_tables.wiod`,
:mod:`~scenarios.io_tables.pymrio_adapter`) returns the same industry-by-industry view:
technical coefficients ``A`` (column ``j`` = inputs per unit of industry ``j``'s output),
final-demand components per industry, value added and the table's own gross output.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from innatura.planner.errors import InvalidInputError
from innatura.scenarios.io_tables.policy import NegativeReport

__all__ = ["IOTable"]


@dataclass(frozen=True, eq=False)
class IOTable:
    """An industry-by-industry input-output table, ready to solve ``(I - A) x = f``.

    Attributes:
        name: short description, e.g. ``"BEA summary 2022"``.
        source: the file or folder it was read from (or ``"pymrio:<name>"``).
        format: ``"bea"``, ``"wiod"`` or ``"pymrio"``.
        year: the table's year, when known.
        industries: industry codes, in matrix order (for MRIO tables ``"region/sector"``).
        industry_names: human-readable names (the codes where no name list exists).
        A: technical coefficients, CSR, shape ``(n, n)``.
        final_demand: final-demand components per industry, shape ``(n, k)``; net final
            demand is ``final_demand.sum(axis=1)``.
        final_demand_codes: the ``k`` component codes (e.g. ``F010``, ``CONS_h``).
        final_demand_names: their names.
        value_added: primary inputs per industry (the table's value-added rows, or gross
            output less intermediate inputs where the table has none), shape ``(n,)``.
        gross_output: the table's own gross output per industry, shape ``(n,)``.
        unit: the monetary unit of flows, e.g. ``"US$ million per year"``.
        regions: region of each industry (MRIO tables), else ``None``.
        final_demand_regions: region of each final-demand component (MRIO), else ``None``.
        region_population: population of each region in ``region_names`` order, when the
            source gives it (MRIO), else ``None``.
        negatives: what the negative-value policy found and did.
        notes: construction notes (assumptions, checks that produced warnings).

    Shapes:
        ``n = len(industries)``, ``k = len(final_demand_codes)``.
    """

    name: str
    source: str
    format: str
    year: int | None
    industries: tuple[str, ...]
    industry_names: tuple[str, ...]
    A: sp.csr_matrix
    final_demand: np.ndarray
    final_demand_codes: tuple[str, ...]
    final_demand_names: tuple[str, ...]
    value_added: np.ndarray
    gross_output: np.ndarray
    unit: str
    regions: tuple[str, ...] | None = None
    final_demand_regions: tuple[str, ...] | None = None
    region_population: tuple[float, ...] | None = None
    negatives: NegativeReport | None = None
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        n = len(self.industries)
        if len(set(self.industries)) != n:
            raise InvalidInputError(f"{self.source}: duplicate industry codes")
        if len(self.industry_names) != n:
            raise InvalidInputError(f"{self.source}: {len(self.industry_names)} names for {n} industries")
        A = sp.csr_matrix(self.A, dtype=float)
        if A.shape != (n, n):
            raise InvalidInputError(f"{self.source}: A has shape {A.shape}, expected {(n, n)}")
        A.eliminate_zeros()
        object.__setattr__(self, "A", A)
        F = np.asarray(self.final_demand, dtype=float)
        if F.ndim == 1:
            F = F[:, None]
        k = len(self.final_demand_codes)
        if F.shape != (n, k) or len(self.final_demand_names) != k:
            raise InvalidInputError(f"{self.source}: final demand has shape {F.shape}, expected {(n, k)}")
        object.__setattr__(self, "final_demand", F)
        for attr in ("value_added", "gross_output"):
            v = np.asarray(getattr(self, attr), dtype=float)
            if v.shape != (n,):
                raise InvalidInputError(f"{self.source}: {attr} has shape {v.shape}, expected {(n,)}")
            object.__setattr__(self, attr, v)
        for arr, what in ((A.data, "A"), (F, "final demand"), (self.gross_output, "gross output")):
            if not np.all(np.isfinite(arr)):
                raise InvalidInputError(f"{self.source}: {what} has non-finite entries")
        if self.regions is not None and len(self.regions) != n:
            raise InvalidInputError(f"{self.source}: {len(self.regions)} regions for {n} industries")
        if self.final_demand_regions is not None and len(self.final_demand_regions) != k:
            raise InvalidInputError(f"{self.source}: {len(self.final_demand_regions)} regions for {k} components")

    # -- sizes and summaries ---------------------------------------------------------------
    @property
    def n(self) -> int:
        """Number of industries."""
        return len(self.industries)

    @property
    def f(self) -> np.ndarray:
        """Net final demand per industry, ``final_demand.sum(axis=1)``, shape ``(n,)``."""
        return self.final_demand.sum(axis=1)

    @property
    def density(self) -> float:
        """Share of non-zero cells of ``A``."""
        return self.A.nnz / float(self.n * self.n) if self.n else 0.0

    @property
    def column_sums(self) -> np.ndarray:
        """Intermediate inputs per unit of output, ``1^T A``, shape ``(n,)``."""
        return np.asarray(self.A.sum(axis=0)).ravel()

    @property
    def max_column_sum(self) -> float:
        """Largest column sum of ``A`` (a column sum >= 1 means the industry uses more than it makes)."""
        return float(self.column_sums.max()) if self.n else 0.0

    @property
    def labour_coefficients(self) -> np.ndarray:
        """Value added per unit of gross output, 0 where gross output is 0, shape ``(n,)``."""
        out = np.zeros(self.n)
        pos = self.gross_output > 0
        out[pos] = self.value_added[pos] / self.gross_output[pos]
        return out

    @property
    def region_names(self) -> tuple[str, ...]:
        """The distinct regions in first-seen order (``()`` for single-region tables)."""
        return tuple(dict.fromkeys(self.regions)) if self.regions is not None else ()

    def relative_error(self, x: np.ndarray) -> float:
        """``||x - g||_2 / ||g||_2`` against the table's own gross output ``g``."""
        g = self.gross_output
        return float(np.linalg.norm(np.asarray(x) - g) / max(np.linalg.norm(g), np.finfo(float).tiny))

    def component(self, code: str) -> np.ndarray:
        """Final-demand component ``code`` per industry; ``KeyError`` naming the known codes."""
        try:
            return self.final_demand[:, self.final_demand_codes.index(code)]
        except ValueError:
            raise KeyError(f"unknown final-demand component {code!r}; known: {list(self.final_demand_codes)}") from None
