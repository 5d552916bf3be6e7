"""The linear Leontief core: ``(I - A) x = d`` for a technical-coefficient matrix ``A``.

Front door: :func:`solve_io`. Building blocks: validation (:mod:`.validation`), productivity
(:mod:`.productivity`), the methods (:mod:`.direct`, :mod:`.triangular`, :mod:`.krylov`,
:mod:`.neumann`), structure detection (:mod:`.structure`).
"""

from __future__ import annotations

import inspect
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from types import MappingProxyType
from typing import Any

import numpy as np
import scipy.sparse as sp
from innatura.planner.errors import ConvergenceError, InvalidInputError
from innatura.planner.leontief.direct import solve_direct
from innatura.planner.leontief.krylov import solve_krylov
from innatura.planner.leontief.neumann import solve_neumann
from innatura.planner.leontief.norms import column_norms
from innatura.planner.leontief.productivity import check_productive, component_radii, hawkins_simon, spectral_radius
from innatura.planner.leontief.productivity import check_productive as _check_productive
from innatura.planner.leontief.result import IOSolution, Matrix, MethodOutput
from innatura.planner.leontief.structure import dependency_order, triangular_kind
from innatura.planner.leontief.triangular import solve_triangular_io
from innatura.planner.leontief.validation import label, validate_coefficients, validate_demand, validate_names
from innatura.planner.parallel_product import resolve_threads, row_blocked
from numpy.typing import ArrayLike

__all__ = [
    "METHODS",
    "METHOD_FUNCTIONS",
    "IOSolution",
    "check_productive",
    "component_radii",
    "hawkins_simon",
    "relative_residual",
    "solve_io",
    "spectral_radius",
    "validate_coefficients",
    "validate_demand",
]

logger = logging.getLogger(__name__)

#: the function of each method :func:`solve_io` runs, by name (read at every call)
METHOD_FUNCTIONS: Mapping[str, Callable[..., MethodOutput]] = MappingProxyType({
    "direct": solve_direct,
    "triangular": solve_triangular_io,
    "krylov": solve_krylov,
    "neumann": solve_neumann,
})
#: the method names :func:`solve_io` accepts
METHODS: tuple[str, ...] = tuple(METHOD_FUNCTIONS)

#: the default uses LU for matrices up to this size
_DIRECT_MAX_N = 1000
#: the default never falls back to LU beyond this many nonzeros (SuperLU's 32-bit limits)
_DIRECT_MAX_NNZ = 20_000_000
#: demand above this is scaled down (by a power of two) before solving: squares in norms of
#: vectors of such entries overflow, and a residual of ``inf / inf`` would read as converged
_LARGE = 1e100


def relative_residual(A: Matrix, d: np.ndarray, x: np.ndarray) -> float:
    """``||(I - A) x - d|| / ||d||`` (2-norm; largest over columns; absolute where ``d = 0``)."""
    r = d - x + A @ x
    num = np.asarray(column_norms(r))
    den = np.asarray(column_norms(d))
    rel = np.where(den > 0, num / np.where(den > 0, den, 1.0), num)
    return float(np.max(rel)) if np.ndim(rel) else float(rel)


def _plan(A: Matrix, n: int, hints: dict | None = None) -> tuple[list[str], dict[str, dict]]:
    """The default's order of methods to try, and options learned while choosing."""
    extra: dict[str, dict] = {}
    if not sp.issparse(A):
        return (["direct", "krylov"] if n <= 2 * _DIRECT_MAX_N else ["krylov", "direct"]), extra
    hints = {} if hints is None else hints
    kind = hints["kind"] if "kind" in hints else triangular_kind(A)
    if "diag" in hints:
        extra["krylov"] = {"diagonal": hints["diag"]}  # found by the productivity check
        if "in_s" in hints:
            extra["krylov"]["uses"] = hints["in_s"]
    if kind is not None:
        extra["triangular"] = {"kind": kind}
        return ["triangular", "krylov", "direct"], extra
    if n <= _DIRECT_MAX_N:
        return ["direct", "krylov"], extra
    order = dependency_order(A, hints=hints)
    plan = ["krylov"]
    if order is not None:
        extra["triangular"] = {"order": order}
        plan.insert(0, "triangular")
    if A.nnz <= _DIRECT_MAX_NNZ:
        plan.append("direct")
    plan.append("neumann")
    return plan, extra


def _call(name: str, A: Matrix, d: np.ndarray, tol: float, options: dict) -> MethodOutput:
    fn = METHOD_FUNCTIONS[name]
    params = inspect.signature(fn).parameters
    if "threads" in options:  # solve_io's own: the Krylov method takes A's row-blocked product
        options = dict(options)
        threads = options.pop("threads")
        if name == "krylov" and sp.isspmatrix_csr(A):
            A = row_blocked(A, threads)
    unknown = sorted(set(options) - set(params) - {"A", "d"})
    if unknown:
        valid = [p for p in params if p not in ("A", "d", "tol")]
        raise InvalidInputError(
            f"solve_io: method {name!r} takes no option {', '.join(map(repr, unknown))}; "
            f"its options: {', '.join(valid) or 'none'}"
        )
    kwargs = dict(options)
    if "tol" in params:
        kwargs["tol"] = tol
    return fn(A, d, **kwargs)


def solve_io(
    A: Matrix | ArrayLike,
    d: ArrayLike,
    method: str | None = None,
    *,
    tol: float = 1e-10,
    names: Sequence[str] | None = None,
    check_productive: bool = True,
    threads: int | None = None,
    **options: Any,
) -> IOSolution:
    """Solve the Leontief system ``(I - A) x = d`` for the production vector ``x``.

    ``A[i, j]`` is the input of good ``i`` needed per unit of good ``j`` (OLIN-EP Eq. 1-2,
    ``x = A x + d``); ``d`` is final demand. ``A`` may be a dense array or any
    ``scipy.sparse`` matrix (CSR is used as is; other formats are converted once).

    The methods:

    * ``"triangular"``: blocked substitution over CSR, for economies whose goods can be
      ordered so that each needs only earlier goods (detected in the given order from the
      first and last column of each row, otherwise by a topological sort of the dependency
      graph). About one or two sparse products' time.
    * ``"direct"``: LU factorisation (SuperLU with COLAMD, NATURAL for a triangular
      pattern; LAPACK for dense ``A``). Robust, but fill-in makes it slow and memory-hungry
      on large economies.
    * ``"krylov"``: GMRES (or ``solver="bicgstab"``) on ``I - A`` applied matrix-free,
      preconditioned by two terms of the Jacobi splitting's Neumann series. About
      ``log(tol) / log(rho)`` sparse products at most, far fewer in practice (about 11 at
      ``rho = 0.7``).
    * ``"neumann"``: the power series ``d + A d + A^2 d + ...``; about
      ``log(tol) / log(rho)`` products.

    The default (``method=None``) picks, in order: ``"triangular"`` when the pattern is
    triangular (in its order, or, above 1000 goods, after a topological sort), since
    substitution costs about one sparse product and is exact; ``"direct"`` for small matrices
    (up to 1000 goods; 2000 dense), where LU is cheap and indifferent to conditioning;
    ``"krylov"`` otherwise, since on large economies LU fill-in costs minutes and gigabytes
    while GMRES needs a dozen products when ``rho(A)`` is well below 1. It then checks the true
    relative residual (computed explicitly, by the front door or at the end of GMRES and
    Neumann); when the target is missed it refines once (solving for the residual), then falls
    back to the next method (Krylov, then LU up to 20 million nonzeros, then Neumann), and
    raises :class:`~planner.errors.ConvergenceError` if none reaches ``tol``.

    Args:
        A: technical coefficients, shape ``(n, n)``, finite and non-negative.
        d: final demand, shape ``(n,)`` or ``(n, k)``.
        method: one of :data:`METHODS`, or None to choose as above.
        tol: target relative residual ``||(I - A) x - d|| / ||d||``.
        names: names of the goods, for error messages.
        check_productive: first prove ``rho(A) < 1`` (cheap bounds first; see
            :func:`~planner.leontief.productivity.check_productive`). Turn off for matrices
            known to be productive or for systems that are not input-output tables.
        threads: threads of the Krylov method's sparse products (row blocks, the same result
            to the bit: :mod:`~planner.parallel_product`); default ``$INNATURA_THREADS`` or the
            cores this process may use.
        **options: passed to an explicitly chosen method (e.g. ``ordering="NATURAL"`` for
            ``"direct"``, ``solver="bicgstab"``, ``restart`` or ``maxiter`` for ``"krylov"``,
            ``maxiter`` for ``"neumann"``, ``kind`` or ``block`` for ``"triangular"``).

    Returns:
        An :class:`IOSolution`. With an explicit method the result is returned even when it
        missed ``tol`` (``converged=False``); the default raises instead.

    Raises:
        InvalidInputError: malformed ``A``, ``d`` or ``names``, an unknown method or option, or a
            singular ``I - A``.
        NonProductiveError: ``A`` is not productive; ``error.goods`` names the goods of the
            strongly connected blocks whose spectral radius is ``>= 1``.
        ConvergenceError: the default found no method that reaches ``tol``.
    """
    t0 = time.perf_counter()
    _check_call(method, tol, options)
    if threads is not None:
        resolve_threads(threads)  # a bad value is an error whichever method runs
        options = {**options, "threads": threads}
    shape = getattr(A, "shape", None) or np.shape(A)
    if names is not None and len(shape) == 2:
        names = validate_names(names, shape[0])
    M = validate_coefficients(A, names)
    n = M.shape[0]
    dv = validate_demand(d, n)
    hints: dict = {}
    if check_productive:
        _check_productive(M, names, hints=hints)
    if n == 0 or not np.any(dv):
        chosen = method or "direct"
        return IOSolution(np.zeros(dv.shape), chosen, 0, 0.0, True, time.perf_counter() - t0, (chosen,))
    scale = _demand_scale(dv)
    sol = _solve_valid(M, dv / scale if scale != 1.0 else dv, method, tol, options, hints, t0)
    return sol if scale == 1.0 else _unscaled(sol, scale, names)


def _demand_scale(d: np.ndarray) -> float:
    """1, or a power of two that brings demand above :data:`_LARGE` down to it (exactly: dividing
    by a power of two changes no digit), so that no norm or product of the solve overflows."""
    peak = float(np.max(np.abs(d)))
    return 1.0 if peak <= _LARGE else 2.0 ** (math.frexp(peak)[1] - math.frexp(_LARGE)[1])


def _unscaled(sol: IOSolution, scale: float, names: Sequence[str] | None) -> IOSolution:
    """The solution of the scaled system times ``scale``; an overflow is an error, not a result."""
    with np.errstate(over="ignore"):
        x = sol.x * scale
    if not np.isfinite(x).all():
        bad = int(np.flatnonzero(~np.isfinite(x).reshape(x.shape[0], -1).all(axis=1))[0])
        raise InvalidInputError(
            f"d: the production that meets this demand overflows (beyond {np.finfo(float).max:.3g}, first of "
            f"{label(bad, names)}); measure the goods in larger units"
        )
    return replace(sol, x=x)


def _solve_valid(M: Matrix, dv: np.ndarray, method: str | None, tol: float, options: dict[str, Any],
                 hints: dict, t0: float) -> IOSolution:
    """:func:`solve_io` on validated input: the method, or the default's sequence (:func:`_default`)."""
    if method is not None:
        out, res = _attempt(method, M, dv, tol, options, refine=False)
        return IOSolution(out.x, method, int(out.iterations), res, bool(res <= tol), time.perf_counter() - t0,
                          (method,))
    return _default(M, dv, tol, hints, t0, options.get("threads"))


def _check_call(method: str | None, tol: float, options: dict[str, Any]) -> None:
    if method is not None and method not in METHOD_FUNCTIONS:
        raise InvalidInputError(f"method: unknown method {method!r}; valid methods: {', '.join(METHODS)} (or None)")
    if not (isinstance(tol, (int, float)) and 0 < tol < 1):
        raise InvalidInputError(f"tol: expected a number in (0, 1), got {tol!r}")
    if method is None and options:
        raise InvalidInputError(f"solve_io: options {sorted(options)} need an explicit method")


def _attempt(
    name: str, M: Matrix, dv: np.ndarray, tol: float, opts: dict, *, refine: bool
) -> tuple[MethodOutput, float]:
    """Run one method and measure its true relative residual; with ``refine``, when it missed
    ``tol``, one step of iterative refinement with the same method, ``(I - A) dx = r``."""
    out = _call(name, M, dv, tol, opts)
    x, iters = out.x, out.iterations
    # methods that end by computing the true residual explicitly report it; else compute it
    res = out.residual if out.residual is not None else relative_residual(M, dv, x)
    if not np.isfinite(res):
        res = float("inf")
    if refine and res > tol and np.isfinite(res):
        r = dv - x + M @ x
        rnorm = np.asarray(column_norms(r))
        dnorm = np.asarray(column_norms(dv))
        inner_tol = float(min(0.5, np.min(tol * np.where(rnorm > 0, dnorm / np.where(rnorm > 0, rnorm, 1), 1))))
        try:
            corr = _call(name, M, r, inner_tol, opts)
            x2 = x + corr.x
            res2 = relative_residual(M, dv, x2)
            if res2 < res:
                x, res, iters = x2, res2, iters + corr.iterations
        except MemoryError:  # pragma: no cover - the first call would have failed first
            pass
    logger.debug("solve_io: %s, %d iterations, residual %.3g", name, iters, res)
    return MethodOutput(x, iters, bool(res <= tol), res), float(res)


def _default(M: Matrix, dv: np.ndarray, tol: float, hints: dict, t0: float, threads: int | None = None) -> IOSolution:
    """The default's methods in order (:func:`_plan`) until one reaches ``tol``."""
    plan, extra = _plan(M, M.shape[0], hints)
    attempts: list[str] = []
    best: tuple[float, str, MethodOutput] | None = None
    for name in plan:
        attempts.append(name)
        try:
            params = inspect.signature(METHOD_FUNCTIONS[name]).parameters
            opts = {k: v for k, v in extra.get(name, {}).items() if k in params}  # what the method takes
            if threads is not None:
                opts["threads"] = threads
            out, res = _attempt(name, M, dv, tol, opts, refine=True)
        except MemoryError as exc:
            logger.warning("method %s ran out of memory (%s); trying the next", name, exc)
            continue
        if res <= tol:
            return IOSolution(out.x, name, int(out.iterations), res, True, time.perf_counter() - t0, tuple(attempts))
        if best is None or res < best[0]:
            best = (res, name, out)
        logger.info("method %s reached residual %.3g > tol %.3g; trying the next", name, res, tol)
    res_best = best[0] if best else float("nan")
    raise ConvergenceError(
        f"solve_io: no method reached relative residual {tol:g} (tried {', '.join(attempts)}; best {res_best:.3g})",
        iterations=int(best[2].iterations) if best else 0,
        residual=float(res_best),
    )
