"""The model class the page drives: a thin Mesa model around one :class:`abm.model.PlanningEconomy`.

Mesa's page builds a new model with ``type(model)(**model_params)`` when Reset is pressed,
passing the widgets' values as they come (the seed as text). :class:`EconomyView` takes those
values, validates them (:mod:`viz.params`), builds the economy, and keeps any problem as a
message instead of raising: a bad seed, an unknown scenario or a failing day show up in the
page and the server keeps serving. It only reads the economy; it never changes its logic.

The keyword ``scenario`` is Mesa's: Mesa >= 3.5 gives ``Model.__init__`` a ``scenario``
argument of its own (a ``mesa.experimental.scenarios.Scenario``) and fills it on Reset, so the
view takes it and leaves it unused, and calls its own choice ``scenario_name``.
"""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from typing import Any

import mesa
import pandas as pd
from innatura.abm import region_map
from innatura.planner.errors import InnaturaError
from innatura.viz.params import DEFAULTS, PARAMETER_FIELDS, ViewParams, compose, validate_params

__all__ = ["EconomyView", "available_planners", "available_scenarios", "build_economy"]

logger = logging.getLogger(__name__)

#: Same name as ``innatura.cli.viz.SCENARIO_ENV``: the scenario the command was given.
SCENARIO_ENV = "INNATURA_VIZ_SCENARIO"


def available_scenarios() -> list[str]:
    """Names of the registered scenarios, the default first; a scenario file given to
    ``innatura viz FILE.toml`` (``$INNATURA_VIZ_SCENARIO``) comes before them."""
    from innatura import scenarios

    names = list(scenarios.names())
    if DEFAULTS.scenario in names:
        names.remove(DEFAULTS.scenario)
        names.insert(0, DEFAULTS.scenario)
    given = os.environ.get(SCENARIO_ENV)
    if given and given not in names:
        names.insert(0, given)
    return names


def available_planners() -> list[str]:
    """Planning methods the agent model accepts (:data:`abm.planning.METHODS`), ``olin`` first."""
    from innatura.abm.planning import METHODS

    return sorted(METHODS, key=lambda name: (name != DEFAULTS.planner, name))


def build_economy(params: ViewParams) -> mesa.Model:
    """Build the agent model for ``params`` (the one place the view calls the model's constructor).

    ``investment_share`` or ``loss_probability`` left ``None`` take the scenario's own values.
    """
    from innatura.abm.model import PlanningEconomy

    return PlanningEconomy(
        params.scenario,
        rng=params.seed,
        planner=params.planner,
        investment_share=params.investment_share,
        noise=params.loss_probability,
        misreport_share=params.misreport_share,
        citizen_strategy=params.citizen_strategy,
        unit_strategy=params.unit_strategy,
        defences=params.defence,
        plan=None if params.plan == "scenario" else params.plan,
    )


class EconomyView(mesa.Model):
    """A Mesa model that owns one economy, steps it one day at a time and reports problems.

    Args:
        scenario_name: registered scenario.
        planner: planning method.
        investment_share: investment share sigma, in [0, 1); ``None``: the scenario's.
        loss_probability: daily chance of a stochastic inventory loss, in [0, 1]; ``None``:
            the scenario's own loss setting.
        misreport_share: share of misreporting agents, in [0, 1].
        seed: seed, as text or integer.
        citizen_strategy, unit_strategy, defence: how misreporting agents report and the
            defences: a name of the vocabulary (``"inflate"``, ``"audit+robust"``) or a whole
            text (``"inflate(1.5)"``).
        plan: what the night plans on: ``"national"``, ``"regional"`` or ``"scenario"`` (its
            own choice; :data:`viz.params.PLANS`).
        **kwargs: ``citizen_parameters``, ``unit_parameters``, ``defence_parameters``: the
            parameters of a choice given by name (``"2.0"``, ``"factor=2.0"``; for a chain of
            defences, of the first); blank: its defaults (:func:`viz.params.compose`). And
            ``scenario``, what Mesa >= 3.5 passes on Reset (a
            ``mesa.experimental.scenarios.Scenario``): not used, the economy is chosen by
            ``scenario_name``.

    Attributes:
        params: the validated parameters actually used.
        errors: messages for the page: invalid fields (with the default used instead), a
            failure to build the economy, or a failed day (the view then stops running).
        economy: the agent model, or ``None`` when it could not be built.
    """

    def __init__(
        self,
        scenario_name: str = DEFAULTS.scenario,
        planner: str = DEFAULTS.planner,
        investment_share: float | None = DEFAULTS.investment_share,
        loss_probability: float | None = DEFAULTS.loss_probability,
        misreport_share: float = DEFAULTS.misreport_share,
        seed: str | int = DEFAULTS.seed,
        citizen_strategy: str = DEFAULTS.citizen_strategy,
        unit_strategy: str = DEFAULTS.unit_strategy,
        defence: str = DEFAULTS.defence,
        plan: str = DEFAULTS.plan,
        **kwargs: Any,
    ) -> None:
        kwargs.pop("scenario", None)  # Mesa's own scenario object (Mesa >= 3.5 passes one on Reset)
        fields = {field for field, _ in PARAMETER_FIELDS.values()}
        errors: list[str] = [f"{key}: not a model parameter (known: {', '.join(sorted(fields))})"
                             for key in kwargs if key not in fields]
        citizen_parameters, unit_parameters, defence_parameters = (
            kwargs.get(PARAMETER_FIELDS[k][0], "") for k in ("citizen_strategy", "unit_strategy", "defence"))
        raw = {
            "scenario": scenario_name,
            "planner": planner,
            "investment_share": investment_share,
            "loss_probability": loss_probability,
            "misreport_share": misreport_share,
            "seed": seed,
            "citizen_strategy": compose(citizen_strategy, citizen_parameters),
            "unit_strategy": compose(unit_strategy, unit_parameters),
            "defence": compose(defence, defence_parameters),
            "plan": plan,
        }
        try:
            choices: dict[str, Any] = {"scenarios": available_scenarios(), "planners": available_planners()}
        except (ImportError, AttributeError) as exc:  # an install without the registry
            choices = {}
            errors.append(f"could not list scenarios or planners: {exc}")
        params, invalid = validate_params(raw, **choices)
        errors.extend(invalid)
        super().__init__(rng=params.seed)
        self.params = params
        self._positions: dict | None = None
        self.economy: mesa.Model | None = None
        try:
            self.economy = build_economy(params)
        except InnaturaError as exc:
            errors.append(f"could not build scenario {params.scenario!r}: {exc}")
            self.running = False
        self.errors: list[str] = errors
        if errors:
            logger.warning("view model: %s", "; ".join(errors))

    def step(self) -> None:
        """Advance the economy by one day; a failure stops the view and becomes a message."""
        if self.economy is None or not self.running:
            self.running = False
            return
        try:
            self.economy.step()
        except InnaturaError as exc:
            self.errors.append(f"day {self.day + 1} failed: {exc}")
            self.running = False
            return
        self.running = bool(getattr(self.economy, "running", True))

    def effective_params(self) -> ViewParams:
        """:attr:`params` with the scenario's own investment share and loss probability filled in."""
        economy = self.economy
        if economy is None:
            return self.params
        investment = float(getattr(economy, "investment_share", self.params.investment_share or 0.0))
        loss = self.params.loss_probability
        if loss is None:
            layout = economy.layout
            events = layout.loss_events if getattr(layout, "losses_enabled", False) else ()
            loss = max((float(ev.probability) for ev in events), default=0.0)
        return replace(self.params, investment_share=investment, loss_probability=loss)

    def region_positions(self) -> dict | None:
        """Positions of the region graph's nodes, laid out once (the graph never changes)."""
        if self._positions is None and self.economy is not None:
            self._positions = region_map.region_positions(self.economy.layout.graph)
        return self._positions

    @property
    def day(self) -> int:
        """Days the economy has simulated (0 before the first step)."""
        return int(getattr(self.economy, "day", 0)) if self.economy is not None else 0

    def frame(self) -> pd.DataFrame:
        """The economy's model-level rows (``docs/model.md``), one per simulated day."""
        if self.economy is None:
            return pd.DataFrame()
        return self.economy.model_frame()
