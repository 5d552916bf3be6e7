"""``innatura bench io``: time ``(I - A) x = d`` solvers on a random OLIN-EP economy.

Generates (or loads from the cache) a seed-style or cyclic random economy
(:func:`scenarios.generators.random_economy`), then times in one process: scipy's ``spsolve``
with default options on ``I - A`` (the OLIN-EP papers' method), the project's default solver
:func:`planner.leontief.solve_io` on ``--threads`` threads, one sparse matrix-vector product
``A @ x`` on one thread (the floor any method must pay) and the same product in row blocks on
``--threads`` threads (:mod:`planner.parallel_product`, the solver's), in interleaved rounds of
three products of each kind and one solve. Matvec-times are always against the single-thread
product. The default's time in products is judged in the process's CPU time (all threads'),
medians over the rounds: on a shared machine wall-clock time also counts waits for a core,
which the products and the solve meet unequally; the wall-clock figure, which shows what the
threads save, and each round's CPU figure are printed too. Prints a table and, with
``--json``, writes the figures as JSON.
"""

from __future__ import annotations

import argparse
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
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import scipy
import scipy.sparse as sp

from innatura.planner.atomic import atomic_write_text
from innatura.planner.errors import InvalidInputError

__all__ = ["benchmark", "configure", "parse_case", "run"]

logger = logging.getLogger(__name__)

#: targets from the issue: speed-up over spsolve, default time in matvec-times, residual
TARGET_SPEEDUP = 100.0
TARGET_MATVECS = {"seed": 10.0, "cyclic": 20.0}
TARGET_RESIDUAL = 1e-8
TARGET_MEMORY_BYTES = 8 * 1024**3


def parse_case(text: str) -> tuple[int, int, int]:
    """The ``--case IND,FINAL,INPUTS`` argument as three integers (an argparse type)."""
    try:
        parts = tuple(int(p) for p in text.split(","))
    except ValueError:
        parts = ()
    if len(parts) != 3 or min(parts) < 0 or parts[1] < 1:
        raise argparse.ArgumentTypeError(
            f"--case: expected IND,FINAL,INPUTS as three integers (FINAL >= 1), got {text!r}"
        )
    return parts


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the command's arguments."""
    from innatura.cli.args import real, seed, whole

    parser.add_argument(
        "--case", type=parse_case, default=(5000, 500, 1000), metavar="IND,FINAL,INPUTS",
        help="industrial goods, final goods, inputs per good (default 5000,500,1000)",
    )
    parser.add_argument("--profiles", type=whole(1, 1_000_000), default=200, help="profile columns (default 200)")
    parser.add_argument("--cyclic", action="store_true", help="inputs from all goods (cycles, spectral radius 0.7)")
    parser.add_argument(
        "--repeat", type=whole(1, 1000), default=5,
        help="timed rounds, each 3 products and one default solve (medians are reported; default 5)",
    )
    parser.add_argument("--seed", type=seed, default=0, help="seed of the generator (default 0)")
    parser.add_argument("--tol", type=real(0.0, 1.0, lo_open=True, hi_open=True), default=1e-10,
                        help="relative residual the default solver is asked for (default 1e-10, solve_io's)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the results as JSON")
    parser.add_argument("--skip-spsolve", action="store_true", help="do not time spsolve (minutes on large cases)")
    parser.add_argument(
        "--cache-dir", default=".bench-cache", metavar="DIR",
        help="where generated economies are cached as .npz ('none' disables; default .bench-cache)",
    )
    parser.add_argument("--threads", type=whole(1, 1024), default=None, metavar="N",
                        help="threads of the solver's sparse products (default $INNATURA_THREADS or the usable cores)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _check_args(repeat: int, tol: float) -> None:
    if repeat < 1:
        raise InvalidInputError(f"--repeat: expected a positive integer, got {repeat}")
    if not 0 < tol < 1:
        raise InvalidInputError(f"--tol: expected a number in (0, 1), got {tol!r}")


def _time(fn: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    times, out = [], None
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return times, out


def _time_both(fn: Callable[[], Any], repeat: int) -> tuple[list[float], list[float], Any]:
    """Wall-clock and CPU seconds of the process (``time.process_time``) of ``repeat`` calls."""
    walls, cpus, out = [], [], None
    for _ in range(max(1, repeat)):
        c0, t0 = time.process_time(), time.perf_counter()
        out = fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return walls, cpus, out


class _Rounds(NamedTuple):
    """What :func:`_rounds` measured: wall and CPU seconds of each product and solve."""

    mv_times: list[float]
    mv_cpu: list[float]
    #: wall and CPU seconds of the threaded product
    tp_times: list[float]
    tp_cpu: list[float]
    sol_times: list[float]
    sol_cpu: list[float]
    #: per round, the solve's CPU time over the median of the round's products'
    per_round: list[float]
    sol: Any


def _rounds(product: Callable[[], Any], threaded: Callable[[], Any], solve: Callable[[], Any],
            repeat: int) -> _Rounds:
    """Interleaved rounds (3 single-thread products, 3 threaded ones, then one solve) so that
    all see the same machine load; ratios use medians, which a shared machine's bursts disturb
    less than minima. Wall-clock time also counts the waits of an oversubscribed machine, which
    the products and the solve meet unequally; the process's CPU time (summed over its threads)
    counts only the work, and its ratio is the figure judged against the target."""
    out = _Rounds([], [], [], [], [], [], [], None)
    sol = None
    for _ in range(repeat):
        walls, cpus, _ = _time_both(product, 3)
        out.mv_times.extend(walls)
        out.mv_cpu.extend(cpus)
        walls_t, cpus_t, _ = _time_both(threaded, 3)
        out.tp_times.extend(walls_t)
        out.tp_cpu.extend(cpus_t)
        t, c, sol = _time_both(solve, 1)
        out.sol_times.extend(t)
        out.sol_cpu.extend(c)
        out.per_round.append(c[0] / statistics.median(cpus))
    return out._replace(sol=sol)


def _rss_bytes() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def benchmark(
    case: tuple[int, int, int],
    *,
    n_profiles: int = 200,
    cyclic: bool = False,
    repeat: int = 5,
    seed: int = 0,
    skip_spsolve: bool = False,
    cache_dir: str | os.PathLike[str] | None = ".bench-cache",
    progress: bool = False,
    tol: float = 1e-10,
    threads: int | None = None,
) -> dict:
    """Run the benchmark and return the results as a JSON-ready dict (see the module docstring)."""
    from innatura.planner.leontief import relative_residual, solve_io
    from innatura.planner.parallel_product import resolve_threads, row_blocked
    from innatura.scenarios.generator_cache import cached_random_economy

    _check_args(repeat, tol)
    n_threads = resolve_threads(threads)
    n_ind, n_fin, k = case
    t0 = time.perf_counter()
    econ = cached_random_economy(
        n_ind, n_fin, k, n_profiles, cyclic=cyclic, seed=seed, cache_dir=cache_dir, progress=progress
    )
    gen_seconds = time.perf_counter() - t0
    A, d = econ.A, econ.d
    N = A.shape[0]
    matrix_bytes = A.data.nbytes + A.indices.nbytes + A.indptr.nbytes
    logger.info("economy ready in %.1f s: %d x %d, %d nonzeros", gen_seconds, N, N, A.nnz)

    v = np.random.default_rng(seed).random(N)
    blocked = row_blocked(A, n_threads)
    rounds = _rounds(lambda: A @ v, lambda: blocked(v), lambda: solve_io(A, d, tol=tol, threads=n_threads), repeat)
    mv_times, mv_cpu, sol_times, sol_cpu = rounds.mv_times, rounds.mv_cpu, rounds.sol_times, rounds.sol_cpu
    per_round, sol = rounds.per_round, rounds.sol
    if sol is None:
        raise ValueError(f"repeat: expected at least one round, got {repeat}")
    rss_after_default = _rss_bytes()
    tracemalloc.start()
    solve_io(A, d, tol=tol, threads=n_threads)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    spsolve_result: dict[str, Any] | None = None
    if not skip_spsolve:
        from scipy.sparse.linalg import spsolve

        M = (sp.identity(N, format="csr") - A).tocsc()
        t1 = time.perf_counter()
        try:
            xs = spsolve(M, d)
            sp_seconds = time.perf_counter() - t1
            spsolve_result = {"seconds": sp_seconds, "residual": relative_residual(A, d, xs), "error": None}
        except (RuntimeError, MemoryError) as exc:
            spsolve_result = {"seconds": time.perf_counter() - t1, "residual": None, "error": str(exc)}
        del M

    mv_med = statistics.median(mv_times)
    sol_med = statistics.median(sol_times)
    kind = "cyclic" if cyclic else "seed"
    ratios: dict[str, Any] = {
        "default_over_matvec": sol_med / mv_med,
        "default_over_matvec_cpu": statistics.median(sol_cpu) / statistics.median(mv_cpu),
        "default_over_matvec_cpu_rounds": per_round,
    }
    if spsolve_result and spsolve_result["error"] is None:
        ratios["spsolve_over_default"] = spsolve_result["seconds"] / sol_med
    peak = _rss_bytes()
    targets = {
        "speedup_over_spsolve": TARGET_SPEEDUP,
        "max_matvec_times": TARGET_MATVECS[kind],
        "max_residual": TARGET_RESIDUAL,
        "max_memory_bytes": TARGET_MEMORY_BYTES,
    }
    met = {
        "matvec_times": ratios["default_over_matvec_cpu"] <= TARGET_MATVECS[kind],
        "residual": sol.residual <= TARGET_RESIDUAL,
        "memory": rss_after_default <= TARGET_MEMORY_BYTES,
    }
    if "spsolve_over_default" in ratios:
        met["speedup_over_spsolve"] = ratios["spsolve_over_default"] >= TARGET_SPEEDUP
    return {
        "case": {
            "n_industrial": n_ind, "n_final": n_fin, "inputs_per_good": k, "n_profiles": n_profiles,
            "kind": kind, "seed": seed, "size": N, "nnz": int(A.nnz),
        },
        "generate_seconds": gen_seconds,
        "matvec": {"seconds": mv_med, "min": min(mv_times), "runs": len(mv_times),
                   "cpu_seconds": statistics.median(mv_cpu)},
        "threaded_matvec": {
            "threads": n_threads, "blocks": max(1, len(blocked.groups)), "seconds": statistics.median(rounds.tp_times),
            "min": min(rounds.tp_times), "cpu_seconds": statistics.median(rounds.tp_cpu),
            "speedup": mv_med / statistics.median(rounds.tp_times),
        },
        "default": {
            "method": sol.method, "seconds": sol_med, "min": min(sol_times), "runs": len(sol_times),
            "cpu_seconds": statistics.median(sol_cpu),
            "iterations": sol.iterations, "residual": sol.residual, "attempts": list(sol.attempts), "tol": tol,
        },
        "spsolve": spsolve_result,
        "ratios": ratios,
        "memory": {
            "matrix_bytes": matrix_bytes,
            "peak_rss_before_spsolve_bytes": rss_after_default,
            "peak_rss_bytes": peak,
            "default_solver_traced_peak_bytes": traced_peak,
        },
        "targets": targets,
        "met": met,
        "machine": {
            "cpus": os.cpu_count(), "threads": n_threads, "python": platform.python_version(),
            "load_average": list(os.getloadavg()),
            "numpy": np.__version__, "scipy": scipy.__version__,
        },
    }


def _fmt_s(x: float | None) -> str:
    return "-" if x is None else (f"{x:.4g} s" if x < 100 else f"{x:.0f} s")


def format_table(r: dict) -> str:
    """The human-readable table of a :func:`benchmark` result."""
    c = r["case"]
    lines = [
        f"economy: {c['kind']}, {c['n_industrial']}+{c['n_final']} goods + {c['n_profiles']} profiles, "
        f"{c['inputs_per_good']} inputs/good: {c['size']} x {c['size']}, {c['nnz']:,} nonzeros "
        f"(ready in {r['generate_seconds']:.1f} s)",
        f"{'method':<34}{'median time':>12}{'x matvec':>10}{'residual':>11}",
    ]
    mv = r["matvec"]["seconds"]
    lines.append(f"{'one matvec A @ x (floor, 1 thread)':<34}{_fmt_s(mv):>12}{1.0:>10.1f}{'':>11}")
    tp = r.get("threaded_matvec")
    if tp is not None:
        tp_name = f"one matvec, {tp['threads']} thread{'s' if tp['threads'] > 1 else ''} (row blocks)"
        lines.append(f"{tp_name:<34}{_fmt_s(tp['seconds']):>12}{tp['seconds'] / mv:>10.2f}{'':>11}")
    dft = r["default"]
    name = f"solve_io default ({dft['method']}, {dft['iterations']} it)"
    lines.append(f"{name:<34}{_fmt_s(dft['seconds']):>12}{dft['seconds'] / mv:>10.1f}{dft['residual']:>11.1e}")
    spr = r["spsolve"]
    if spr is None:
        lines.append(f"{'scipy spsolve (default options)':<34}{'skipped':>12}")
    elif spr["error"]:
        lines.append(f"{'scipy spsolve (default options)':<34}{'failed':>12}  {spr['error'][:60]}")
    else:
        lines.append(
            f"{'scipy spsolve (default options)':<34}{_fmt_s(spr['seconds']):>12}"
            f"{spr['seconds'] / mv:>10.1f}{spr['residual']:>11.1e}"
        )
    ratios = r["ratios"]
    if "spsolve_over_default" in ratios:
        lines.append(f"speed-up over spsolve: {ratios['spsolve_over_default']:.0f}x (target >= {TARGET_SPEEDUP:.0f}x)")
    rounds = ", ".join(f"{v:.1f}" for v in ratios.get("default_over_matvec_cpu_rounds", []))
    lines.append("x matvec: wall-clock time over the single-thread product's")
    lines.append(
        f"default / matvec in CPU time: {ratios['default_over_matvec_cpu']:.1f} "
        f"(target <= {r['targets']['max_matvec_times']:.0f}; rounds {rounds}); "
        f"in wall-clock time {ratios['default_over_matvec']:.1f}; residual target <= {TARGET_RESIDUAL:g}"
    )
    m = r["memory"]
    lines.append(
        f"memory: A {m['matrix_bytes'] / 2**30:.2f} GiB, peak RSS {m['peak_rss_before_spsolve_bytes'] / 2**30:.2f} GiB "
        f"before spsolve ({m['peak_rss_bytes'] / 2**30:.2f} GiB overall), "
        f"default solver allocates {m['default_solver_traced_peak_bytes'] / 2**20:.0f} MiB"
    )
    lines.append("targets met: " + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in r["met"].items()))
    if "load_average" in r["machine"]:
        lines.append("load average: " + ", ".join(f"{v:.2f}" for v in r["machine"]["load_average"]))
    return "\n".join(lines)


def _write_json(path: Path, payload: dict) -> None:
    atomic_write_text(path, json.dumps(payload, indent=2) + "\n")


def run(args: argparse.Namespace) -> int:
    """Run ``innatura bench io``; returns the exit status."""
    from innatura.cli.outputs import check_output_dir, check_output_file

    if args.json:
        check_output_file(args.json, "--json")
    cache = None if str(args.cache_dir).lower() == "none" else check_output_dir(args.cache_dir, "--cache-dir")
    progress = not args.quiet and sys.stderr.isatty()
    result = benchmark(
        args.case,
        n_profiles=args.profiles,
        cyclic=args.cyclic,
        repeat=args.repeat,
        seed=args.seed,
        skip_spsolve=args.skip_spsolve,
        cache_dir=cache,
        progress=progress,
        tol=args.tol,
        threads=args.threads,
    )
    print(format_table(result))
    if args.json:
        _write_json(args.json, result)
        print(f"results written to {args.json}")
    return 0
