"""The ``innatura`` command line.

Each command lives in its own module that defines ``configure(parser)`` (adds the command's
arguments to an :class:`argparse.ArgumentParser`) and ``run(args) -> int`` (does the work and
returns the exit status). The table below names the modules; a module is imported only when
its command runs, so ``innatura --help`` and light commands stay fast (torch and solara are
never imported by commands that do not need them).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

__all__ = ["COMMANDS", "main"]

logger = logging.getLogger(__name__)

#: command -> (module, one-line help). A value that is a dict is a command group whose
#: sub-commands are listed the same way (``innatura bench io``).
COMMANDS: dict[str, tuple[str, str] | dict[str, tuple[str, str]]] = {
    "run": ("innatura.cli.run", "run a simulation and write its results"),
    "scenarios": ("innatura.cli.scenarios", "list the scenarios that ship with innatura"),
    "solve": ("innatura.cli.solve", "print the first night's plan of a scenario"),
    "viz": ("innatura.cli.viz", "serve the browser view of a scenario"),
    "io": {
        "solve": ("innatura.cli.io_solve", "solve (I - A) x = f of a real IO table and check it"),
    },
    "import-io": ("innatura.cli.import_io", "turn a real IO table into a scenario file"),
    "equilibrium": ("innatura.cli.equilibrium", "competitive equilibrium of a market in a JSON file"),
    "train": {
        "learned": ("innatura.cli.train_learned", "train the learned (VAE/GNN/policy) planner"),
        "histories": ("innatura.cli.train_histories", "simulate unit histories (scenarios x seeds x misreporting)"),
        "inference": ("innatura.cli.train_inference", "train and evaluate type inference on unit histories"),
    },
    "experiment": {
        "investment-profiles": ("innatura.cli.exp_investment", "OLIN-EP Fig. 3: humanity vs investment share"),
        "learned-ablation": ("innatura.cli.exp_learned_ablation", "ablation of the learned planner"),
        "learned-vs-defences": ("innatura.cli.exp_learned_defences",
                                "the learned planner against the defences under misreporting units"),
        "mee": ("innatura.cli.exp_mee", "MOLM regret and MPLM suboptimality on a Markov exchange economy"),
        "misreporting": ("innatura.cli.exp_misreporting", "sweep of misreporting strategies and defences"),
        "run": ("innatura.cli.exp_run", "run a study file (or a shipped study by name)"),
        "list": ("innatura.cli.exp_list", "list the studies that ship with innatura"),
    },
    "bench": {
        "io": ("innatura.cli.bench_io", "time (I - A) x = d solvers against scipy spsolve"),
        "nonlinear": ("innatura.cli.bench_nonlinear", "time (I - F(x)) x = d with curves against the linear solve"),
        "day": ("innatura.cli.bench_day", "time one simulated day, split by phase"),
        "fisher": ("innatura.cli.bench_fisher", "time the Fisher-market equilibrium solver"),
        "regional": ("innatura.cli.bench_regional", "time the regional plan against the national plan"),
    },
}


def _version() -> str:
    from innatura import __version__

    return __version__


def _build_parser(argv: Sequence[str]) -> tuple[argparse.ArgumentParser, list[str]]:
    """Build the parser for the command named in ``argv``; import only that command's module."""
    parser = argparse.ArgumentParser(
        prog="innatura",
        description="Agent-based simulation of economic planning in natura under imperfect information.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}",
                        help="print the version of innatura and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    args = [a for a in argv if not a.startswith("-")]
    chosen = args[0] if args else None
    for name, entry in COMMANDS.items():
        if isinstance(entry, dict):
            group = sub.add_parser(name, help=f"{name} commands: {', '.join(entry)}")
            gsub = group.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
            chosen_sub = args[1] if len(args) > 1 and chosen == name else None
            for sname, (module, help_) in entry.items():
                p = gsub.add_parser(sname, help=help_, description=help_)
                if sname == chosen_sub:
                    mod = importlib.import_module(module)
                    mod.configure(p)
                    p.set_defaults(_run=mod.run)
        else:
            module, help_ = entry
            p = sub.add_parser(name, help=help_, description=help_)
            if name == chosen:
                mod = importlib.import_module(module)
                mod.configure(p)
                p.set_defaults(_run=mod.run)
    return parser, list(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``innatura`` console script; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser, argv = _build_parser(argv)
    try:
        ns = parser.parse_args(argv)
    except SystemExit as exc:  # argparse printed the usage and why: return its status (2), do not exit
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 2
    level = logging.WARNING - 10 * min(ns.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    from innatura.planner.errors import InnaturaError

    name = " ".join(n for n in (ns.command, getattr(ns, "subcommand", None)) if n)
    try:
        return int(ns._run(ns) or 0)
    except InnaturaError as exc:
        print(f"innatura {name}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into a program that stopped reading (| head)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # the file system refused (a full disk, a path that vanished): say which file
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"innatura {name}: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
