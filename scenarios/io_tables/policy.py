"""The explicit policy for negative cells and negative (net-of-imports) final demand.

Real tables are not non-negative: BEA Use tables record scrap as negative inputs (a few
coefficients around -0.0005), and their final demand is net of imports, so net final demand
is negative for industries whose imports exceed their domestic final use (oil and gas,
primary metals). A planner that needs ``A >= 0`` and ``d >= 0`` must be told what to do.
Two policies exist, chosen by name (``--negative-policy``):

``keep``
    Nothing changes. ``(I - A) x = f`` is solved as the table states it, which reproduces the
    table's gross output. Every negative cell is still listed in the report.
``clip``
    Clip and report: negative cells of ``A`` become 0; negative net final demand
    ``f_i = sum_k F_ik`` becomes 0; the final-demand components are made non-negative and
    consistent with the clipped ``f`` by netting every negative component entry (imports,
    inventory draw-downs, government sales) out of the positive entries of the same industry
    in proportion to their size (the import-proportionality assumption):
    ``F'_ik = max(F_ik, 0) * max(f_i, 0) / sum_k max(F_ik, 0)``. Every changed cell is
    listed with its old value. The gross output the clipped system implies differs from the
    table's by the report's figures.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp
from innatura.planner.errors import InvalidInputError

__all__ = ["POLICIES", "NegativeCell", "NegativePolicy", "NegativeReport", "apply_negative_policy"]

logger = logging.getLogger(__name__)

NegativePolicy = Literal["keep", "clip"]

#: policy name -> one-line description (the CLI help lists these).
POLICIES: dict[str, str] = {
    "keep": "keep negative cells and negative final demand; solve the table as stated",
    "clip": "clip negative cells of A and negative net final demand to 0, net negative "
    "final-demand entries out of the same industry's positive ones, and report every change",
}


@dataclass(frozen=True)
class NegativeCell:
    """One negative value found: ``where`` is ``"A"`` (row, column industries),
    ``"final demand"`` (row industry, ``column`` ``"net"``) or ``"component"``
    (row industry, column component code)."""

    where: str
    row: str
    column: str
    value: float


@dataclass(frozen=True)
class NegativeReport:
    """What the policy found and did.

    Attributes:
        policy: ``"keep"`` or ``"clip"``.
        cells: every negative value found in ``A``, in net final demand and in the
            components, with its original value.
        changed: whether the policy changed anything.
        coefficient_mass: sum of the negative coefficients of ``A`` (before the policy).
        final_demand_mass: sum of the negative net final demand (before the policy).
        component_mass: sum of the negative component entries (before the policy).
    """

    policy: str
    cells: tuple[NegativeCell, ...]
    changed: bool
    coefficient_mass: float
    final_demand_mass: float
    component_mass: float

    def count(self, where: str) -> int:
        """Number of negative values found in ``"A"``, ``"final demand"`` or ``"component"``."""
        return sum(1 for c in self.cells if c.where == where)

    def summary(self) -> str:
        """One line: counts and masses, and what the policy did."""
        if not self.cells:
            return f"negative-policy {self.policy}: no negative values"
        action = "clipped to 0 and netted out" if self.changed else "kept"
        return (
            f"negative-policy {self.policy}: {self.count('A')} negative coefficients "
            f"(sum {self.coefficient_mass:.6g}), {self.count('final demand')} negative net final demand "
            f"(sum {self.final_demand_mass:.6g}), {self.count('component')} negative component entries "
            f"(sum {self.component_mass:.6g}): {action}"
        )

    def to_dict(self, limit: int = 20) -> dict:
        """JSON-ready form; lists the ``limit`` largest negative values of each kind."""
        out: dict = {
            "policy": self.policy,
            "changed": self.changed,
            "negative_coefficients": self.count("A"),
            "negative_final_demand": self.count("final demand"),
            "negative_component_entries": self.count("component"),
            "coefficient_mass": self.coefficient_mass,
            "final_demand_mass": self.final_demand_mass,
            "component_mass": self.component_mass,
        }
        for where, key in (("A", "coefficients"), ("final demand", "final_demand")):
            cells = sorted((c for c in self.cells if c.where == where), key=lambda c: c.value)[:limit]
            out[key] = [{"row": c.row, "column": c.column, "value": c.value} for c in cells]
        return out


def apply_negative_policy(
    A: sp.spmatrix,
    F: np.ndarray,
    industries: Sequence[str],
    components: Sequence[str],
    policy: str = "keep",
) -> tuple[sp.csr_matrix, np.ndarray, NegativeReport]:
    """Apply a negative-value policy to coefficients ``A`` and final-demand components ``F``.

    Args:
        A: technical coefficients, shape ``(n, n)``.
        F: final-demand components per industry, shape ``(n, k)``.
        industries: the ``n`` industry codes (for the report).
        components: the ``k`` component codes (for the report).
        policy: ``"keep"`` or ``"clip"`` (see the module docstring).

    Returns:
        ``(A', F', report)``; with ``keep`` the inputs unchanged (as CSR / float arrays).

    Raises:
        InvalidInputError: unknown policy name.
    """
    if policy not in POLICIES:
        raise InvalidInputError(f"negative policy {policy!r} is unknown; choose one of {sorted(POLICIES)}")
    A = sp.csr_matrix(A, dtype=float, copy=True)
    F = np.array(F, dtype=float, copy=True)
    f = F.sum(axis=1)
    cells: list[NegativeCell] = []
    coo = A.tocoo()
    neg = coo.data < 0
    for r, c, v in zip(coo.row[neg], coo.col[neg], coo.data[neg], strict=False):
        cells.append(NegativeCell("A", industries[int(r)], industries[int(c)], float(v)))
    for i in np.flatnonzero(f < 0):
        cells.append(NegativeCell("final demand", industries[int(i)], "net", float(f[i])))
    for i, k in zip(*np.nonzero(F < 0), strict=False):
        cells.append(NegativeCell("component", industries[int(i)], components[int(k)], float(F[i, k])))
    report_kwargs = dict(
        coefficient_mass=float(coo.data[neg].sum()),
        final_demand_mass=float(f[f < 0].sum()),
        component_mass=float(F[F < 0].sum()),
    )
    changed = False
    if policy == "clip" and cells:
        changed = True
        A.data[A.data < 0] = 0.0
        A.eliminate_zeros()
        pos = np.clip(F, 0.0, None)
        total_pos = pos.sum(axis=1)
        f_clipped = np.clip(f, 0.0, None)
        scale = np.divide(f_clipped, total_pos, out=np.zeros_like(f), where=total_pos > 0)
        F = pos * scale[:, None]
    report = NegativeReport(policy, tuple(cells), changed, **report_kwargs)
    if cells:
        logger.info(report.summary())
    return A, F, report
