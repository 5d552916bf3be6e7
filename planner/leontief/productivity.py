"""Productivity of a technical-coefficient matrix: ``rho(A) < 1``.

An input-output matrix ``A >= 0`` is *productive* (every non-negative final demand ``d`` can be
met by a non-negative production ``x = (I - A)^{-1} d``) exactly when its spectral radius is
below 1, equivalently when every leading principal minor of ``I - A`` is positive
(Hawkins-Simon condition). The spectral radius of ``A`` is the largest over the strongly
connected components of its dependency graph (the diagonal blocks of its Frobenius normal
form), so when ``A`` is not productive the goods responsible are the members of the
components whose own spectral radius is ``>= 1``.

:func:`check_productive` tries cheap proofs first (triangular pattern: the diagonal;
Hawkins-Simon for small dense matrices; a column- or row-sum bound over the goods that can lie
on a cycle) and only then decomposes the graph and bounds each component (dense eigenvalues
for small components, Collatz-Wielandt bounds from a power iteration for large ones).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from innatura.planner.errors import NonProductiveError
from innatura.planner.leontief.result import Matrix
from innatura.planner.leontief.structure import diagonal, strong_components, triangular_kind
from innatura.planner.leontief.validation import label

__all__ = ["check_productive", "component_radii", "hawkins_simon", "spectral_radius"]

logger = logging.getLogger(__name__)

#: ``rho >= 1 - _SINGULAR`` counts as not productive (``I - A`` singular to rounding)
_SINGULAR = 1e-12
#: components up to this size get dense eigenvalues
_DENSE_BLOCK = 600
#: dense matrices up to this size are checked by Hawkins-Simon
_HAWKINS_SIMON_MAX = 600


def hawkins_simon(A: np.ndarray) -> bool:
    """Hawkins-Simon condition: all leading principal minors of ``I - A`` are positive.

    The pivots of Gaussian elimination without pivoting are ratios of consecutive leading
    minors, so the minors are all positive exactly when every pivot is. ``O(n^3)``: for small
    dense matrices.
    """
    B = np.eye(A.shape[0]) - np.asarray(A, dtype=np.float64)
    n = B.shape[0]
    for k in range(n):
        piv = B[k, k]
        if not piv > 0:
            return False
        if k + 1 < n:
            B[k + 1 :, k + 1 :] -= np.outer(B[k + 1 :, k] / piv, B[k, k + 1 :])
    return True


def _block_radius(
    B: sp.csr_matrix, *, rtol: float = 1e-9, maxiter: int = 20_000, decide_only: bool = True
) -> tuple[float, float]:
    """Lower and upper bounds on the spectral radius of an irreducible non-negative block.

    Collatz-Wielandt: for any ``v > 0``, ``min_i (Bv)_i / v_i <= rho(B) <= max_i (Bv)_i / v_i``.
    The bounds are tightened by power iteration on ``B + I`` (primitive, same Perron vector) and
    returned as soon as they agree to ``rtol`` (or, with ``decide_only``, settle on one side of 1).
    """
    m = B.shape[0]
    if m <= _DENSE_BLOCK:
        r = float(np.max(np.abs(np.linalg.eigvals(B.toarray()))))
        return r, r
    v = np.ones(m)
    lo, hi = 0.0, np.inf
    for _ in range(maxiter):
        w = B @ v
        ratio = w / v
        lo, hi = max(lo, float(ratio.min())), min(hi, float(ratio.max()))
        if hi - lo <= rtol * hi or (decide_only and (hi < 1.0 - _SINGULAR or lo >= 1.0 - _SINGULAR)):
            break
        v = w + v
        v /= v.max()
    else:
        logger.warning("spectral radius bounds did not settle: [%g, %g]", lo, hi)
    return lo, hi


def component_radii(A: Matrix, *, exact: bool = False) -> list[tuple[np.ndarray, float, float]]:
    """Spectral-radius bounds of every strongly connected component with a cycle or self-loop.

    Args:
        A: non-negative matrix (dense or sparse).
        exact: tighten every component's bounds until they agree to a relative 1e-9; otherwise
            only until it is clear whether the radius is below 1.

    Returns:
        ``(members, lower, upper)`` per component whose radius is not zero: components of
        several goods, and single goods with a non-zero diagonal coefficient.
    """
    M = A if sp.issparse(A) else sp.csr_matrix(A)
    count, labels = strong_components(M)
    sizes = np.bincount(labels, minlength=count)
    out: list[tuple[np.ndarray, float, float]] = []
    diag = diagonal(M) if isinstance(M, sp.csr_matrix) and M.has_sorted_indices else M.diagonal()
    single = sizes[labels] == 1
    for i in np.nonzero(single & (diag > 0))[0]:
        out.append((np.array([i]), float(diag[i]), float(diag[i])))
    order = np.argsort(labels, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    for c in np.nonzero(sizes > 1)[0]:
        members = np.sort(order[bounds[c] : bounds[c + 1]])
        B = M[members][:, members].tocsr()
        cs, rs = np.asarray(B.sum(axis=0)).ravel(), np.asarray(B.sum(axis=1)).ravel()
        lo = max(cs.min(), rs.min())
        hi = min(cs.max(), rs.max())
        undecided = hi >= 1.0 - _SINGULAR and lo < 1.0 - _SINGULAR
        if (exact or undecided) and hi - lo > 1e-9 * hi:
            lo, hi = _block_radius(B, decide_only=not exact)
        out.append((members, float(lo), float(hi)))
    return out


def spectral_radius(A: Matrix) -> float:
    """Spectral radius of a non-negative matrix, component by component (see module docstring).

    Exact (dense eigenvalues) for components up to 600 goods; for larger ones the midpoint of
    Collatz-Wielandt bounds that agree to a relative 1e-9.
    """
    radii = component_radii(A, exact=True)
    return max((0.5 * (lo + hi) for _, lo, hi in radii), default=0.0)


def _cheap_bound(A: Matrix, hints: dict | None = None) -> float:
    """An upper bound on ``rho(A)``: column (then row) sums over the goods that can lie on a cycle.

    A good whose row has no off-diagonal entry (nothing uses it) or whose column has none (it
    uses nothing) lies on no cycle and contributes only its diagonal coefficient.
    """
    if sp.issparse(A):
        diag = _known_diagonal(A, hints)
        in_s = (np.diff(A.indptr) - (diag != 0)) > 0  # rows with an off-diagonal entry
        colsum_s = A.T @ in_s.astype(np.float64)
        if hints is not None:
            hints.update(in_s=in_s, colsum_s=colsum_s, diag=diag)
        bound = max(float(colsum_s[in_s].max(initial=0.0)), float(diag[~in_s].max(initial=0.0)))
        if bound < 1.0 - _SINGULAR:
            return bound
        colsum = A.T @ np.ones(A.shape[0])
        in_t = colsum - diag > 0  # columns with an off-diagonal entry
        rowsum_t = A @ in_t.astype(np.float64)
        return min(bound, max(float(rowsum_t[in_t].max(initial=0.0)), float(diag[~in_t].max(initial=0.0))))
    diag = np.diag(A)
    off = A - np.diag(diag)
    in_s = off.sum(axis=1) > 0
    in_t = off.sum(axis=0) > 0
    b1 = max(float(A[np.ix_(in_s, in_s)].sum(axis=0).max(initial=0.0)), float(diag[~in_s].max(initial=0.0)))
    b2 = max(float(A[np.ix_(in_t, in_t)].sum(axis=1).max(initial=0.0)), float(diag[~in_t].max(initial=0.0)))
    return min(b1, b2)


def _known_diagonal(A: sp.csr_matrix, hints: dict | None) -> np.ndarray:
    """The diagonal of ``A``: from ``hints["diag"]`` when the caller knows it, else found (and
    left in ``hints``)."""
    if hints is not None and "diag" in hints:
        return np.asarray(hints["diag"])
    diag = diagonal(A)
    if hints is not None:
        hints["diag"] = diag
    return diag


def check_productive(A: Matrix, names: Sequence[str] | None = None, *, hints: dict | None = None) -> float:
    """Prove ``rho(A) < 1`` or raise :class:`~planner.errors.NonProductiveError`.

    Args:
        A: validated coefficient matrix (float64 ndarray or canonical CSR).
        names: names of the goods, used in the error.
        hints: a dict that receives what is computed on the way (``kind``: the triangular
            pattern or None; ``in_s``: rows with an off-diagonal entry, ``colsum_s``: column
            sums over those rows, ``diag``), which :func:`~planner.leontief.solve_io` and
            :func:`~planner.leontief.structure.has_cycle` reuse. A ``diag`` (the diagonal of
            sparse ``A``) or ``kind`` already in it is taken as known and not found again
            (Newton's method knows both for the matrix it checks at its solution).

    Returns:
        An upper bound on the spectral radius that is below 1 (the radius itself when the
        pattern is triangular or a small dense matrix passed Hawkins-Simon).

    Raises:
        NonProductiveError: with ``goods`` the members of every strongly connected component
            whose spectral radius is ``>= 1`` and ``spectral_radius`` the largest found.
    """
    n = A.shape[0]
    if n == 0:
        return 0.0
    kind = hints["kind"] if hints is not None and "kind" in hints else triangular_kind(A)
    if hints is not None:
        hints["kind"] = kind
    if kind is not None:
        diag = _known_diagonal(A, hints) if sp.issparse(A) else np.diag(A)
        rho = float(diag.max(initial=0.0))
        if rho < 1.0 - _SINGULAR:
            return rho
    elif not sp.issparse(A) and n <= _HAWKINS_SIMON_MAX:
        if hawkins_simon(A):
            return float(np.max(np.abs(np.linalg.eigvals(A))))
    else:
        bound = _cheap_bound(A, hints)
        if bound < 1.0 - _SINGULAR:
            return bound
    if kind is None and sp.issparse(A) and strong_components(A)[0] == n:  # acyclic: the diagonal decides
        rho = float(_known_diagonal(A, hints).max(initial=0.0))
        if rho < 1.0 - _SINGULAR:
            return rho
    radii = component_radii(A)
    bad = [(m, lo, hi) for m, lo, hi in radii if lo >= 1.0 - _SINGULAR or 0.5 * (lo + hi) >= 1.0 - _SINGULAR]
    if not bad:
        # a proven upper bound where there is one, else the estimate of converged bounds
        rho = max((hi if hi < 1.0 - _SINGULAR else 0.5 * (lo + hi) for _, lo, hi in radii), default=0.0)
        if rho < 1.0 - _SINGULAR and (kind is not None or sp.issparse(A) or n > _HAWKINS_SIMON_MAX):
            return rho
        # Hawkins-Simon failed at rounding level: blame the component closest to 1
        bad = [max(radii, key=lambda t: t[2])] if radii else []
    rho_max = max(0.5 * (lo + hi) for _, lo, hi in bad) if bad else float("nan")
    goods: list[str] = []
    parts = []
    for members, lo, hi in sorted(bad, key=lambda t: -t[2]):
        labels = [names[i] if names is not None else str(int(i)) for i in members]
        goods.extend(labels)
        shown = ", ".join(label(int(i), names) for i in members[:10])
        more = f" and {len(members) - 10} more" if len(members) > 10 else ""
        parts.append(f"{{{shown}{more}}} (spectral radius {0.5 * (lo + hi):.6g})")
    raise NonProductiveError(
        "A is not productive (spectral radius >= 1, so I - A has no non-negative inverse); "
        f"the goods responsible, by strongly connected block: {'; '.join(parts)}",
        goods=tuple(goods),
        spectral_radius=rho_max,
    )
