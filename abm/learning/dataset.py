"""Datasets of unit histories: the agent model over scenarios x seeds x misreporting mixes.

A :class:`MisreportMix` says which curve-reporting units misreport in a run and how: a share of
them, one strategy (or ``"mixed"``: each picks one of overstating, ratcheting and colluding),
optionally with per-unit factors drawn from a range, optionally concentrated in a few regions
(every curve unit of those regions drawn with ``share``), optionally with defences. Units are
drawn with their own generator (from the run's seed and the mix's name), so the model's own
random stream is the one an honest run of that seed has; citizens report honestly.

:func:`generate_dataset` runs every combination and writes each run as soon as it ends
(``DIR/runs/<scenario>-<mix>-s<seed>.npz``, then ``DIR/index.json``), with a progress bar.

Scenarios are named as on the command line, with builder parameters after a colon:
``"archipelago"``, ``"archipelago:seed=5,regions=10"``, ``"selviaria"``, a ``.toml`` path.
"""

from __future__ import annotations

import logging
import os
import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from innatura.abm.learning.histories import HistoryRecorder
from innatura.planner.errors import InvalidInputError
from innatura.planner.learned.histories import HistoryDataset, UnitHistories, save_histories, write_index

__all__ = [
    "MIXES",
    "MisreportMix",
    "build_model",
    "generate_dataset",
    "load_scenario",
    "parse_mixes",
    "parse_scenario",
    "run_mix",
    "run_name",
]

logger = logging.getLogger(__name__)

#: the strategies ``"mixed"`` draws from (the three of docs/misreporting.md that hide inputs).
MIXED = ("overstate_inputs(1.3)", "ratchet(1.3, ramp_days=5)", "collude(1.5)")


@dataclass(frozen=True)
class MisreportMix:
    """Who misreports in a run, and how.

    Attributes:
        name: the mix's name (part of run names).
        strategy: a unit strategy's text form, ``"honest"``, or ``"mixed"`` (each drawn unit
            picks one of :data:`MIXED`).
        share: probability that a curve-reporting unit is drawn (within ``regions`` if set).
        factor_range: ``(low, high)``: each drawn unit's factor (its strategy's primary
            parameter) uniform in it; ``None``: the strategy's own.
        regions: draw only in this many regions, picked at random among those with at least
            two curve units; ``None``: everywhere.
        defences: defences of the run (text forms, e.g. ``("audit",)``).
    """

    name: str
    strategy: str = "honest"
    share: float = 0.0
    factor_range: tuple[float, float] | None = None
    regions: int | None = None
    defences: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Za-z0-9_.+-]+", self.name):
            raise InvalidInputError(f"MisreportMix.name = {self.name!r}: letters, digits and _.+- only")
        if not 0.0 <= self.share <= 1.0:
            raise InvalidInputError(f"MisreportMix {self.name}: share = {self.share!r} must lie in [0, 1]")
        if self.factor_range is not None and not 0 < self.factor_range[0] <= self.factor_range[1]:
            raise InvalidInputError(f"MisreportMix {self.name}: factor_range = {self.factor_range!r}")
        if self.regions is not None and self.regions < 1:
            raise InvalidInputError(f"MisreportMix {self.name}: regions = {self.regions!r} must be >= 1")


#: the mixes known by name.
MIXES: dict[str, MisreportMix] = {m.name: m for m in (
    MisreportMix("honest"),
    MisreportMix("overstate", "overstate_inputs(1.3)", 0.3),
    MisreportMix("ratchet", "ratchet(1.3, ramp_days=5)", 0.3),
    MisreportMix("collude", "collude(1.5)", 0.3),
    MisreportMix("varied", "mixed", 0.3, factor_range=(1.05, 1.8)),
    MisreportMix("audited", "mixed", 0.3, factor_range=(1.05, 1.8), defences=("audit",)),
    MisreportMix("collude-regions", "collude(1.5)", 0.9, regions=3),
)}


def parse_mixes(text: str | Sequence[str]) -> tuple[MisreportMix, ...]:
    """Mixes by name (a comma-separated text or a list).

    Raises:
        InvalidInputError: an unknown name (the message lists the known ones).
    """
    names = [n.strip() for n in text.split(",")] if isinstance(text, str) else list(text)
    unknown = [n for n in names if n not in MIXES]
    if unknown or not names:
        raise InvalidInputError(f"misreporting mix {unknown[0] if unknown else ''!r} unknown; mixes: "
                                f"{', '.join(MIXES)}")
    return tuple(MIXES[n] for n in names)


def _literal(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_scenario(text: str) -> tuple[str, dict[str, Any]]:
    """``"name:key=value,..."`` -> ``(name, params)`` (numbers read as numbers).

    Raises:
        InvalidInputError: a parameter without ``=``.
    """
    name, _, rest = str(text).partition(":")
    if not rest:
        return name, {}
    params = {}
    for part in rest.split(","):
        key, eq, value = part.partition("=")
        if not eq or not key.strip():
            raise InvalidInputError(f"scenario {text!r}: parameter {part!r} is not key=value")
        params[key.strip()] = _literal(value.strip())
    return name, params


def load_scenario(text: Any) -> Any:
    """The scenario ``text`` names, with builder parameters after a colon
    (``"us-2022:returns_to_scale=0.9"``; :func:`parse_scenario`); a spec or a path passes through."""
    if not isinstance(text, str):
        return text
    from innatura.scenarios.registry import load

    name, params = parse_scenario(text)
    return load(name, **params) if params else name


def _assign(model: Any, units: np.ndarray, mix: MisreportMix, rng: np.random.Generator) -> None:
    """Give the drawn units of ``units`` the mix's strategies (and factors)."""
    from innatura.abm.adversarial.vocabulary import parse_strategy

    if mix.strategy == "honest" or mix.share == 0:
        return
    region = model.layout.unit_region[units]
    pool = np.ones(units.size, dtype=bool)
    if mix.regions is not None:
        counts = np.bincount(region, minlength=model.layout.n_regions)
        eligible = np.flatnonzero(counts >= 2)
        chosen = rng.choice(eligible, size=min(mix.regions, eligible.size), replace=False)
        pool = np.isin(region, chosen)
    drawn = units[pool & (rng.random(units.size) < mix.share)]
    texts = MIXED if mix.strategy == "mixed" else (mix.strategy,)
    pick = rng.integers(len(texts), size=drawn.size)
    for k, text in enumerate(texts):
        idx = drawn[pick == k]
        if idx.size:
            model.state.assign("unit", idx, parse_strategy(text, kind="unit"))
            if mix.factor_range is not None:
                low, high = mix.factor_range
                model.state.unit_param[idx] = rng.uniform(low, high, idx.size)


def build_model(scenario: str, seed: int, mix: MisreportMix, days: int) -> Any:
    """The agent model of one run: ``scenario`` (with builder parameters), ``seed``, ``days``,
    the mix's defences, and its misreporting units drawn and assigned."""
    from innatura.abm.learning.histories import curve_units
    from innatura.abm.model import PlanningEconomy

    from innatura import scenarios

    name, params = parse_scenario(scenario)
    spec = scenarios.load(name, **params)
    model = PlanningEconomy(spec, rng=seed, days=days, defences=mix.defences or "none")
    units = curve_units(model)
    gen = np.random.default_rng([seed, zlib.crc32(f"{scenario}|{mix.name}".encode())])
    _assign(model, units, mix, gen)
    return model


def run_mix(scenario: str, seed: int, mix: MisreportMix, days: int) -> UnitHistories:
    """Simulate one run and return its histories (meta: scenario, seed, mix, days)."""
    model = build_model(scenario, seed, mix, days)
    recorder = HistoryRecorder(model)
    for _ in range(days):
        recorder.step()
    return recorder.histories(meta={"scenario": scenario, "seed": seed, "mix": mix.name, "days": days})


def run_name(scenario: str, mix: MisreportMix, seed: int) -> str:
    """File stem of a run: the scenario text made file-safe, the mix, the seed."""
    safe = re.sub(r"[^A-Za-z0-9_.+-]+", "_", Path(scenario).stem if scenario.endswith(".toml") else scenario)
    return f"{safe}-{mix.name}-s{seed}"


def generate_dataset(scenarios: Sequence[str], seeds: Sequence[int], mixes: Sequence[MisreportMix | str],
                     days: int, out: str | os.PathLike[str] | None = None,
                     progress: Callable[[str], None] | None = None) -> HistoryDataset:
    """Run every (scenario, mix, seed) for ``days`` days; write each run to ``out`` (if given)
    as it ends, then the index.

    Args:
        scenarios: scenario texts (see the module).
        seeds: the model seeds.
        mixes: mixes or their names (:data:`MIXES`).
        days: nights per run.
        out: dataset folder (``runs/*.npz`` + ``index.json``); ``None``: keep in memory only.
        progress: called with each run's name when it ends.

    Raises:
        InvalidInputError: an unknown mix or scenario, or a scenario whose units all have
            public technologies (nothing to infer).
    """
    from innatura import scenarios as registry

    chosen = [parse_mixes([m])[0] if isinstance(m, str) else m for m in mixes]
    for scenario in scenarios:  # every name and parameter is checked before anything runs
        name, params = parse_scenario(scenario)
        registry.load(name, **params)
    runs, names = [], []
    for scenario in scenarios:
        for mix in chosen:
            for seed in seeds:
                name = run_name(scenario, mix, int(seed))
                h = run_mix(scenario, int(seed), mix, days)
                if out is not None:
                    save_histories(Path(out) / "runs" / f"{name}.npz", h)
                runs.append(h)
                names.append(name)
                if progress is not None:
                    progress(name)
    if out is not None:
        write_index(out, names, [dict(r.meta) for r in runs])
    return HistoryDataset(tuple(runs), tuple(names))
