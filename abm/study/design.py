"""A study's cases: its variables sampled by its design, crossed with its scenarios and seeds.

* ``"full-factorial"``: every combination of the variables' values (a range gives ``levels``
  evenly spaced values);
* ``"latin-hypercube"``: ``samples`` points of a Latin hypercube over the variables
  (:class:`scipy.stats.qmc.LatinHypercube` with the design's ``seed``): a range is sampled
  continuously, a list by equal strata of the unit interval.

Each case becomes a run configuration (:func:`abm.adversarial.experiment.make_config`, keyed by
the scenario's content) and a row of labels (:class:`Case`): the run id is the sweep's, so a
case that two cells share (share 0 is the honest run of every mix) runs once.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from innatura.abm.study.spec import MAX_CASES, Mix, Range, StudyError, StudySpec
from innatura.planner.errors import InvalidInputError

__all__ = ["Case", "case_configs", "sample_points"]

logger = logging.getLogger(__name__)

#: the default of a variable a study does not set (``planner``: the study's).
DEFAULTS: dict[str, Any] = {"defence": ["none"], "strategies": [Mix(citizens="inflate", units="overstate_inputs")],
                            "citizen_factor": [None], "unit_factor": [None]}


@dataclass(frozen=True)
class Case:
    """One run of a study: its configuration and the labels the report groups by.

    Attributes:
        config: the run configuration (:mod:`abm.adversarial.experiment`).
        labels: ``scenario`` (as the study names it), ``seed``, ``planner``, ``defence``
            (as the study writes it), ``mix`` (the strategy mix's label), ``share``,
            ``citizen_factor``, ``unit_factor`` (``nan`` when not varied).
    """

    config: dict[str, Any]
    labels: dict[str, Any]


def _levels(value: Any) -> list[Any]:
    """A full factorial's values of one variable."""
    if isinstance(value, Range):
        if value.levels is None:  # refused by .spec when a study file is read
            raise InvalidInputError(f"a range in a full factorial needs levels = N, got {value}")
        return np.linspace(value.low, value.high, value.levels).round(12).tolist()
    return list(value)


def _pick(value: Any, u: float) -> Any:
    """A Latin hypercube's value of one variable at ``u`` in [0, 1)."""
    if isinstance(value, Range):
        return round(value.low + u * (value.high - value.low), 12)
    return list(value)[min(int(u * len(value)), len(value) - 1)]


def sample_points(spec: StudySpec) -> list[dict[str, Any]]:
    """The design's points: one dict of variable values per point (unset variables at their
    defaults), in a fixed order."""
    given = spec.variables()
    values = {"planner": [spec.study.planner], **DEFAULTS, **given}
    names = list(values)
    if spec.design.method == "full-factorial":
        return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*(_levels(values[n])
                                                                                        for n in names))]
    from scipy.stats import qmc

    varied = list(given)
    u = qmc.LatinHypercube(d=max(len(varied), 1), seed=spec.design.seed).random(spec.design.samples)
    points = []
    for row in u:
        point = {n: _levels(values[n])[0] for n in names if n not in given}
        point.update({n: _pick(given[n], float(row[k])) for k, n in enumerate(varied)})
        points.append({n: point[n] for n in names})
    return points


def _case(spec: StudySpec, scenario: str, label: str, seed: int, point: dict[str, Any]) -> Case:
    from innatura.abm.adversarial.experiment import make_config
    from innatura.abm.adversarial.vocabulary import parse_strategy

    mix: Mix = point["strategies"]
    sides = {"citizen": parse_strategy(mix.citizens, kind="citizen"), "unit": parse_strategy(mix.units, kind="unit")}
    for kind in sides:
        factor = point[f"{kind}_factor"]
        if factor is not None and sides[kind].primary:
            sides[kind] = sides[kind].with_param(float(factor))
    config = make_config(scenario=scenario, planner=point["planner"], citizen_strategy=sides["citizen"],
                         planner_options=spec.study.planner_options.get(point["planner"], ""),
                         unit_strategy=sides["unit"], share=point["share"], defence=point["defence"],
                         days=spec.study.days, seed=seed)
    nan = float("nan")
    labels = {"scenario": label, "seed": seed, "planner": point["planner"], "defence": point["defence"],
              "mix": mix.name, "share": float(point["share"]),
              "citizen_factor": nan if point["citizen_factor"] is None else float(point["citizen_factor"]),
              "unit_factor": nan if point["unit_factor"] is None else float(point["unit_factor"])}
    return Case(config, labels)


def case_configs(spec: StudySpec) -> list[Case]:
    """Every case of the study: design points x scenarios x seeds.

    Raises:
        StudyError: a factor that a strategy of the mix refuses, a scenario that does not load,
            or more than :data:`~abm.study.spec.MAX_CASES` runs; naming the study file and field.
    """
    points = sample_points(spec)
    seeds = spec.study.seed_list()
    scenarios = spec.study.scenarios
    total = len(points) * len(seeds) * len(scenarios)
    if total > MAX_CASES:
        raise StudyError(spec.source, [(("design",), total, f"expands to more than {MAX_CASES} runs")])
    cases = []
    for k, (label, scenario) in enumerate(zip(scenarios, spec.scenario_paths(), strict=True)):
        _check_scenario(spec, k, scenario)
        for point in points:
            for seed in seeds:
                try:
                    cases.append(_case(spec, scenario, label, seed, point))
                except InvalidInputError as exc:
                    raise StudyError(spec.source, [(_where(spec, point), _values(point), str(exc))]) from None
    return cases


def _check_scenario(spec: StudySpec, k: int, scenario: str) -> None:
    """The scenario loads and fits in memory, or a :class:`StudyError` names it."""
    from innatura.abm.adversarial.experiment import scenario_spec
    from innatura.scenarios.limits import check_model_fits

    try:
        check_model_fits(scenario_spec(scenario))
    except InvalidInputError as exc:
        raise StudyError(spec.source, [(("study", "scenarios", k), spec.study.scenarios[k], str(exc))]) from None


def _where(spec: StudySpec, point: dict[str, Any]) -> tuple[str, ...]:
    section = "levers" if "strategies" in spec.levers.given() else "uncertainties"
    return (section, "strategies")


def _values(point: dict[str, Any]) -> dict[str, Any]:
    mix: Mix = point["strategies"]
    return {"citizens": mix.citizens, "units": mix.units, "citizen_factor": point["citizen_factor"],
            "unit_factor": point["unit_factor"]}
