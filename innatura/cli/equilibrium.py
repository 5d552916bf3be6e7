"""``innatura equilibrium MARKET.json``: competitive equilibrium of a market given as JSON.

Schema: ``{"utility": "cobb-douglas" | "ces" | "linear", "rho": <CES only>, "weights":
[[agent x good]], "endowments": [[agent x good]]}`` for an exchange economy, or ``"budgets"``
(one per buyer) and ``"supply"`` (one per good) instead of ``"endowments"`` for a Fisher market.
Prints a JSON object with ``prices`` (summing to 1), ``allocations``, ``max_excess_demand``,
``method``, ``iterations`` and the other checks of :class:`planner.exchange.EquilibriumResult`.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from innatura.planner.atomic import atomic_write_text

__all__ = ["configure", "run"]

logger = logging.getLogger(__name__)

_METHODS = ("closed-form", "eisenberg-gale", "proportional-response", "tatonnement", "newton", "fisher-fixed-point")


def configure(parser: argparse.ArgumentParser) -> None:
    from innatura.cli.args import real, whole

    parser.add_argument("market", help="market JSON file (see the README for the schema)")
    parser.add_argument("--method", choices=_METHODS, default=None, help="solution method (default: by market)")
    parser.add_argument("--tol", type=real(0.0, 1.0, lo_open=True, hi_open=True), default=None,
                        help="target relative equilibrium error, in (0, 1)")
    parser.add_argument("--out", default=None, help="also write the JSON result to this file")
    parser.add_argument("--indent", type=whole(0, 16), default=2, help="JSON indentation (0: one line)")


def run(args: argparse.Namespace) -> int:
    from innatura.cli.outputs import check_output_file
    from innatura.planner.errors import InputFileError, InvalidInputError
    from innatura.planner.exchange import competitive_equilibrium, market_from_dict
    from innatura.scenarios.files import read_json

    path = Path(args.market)
    if args.out:
        check_output_file(args.out)
    data = read_json(path, "market file")
    try:
        market = market_from_dict(data)
        kwargs = {} if args.tol is None else {"tol": args.tol}
        result = competitive_equilibrium(market, args.method, **kwargs)
    except InputFileError:
        raise
    except InvalidInputError as exc:
        raise InputFileError(path, str(exc)) from None
    record = result.to_dict()
    text_out = json.dumps(record, indent=args.indent or None)
    print(text_out)
    if args.out:
        atomic_write_text(args.out, text_out + "\n")
    if not result.converged:
        logger.warning("%s: not converged (error %.3g > tol %.3g)", path, result.error, result.tol)
        return 1
    return 0
