"""Model parameters of the browser view: the widgets, and validation of what they send.

Widgets deliver values as they hold them: a slider a number, a select a string, and the seed
(an ``InputText``) a string. The strategies of misreporting citizens and units and the
defences are chosen by name from the vocabulary (selects of :func:`strategy_choices` and
:func:`defence_choices`) with a parameter field beside each (``2.0``, ``factor=2.0``,
``probability=0.5``); :func:`compose` makes the model's one text form of them
(``"inflate(2.0)"``, ``"audit(0.5)+robust"``, :mod:`abm.adversarial.vocabulary`), read by the
same functions as ``innatura run``.
:func:`parse_params` casts and checks them and raises an
:class:`~planner.errors.InvalidInputError` naming the field and the value;
:func:`validate_params` is the lenient form the page uses: a bad field falls back to its
default and the message is kept, so the page shows the problem instead of failing.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

from innatura.planner.errors import InvalidInputError

__all__ = [
    "DEFAULTS",
    "PARAMETER_FIELDS",
    "PLANS",
    "ViewParams",
    "compose",
    "defence_choices",
    "model_params",
    "parse_params",
    "split_call",
    "strategy_choices",
    "validate_params",
]

logger = logging.getLogger(__name__)

#: Choices of :attr:`ViewParams.plan`.
PLANS = ("scenario", "national", "regional")

#: Largest seed accepted (numpy takes any non-negative int; Mesa and the page keep 64 bits).
MAX_SEED = 2**63 - 1


@dataclass(frozen=True)
class ViewParams:
    """Validated parameters of one model built by the page.

    Attributes:
        scenario: registered scenario name.
        planner: planning method name.
        investment_share: share ``sigma`` of capital, labour and capacity kept for investment,
            in [0, 1) (``docs/model.md``, the bounded daily plan); ``None``: the scenario's.
        loss_probability: chance per day of the scenario's stochastic inventory losses, in
            [0, 1]; ``None``: the scenario's own setting.
        misreport_share: share of citizens and production units that misreport, in [0, 1].
        seed: seed of the model's random generator, a non-negative integer.
        citizen_strategy, unit_strategy: how the misreporting citizens / units report, in the
            canonical text form (``"inflate(factor=1.5)"``).
        defence: the defences applied to the reports, joined by ``+`` (``"none"``: none).
        plan: what the night plans on, one of :data:`PLANS`: ``"national"`` (one stock per
            good), ``"regional"`` (the region graph, with shipments along its edges and the
            night's diagnostics) or ``"scenario"`` (the scenario's own choice).
    """

    scenario: str
    planner: str
    investment_share: float | None
    loss_probability: float | None
    misreport_share: float
    seed: int
    citizen_strategy: str = "inflate(factor=1.5)"
    unit_strategy: str = "overstate_inputs(factor=1.3)"
    defence: str = "none"
    plan: str = "scenario"

    def as_dict(self) -> dict[str, Any]:
        """The fields as a plain dict."""
        return asdict(self)


DEFAULTS = ViewParams(
    scenario="archipelago",
    planner="olin",
    investment_share=None,
    loss_probability=None,
    misreport_share=0.0,
    seed=42,
)

_SHARE_BOUNDS = {
    "investment_share": (0.0, 1.0, False),  # sigma in [0, 1)
    "loss_probability": (0.0, 1.0, True),
    "misreport_share": (0.0, 1.0, True),
}


#: Fields where ``None`` means "the scenario's own value".
_OPTIONAL = frozenset({"investment_share", "loss_probability"})


def _seed(value: Any) -> int:
    if isinstance(value, bool):
        raise InvalidInputError(f"seed: {value!r} is not an integer")
    if isinstance(value, int):
        seed = value
    elif isinstance(value, float) and value.is_integer():
        seed = int(value)
    else:
        text = str(value).strip().replace("_", "")
        if not text:
            raise InvalidInputError("seed: empty; enter a whole number such as 42")
        try:
            seed = int(text, 10)
        except ValueError:
            raise InvalidInputError(f"seed: {value!r} is not a whole number") from None
    if not 0 <= seed <= MAX_SEED:
        raise InvalidInputError(f"seed: {seed} is outside 0..{MAX_SEED}")
    return seed


def _share(name: str, value: Any) -> float | None:
    low, high, closed = _SHARE_BOUNDS[name]
    if value is None and name in _OPTIONAL:
        return None
    if isinstance(value, bool):
        raise InvalidInputError(f"{name}: {value!r} is not a number")
    try:
        share = float(str(value).strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{name}: {value!r} is not a number") from None
    if not math.isfinite(share):
        raise InvalidInputError(f"{name}: {value!r} is not a finite number")
    if share < low or share > high or (not closed and share == high):
        bracket = "]" if closed else ")"
        raise InvalidInputError(f"{name}: {share:g} is outside [{low:g}, {high:g}{bracket}")
    return share


def _choice(name: str, value: Any, choices: Sequence[str] | None) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"{name}: {value!r} is not a name")
    value = value.strip()
    if choices is not None and value not in choices:
        raise InvalidInputError(f"{name}: {value!r} is not one of {', '.join(choices)}")
    return value


def _vocabulary(name: str, value: Any) -> str:
    """A strategy or defence text, checked and in canonical form."""
    from innatura.abm.adversarial.vocabulary import parse_defences, parse_strategy

    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"{name}: {value!r} is not a name")
    try:
        if name == "defence":
            chain = parse_defences(value)
            return "+".join(str(d) for d in chain) if chain else "none"
        return str(parse_strategy(value, kind="citizen" if name == "citizen_strategy" else "unit"))
    except InvalidInputError as exc:
        raise InvalidInputError(f"{name}: {exc}") from None


def _field(name: str, value: Any, scenarios: Sequence[str] | None, planners: Sequence[str] | None) -> Any:
    if name == "seed":
        return _seed(value)
    if name in ("citizen_strategy", "unit_strategy", "defence"):
        return _vocabulary(name, value)
    if name == "scenario":
        return _choice(name, value, scenarios)
    if name == "planner":
        return _choice(name, value, planners)
    if name == "plan":
        return _choice(name, value, PLANS)
    return _share(name, value)


def _check(
    raw: Mapping[str, Any],
    scenarios: Sequence[str] | None,
    planners: Sequence[str] | None,
    defaults: ViewParams,
) -> tuple[dict[str, Any], list[tuple[str, Any]]]:
    """Cast every field; bad ones take ``defaults``. Returns values and (message, default used)."""
    names = [f.name for f in fields(ViewParams)]
    problems: list[tuple[str, Any]] = [
        (f"{key}: not a model parameter (known: {', '.join(names)})", None) for key in raw if key not in names
    ]
    values = {}
    for name in names:
        fallback = getattr(defaults, name)
        if name not in raw:
            values[name] = fallback
            continue
        try:
            values[name] = _field(name, raw[name], scenarios, planners)
        except InvalidInputError as exc:
            problems.append((str(exc), fallback))
            values[name] = fallback
    return values, problems


def parse_params(
    raw: Mapping[str, Any],
    *,
    scenarios: Sequence[str] | None = None,
    planners: Sequence[str] | None = None,
) -> ViewParams:
    """Cast and check the page's values; missing fields take :data:`DEFAULTS`.

    Args:
        raw: field name -> value as the widget delivered it (the seed usually a string).
        scenarios: allowed scenario names (``None``: any non-empty name).
        planners: allowed planner names (``None``: any non-empty name).

    Raises:
        InvalidInputError: an unknown field, or a value of the wrong type or out of range;
            the message names the field and the value. All bad fields are listed.
    """
    values, problems = _check(raw, scenarios, planners, DEFAULTS)
    if problems:
        raise InvalidInputError("; ".join(message for message, _ in problems))
    return ViewParams(**values)


def validate_params(
    raw: Mapping[str, Any],
    *,
    scenarios: Sequence[str] | None = None,
    planners: Sequence[str] | None = None,
    defaults: ViewParams = DEFAULTS,
) -> tuple[ViewParams, tuple[str, ...]]:
    """Lenient :func:`parse_params`: bad fields take their default and yield a message.

    Returns:
        The parameters to build the model with, and one message per bad field (empty when
        everything was valid), each ending with the default used instead.
    """
    values, problems = _check(raw, scenarios, planners, defaults)
    errors = tuple(message if fallback is None else f"{message} (using {fallback!r})" for message, fallback in problems)
    if errors:
        logger.info("invalid view parameters: %s", "; ".join(errors))
    return ViewParams(**values), errors


def strategy_choices(kind: str) -> list[str]:
    """The names of the ``kind`` (``"citizen"`` or ``"unit"``) strategies, honest first."""
    from innatura.abm.adversarial.vocabulary import CITIZEN_STRATEGIES, UNIT_STRATEGIES

    return list(CITIZEN_STRATEGIES if kind == "citizen" else UNIT_STRATEGIES)


def defence_choices() -> list[str]:
    """``none``, every defence, and every pair of them in the vocabulary's order (``audit+robust``)."""
    from itertools import combinations

    from innatura.abm.adversarial.vocabulary import DEFENCES

    names = list(DEFENCES)
    return ["none", *names, *("+".join(pair) for pair in combinations(names, 2))]


def split_call(text: str) -> tuple[str, str]:
    """``("inflate", "factor=1.5")`` from ``"inflate(factor=1.5)"``; a chain of defences gives
    its names joined by ``+`` and the first one's parameters."""
    from innatura.abm.adversarial.base import split_top_level

    pieces = split_top_level(str(text), "+") or ["none"]
    names = [p.partition("(")[0].strip() for p in pieces]
    first = pieces[0]
    params = first[first.index("(") + 1:first.rindex(")")].strip() if "(" in first and first.endswith(")") else ""
    return "+".join(names), params


def compose(name: str, parameters: str) -> str:
    """The text form of a choice and its parameter field: ``compose("inflate", "2.0")`` is
    ``"inflate(2.0)"``; blank parameters, or a ``name`` that already has its own, leave it as
    it is; in a chain of defences the parameters go to the first (``"audit(0.5)+robust"``)."""
    from innatura.abm.adversarial.base import split_top_level

    text, extra = str(name).strip(), str(parameters or "").strip()
    if not extra or "(" in text:
        return text
    pieces = split_top_level(text, "+") or [text]
    return "+".join([f"{pieces[0]}({extra})", *pieces[1:]])


#: each selector's parameter field, and what it suggests.
PARAMETER_FIELDS = {"citizen_strategy": ("citizen_parameters", "2.0 or factor=2.0"),
                    "unit_strategy": ("unit_parameters", "1.3, ramp_days=5"),
                    "defence": ("defence_parameters", "probability=0.5")}


def _selector(label: str, choices: list[str], text: str, what: str) -> dict[str, dict[str, Any]]:
    """A select of ``choices`` and its parameter field, showing ``text``."""
    name, params = split_call(text)
    known = name in choices
    field, example = PARAMETER_FIELDS[what]
    return {
        what: {"type": "Select", "value": name if known else choices[0], "values": choices, "label": label},
        field: {"type": "InputText", "value": params if known else "",
                "label": f"{label}: parameters (e.g. {example}; blank: defaults)"},
    }


def model_params(
    scenarios: Sequence[str],
    planners: Sequence[str],
    defaults: ViewParams = DEFAULTS,
) -> dict[str, dict[str, Any]]:
    """The ``model_params`` of ``SolaraViz``: one widget per :class:`ViewParams` field.

    The dict keys are the keyword arguments of the view's model class
    (:class:`viz.view_model.EconomyView`); Reset builds a new model from them. Sliders need
    numbers: give ``defaults`` with the values the first model actually used.
    """
    scenario = defaults.scenario if defaults.scenario in scenarios else scenarios[0]
    planner = defaults.planner if defaults.planner in planners else planners[0]
    investment = 0.5 if defaults.investment_share is None else defaults.investment_share
    loss = 0.0 if defaults.loss_probability is None else defaults.loss_probability
    return {
        "scenario_name": {"type": "Select", "value": scenario, "values": list(scenarios), "label": "Scenario"},
        "planner": {"type": "Select", "value": planner, "values": list(planners), "label": "Planner method"},
        "plan": {"type": "Select", "value": defaults.plan, "values": list(PLANS),
                 "label": "Plan on"},
        "investment_share": {
            "type": "SliderFloat", "value": investment, "min": 0.0, "max": 0.95, "step": 0.01,
            "label": "Investment share",
        },
        "loss_probability": {
            "type": "SliderFloat", "value": loss, "min": 0.0, "max": 1.0, "step": 0.05,
            "label": "Loss probability (per day)",
        },
        "misreport_share": {
            "type": "SliderFloat", "value": defaults.misreport_share, "min": 0.0, "max": 1.0, "step": 0.05,
            "label": "Misreporting share",
        },
        "seed": {"type": "InputText", "value": str(defaults.seed), "label": "Seed (whole number)"},
        **_selector("Misreporting citizens", strategy_choices("citizen"), defaults.citizen_strategy,
                    "citizen_strategy"),
        **_selector("Misreporting units", strategy_choices("unit"), defaults.unit_strategy, "unit_strategy"),
        **_selector("Defence", defence_choices(), defaults.defence, "defence"),
    }
