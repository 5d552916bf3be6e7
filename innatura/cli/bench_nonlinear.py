"""``innatura bench nonlinear``: time ``(I - F(x)) x = d`` with coefficient curves at scale.

Generates (or loads from the cache) a seed-style or cyclic random economy
(:func:`scenarios.generators.random_economy`), solves it linearly with the project's default
solver :func:`planner.leontief.solve_io` (the reference), puts stacked power-law curves on a
share of the goods' cells, calibrated so that every curve's coefficient at the linear solution
equals the constant it replaces (:func:`scenarios.generators.random_curves`), and solves the
nonlinear system at ``--demand-scale`` times the demand with
:func:`planner.nonlinear.solve_nonlinear_io`, all in one process. Prints the time, Newton (or
fixed-point) iterations, sparse products, the time in matvec-times and as a ratio to the linear
solve of the same matrix, the residual (recomputed from the curve objects' arrays independently
of the solver) and the memory; ``--json`` writes the figures.

The solvers' sparse products run in row blocks on ``--threads`` threads
(:mod:`planner.parallel_product`); the table shows the single-thread product ``A @ x`` (the
floor, against which every matvec-time is counted) and the threaded one. ``--threads 1,2``
times both solves with each thread count in turn within every round (interleaved, so that all
see the same machine load), checks that the solutions are identical to the bit, and reports
each count's wall-clock and CPU (all threads') seconds; the main figures are the last count's.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import platform
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import scipy
import scipy.sparse as sp

from innatura.cli.bench_io import parse_case
from innatura.planner.atomic import atomic_write_text
from innatura.planner.errors import InvalidInputError

if TYPE_CHECKING:  # pragma: no cover
    from innatura.planner.curves import CurveStore
    from innatura.planner.leontief import IOSolution
    from innatura.planner.nonlinear import NonlinearIOSolution

__all__ = ["NonlinearBench", "benchmark", "configure", "format_table", "run"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: targets from the issue: time over the linear solve of the same matrix, residual, memory
TARGET_RATIO = 5.0
TARGET_RESIDUAL = 1e-8
TARGET_MEMORY_BYTES = 4 * 1024**3
#: the ratio target holds for economies with at most this share of curve cells
RATIO_TARGET_SHARE = 0.02


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the command's arguments."""
    from innatura.cli.args import real, seed, whole, whole_list

    parser.add_argument(
        "--case", type=parse_case, default=(100_000, 10_000, 50), metavar="IND,FINAL,INPUTS",
        help="industrial goods, final goods, inputs per good (default 100000,10000,50)",
    )
    parser.add_argument("--curve-share", type=real(0.0, 1.0), default=0.02, metavar="F",
                        help="share of the goods' cells that become curves, in [0, 1] (default 0.02)")
    parser.add_argument("--units", type=whole(1, 2), default=2, help="stacked units per curve (default 2)")
    parser.add_argument("--cyclic", action="store_true", help="inputs from all goods (cycles, spectral radius 0.7)")
    parser.add_argument("--demand-scale", type=real(0.0, lo_open=True), default=1.3, metavar="S",
                        help="solve at S times the demand the curves are calibrated at (default 1.3)")
    parser.add_argument("--method", choices=("newton-krylov", "fixed-point"), default=None,
                        help="nonlinear method (default: solve_nonlinear_io's choice)")
    parser.add_argument("--tol", type=real(0.0, 1.0, lo_open=True, hi_open=True), default=1e-10,
                        help="relative residual of both solves (default 1e-10)")
    parser.add_argument("--profiles", type=whole(1, 1_000_000), default=200, help="profile columns (default 200)")
    parser.add_argument("--repeat", type=whole(1, 1000), default=1,
                        help="timed rounds, each a linear and a nonlinear solve (medians; default 1)")
    parser.add_argument("--seed", type=seed, default=0, help="seed of the generators (default 0)")
    parser.add_argument("--trace-memory", action="store_true",
                        help="one more, untimed nonlinear solve under tracemalloc for its own peak allocation")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the results as JSON")
    parser.add_argument(
        "--cache-dir", default=".bench-cache", metavar="DIR",
        help="where generated economies are cached as .npz ('none' disables; default .bench-cache)",
    )
    parser.add_argument("--threads", type=whole_list(1, 1024), default=None, metavar="N[,N...]",
                        help="threads of the solvers' sparse products; several are timed in turn within every round "
                             "(default $INNATURA_THREADS or the usable cores)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


@dataclass(frozen=True)
class NonlinearBench:
    """The settings of one :func:`benchmark` run (the command's options, same defaults)."""

    case: tuple[int, int, int] = (100_000, 10_000, 50)
    curve_share: float = 0.02
    units: int = 2
    cyclic: bool = False
    demand_scale: float = 1.3
    method: str | None = None
    tol: float = 1e-10
    n_profiles: int = 200
    repeat: int = 1
    seed: int = 0
    trace_memory: bool = False
    cache_dir: str | os.PathLike[str] | None = ".bench-cache"
    progress: bool = False
    #: thread counts, timed in turn within every round (None: the default count)
    threads: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.curve_share <= 1.0:
            raise InvalidInputError(f"--curve-share: expected a number in [0, 1], got {self.curve_share!r}")
        if not (np.isfinite(self.demand_scale) and self.demand_scale > 0):
            raise InvalidInputError(f"--demand-scale: expected a positive number, got {self.demand_scale!r}")
        if not 0 < self.tol < 1:
            raise InvalidInputError(f"--tol: expected a number in (0, 1), got {self.tol!r}")
        if self.repeat < 1:
            raise InvalidInputError(f"--repeat: expected a positive integer, got {self.repeat}")
        if sum(self.case[:2]) < 2:
            raise InvalidInputError(f"--case: expected at least 2 goods, got {self.case}")


def _rss_bytes() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def _timed(fn: Callable[[], T]) -> tuple[float, T]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def _timed_cpu(fn: Callable[[], T]) -> tuple[float, float, T]:
    """Wall-clock and CPU seconds (the process's, all threads) of one call."""
    c0, t0 = time.process_time(), time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, time.process_time() - c0, out


def _solves(b: NonlinearBench, A: sp.csr_matrix, d: np.ndarray, lin: IOSolution, store: CurveStore,
            counts: tuple[int, ...]) -> dict:
    """The timed rounds (a linear and a nonlinear solve with each thread count in turn,
    interleaved so that all see the same machine load) and, with ``trace_memory``, one more
    nonlinear solve under tracemalloc. ``lin`` is the first count's first linear solve."""
    from innatura.planner.leontief import solve_io
    from innatura.planner.nonlinear import solve_nonlinear_io

    dn = b.demand_scale * d
    per: dict[int, dict[str, list[float]]] = {
        t: {"nonlinear": [], "nonlinear_cpu": [], "linear": [], "linear_cpu": []} for t in counts}
    sols: dict[int, NonlinearIOSolution] = {}
    identical = True
    for r in range(b.repeat):
        for i, t in enumerate(counts):
            if r or i:
                w, c, lin_t = _timed_cpu(functools.partial(solve_io, A, d, tol=b.tol, threads=t))
                per[t]["linear"].append(w)
                per[t]["linear_cpu"].append(c)
                identical &= bool(np.array_equal(lin_t.x, lin.x))
            w, c, sol = _timed_cpu(
                functools.partial(solve_nonlinear_io, (A, store), dn, b.method, tol=b.tol, threads=t))
            per[t]["nonlinear"].append(w)
            per[t]["nonlinear_cpu"].append(c)
            if sols:
                identical &= bool(np.array_equal(sol.x, next(iter(sols.values())).x))
            sols.setdefault(t, sol)
    rss = _rss_bytes()
    traced = None
    if b.trace_memory:
        tracemalloc.start()
        solve_nonlinear_io((A, store), dn, b.method, tol=b.tol, threads=counts[-1])
        traced = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    last = counts[-1]
    return {"solution": sols[last], "times": per[last]["nonlinear"], "linear_times": per[last]["linear"],
            "per_threads": per, "identical": identical, "rss": rss, "traced": traced, "dn": dn}


def _met(b: NonlinearBench, ratio: float, residual: float, rss: int) -> dict[str, bool]:
    """The targets that apply: the ratio to the linear solve on economies with a few curves
    (the issue's 2% of the cells), the residual and the memory always."""
    met = {"residual": residual <= TARGET_RESIDUAL, "memory": rss <= TARGET_MEMORY_BYTES}
    if b.curve_share <= RATIO_TARGET_SHARE:
        met["ratio"] = ratio <= TARGET_RATIO
    return met


def benchmark(b: NonlinearBench) -> dict:
    """Run the benchmark and return the results as a JSON-ready dict (see the module docstring)."""
    from innatura.planner.curves import CurveMatrix
    from innatura.planner.leontief import solve_io
    from innatura.planner.parallel_product import resolve_threads, row_blocked
    from innatura.scenarios.generator_cache import cached_random_economy
    from innatura.scenarios.generators import random_curves

    counts = tuple(resolve_threads(t) for t in b.threads) if b.threads else (resolve_threads(),)
    n_ind, n_fin, k = b.case
    gen_seconds, econ = _timed(lambda: cached_random_economy(
        n_ind, n_fin, k, b.n_profiles, cyclic=b.cyclic, seed=b.seed, cache_dir=b.cache_dir, progress=b.progress))
    A, d = econ.A, econ.d
    v = np.random.default_rng(b.seed).random(A.shape[0])
    blocked = {t: row_blocked(A, t) for t in counts}
    mv_runs: list[float] = []
    tp_runs: dict[int, list[float]] = {t: [] for t in counts}
    for _ in range(5):  # interleaved: the single-thread product, then the threaded ones
        mv_runs.append(_timed(lambda: A @ v)[0])
        for t in counts:
            tp_runs[t].append(_timed(functools.partial(blocked[t], v))[0])
    mv = statistics.median(mv_runs)
    lin_seconds, lin_cpu, lin = _timed_cpu(lambda: solve_io(A, d, tol=b.tol, threads=counts[0]))
    rng = np.random.default_rng(b.seed + 1)
    curve_seconds, store = _timed(lambda: random_curves(econ, lin.x, b.curve_share, rng=rng, units=b.units))
    rss_before = _rss_bytes()
    out = _solves(b, A, d, lin, store, counts)
    out["per_threads"][counts[0]]["linear"].insert(0, lin_seconds)
    out["per_threads"][counts[0]]["linear_cpu"].insert(0, lin_cpu)
    sol, dn = out["solution"], out["dn"]
    residual = float(np.linalg.norm(sol.x - CurveMatrix(A, store).at(sol.x) @ sol.x - dn) / np.linalg.norm(dn))
    nl_med, lin_med = statistics.median(out["times"]), statistics.median(out["per_threads"][counts[-1]]["linear"])
    threads = {
        str(t): {
            "matvec_seconds": statistics.median(tp_runs[t]), "blocks": max(1, len(blocked[t].groups)),
            **{f"{key}_seconds": statistics.median(vals) for key, vals in out["per_threads"][t].items()},
        }
        for t in counts
    }
    return {
        "case": {
            "n_industrial": n_ind, "n_final": n_fin, "inputs_per_good": k, "n_profiles": b.n_profiles,
            "kind": "cyclic" if b.cyclic else "seed", "seed": b.seed, "size": int(A.shape[0]), "nnz": int(A.nnz),
            "curve_cells": store.n_cells, "curve_units": store.n_units, "curve_share": b.curve_share,
            "demand_scale": b.demand_scale, "tol": b.tol,
        },
        "generate_seconds": gen_seconds,
        "curves_seconds": curve_seconds,
        "matvec_seconds": mv,
        "threads": threads,
        "identical_across_threads": out["identical"],
        "linear": {"method": lin.method, "seconds": lin_med, "iterations": lin.iterations, "residual": lin.residual},
        "nonlinear": {
            "method": sol.method, "seconds": nl_med, "min": min(out["times"]), "runs": len(out["times"]),
            "iterations": sol.iterations, "products": sol.products, "linear_solves": sol.linear_solves,
            "residual": residual, "solver_residual": sol.residual, "converged": sol.converged,
            "residual_history": list(sol.residual_history),
        },
        "ratios": {"nonlinear_over_linear": nl_med / lin_med, "nonlinear_over_matvec": nl_med / mv,
                   "linear_over_matvec": lin_med / mv},
        "memory": {
            "store_bytes": store.nbytes, "store_bytes_per_cell": store.nbytes / max(store.n_cells, 1),
            "matrix_bytes": int(A.data.nbytes + A.indices.nbytes + A.indptr.nbytes),
            "peak_rss_before_nonlinear_bytes": rss_before, "peak_rss_bytes": out["rss"],
            "nonlinear_traced_peak_bytes": out["traced"],
        },
        "targets": {
            "max_ratio": TARGET_RATIO, "max_residual": TARGET_RESIDUAL, "max_memory_bytes": TARGET_MEMORY_BYTES,
        },
        "met": _met(b, nl_med / lin_med, residual, out["rss"]),
        "machine": {
            "cpus": os.cpu_count(), "threads": list(counts), "python": platform.python_version(),
            "numpy": np.__version__, "scipy": scipy.__version__, "load_average": list(os.getloadavg()),
        },
    }


def format_table(r: dict) -> str:
    """The human-readable table of a :func:`benchmark` result."""
    c, nl, lin, m, ratio = r["case"], r["nonlinear"], r["linear"], r["memory"], r["ratios"]
    mv = r["matvec_seconds"]
    lin_name = f"linear solve_io ({lin['method']}, {lin['iterations']} it)"
    nl_name = f"nonlinear {nl['method']} ({nl['iterations']} it, {nl['products']} products)"
    lines = [
        f"economy: {c['kind']}, {c['n_industrial']}+{c['n_final']} goods + {c['n_profiles']} profiles, "
        f"{c['inputs_per_good']} inputs/good: {c['size']} x {c['size']}, {c['nnz']:,} nonzeros "
        f"(ready in {r['generate_seconds']:.1f} s)",
        f"curves: {c['curve_cells']:,} cells ({c['curve_share']:g} of the goods' cells), {c['curve_units']:,} "
        f"stacked power-law units, built in {r['curves_seconds']:.2f} s; solved at {c['demand_scale']:g} x demand",
        f"{'solve':<42}{'median time':>12}{'x matvec':>10}{'residual':>11}",
        f"{'one matvec A @ x (1 thread)':<42}{mv:>10.4g} s{1.0:>10.1f}",
        *(f"{f'one matvec, {t} thread(s) (row blocks)':<42}{v['matvec_seconds']:>10.4g} s"
          f"{v['matvec_seconds'] / mv:>10.2f}" for t, v in r["threads"].items() if t != "1"),
        f"{lin_name:<42}{lin['seconds']:>10.4g} s"
        f"{ratio['linear_over_matvec']:>10.1f}{lin['residual']:>11.1e}",
        f"{nl_name:<42}"
        f"{nl['seconds']:>10.4g} s{ratio['nonlinear_over_matvec']:>10.1f}{nl['residual']:>11.1e}",
        "x matvec: wall-clock time over the single-thread product's; solves on "
        f"{r['machine']['threads'][-1]} thread(s)",
        f"nonlinear / linear: {ratio['nonlinear_over_linear']:.2f} (target <= {TARGET_RATIO:g} with up to "
        f"{RATIO_TARGET_SHARE:g} of the cells as curves); residual target <= {TARGET_RESIDUAL:g}",
        f"memory: curve store {m['store_bytes'] / 2**20:.1f} MiB ({m['store_bytes_per_cell']:.0f} bytes a cell), "
        f"A {m['matrix_bytes'] / 2**20:.0f} MiB, peak RSS {m['peak_rss_bytes'] / 2**30:.2f} GiB",
    ]
    if m["nonlinear_traced_peak_bytes"] is not None:
        lines.append(f"nonlinear solve allocates {m['nonlinear_traced_peak_bytes'] / 2**20:.0f} MiB at its peak")
    if len(r["threads"]) > 1:
        lines.append("threads (interleaved rounds; medians, wall / CPU of all threads):")
        for t, v in r["threads"].items():
            lines.append(
                f"  {t:>3}: matvec {v['matvec_seconds']:.4g} s, linear {v['linear_seconds']:.4g} s "
                f"({v['linear_seconds'] / mv:.1f} x) / {v['linear_cpu_seconds']:.4g} s CPU, nonlinear "
                f"{v['nonlinear_seconds']:.4g} s ({v['nonlinear_seconds'] / mv:.1f} x) / "
                f"{v['nonlinear_cpu_seconds']:.4g} s CPU"
            )
        lines.append(f"  solutions identical across thread counts: {'yes' if r['identical_across_threads'] else 'NO'}")
    lines.append("targets met: " + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in r["met"].items()))
    lines.append("load average: " + ", ".join(f"{v:.2f}" for v in r["machine"]["load_average"]))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Run ``innatura bench nonlinear``; returns the exit status."""
    from innatura.cli.outputs import check_output_dir, check_output_file

    if args.json:
        check_output_file(args.json, "--json")
    cache = None if str(args.cache_dir).lower() == "none" else check_output_dir(args.cache_dir, "--cache-dir")
    result = benchmark(NonlinearBench(
        args.case, curve_share=args.curve_share, units=args.units, cyclic=args.cyclic,
        demand_scale=args.demand_scale, method=args.method, tol=args.tol, n_profiles=args.profiles,
        repeat=args.repeat, seed=args.seed, trace_memory=args.trace_memory, cache_dir=cache,
        threads=tuple(args.threads) if args.threads else None,
        progress=not args.quiet and sys.stderr.isatty(),
    ))
    print(format_table(result))
    if args.json:
        atomic_write_text(args.json, json.dumps(result, indent=2) + "\n")
        print(f"results written to {args.json}")
    return 0
