"""Study files: what a misreporting study runs, as a TOML file validated into a :class:`StudySpec`.

A study names scenarios, seeds and days, the *levers* the planner controls (its defences and
their parameters, its planning method) and the *uncertainties* it does not (who lies and how:
strategy mixes, the share of liars, their factors), a sampling *design* over them, and the
*outcomes* kept (``docs/misreporting.md``, "Studies", describes every field)::

    [study]
    name = "misreporting-both-sides"
    description = "Citizens and units lie; every defence"
    scenarios = ["archipelago", "butter-village"]
    seeds = 5
    days = 10

    [levers]
    defence = ["none", "audit", "robust", "belief", "ic"]

    [uncertainties]
    share = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
    strategies = [{ citizens = "inflate(1.5)", units = "overstate_inputs(1.3)" }]

    [design]
    method = "full-factorial"

A variable is a list of values, or (for ``share``, ``citizen_factor``, ``unit_factor``) a
range ``{ low = 1.1, high = 2.0 }`` (with ``levels`` for a full factorial). Strategies and
defences are in the model's one text form (:mod:`abm.adversarial.vocabulary`). Every problem
raises a :class:`StudyError` naming the file, the field and the value.
"""

from __future__ import annotations

import logging
import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from innatura.planner.errors import InputFileError, InvalidInputError
from innatura.scenarios.errors import ScenarioFieldError, format_path, format_value
from innatura.scenarios.fields import Seed, Share, Slug, one_line
from innatura.scenarios.files import check_nesting, read_text
from innatura.scenarios.limits import MAX_DAYS
from innatura.scenarios.spec import validation_problems
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

__all__ = [
    "MAX_CASES",
    "MAX_SEEDS",
    "OUTCOMES",
    "VARIABLES",
    "Design",
    "Mix",
    "Range",
    "StudyError",
    "StudyMeta",
    "StudySpec",
    "Variables",
    "load_study",
    "loads_study",
]

logger = logging.getLogger(__name__)

#: most seeds a study may name.
MAX_SEEDS = 10_000
#: most runs a study may expand to (scenarios x seeds x cases).
MAX_CASES = 1_000_000
#: the variables a study may set, in ``[levers]`` or ``[uncertainties]``.
VARIABLES = ("planner", "defence", "strategies", "share", "citizen_factor", "unit_factor")
#: the outcomes a run reports (:func:`abm.adversarial.experiment.run_misreporting`), for ``[outcomes] keep``.
OUTCOMES = (
    "welfare", "honest_welfare", "welfare_loss", "welfare_loss_rel", "welfare_all", "honest_welfare_all",
    "welfare_loss_all", "welfare_loss_rel_all", "humanity", "min_fulfilment", "unmet_demand", "final_humanity",
    "externalities", "plan_error", "honest_humanity", "honest_min_fulfilment", "honest_unmet_demand",
    "honest_final_humanity", "honest_externalities", "honest_plan_error", "humanity_loss", "extra_unmet_demand",
    "fulfilment_loss", "citizen_misreporters", "citizen_flagged", "citizen_true_positives", "citizen_precision",
    "citizen_recall", "unit_misreporters", "unit_flagged", "unit_true_positives", "unit_precision", "unit_recall",
    "all_misreporters", "all_flagged", "all_true_positives", "all_precision", "all_recall", "audits", "catches",
    "liars_gain", "unit_slack", "honest_unit_slack", "daily_precision", "daily_recall", "settled_citizen_factor",
    "settled_unit_factor", "settled_capacity_factor", "invariant_violations", "mean_demand_factor",
    "mean_input_factor",
)

Text = Annotated[str, Strict(), StringConstraints(min_length=1, max_length=500), AfterValidator(one_line)]
Factor = Annotated[float, Strict(), Field(gt=0, le=100, allow_inf_nan=False)]


class StudyError(InvalidInputError):
    """A study file is invalid.

    Attributes:
        source: the file (or ``<string>``).
        problems: ``(path, value, message)`` per problem (``path`` ``None`` for the file as a whole).
    """

    def __init__(self, source: str, problems: list[tuple[tuple[str | int, ...] | None, Any, str]]) -> None:
        self.source = str(source)
        self.problems = tuple(problems)
        lines = [f"{self.source}: {m}" if p is None else f"{self.source}: {format_path(p)}: {m} (got {format_value(v)})"
                 for p, v, m in self.problems]
        text = lines[0] if len(lines) == 1 else f"{self.source}: {len(lines)} problems\n  " + "\n  ".join(lines)
        super().__init__(text)


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


def _invalid(exc: InvalidInputError) -> ValueError:
    return ValueError(str(exc))


class Mix(_Spec):
    """A strategy mix: how the misreporting citizens and units report (``honest``: that side
    does not lie), and its label in the report (default: the two strategies' names)."""

    citizens: Text = "honest"
    units: Text = "honest"
    label: Annotated[str, Strict(), StringConstraints(max_length=80), AfterValidator(one_line)] = ""

    @field_validator("citizens", "units")
    @classmethod
    def _strategy(cls, value: str, info: Any) -> str:
        from innatura.abm.adversarial.vocabulary import parse_strategy

        try:
            return str(parse_strategy(value, kind="citizen" if info.field_name == "citizens" else "unit"))
        except InvalidInputError as exc:
            raise _invalid(exc) from None

    @property
    def name(self) -> str:
        """The label, or ``"<citizens' strategy> / <units' strategy>"`` by name."""
        if self.label:
            return self.label
        return f"{self.citizens.partition('(')[0]} / {self.units.partition('(')[0]}"


class Range(_Spec):
    """A continuous variable: ``low`` to ``high``; a full factorial takes ``levels`` values
    evenly spaced (both ends included), a Latin hypercube samples the range."""

    low: Annotated[float, Strict(), Field(ge=0, le=100, allow_inf_nan=False)]
    high: Annotated[float, Strict(), Field(ge=0, le=100, allow_inf_nan=False)]
    levels: Annotated[int, Strict(), Field(ge=2, le=1000)] | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) is below low ({self.low})")
        return self


def _defence(value: str) -> str:
    from innatura.abm.adversarial.experiment import canonical_defence

    try:
        canonical_defence(value)
    except InvalidInputError as exc:
        raise _invalid(exc) from None
    return value.strip()


def _planner(value: str) -> str:
    from innatura.abm.planning import METHODS

    if value not in METHODS:
        raise ValueError(f"planner {value!r} is unknown; known: {', '.join(sorted(METHODS))}")
    return value


def _options(value: str) -> str:
    from innatura.abm.adversarial.experiment import parse_options

    try:
        parse_options(value)
    except InvalidInputError as exc:
        raise _invalid(exc) from None
    return value


def _unique(values: list) -> list:
    if len({repr(v) for v in values}) != len(values):
        raise ValueError("lists each value once")
    return values


Defences = Annotated[list[Annotated[Text, AfterValidator(_defence)]], Field(min_length=1, max_length=100),
                     AfterValidator(_unique)]
Planners = Annotated[list[Annotated[Text, AfterValidator(_planner)]], Field(min_length=1, max_length=20),
                     AfterValidator(_unique)]
Mixes = Annotated[list[Mix], Field(min_length=1, max_length=100)]
Shares = Annotated[list[Share], Field(min_length=1, max_length=1000), AfterValidator(_unique)] | Range
Factors = Annotated[list[Factor], Field(min_length=1, max_length=1000), AfterValidator(_unique)] | Range


class Variables(_Spec):
    """``[levers]`` or ``[uncertainties]``: the variables a study varies (each in one of them).

    Attributes:
        planner: planning methods.
        defence: defences (``"none"``, ``"audit(0.5)+robust"``, ...).
        strategies: strategy mixes (:class:`Mix`).
        share: shares of citizens and units that misreport.
        citizen_factor, unit_factor: the primary parameter of the citizens' / units' strategy
            (their factor), overriding the mix's.
    """

    planner: Planners | None = None
    defence: Defences | None = None
    strategies: Mixes | None = None
    share: Shares | None = None
    citizen_factor: Factors | None = None
    unit_factor: Factors | None = None

    @field_validator("share")
    @classmethod
    def _share_range(cls, value: Any) -> Any:
        if isinstance(value, Range) and value.high > 1.0:
            raise ValueError(f"a share is at most 1, got high = {value.high}")
        return value

    def given(self) -> dict[str, Any]:
        """The variables set here, by name."""
        return {k: getattr(self, k) for k in VARIABLES if getattr(self, k) is not None}


class StudyMeta(_Spec):
    """``[study]``: name, description, the scenarios, seeds and days of every case, the planner
    (unless a lever varies it) and the options of each planner's factory
    (``planner_options = { learned = "model=runs/learned" }``)."""

    name: Slug
    description: Annotated[str, Strict(), StringConstraints(min_length=1, max_length=500), AfterValidator(one_line)]
    scenarios: Annotated[list[Text], Field(min_length=1, max_length=100), AfterValidator(_unique)]
    seeds: Annotated[int, Strict(), Field(ge=1, le=MAX_SEEDS)] | Annotated[
        list[Seed], Field(min_length=1, max_length=MAX_SEEDS), AfterValidator(_unique)] = 1
    days: Annotated[int, Strict(), Field(ge=1, le=MAX_DAYS)] = 10
    planner: Annotated[Text, AfterValidator(_planner)] = "olin"
    planner_options: dict[Text, Annotated[str, Strict(), AfterValidator(_options)]] = {}

    def seed_list(self) -> list[int]:
        """The seeds: ``0 .. seeds - 1``, or the list given."""
        return list(range(self.seeds)) if isinstance(self.seeds, int) else list(self.seeds)


class Design(_Spec):
    """``[design]``: ``"full-factorial"`` (every combination of the variables' values) or
    ``"latin-hypercube"`` (``samples`` points of a Latin hypercube drawn by
    ``scipy.stats.qmc`` with ``seed``); every case runs on every scenario and seed."""

    method: Literal["full-factorial", "latin-hypercube"] = "full-factorial"
    samples: Annotated[int, Strict(), Field(ge=1, le=100_000)] | None = None
    seed: Seed = 0

    @model_validator(mode="after")
    def _samples(self) -> Design:
        if self.method == "latin-hypercube" and self.samples is None:
            raise ValueError("a latin-hypercube design needs samples = N")
        if self.method == "full-factorial" and self.samples is not None:
            raise ValueError("samples is for a latin-hypercube design; a full factorial runs every combination")
        return self


class Outcomes(_Spec):
    """``[outcomes]``: the outcomes kept in ``outcomes.parquet`` (default: all of :data:`OUTCOMES`)."""

    keep: Annotated[list[Literal[OUTCOMES]], Field(min_length=1), AfterValidator(_unique)] | None = None  # type: ignore[valid-type]

    def names(self) -> list[str]:
        return list(self.keep) if self.keep is not None else list(OUTCOMES)


class StudySpec(_Spec):
    """A validated study file (module docstring)."""

    study: StudyMeta
    levers: Variables = Variables()
    uncertainties: Variables = Variables()
    design: Design = Design()
    outcomes: Outcomes = Outcomes()
    source: Annotated[str, Field(exclude=True)] = "<python>"

    @model_validator(mode="after")
    def _variables(self) -> StudySpec:
        both = set(self.levers.given()) & set(self.uncertainties.given())
        if both:
            name = sorted(both)[0]
            raise ScenarioFieldError(("uncertainties", name), getattr(self.uncertainties, name),
                                     f"{name} is set in both [levers] and [uncertainties]; set it in one")
        given = self.variables()
        if "share" not in given:
            raise ScenarioFieldError(("uncertainties", "share"), None,
                                     "required: the shares of liars (share = [0.0, 0.2] or a range)")
        if self.design.method == "full-factorial":
            for name, value in given.items():
                if isinstance(value, Range) and value.levels is None:
                    section = "levers" if name in self.levers.given() else "uncertainties"
                    raise ScenarioFieldError((section, name), value.model_dump(exclude_none=True),
                                             "a range in a full factorial needs levels = N")
        return self

    def variables(self) -> dict[str, Any]:
        """Every variable the study sets, levers first."""
        return {**self.levers.given(), **self.uncertainties.given()}

    def scenario_paths(self) -> list[str]:
        """The scenarios as the runs name them: a built-in name as it is, a file relative to
        the study file's folder as an absolute path."""
        base = Path(self.source).parent if self.source not in ("<python>", "<string>") else Path.cwd()
        out = []
        for name in self.study.scenarios:
            if name.endswith(".toml") or "/" in name or os.sep in name:
                path = Path(name)
                out.append(str(path if path.is_absolute() else (base / path).resolve()))
            else:
                out.append(name)
        return out


def spec_from_dict(data: dict[str, Any], source: str = "<python>") -> StudySpec:
    """Validate a parsed study (the dict :mod:`tomllib` returns).

    Raises:
        StudyError: naming ``source``, the field path and the value of every problem.
    """
    if not isinstance(data, dict):
        raise StudyError(source, [(None, data, "expected a table")])
    try:
        return StudySpec.model_validate({**data, "source": source})
    except ValidationError as exc:
        raise StudyError(source, [_readable(p, v, m) for p, v, m in validation_problems(exc)]) from None


def _readable(path: tuple[str | int, ...] | None, value: Any, message: str) -> tuple[Any, Any, str]:
    """A problem with the names of pydantic's union branches dropped from its path."""
    if not path:
        return None, None, message
    clean = tuple(p for p in path if not (isinstance(p, str) and (p == "Range" or p.startswith(("list[", "int",
                                                                                                 "literal[")))))
    if message.startswith("unknown field"):
        message = "unknown field (docs/misreporting.md lists the fields of a study)"
    return clean, value, message


def loads_study(text: str, source: str = "<string>") -> StudySpec:
    """Parse and validate study TOML ``text``; ``source`` names it in messages."""
    try:
        data = check_nesting(tomllib.loads(text), source, "study")
    except tomllib.TOMLDecodeError as exc:
        raise StudyError(source, [(None, None, f"TOML syntax error: {exc}")]) from None
    except RecursionError:
        raise StudyError(source, [(None, None, "nested too deeply; a study needs only a few levels")]) from None
    except InputFileError as exc:
        raise StudyError(source, [(None, None, exc.problem)]) from None
    if "source" in data:
        raise StudyError(source, [(("source",), data["source"], "not a field of a study")])
    return spec_from_dict(data, source)


def load_study(path: str | os.PathLike[str]) -> StudySpec:
    """Read and validate the study file at ``path`` (a regular UTF-8 file,
    :func:`scenarios.files.read_text`)."""
    try:
        text = read_text(path, "study file")
    except InputFileError as exc:
        raise StudyError(str(path), [(None, None, exc.problem)]) from None
    return loads_study(text, str(path))
