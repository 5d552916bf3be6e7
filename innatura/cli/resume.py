"""``innatura run --resume DIR``: what a resumed run takes from its checkpoint, and what it may change.

A resumed run is the run that was saved: its scenario (the run folder's own copy), seed and
settings come from the checkpoint (:mod:`innatura.abm.checkpoint`). A flag of ``innatura run``
is either

* a **run flag** (:data:`RUN_FLAGS`): part of what the run is. Given with ``--resume``, it
  must say what the saved run says (then it changes nothing); a flag that says something else
  is refused with a message naming the flag, the saved value and the given value; or
* **free on resume** (:data:`FREE_ON_RESUME`): ``--days`` (run further, to that day),
  ``--checkpoint-every``, ``--strict`` (stop at a broken invariant from now on), ``--quiet``,
  ``--no-plots``, ``--shipment-map``, and ``--out``: with ``--out OTHER`` the run is copied into ``OTHER`` (a new
  or empty folder; never one that holds anything) and continues there, leaving ``DIR`` as it
  was.

Every flag of ``innatura run`` is in exactly one of the two tables (a test holds it).
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from innatura.planner.errors import InvalidInputError

if TYPE_CHECKING:  # pragma: no cover
    from innatura.abm.checkpoint import Checkpoint

__all__ = ["FREE_ON_RESUME", "RUN_FLAGS", "check_resume_flags", "resume_days", "resume_out"]

logger = logging.getLogger(__name__)


def _strategy(kind: str) -> Callable[[Any], Any]:
    def read(text: str) -> Any:
        from innatura.abm.adversarial.vocabulary import parse_strategy

        return parse_strategy(text, kind=kind)

    return read


def _defences(texts: list[str]) -> Any:
    from innatura.abm.adversarial.vocabulary import parse_defences

    return parse_defences(texts)


def _model_dir(path: Any) -> str | None:
    return None if path is None else str(Path(path).resolve())


def _saved_model(ck: Checkpoint) -> str | None:
    return _model_dir(ck.settings.planner_options.get("model"))


#: run flags: argparse destination -> (flag, the saved run's value, the given value in the same
#: terms). A given flag that disagrees with the saved run is refused.
RUN_FLAGS: dict[str, tuple[str, Callable[[Checkpoint], Any], Callable[[Any], Any]]] = {
    "scenario": ("SCENARIO", lambda ck: ck.spec.content_hash, lambda v: _scenario_hash(v)),
    "seed": ("--seed", lambda ck: ck.seed, int),
    "planner": ("--planner", lambda ck: ck.settings.planner, str),
    "model": ("--model", _saved_model, _model_dir),
    "investment": ("--investment", lambda ck: ck.settings.investment_share, float),
    "safety_stock": ("--safety-stock", lambda ck: ck.settings.safety_stock, float),
    "noise": ("--noise", lambda ck: ck.settings.noise, float),
    "misreport_share": ("--misreport-share", lambda ck: ck.settings.misreport_share, float),
    "citizen_strategy": ("--citizen-strategy", lambda ck: ck.settings.citizen_strategy, _strategy("citizen")),
    "unit_strategy": ("--unit-strategy", lambda ck: ck.settings.unit_strategy, _strategy("unit")),
    "defence": ("--defence", lambda ck: ck.settings.defences, _defences),
    "query_budget": ("--query-budget", lambda ck: ck.settings.query_budget, int),
    "single_region": ("--single-region", lambda ck: ck.settings.single_region, bool),
    "staffed_capacity": ("--staffed-capacity", lambda ck: ck.settings.staffed_capacity, bool),
    "regional_dispatch": ("--regional-dispatch", lambda ck: ck.settings.regional_dispatch, bool),
    "regional_labour_rounds": ("--regional-labour-rounds", lambda ck: ck.settings.regional_labour_rounds, int),
    "plan": ("--plan", lambda ck: ck.settings.plan, str),
    "regional_method": ("--regional-method", lambda ck: ck.settings.planner_options.get("regional_method"), str),
    "regional_layers": ("--regional-layers", lambda ck: ck.settings.planner_options.get("regional_layers"), int),
}
#: flags a resumed run may change (argparse destinations).
FREE_ON_RESUME = ("days", "checkpoint_every", "strict", "quiet", "no_plots", "shipment_map", "out", "resume")


def _scenario_hash(name: Any) -> str:
    from innatura.abm.model import load_spec

    return load_spec(name).content_hash


def _shown(flag: str, value: Any, ck: Checkpoint) -> str:
    if flag == "SCENARIO":
        return f"content hash {value[:12]}..."
    if isinstance(value, bool):
        return flag if value else f"no {flag}"
    if isinstance(value, tuple):
        return " + ".join(str(v) for v in value) or "none"
    return "not set" if value is None else str(value)


def check_resume_flags(args: argparse.Namespace, ck: Checkpoint) -> None:
    """Refuse every run flag in ``args`` that disagrees with the run saved in ``ck``.

    Raises:
        InvalidInputError: naming the flag, the saved value and the given value.
    """
    for dest, (flag, saved_of, read) in RUN_FLAGS.items():
        given = getattr(args, dest, None)
        if given is None:
            continue
        value, saved = read(given), saved_of(ck)
        if value == saved:
            continue
        if flag == "SCENARIO":
            what = f"scenario {given}"
            saved_text = f"scenario {ck.spec.name!r}, {_shown(flag, saved, ck)}"
        else:
            text = " ".join(given) if isinstance(given, list) else given
            what = flag if isinstance(value, bool) else f"{flag} {text}"
            saved_text = _shown(flag, saved, ck)
        raise InvalidInputError(
            f"--resume {ck.folder}: {what} conflicts with the saved run (saved: {saved_text}; given: "
            f"{_shown(flag, value, ck)}). A resumed run keeps the scenario, seed and settings it started with: drop "
            f"{'the scenario' if flag == 'SCENARIO' else flag}, or start a new run with another --out")


def resume_days(args: argparse.Namespace, ck: Checkpoint) -> int:
    """The day the resumed run stops at: ``--days``, else the saved run's; never before the
    saved day.

    Raises:
        InvalidInputError: ``--days`` is before the day the run was saved at.
    """
    days = int(args.days) if args.days is not None else int(ck.settings.require("days"))
    if days < ck.day:
        raise InvalidInputError(f"--days {days}: the run in {ck.folder} is at day {ck.day} already; give --days "
                                f"{ck.day} or more (a run does not go back)")
    return days


def resume_out(args: argparse.Namespace, folder: Path) -> Path:
    """Where the resumed run writes: ``folder`` itself, or ``--out`` if that is a new or empty
    folder (the run is copied there).

    Raises:
        InvalidInputError: ``--out`` holds anything (a resume never writes over another run).
    """
    from innatura.cli.outputs import check_output_dir

    if args.out is None:
        return folder
    out = check_output_dir(args.out)
    if os.path.lexists(out) and out.resolve() == folder.resolve():
        return folder
    if out.exists() and any(out.iterdir()):
        raise InvalidInputError(f"--out {out}: not empty; a resumed run continues in its own folder ({folder}) or "
                                "is copied into a new or empty folder, never into one that holds files")
    return out
