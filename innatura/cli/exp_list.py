"""``innatura experiment list``: the studies that ship with innatura (run one with
``innatura experiment run NAME --out DIR``; ``--show NAME`` prints its file to copy and edit)."""

from __future__ import annotations

import argparse
import logging

__all__ = ["configure", "run"]

logger = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the command's arguments."""
    parser.add_argument("--show", metavar="NAME", help="print the study file of NAME")


def run(args: argparse.Namespace) -> int:
    """List the shipped studies, or print one."""
    from innatura.abm.study import available, find

    if args.show:
        print(find(args.show).read_text(encoding="utf-8"), end="")
        return 0
    rows = available()
    width = max((len(n) for n, _ in rows), default=0)
    for name, description in rows:
        print(f"{name:<{width}}  {description}")
    return 0
