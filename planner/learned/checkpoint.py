"""Save and reload trained networks: ``model.pt`` (a state_dict) + ``config.json`` in a directory.

Three kinds: the five-regions planner (:func:`save_checkpoint` / :func:`load_checkpoint`), type
inference (:func:`save_inference` / :func:`load_inference`, ``"kind": "type-inference"`` in
``config.json``) and the learned planning policy of any economy (:func:`save_policy` /
:func:`load_policy`, ``"kind": "learned-io"``; its type inference, when it has one, in the
sub-folder ``inference/``; the policy guard's decision, when it ran, under ``guard``:
:class:`~planner.learned.guard.GuardDecision`); :func:`checkpoint_kind` tells them apart. Files are written
atomically (temporary file + ``os.replace``); the state_dict is read with ``weights_only=True``
(no pickle code runs); a reloaded network produces the same outputs as the saved one.
"""

from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from innatura.planner.atomic import atomic_write_bytes
from innatura.planner.errors import InvalidInputError
from innatura.planner.learned.config import LearnedPlannerConfig
from innatura.planner.learned.guard import GuardDecision
from innatura.planner.learned.infer_train import build_inference
from innatura.planner.learned.inference import InferenceConfig, TypeInference
from innatura.planner.learned.pg import PolicyTrainConfig, PriorityPolicy
from innatura.planner.learned.policy import PlannerPolicy
from innatura.planner.learned.train import build_policy

__all__ = [
    "CONFIG_FILE",
    "INFERENCE_DIR",
    "INFERENCE_KIND",
    "MODEL_FILE",
    "POLICY_KIND",
    "PolicyCheckpoint",
    "checkpoint_kind",
    "load_checkpoint",
    "load_inference",
    "load_policy",
    "read_meta",
    "read_module",
    "save_checkpoint",
    "save_inference",
    "save_policy",
    "write_module",
]

logger = logging.getLogger(__name__)

MODEL_FILE = "model.pt"
CONFIG_FILE = "config.json"
FORMAT_VERSION = 1
#: ``kind`` of a type-inference checkpoint in its ``config.json``.
INFERENCE_KIND = "type-inference"
#: ``kind`` of a learned planning policy (any economy) in its ``config.json``.
POLICY_KIND = "learned-io"
#: the sub-folder of a policy checkpoint that holds its type inference.
INFERENCE_DIR = "inference"


def write_module(directory: str | Path, module: torch.nn.Module, meta: dict[str, Any]) -> Path:
    """Write ``module``'s state_dict and ``meta`` (JSON, with ``format_version``) into ``directory``."""
    directory = Path(directory)
    buf = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in module.state_dict().items()}, buf)
    atomic_write_bytes(directory / MODEL_FILE, buf.getvalue())
    meta = {"format_version": FORMAT_VERSION, **meta}
    atomic_write_bytes(directory / CONFIG_FILE, json.dumps(meta, indent=2, sort_keys=True).encode())
    return directory


def read_meta(directory: str | Path, what: str) -> dict[str, Any]:
    """The ``config.json`` of a checkpoint directory, checked for a ``config`` and the format.

    Raises:
        InvalidInputError: naming the file when it or ``model.pt`` is missing or malformed.
    """
    directory = Path(directory)
    cfg_path, model_path = directory / CONFIG_FILE, directory / MODEL_FILE
    for p in (cfg_path, model_path):
        if not p.is_file():
            raise InvalidInputError(f"{what} checkpoint: {p} not found")
    try:
        meta = json.loads(cfg_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{cfg_path}: not valid JSON ({exc})") from exc
    if not isinstance(meta, dict) or "config" not in meta:
        raise InvalidInputError(f"{cfg_path}: field 'config' missing")
    if meta.get("format_version") != FORMAT_VERSION:
        raise InvalidInputError(
            f"{cfg_path}: format_version = {meta.get('format_version')!r}, expected {FORMAT_VERSION}")
    return meta


def read_module(directory: str | Path, module: torch.nn.Module) -> None:
    """Load ``model.pt`` of ``directory`` into ``module`` (``weights_only=True``: no pickle code runs).

    Raises:
        InvalidInputError: the file is not a state_dict, or not one of ``module``.
    """
    model_path = Path(directory) / MODEL_FILE
    try:
        state = torch.load(model_path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch's weights-only reader raises many kinds for a damaged or hostile file
        raise InvalidInputError(f"{model_path}: not a readable state_dict ({exc})") from exc
    try:
        module.load_state_dict(state)
    except (RuntimeError, KeyError, ValueError, TypeError, AttributeError) as exc:
        raise InvalidInputError(f"{model_path}: does not match the config in {Path(directory) / CONFIG_FILE} "
                                f"({exc})") from exc
    module.eval()


def save_checkpoint(
    directory: str | Path, policy: PlannerPolicy, config: LearnedPlannerConfig, extra: dict[str, Any] | None = None
) -> Path:
    """Save ``policy`` and ``config`` (and JSON-able ``extra`` metadata) into ``directory``."""
    write_module(directory, policy, {"config": config.to_dict(), "extra": extra or {}})
    logger.info("saved learned planner to %s", directory)
    return Path(directory)


def load_checkpoint(directory: str | Path) -> tuple[PlannerPolicy, LearnedPlannerConfig]:
    """Reload a policy saved by :func:`save_checkpoint` (in eval mode).

    Raises:
        InvalidInputError: naming the file when it is missing or malformed.
    """
    meta = read_meta(directory, "learned planner")
    config = LearnedPlannerConfig.from_dict(meta["config"])
    policy = build_policy(config, config.train.seed)
    read_module(directory, policy)
    return policy, config


def save_inference(directory: str | Path, model: TypeInference, extra: dict[str, Any] | None = None) -> Path:
    """Save type inference (its config and JSON-able ``extra``: metrics, data) into ``directory``."""
    write_module(directory, model, {"kind": INFERENCE_KIND, "config": model.config.to_dict(), "extra": extra or {}})
    logger.info("saved type inference to %s", directory)
    return Path(directory)


def load_inference(directory: str | Path) -> TypeInference:
    """Reload type inference saved by :func:`save_inference` (in eval mode, on the CPU).

    Raises:
        InvalidInputError: naming the file when it is missing, malformed, or of another kind.
    """
    meta = read_meta(directory, "type inference")
    if meta.get("kind") != INFERENCE_KIND:
        raise InvalidInputError(f"{Path(directory) / CONFIG_FILE}: kind = {meta.get('kind')!r}, expected "
                                f"{INFERENCE_KIND!r} (a checkpoint of innatura train inference)")
    model = build_inference(InferenceConfig.from_dict(meta["config"]))
    read_module(directory, model)
    return model


@dataclass(frozen=True)
class PolicyCheckpoint:
    """A reloaded learned planning policy.

    Attributes:
        policy: the policy (eval mode, CPU).
        config: the settings it was trained with.
        inference: its type inference (``None``: it plans on the reports as they are).
        extra: the JSON-able metadata saved with it (scenario, environment, timings).
        guard: the policy guard's decision (``None``: no guard ran; ``guard.kept`` false: plan
            with the baseline, not the policy).
    """

    policy: PriorityPolicy
    config: PolicyTrainConfig
    inference: TypeInference | None
    extra: dict[str, Any]
    guard: GuardDecision | None = None

    @property
    def policy_kept(self) -> bool:
        """The policy plans: no guard ran, or the guard kept it."""
        return self.guard is None or self.guard.kept


def checkpoint_kind(directory: str | Path) -> str:
    """The ``kind`` of the checkpoint in ``directory``: ``"five-regions"`` (no kind recorded),
    :data:`INFERENCE_KIND` or :data:`POLICY_KIND`.

    Raises:
        InvalidInputError: the checkpoint is missing or malformed.
    """
    return str(read_meta(directory, "learned planner").get("kind", "five-regions"))


def save_policy(directory: str | Path, policy: PriorityPolicy, config: PolicyTrainConfig,
                inference: TypeInference | None = None, extra: dict[str, Any] | None = None,
                guard: GuardDecision | None = None) -> Path:
    """Save a learned planning policy, its settings, its type inference (into ``inference/``),
    the policy guard's decision and JSON-able ``extra`` into ``directory``."""
    directory = Path(directory)
    if inference is not None:
        save_inference(directory / INFERENCE_DIR, inference)
    write_module(directory, policy, {"kind": POLICY_KIND, "config": config.to_dict(),
                                     "policy": policy.hyperparameters(), "has_inference": inference is not None,
                                     "guard": None if guard is None else guard.to_dict(), "extra": extra or {}})
    logger.info("saved learned planning policy to %s", directory)
    return directory


def load_policy(directory: str | Path) -> PolicyCheckpoint:
    """Reload what :func:`save_policy` saved.

    Raises:
        InvalidInputError: naming the file when it is missing, malformed, or of another kind.
    """
    directory = Path(directory)
    meta = read_meta(directory, "learned planning policy")
    cfg_path = directory / CONFIG_FILE
    if meta.get("kind") != POLICY_KIND:
        raise InvalidInputError(f"{cfg_path}: kind = {meta.get('kind')!r}, expected {POLICY_KIND!r} "
                                "(a checkpoint of innatura train learned --scenario S)")
    hp = meta.get("policy")
    if not isinstance(hp, dict):
        raise InvalidInputError(f"{cfg_path}: field 'policy' missing or not a table")
    try:
        with torch.random.fork_rng(devices=[]):
            policy = PriorityPolicy(**hp)
    except TypeError as exc:
        raise InvalidInputError(f"{cfg_path}: field 'policy': {exc}") from exc
    read_module(directory, policy)
    inference = load_inference(directory / INFERENCE_DIR) if meta.get("has_inference") else None
    guard = meta.get("guard")
    decision = None if guard is None else GuardDecision.from_dict(guard, f"{cfg_path}: field 'guard'")
    return PolicyCheckpoint(policy=policy, config=PolicyTrainConfig.from_dict(meta["config"]), inference=inference,
                            extra=dict(meta.get("extra") or {}), guard=decision)
