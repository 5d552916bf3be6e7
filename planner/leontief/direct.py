"""Sparse (or dense) LU factorisation of ``I - A``."""

from __future__ import annotations

import logging

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
from innatura.planner.errors import InvalidInputError
from innatura.planner.leontief.result import Matrix, MethodOutput
from innatura.planner.leontief.structure import triangular_kind
from scipy.sparse.linalg import splu

__all__ = ["ORDERINGS", "solve_direct"]

logger = logging.getLogger(__name__)

#: column orderings SuperLU accepts (``permc_spec``)
ORDERINGS = ("COLAMD", "NATURAL", "MMD_ATA", "MMD_AT_PLUS_A")


def solve_direct(A: Matrix, d: np.ndarray, *, ordering: str | None = None) -> MethodOutput:
    """Solve ``(I - A) x = d`` by LU factorisation.

    Dense ``A``: LAPACK ``gesv``. Sparse ``A``: SuperLU (:func:`scipy.sparse.linalg.splu`) on
    ``I - A`` in CSC with a fill-reducing column ordering: COLAMD by default, NATURAL when the
    pattern is triangular in its own order (any reordering would only create fill-in).

    Args:
        A: validated coefficient matrix.
        d: right-hand side, ``(n,)`` or ``(n, k)``.
        ordering: one of :data:`ORDERINGS`, or None to choose as above.

    Raises:
        InvalidInputError: on an unknown ordering, or when ``I - A`` is exactly singular.
        MemoryError: when SuperLU runs out of memory (its 32-bit indices overflow near
            100 million nonzeros in the factors).
    """
    if ordering is not None and ordering not in ORDERINGS:
        raise InvalidInputError(f"ordering: unknown {ordering!r}; valid: {', '.join(ORDERINGS)}")
    n = A.shape[0]
    if not sp.issparse(A):
        try:
            x = sla.solve(np.eye(n) - A, d, check_finite=False)
        except sla.LinAlgError as exc:
            raise InvalidInputError(f"A: I - A is singular ({exc})") from exc
        return MethodOutput(x, 1, True)
    if ordering is None:
        ordering = "NATURAL" if triangular_kind(A) else "COLAMD"
    M = (sp.identity(n, format="csr") - A).tocsc()
    try:
        lu = splu(M, permc_spec=ordering)
    except RuntimeError as exc:
        msg = str(exc)
        if "memory" in msg.lower():
            raise MemoryError(
                f"SuperLU ran out of memory factorising I - A ({n} x {n}, {A.nnz} nonzeros): {msg}"
            ) from exc
        raise InvalidInputError(f"A: I - A is singular ({msg})") from exc
    del M
    small = n < 20000  # counting the factors' nonzeros of large ones costs a copy
    logger.debug("splu(%s): L %d + U %d nonzeros", ordering, lu.L.nnz if small else -1, lu.U.nnz if small else -1)
    return MethodOutput(lu.solve(d), 1, True)
