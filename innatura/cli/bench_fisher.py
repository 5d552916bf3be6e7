"""``innatura bench fisher``: time the Fisher-market equilibrium solver against proportional response.

A random Fisher market (``--buyers`` x ``--goods``, weights, budgets and supplies uniform,
seeded; linear utilities unless ``--utility``) is solved by the default method (for linear
utilities the Eisenberg-Gale dual, smoothed and finished exactly), by plain proportional
response for up to ``--pr-iters`` iterations, stopping at the tolerance (the reference), and
optionally by cvxpy + Clarabel on the Eisenberg-Gale program (``--with-cvxpy``, linear only).
Prints a table and a JSON line with times, equilibrium errors and ratios.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from innatura.planner.exchange import EquilibriumResult

__all__ = ["configure", "run"]

logger = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    from innatura.cli.args import real, seed, whole

    parser.add_argument("--buyers", type=whole(1, 10_000_000), default=5000, help="number of buyers (default 5000)")
    parser.add_argument("--goods", type=whole(1, 1_000_000), default=100, help="number of goods (default 100)")
    parser.add_argument("--utility", choices=("linear", "ces", "cobb-douglas"), default="linear")
    parser.add_argument("--rho", type=real(-50.0, 1.0, hi_open=True), default=0.5,
                        help="CES exponent (with --utility ces)")
    parser.add_argument("--tol", type=real(0.0, 1.0, lo_open=True, hi_open=True), default=1e-6,
                        help="target relative equilibrium error")
    parser.add_argument("--pr-iters", type=whole(1, 10_000_000), default=2000,
                        help="iterations of the reference proportional response")
    parser.add_argument("--seed", type=seed, default=0)
    parser.add_argument("--repeat", type=whole(1, 1000), default=1,
                        help="time the fast solver this many times (best kept)")
    parser.add_argument("--with-cvxpy", action="store_true", help="also solve the Eisenberg-Gale program with cvxpy")
    parser.add_argument("--json", dest="json_out", default=None, help="also write the JSON record to this file")


def _cvxpy_eg(weights: np.ndarray, budgets: np.ndarray, supply: np.ndarray) -> np.ndarray:
    import cvxpy as cp

    x = cp.Variable(weights.shape, nonneg=True)
    cons = [cp.sum(x, axis=0) <= supply]
    prob = cp.Problem(cp.Maximize(budgets @ cp.log(cp.sum(cp.multiply(weights, x), axis=1))), cons)
    prob.solve(solver=cp.CLARABEL)
    return np.asarray(cons[0].dual_value, dtype=np.float64)


def _timed(fn: Callable[[], EquilibriumResult]) -> tuple[float, EquilibriumResult]:
    """``(seconds, result)`` of one call of ``fn``."""
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def run(args: argparse.Namespace) -> int:
    from innatura.cli.outputs import check_output_file
    from innatura.planner.errors import InvalidInputError
    from innatura.planner.exchange import FisherMarket, competitive_equilibrium
    from innatura.planner.exchange.fisher import proportional_response
    from innatura.scenarios.limits import check_fits

    if args.with_cvxpy and args.utility != "linear":
        raise InvalidInputError(f"--with-cvxpy: only with --utility linear, got {args.utility!r}")
    if args.json_out:
        check_output_file(args.json_out, "--json")
    check_fits(80.0 * args.buyers * args.goods, f"{args.buyers} buyers x {args.goods} goods", "--buyers/--goods")
    rng = np.random.default_rng(args.seed)
    weights = rng.random((args.buyers, args.goods))
    budgets = rng.random(args.buyers) + 0.5
    supply = rng.random(args.goods) + 0.5
    market = FisherMarket(args.utility, weights, budgets, supply, args.rho if args.utility == "ces" else None)
    rows = []
    runs = [_timed(lambda: competitive_equilibrium(market, tol=args.tol)) for _ in range(max(1, args.repeat))]
    best = min(seconds for seconds, _ in runs)
    fast = runs[-1][1]
    rows.append(("default (" + fast.method + ")", best, fast.error, fast.iterations, fast.converged))
    if args.utility == "cobb-douglas" or (args.utility == "ces" and args.rho < 0):
        ref_name = None
    else:
        t0 = time.perf_counter()
        ref = proportional_response(market, tol=args.tol, max_iter=args.pr_iters, check_every=min(50, args.pr_iters))
        ref_time = time.perf_counter() - t0
        ref_name = f"proportional response ({ref.iterations} it)"
        rows.append((ref_name, ref_time, ref.error, ref.iterations, ref.converged))
    if args.with_cvxpy:
        t0 = time.perf_counter()
        prices = _cvxpy_eg(weights, budgets, supply)
        cv_time = time.perf_counter() - t0
        # cvxpy's allocations are not agent-optimal to high precision: measure its prices with
        # the exact finish's yardstick, the distance to the default solver's prices
        cv_err = float(np.max(np.abs(prices / prices.sum() - fast.prices) / fast.prices))
        rows.append(("cvxpy + Clarabel (EG)", cv_time, cv_err, 0, True))
    print(f"Fisher market, {args.utility}, {args.buyers} buyers x {args.goods} goods, tol {args.tol:g}")
    print(f"{'method':<42} {'time [s]':>10} {'error':>10} {'iters':>7} {'conv':>5} {'ratio':>8}")
    for name, t, err, it, conv in rows:
        print(f"{name:<42} {t:>10.3f} {err:>10.2e} {it:>7d} {conv!s:>5} {t / best:>8.2f}")
    record = {
        "benchmark": "fisher", "buyers": args.buyers, "goods": args.goods, "utility": args.utility,
        "tol": args.tol, "seed": args.seed,
        "results": [{"method": n, "seconds": t, "error": e, "iterations": i, "converged": c,
                     "ratio_to_default": t / best} for n, t, e, i, c in rows],
    }
    if args.with_cvxpy:
        record["cvxpy_error_note"] = "cvxpy error = max relative price difference to the default solver"
    print(json.dumps(record))
    if args.json_out:
        from innatura.planner.atomic import atomic_write_text

        atomic_write_text(args.json_out, json.dumps(record, indent=2))
    return 0 if fast.converged else 1
