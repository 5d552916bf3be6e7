"""Checkpoints of a run: save a model mid-run and resume it with identical results.

A checkpoint holds what rebuilds the model (:attr:`~abm.model.PlanningEconomy.config`: the
scenario, the seed and the :class:`~abm.settings.RunSettings`), its :class:`~abm.state.State`,
the generators' states (numpy ``rng`` and stdlib ``random``), the planning method (which may
carry a warm start), the memory of its defences and of its adaptive strategies, and the rows
collected so far.
:func:`load_checkpoint` rebuilds the model from
the arguments, then restores all of that, so stepping on gives exactly what an uninterrupted
run gives. Files are written atomically (temporary file + ``os.replace``): an interrupted save
never destroys the previous checkpoint.
"""

from __future__ import annotations

import logging
import os
import pickle
from pathlib import Path
from typing import TYPE_CHECKING, Any

from innatura.planner.atomic import atomic_write_bytes
from innatura.planner.errors import InvalidInputError

if TYPE_CHECKING:  # pragma: no cover
    from innatura.abm.model import PlanningEconomy

__all__ = ["CHECKPOINT_VERSION", "load_checkpoint", "save_checkpoint"]

logger = logging.getLogger(__name__)

CHECKPOINT_VERSION = 1


def save_checkpoint(model: PlanningEconomy, path: str | os.PathLike[str], extra: dict[str, Any] | None = None,
                    ) -> Path:
    """Save ``model`` (a :class:`~abm.model.PlanningEconomy`) to ``path``; returns the path."""
    payload = {
        "version": CHECKPOINT_VERSION,
        "config": model.config,
        "state": model.state,
        "rng": model.rng.bit_generator.state,
        "random": model.random.getstate(),
        "planner": model.central_planner.method,
        "defences": [d.state_dict() for d in model.defence_chain if hasattr(d, "state_dict")],
        "memories": [[kind, code, held.state_dict()] for (kind, code), held in model.memories.items()],
        "model_vars": model.datacollector.model_vars,
        "unit_log": model.unit_log,
        "region_log": model.region_log,
        "metrics": model.metrics,
        "extra": dict(extra or {}),
    }
    path = Path(path)
    atomic_write_bytes(path, pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL))
    logger.info("checkpoint of day %d written to %s", model.state.day, path)
    return path


def load_checkpoint(path: str | os.PathLike[str]) -> tuple[PlanningEconomy, dict[str, Any]]:
    """Rebuild the model saved at ``path``; returns ``(model, extra)``.

    Raises:
        InvalidInputError: the file is missing, unreadable or not an innatura checkpoint.
    """
    from innatura.abm.model import PlanningEconomy

    path = Path(path)
    try:
        payload = pickle.loads(path.read_bytes())
    except FileNotFoundError:
        raise InvalidInputError(f"{path}: no checkpoint there") from None
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
        raise InvalidInputError(f"{path}: not a readable checkpoint ({exc})") from None
    if not isinstance(payload, dict) or payload.get("version") != CHECKPOINT_VERSION:
        raise InvalidInputError(f"{path}: not an innatura checkpoint of version {CHECKPOINT_VERSION}")
    config = dict(payload["config"])
    scenario = config.pop("scenario")
    model = PlanningEconomy(scenario, **config)
    model.state = payload["state"]
    model.rng.bit_generator.state = payload["rng"]
    model.random.setstate(payload["random"])
    model.central_planner.method = payload["planner"]
    model.datacollector.model_vars = payload["model_vars"]
    model.unit_log = payload["unit_log"]
    model.region_log = payload["region_log"]
    model.metrics = payload["metrics"]
    bound = [d for d in model.defence_chain if hasattr(d, "load_state_dict")]
    for defence, memory in zip(bound, payload.get("defences", []), strict=False):
        defence.load_state_dict(memory)
    for kind, code, memory in payload.get("memories", []):
        model.strategy_memory(kind, code).load_state_dict(memory)
    model.curves.clear()
    model.steps = model.state.day
    return model, payload["extra"]
