"""Save and reload trained planners: ``model.pt`` (state_dict) + ``config.json`` in a directory.

Files are written atomically (temporary file + ``os.replace``); a reloaded policy produces the
same outputs as the saved one.
"""

from __future__ import annotations

import io
import json
import logging
import pickle
from pathlib import Path
from typing import Any

import torch
from innatura.planner.atomic import atomic_write_bytes
from innatura.planner.errors import InvalidInputError
from innatura.planner.learned.config import LearnedPlannerConfig
from innatura.planner.learned.policy import PlannerPolicy
from innatura.planner.learned.train import build_policy

__all__ = ["CONFIG_FILE", "MODEL_FILE", "load_checkpoint", "save_checkpoint"]

logger = logging.getLogger(__name__)

MODEL_FILE = "model.pt"
CONFIG_FILE = "config.json"
FORMAT_VERSION = 1


def save_checkpoint(
    directory: str | Path, policy: PlannerPolicy, config: LearnedPlannerConfig, extra: dict[str, Any] | None = None
) -> Path:
    """Save ``policy`` and ``config`` (and JSON-able ``extra`` metadata) into ``directory``."""
    directory = Path(directory)
    buf = io.BytesIO()
    torch.save(policy.state_dict(), buf)
    atomic_write_bytes(directory / MODEL_FILE, buf.getvalue())
    meta = {"format_version": FORMAT_VERSION, "config": config.to_dict(), "extra": extra or {}}
    atomic_write_bytes(directory / CONFIG_FILE, json.dumps(meta, indent=2, sort_keys=True).encode())
    logger.info("saved learned planner to %s", directory)
    return directory


def load_checkpoint(directory: str | Path) -> tuple[PlannerPolicy, LearnedPlannerConfig]:
    """Reload a policy saved by :func:`save_checkpoint` (in eval mode).

    Raises:
        InvalidInputError: naming the file when it is missing or malformed.
    """
    directory = Path(directory)
    cfg_path, model_path = directory / CONFIG_FILE, directory / MODEL_FILE
    for p in (cfg_path, model_path):
        if not p.is_file():
            raise InvalidInputError(f"learned planner checkpoint: {p} not found")
    try:
        meta = json.loads(cfg_path.read_text())
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"{cfg_path}: not valid JSON ({exc})") from exc
    if not isinstance(meta, dict) or "config" not in meta:
        raise InvalidInputError(f"{cfg_path}: field 'config' missing")
    if meta.get("format_version") != FORMAT_VERSION:
        raise InvalidInputError(
            f"{cfg_path}: format_version = {meta.get('format_version')!r}, expected {FORMAT_VERSION}")
    config = LearnedPlannerConfig.from_dict(meta["config"])
    policy = build_policy(config, config.train.seed)
    try:
        state = torch.load(model_path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, OSError, pickle.UnpicklingError) as exc:
        raise InvalidInputError(f"{model_path}: not a readable state_dict ({exc})") from exc
    try:
        policy.load_state_dict(state)
    except (RuntimeError, KeyError, ValueError, TypeError) as exc:
        raise InvalidInputError(f"{model_path}: does not match the config in {cfg_path} ({exc})") from exc
    policy.eval()
    return policy, config
