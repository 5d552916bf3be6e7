"""The innatura browser view: ``solara run viz/app.py`` (or ``innatura viz``) serves ``page``.

The model shown first is built when this module is imported, from the scenario named by the
``INNATURA_VIZ_SCENARIO`` environment variable (set by ``innatura viz SCENARIO``) or the
default; every browser session shares it until that session presses Reset, which builds a
new model from the parameters in the sidebar.
"""

from __future__ import annotations

import logging
import os

from innatura.viz.components import COMPONENTS
from innatura.viz.params import DEFAULTS, model_params
from innatura.viz.view_model import EconomyView, available_planners, available_scenarios
from mesa.visualization import SolaraViz

__all__ = ["model", "page"]

logger = logging.getLogger(__name__)

#: Same name as ``abm.cli.viz.SCENARIO_ENV`` (viz may import abm, but the page stays light).
SCENARIO_ENV = "INNATURA_VIZ_SCENARIO"

_scenario = os.environ.get(SCENARIO_ENV) or DEFAULTS.scenario
model = EconomyView(scenario_name=_scenario)
try:
    _scenarios, _planners = available_scenarios(), available_planners()
except (ImportError, AttributeError):
    _scenarios, _planners = [model.params.scenario], [model.params.planner]

page = SolaraViz(
    model,
    components=COMPONENTS,
    model_params=model_params(_scenarios, _planners, defaults=model.effective_params()),
    name="innatura: planning in natura",
    play_interval=150,
)
