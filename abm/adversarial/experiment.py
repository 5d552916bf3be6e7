"""One misreporting run, as a sweep or a study runs it: ``run_misreporting(config) -> metrics``.

A run's configuration is a flat, JSON-able dict (the sweep derives the run id from it):

| key | meaning |
|---|---|
| ``scenario`` | built-in scenario name or scenario TOML path |
| ``scenario_hash`` | the scenario's content hash (:attr:`scenarios.ScenarioSpec.content_hash`) |
| ``planner`` | planning method, a key of :data:`abm.planning.METHODS` |
| ``planner_options`` | options of the planner's factory, ``"key=value;key=value"`` (``""``: none) |
| ``citizen_strategy`` | the misreporting citizens' strategy, canonical text (:mod:`.vocabulary`) |
| ``unit_strategy`` | the misreporting units' strategy, canonical text |
| ``share`` | share of citizens and of scenario units drawn to misreport |
| ``defence`` | ``"none"`` or the defences' canonical texts joined by ``+`` |
| ``days`` | days simulated |
| ``seed`` | the model's seed: all randomness of the run flows from it |

Both sides may lie in one run (citizens by ``citizen_strategy``, units by ``unit_strategy``);
share 0 is the honest run of every strategy. Runs are keyed by the scenario's *content*, not
its name: ``scenario_hash`` is part of the configuration (so of the run id), a run refuses to
start when the file no longer has that content, and the per-process caches are keyed by it.
Editing a scenario file therefore never returns results of its earlier content.

The run simulates the economy with the misreporters, and the HONEST run with the same seed and
the same draw of who would misreport (everyone reporting honestly, no defence; cached per
process), and returns welfare, welfare loss, detection and what the liars settled at
(:func:`run_misreporting`; :mod:`.detection`).
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
from innatura.abm.adversarial.base import Honest, Strategy, split_top_level
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
    "canonical_defence",
    "check_planners",
    "make_config",
    "make_defences",
    "misreporting_configs",
    "one_sided_config",
    "parse_options",
    "planner_options",
    "run_misreporting",
    "scenario_hash",
    "scenario_spec",
    "strategy_kind",
]

logger = logging.getLogger(__name__)

CONFIG_KEYS = ("scenario", "scenario_hash", "planner", "planner_options", "citizen_strategy", "unit_strategy",
               "share", "defence", "days", "seed")


def strategy_kind(text: Any) -> str:
    """``"citizen"`` or ``"unit"``: the agents a strategy named by ``text`` is for (``honest``:
    citizens)."""
    if isinstance(text, Strategy):
        return "citizen" if text.kind == "any" else text.kind
    name = str(text).strip().partition("(")[0].strip()
    kind = STRATEGIES[name].kind if name in STRATEGIES else "citizen"
    return "citizen" if kind == "any" else kind


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
                citizen_strategy: Any = "honest", unit_strategy: Any = "honest", share: float = 0.2,
                defence: str = "none", days: int = 10, seed: int = 0) -> dict[str, Any]:
    """A validated, canonical run configuration (share 0 is the honest run of every strategy),
    with the scenario's content hash as it is now (:func:`scenario_hash`); the keys are those
    of the module docstring. A bare ``"audit"`` audits with probability 0.3."""
    sides = {"citizen": parse_strategy(citizen_strategy, kind="citizen"),
             "unit": parse_strategy(unit_strategy, kind="unit")}
    if not 0.0 <= float(share) <= 1.0:
        raise InvalidInputError(f"share: must be in [0, 1], got {share!r}")
    if int(days) < 1:
        raise InvalidInputError(f"days: must be >= 1, got {days!r}")
    chain = canonical_defence(defence)
    if float(share) == 0.0:
        sides = {"citizen": Honest(), "unit": Honest()}
    opts = ";".join(f"{k}={v if isinstance(v, str) else json.dumps(v)}"
                    for k, v in sorted(parse_options(planner_options).items()))
    return {"scenario": str(scenario), "scenario_hash": scenario_hash(str(scenario)), "planner": str(planner),
            "planner_options": opts, "citizen_strategy": str(sides["citizen"]), "unit_strategy": str(sides["unit"]),
            "share": float(share), "defence": chain, "days": int(days), "seed": int(seed)}


def one_sided_config(strategy: Any, strategy_param: float | None = None, audit_probability: float = 0.3,
                     **options: Any) -> dict[str, Any]:
    """:func:`make_config` with ``strategy`` (either kind, with its primary parameter
    ``strategy_param``) on its side and the other side honest; a bare ``"audit"`` in
    ``options["defence"]`` audits with ``audit_probability``."""
    kind = strategy_kind(strategy)
    chosen = parse_strategy(strategy, kind=kind)
    chosen = chosen.with_param(float(strategy_param)) if strategy_param is not None else chosen
    options["defence"] = canonical_defence(options.get("defence", "none"), audit_probability)
    return make_config(**{**options, f"{kind}_strategy": chosen})


def canonical_defence(defence: Any, audit_probability: float = 0.3) -> str:
    """The canonical text of a chain of defences (``"none"`` for none); a bare ``"audit"``
    audits with ``audit_probability``."""
    chain = make_defences(defence, audit_probability)
    return "+".join(str(d) for d in chain) if chain else "none"


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
    """The one-sided grid of ``innatura experiment misreporting``: every (planner, strategy,
    share, defence, seed), each strategy on its side with the other side honest, canonical and
    without duplicates (share 0 is run once per planner, defence and seed). ``planner_options``
    maps a planner to its ``"key=value;..."`` options."""
    planner_options = planner_options or {}
    seen: dict[str, dict[str, Any]] = {}
    for planner in planners:
        for strategy in strategies:
            for share in shares:
                for defence in defences:
                    for seed in seeds:
                        c = one_sided_config(strategy, scenario=scenario, planner=planner, share=share,
                                        planner_options=planner_options.get(planner, ""),
                                        defence=defence, audit_probability=audit_probability, days=days, seed=seed)
                        seen.setdefault(repr(sorted(c.items())), c)
    return list(seen.values())


def make_defences(defence: Any, audit_probability: float = 0.3) -> list[Defence]:
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


def build_model(config: dict[str, Any]) -> tuple[Any, ReportRecorder, tuple[BoundDefence, ...]]:
    """The model of a run configuration with its report recorder (first in the defence chain)
    and its bound defences."""
    from innatura.abm.model import PlanningEconomy

    c = _config(config)
    spec = _spec(c["scenario"], c["scenario_hash"])
    model = PlanningEconomy(spec, rng=c["seed"], planner=c["planner"], misreport_share=c["share"],
                            planner_options=parse_options(c["planner_options"]), collect_agents=False,
                            defences=make_defences(c["defence"]), citizen_strategy=c["citizen_strategy"],
                            unit_strategy=c["unit_strategy"])
    bound = tuple(model.defence_chain)
    recorder = ReportRecorder(model)
    model.defence_chain.insert(0, recorder)
    return model, recorder, bound


#: the share of the last days over which the liars' reports count as where they settled.
SETTLED_SHARE = 0.25


def _simulate(model: Any, days: int) -> tuple[Welfare, np.ndarray, dict[str, float]]:
    """Step ``days`` days; the run's welfare, each citizen's mean ``min(received share, 1)``,
    and where the liars settled: the mean demand factor of the misreporting citizens, input
    factor of the misreporting units that report a curve and reported over true capacity of
    the bounded ones, as reported before any defence over the last :data:`SETTLED_SHARE` of the
    days (``settled_citizen_factor``, ``settled_unit_factor``, ``settled_capacity_factor``;
    ``nan`` where there is no such liar)."""
    got = np.zeros(model.layout.n_citizens)
    st, lay = model.state, model.layout
    liars = {"settled_citizen_factor": st.citizen_code > 0,
             "settled_unit_factor": (st.unit_code > 0) & (model.reporting_regions >= 0),
             "settled_capacity_factor": (st.unit_code > 0) & np.isfinite(lay.unit_capacity) & ~lay.unit_implicit}
    tail = max(1, round(SETTLED_SHARE * days))
    seen: dict[str, list[float]] = {k: [] for k in liars}
    for day in range(days):
        model.step()
        got += np.minimum(model.state.citizen_received, 1.0)
        if day < days - tail:
            continue
        raw = model.last_outcome.reports.before_defences
        cap = np.divide(raw.unit_capacity, lay.unit_capacity, out=np.ones(lay.n_units),
                        where=np.isfinite(lay.unit_capacity) & (lay.unit_capacity > 0))
        for key, values in zip(liars, (raw.citizen_factor, raw.unit_input_factor, cap), strict=True):
            if liars[key].any():
                seen[key].append(float(np.mean(np.asarray(values)[liars[key]])))
    settled = {k: float(np.mean(v)) if v else float("nan") for k, v in seen.items()}
    return welfare(model.model_frame()), got / days, settled


@functools.lru_cache(maxsize=64)
def _honest(scenario: str, content_hash: str, planner: str, options: str, share: float, days: int,
            seed: int) -> tuple[Welfare, np.ndarray, float]:
    """The honest run: the same seed and the same draw of who would misreport, all honest, no
    defence (the draw keeps the model's random stream aligned with the misreporting run);
    its welfare, each citizen's mean capped share received, and its mean unit slack."""
    from innatura.abm.model import PlanningEconomy

    model = PlanningEconomy(_spec(scenario, content_hash), rng=seed, planner=planner,
                            planner_options=parse_options(options),
                            misreport_share=share, collect_agents=False,
                            citizen_strategy="honest", unit_strategy="honest")
    run, received, _ = _simulate(model, days)
    return run, received, float(np.nanmean(model.model_frame()["unit_slack"].to_numpy(dtype=float)))


def _nanmean(values: Any) -> float:
    v = np.asarray(values, dtype=float)
    return float(np.mean(v[np.isfinite(v)])) if np.isfinite(v).any() else float("nan")


def run_misreporting(config: dict[str, Any]) -> dict[str, Any]:
    """Run one configuration (see the module docstring); returns a flat dict of metrics.

    ``welfare`` is the mean share of need (capped at 1) the citizens who never misreported
    received, ``welfare_all`` the same over every citizen, each against the honest run with the
    same seed (``welfare_loss``, ``welfare_loss_all``; positive: worse). A defence that fines
    liars in kind (audits) hands their goods to the truthful, so ``welfare_loss`` may be
    negative; ``welfare_all`` counts the fined liars too (docs/model.md, "Welfare under
    misreporting"). Then Eq. 5 and the other economy-wide measures (:class:`.Welfare`, also of
    the honest run), the mean daily liars' gain and unit slack, detection over the run
    (precision and recall of who was ever flagged against who ever misreported, per kind and
    all) and per night (``daily_precision``, ``daily_recall``), audits and catches, and where
    the liars' factors settled (:func:`_simulate`).

    A run whose simulation raises an :class:`~planner.errors.InnaturaError` returns the message
    under ``error`` (empty when the run succeeded) and no metrics, so that one bad cell does
    not stop a sweep. A scenario that no longer has the configuration's content (or no longer
    loads) raises instead: that is no result of this configuration.
    """
    c = _config(config)  # a scenario that changed or broke stops the sweep: no record
    try:
        model, recorder, bound = build_model(c)
        run, received, settled = _simulate(model, c["days"])
        honest, honest_received, honest_slack = _honest(c["scenario"], c["scenario_hash"], c["planner"],
                                                        c["planner_options"], c["share"], c["days"], c["seed"])
    except InnaturaError as exc:
        logger.warning("run %s failed: %s", c, exc)
        return {"error": f"{type(exc).__name__}: {exc}"}
    out: dict[str, Any] = {"error": ""}
    out.update(truthful_welfare(received, honest_received, ~recorder.citizens))
    every = truthful_welfare(received, honest_received, np.ones(received.size, dtype=bool))
    out.update({f"{k}_all": v for k, v in every.items()})
    out.update(run.as_dict())
    out.update(honest.as_dict("honest_"))
    out.update(welfare_loss(run, honest))
    out.update(_detection(recorder, bound))
    frame = model.model_frame()
    out["liars_gain"] = _nanmean(frame["liars_gain"])
    out["unit_slack"] = _nanmean(frame["unit_slack"])
    out["honest_unit_slack"] = honest_slack
    out["daily_precision"] = _nanmean(frame["detection_precision"])
    out["daily_recall"] = _nanmean(frame["detection_recall"])
    out.update(settled)
    out["invariant_violations"] = int(frame["invariant_violations"].sum())
    out["mean_demand_factor"] = float(frame["report_demand_factor"].mean())
    out["mean_input_factor"] = float(frame["report_input_factor"].mean())
    return out


def _detection(recorder: ReportRecorder, bound: Sequence[BoundDefence]) -> dict[str, Any]:
    """Who was ever flagged against who ever misreported (per kind and all), audits, catches."""
    fc = np.zeros(recorder.citizens.size, dtype=bool)
    fu = np.zeros(recorder.units.size, dtype=bool)
    for b in bound:
        fc |= b.flagged_citizens
        fu |= b.flagged_units
    out: dict[str, Any] = {}
    out.update(detection_scores(fc, recorder.citizens).as_dict("citizen_"))
    out.update(detection_scores(fu, recorder.units).as_dict("unit_"))
    out.update(detection_scores(np.r_[fc, fu], np.r_[recorder.citizens, recorder.units]).as_dict("all_"))
    audits = [b for b in bound if isinstance(b, AuditRun)]
    out["audits"] = int(sum(int(b.audited_units.sum() + b.audited_citizens.sum()) for b in audits))
    out["catches"] = int(sum(int(b.caught_units.sum() + b.caught_citizens.sum()) for b in audits))
    return out


def check_planners(names: Sequence[str]) -> None:
    """Raise :class:`InvalidInputError` for a planner name the model does not know."""
    from innatura.abm.planning import METHODS

    for name in names:
        if name not in METHODS:
            raise InvalidInputError(f"planner {name!r} is unknown; known: {sorted(METHODS)}")
