"""One misreporting run, as the sweep runs it: ``run_misreporting(config) -> metrics``.

A run's configuration is a flat, JSON-able dict (the sweep derives the run id from it):

| key | meaning |
|---|---|
| ``scenario`` | built-in scenario name or scenario TOML path |
| ``scenario_hash`` | the scenario's content hash (:attr:`scenarios.ScenarioSpec.content_hash`) |
| ``planner`` | planning method, a key of :data:`abm.planning.METHODS` |
| ``planner_options`` | options of the planner's factory, ``"key=value;key=value"`` (``""``: none) |
| ``strategy`` | a citizen or unit strategy (:mod:`.vocabulary`): a name or a text, ``"ratchet(ramp_days=5)"`` |
| ``strategy_param`` | the strategy's primary parameter (its factor, or ``sd`` for noise) |
| ``share`` | share of citizens and of scenario units drawn to misreport |
| ``defence`` | ``"none"`` or defences of :data:`.vocabulary.DEFENCES` joined by ``+`` (``"audit+robust"``) |
| ``audit_probability`` | audit probability per agent and night (used by ``audit``) |
| ``days`` | days simulated |
| ``seed`` | the model's seed: all randomness of the run flows from it |

Runs are keyed by the scenario's *content*, not its name: ``scenario_hash`` is part of the
configuration (so of the run id), a run refuses to start when the file no longer has that
content, and the per-process caches are keyed by it. Editing a scenario file therefore never
returns results of its earlier content.

The run simulates the economy with the misreporters, and the HONEST run with the same seed and
the same draw of who would misreport (everyone reporting honestly, no defence; cached per
process), and returns welfare, welfare loss and detection metrics (:mod:`.detection`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from innatura.abm.adversarial.base import Strategy, format_call, split_top_level
from innatura.abm.adversarial.defences import Audit, AuditRun, BoundDefence, Defence
from innatura.abm.adversarial.detection import (
    ReportRecorder,
    Welfare,
    detection_scores,
    truthful_welfare,
    welfare,
    welfare_loss,
)
from innatura.abm.adversarial.vocabulary import STRATEGIES, parse_defence, parse_strategy
from innatura.planner.errors import InnaturaError, InvalidInputError

if TYPE_CHECKING:  # pragma: no cover
    from innatura.scenarios.spec import ScenarioSpec

__all__ = [
    "CONFIG_KEYS",
    "build_model",
    "check_planners",
    "make_config",
    "make_defences",
    "misreporting_configs",
    "parse_options",
    "planner_options",
    "run_misreporting",
    "scenario_hash",
    "scenario_spec",
    "strategy_label",
]

logger = logging.getLogger(__name__)

CONFIG_KEYS = ("scenario", "scenario_hash", "planner", "planner_options", "strategy", "strategy_param", "share",
               "defence", "audit_probability", "days", "seed")


def _strategy(text: str) -> Strategy:
    """The strategy a sweep names (either kind)."""
    name = str(text).strip().partition("(")[0].strip()
    kind = STRATEGIES[name].kind if name in STRATEGIES else "citizen"
    return parse_strategy(text, kind="citizen" if kind == "any" else kind)


def strategy_label(strategy: Strategy) -> str:
    """The sweep's label of a strategy: its name, with the parameters that differ from the
    defaults except the primary one (which the sweep varies as ``strategy_param``)."""
    default = type(strategy)()
    params = {k: v for k, v in strategy.params().items() if k != strategy.primary and v != getattr(default, k)}
    return format_call(strategy.name, params)


def scenario_spec(scenario: str, content_hash: str = "") -> ScenarioSpec:
    """The scenario ``scenario`` names, checked to have ``content_hash`` (when given).

    Raises:
        InvalidInputError: the scenario's content changed since its hash was taken.
    """
    from innatura.abm.model import load_spec

    spec = load_spec(scenario)
    if content_hash and spec.content_hash != content_hash:
        raise InvalidInputError(
            f"{spec.source}: the scenario changed since this sweep's configuration was made (content hash "
            f"{spec.content_hash[:12]}, expected {content_hash[:12]}); run the sweep again to pick up the new content")
    return spec


def scenario_hash(scenario: str) -> str:
    """The content hash of the scenario ``scenario`` names, as it is now.

    A file (a path, or a built-in scenario's file) is read again on every call; parsing is
    cached by the file's bytes, so an edited file gets its new hash at once. A builder's hash
    is cached by its name (code does not change under a running process).
    """
    from innatura.scenarios.registry import BUILTIN_DIR

    path = Path(scenario)
    if not path.is_file():
        path = BUILTIN_DIR / f"{scenario}.toml"
    stamp = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
    return _hash_of(scenario, stamp)


@functools.lru_cache(maxsize=32)
def _hash_of(scenario: str, stamp: str) -> str:
    """Content hash of ``scenario`` whose file bytes hash to ``stamp`` (cached by both)."""
    del stamp  # part of the cache key only
    return scenario_spec(scenario).content_hash


def make_config(*, scenario: str = "butter-village", planner: str = "olin", planner_options: str = "",
                strategy: str = "inflate", strategy_param: float | None = None, share: float = 0.2,
                defence: str = "none", audit_probability: float = 0.3, days: int = 10, seed: int = 0) -> dict[str, Any]:
    """A validated, canonical run configuration (share 0 is the honest run of every strategy),
    with the scenario's content hash as it is now (:func:`scenario_hash`)."""
    chosen = _strategy(strategy)
    if not 0.0 <= float(share) <= 1.0:
        raise InvalidInputError(f"share: must be in [0, 1], got {share!r}")
    if int(days) < 1:
        raise InvalidInputError(f"days: must be >= 1, got {days!r}")
    make_defences(defence, audit_probability)  # validates the names and the probability
    if float(share) == 0.0 or chosen.name == "honest":
        strategy, param = "honest", 1.0
    else:
        param = chosen.param if strategy_param is None else float(strategy_param)
        chosen.with_param(param)  # validates the parameter
        strategy = strategy_label(chosen)
    opts = ";".join(f"{k}={v if isinstance(v, str) else json.dumps(v)}"
                    for k, v in sorted(parse_options(planner_options).items()))
    return {"scenario": str(scenario), "scenario_hash": scenario_hash(str(scenario)), "planner": str(planner),
            "planner_options": opts,
            "strategy": strategy, "strategy_param": param,
            "share": float(share), "defence": str(defence), "audit_probability": float(audit_probability),
            "days": int(days), "seed": int(seed)}


def parse_options(text: str) -> dict[str, Any]:
    """``"key=value;key=value"`` -> dict; values that read as JSON (numbers, booleans) are decoded."""
    out: dict[str, Any] = {}
    for item in [t for t in str(text).split(";") if t.strip()]:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidInputError(f"planner option {item!r}: expected key=value")
        try:
            out[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[key.strip()] = value
    return out


def planner_options(items: Iterable[str], planners: Iterable[str]) -> dict[str, str]:
    """``["learned:model=DIR", ...]`` -> ``{"learned": "model=DIR"}`` (for the planners named)."""
    planners = list(planners)
    found: dict[str, list[str]] = {p: [] for p in planners}
    for item in items:
        name, sep, option = item.partition(":")
        if not sep or name not in found:
            raise InvalidInputError(
                f"--planner-option {item!r}: expected PLANNER:KEY=VALUE for a planner of {planners}")
        parse_options(option)
        found[name].append(option)
    return {p: ";".join(v) for p, v in found.items()}


def misreporting_configs(*, scenario: str, shares: Iterable[float], strategies: Iterable[str],
                         planners: Iterable[str], defences: Iterable[str], seeds: Iterable[int], days: int,
                         audit_probability: float = 0.3,
                         planner_options: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The sweep's grid: every (planner, strategy, share, defence, seed), canonical and without
    duplicates (share 0 is run once per planner, defence and seed). ``planner_options`` maps a
    planner to its ``"key=value;..."`` options."""
    planner_options = planner_options or {}
    seen: dict[str, dict[str, Any]] = {}
    for planner in planners:
        for strategy in strategies:
            for share in shares:
                for defence in defences:
                    for seed in seeds:
                        c = make_config(scenario=scenario, planner=planner, strategy=strategy, share=share,
                                        planner_options=planner_options.get(planner, ""),
                                        defence=defence, audit_probability=audit_probability, days=days, seed=seed)
                        seen.setdefault(repr(sorted(c.items())), c)
    return list(seen.values())


def make_defences(defence: str, audit_probability: float = 0.3) -> list[Defence]:
    """The defences named by ``defence`` (``"none"``, ``"audit"``, ``"audit+robust"``,
    ``"audit(probability=0.5)+ic"``, ...); a bare ``"audit"`` audits with ``audit_probability``."""
    names = split_top_level(str(defence), "+")
    if not names:
        raise InvalidInputError("defence: empty; use 'none' for no defence")
    return [Audit(probability=audit_probability) if name == "audit" else parse_defence(name)
            for name in names if name != "none"]


def _config(config: dict[str, Any]) -> dict[str, Any]:
    """The canonical form of ``config``, whose scenario must still have the content it had
    when ``config`` was made (its ``scenario_hash``)."""
    c = make_config(**{k: config[k] for k in CONFIG_KEYS if k in config and k != "scenario_hash"})
    expected = config.get("scenario_hash") or c["scenario_hash"]
    _spec(c["scenario"], expected)
    return c


@functools.lru_cache(maxsize=8)
def _spec(scenario: str, content_hash: str) -> ScenarioSpec:
    """The scenario with that content (cached per process by name AND content)."""
    return scenario_spec(scenario, content_hash)


def _strategies(strategy: str, param: float) -> dict[str, Any]:
    if strategy == "honest":
        return {"citizen_strategy": "honest", "unit_strategy": "honest"}
    chosen = _strategy(strategy).with_param(param)
    side = "citizen_strategy" if chosen.kind == "citizen" else "unit_strategy"
    return {"citizen_strategy": "honest", "unit_strategy": "honest", side: chosen}


def build_model(config: dict[str, Any]) -> tuple[Any, ReportRecorder, tuple[BoundDefence, ...]]:
    """The model of a run configuration with its report recorder (first in the defence chain)
    and its bound defences."""
    from innatura.abm.model import PlanningEconomy

    c = _config(config)
    spec = _spec(c["scenario"], c["scenario_hash"])
    model = PlanningEconomy(spec, rng=c["seed"], planner=c["planner"], misreport_share=c["share"],
                            planner_options=parse_options(c["planner_options"]), collect_agents=False,
                            defences=make_defences(c["defence"], c["audit_probability"]),
                            **_strategies(c["strategy"], c["strategy_param"]))
    bound = tuple(model.defence_chain)
    recorder = ReportRecorder(model)
    model.defence_chain.insert(0, recorder)
    return model, recorder, bound


def _simulate(model: Any, days: int) -> tuple[Welfare, np.ndarray]:
    """Step ``days`` days; the run's welfare and each citizen's mean ``min(received share, 1)``."""
    got = np.zeros(model.layout.n_citizens)
    for _ in range(days):
        model.step()
        got += np.minimum(model.state.citizen_received, 1.0)
    return welfare(model.model_frame()), got / days


@functools.lru_cache(maxsize=64)
def _honest(scenario: str, content_hash: str, planner: str, options: str, share: float, days: int,
            seed: int) -> tuple[Welfare, np.ndarray]:
    """The honest run: the same seed and the same draw of who would misreport, all honest, no
    defence (the draw keeps the model's random stream aligned with the misreporting run)."""
    from innatura.abm.model import PlanningEconomy

    model = PlanningEconomy(_spec(scenario, content_hash), rng=seed, planner=planner,
                            planner_options=parse_options(options),
                            misreport_share=share, collect_agents=False,
                            citizen_strategy="honest", unit_strategy="honest")
    return _simulate(model, days)


def run_misreporting(config: dict[str, Any]) -> dict[str, Any]:
    """Run one configuration (see the module docstring); returns a flat dict of metrics.

    A run whose simulation raises an :class:`~planner.errors.InnaturaError` returns ``nan``
    metrics and the message under ``error`` (empty when the run succeeded), so that one bad
    cell does not stop a sweep. A scenario that no longer has the configuration's content (or
    no longer loads) raises instead: that is no result of this configuration.
    """
    c = _config(config)  # a scenario that changed or broke stops the sweep: no record
    try:
        model, recorder, bound = build_model(c)
        run, received = _simulate(model, c["days"])
        honest, honest_received = _honest(c["scenario"], c["scenario_hash"], c["planner"], c["planner_options"],
                                         c["share"], c["days"], c["seed"])
    except InnaturaError as exc:
        logger.warning("run %s failed: %s", c, exc)
        return {"error": f"{type(exc).__name__}: {exc}"}
    C, U = recorder.citizens.size, recorder.units.size
    fc = np.zeros(C, dtype=bool)
    fu = np.zeros(U, dtype=bool)
    for b in bound:
        fc |= b.flagged_citizens
        fu |= b.flagged_units
    out: dict[str, Any] = {"error": ""}
    out.update(truthful_welfare(received, honest_received, ~recorder.citizens))
    out.update(run.as_dict())
    out.update(honest.as_dict("honest_"))
    out.update(welfare_loss(run, honest))
    out.update(detection_scores(fc, recorder.citizens).as_dict("citizen_"))
    out.update(detection_scores(fu, recorder.units).as_dict("unit_"))
    out.update(detection_scores(np.r_[fc, fu], np.r_[recorder.citizens, recorder.units]).as_dict("all_"))
    audits = [b for b in bound if isinstance(b, AuditRun)]
    out["audits"] = int(sum(int(b.audited_units.sum() + b.audited_citizens.sum()) for b in audits))
    out["catches"] = int(sum(int(b.caught_units.sum() + b.caught_citizens.sum()) for b in audits))
    frame = model.model_frame()
    out["invariant_violations"] = int(frame["invariant_violations"].sum())
    out["mean_demand_factor"] = float(frame["report_demand_factor"].mean())
    out["mean_input_factor"] = float(frame["report_input_factor"].mean())
    return out


def check_planners(names: Sequence[str]) -> None:
    """Raise :class:`InvalidInputError` for a planner name the model does not know."""
    from innatura.abm.planning import METHODS

    for name in names:
        if name not in METHODS:
            raise InvalidInputError(f"planner {name!r} is unknown; known: {sorted(METHODS)}")
