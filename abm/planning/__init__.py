"""Planning methods of the central planner: what turns a night's reports into a plan.

A planning method is any object with a ``name`` and ``plan(inputs) -> PlanDecision``
(:class:`PlanningMethod`, :mod:`.base`). The methods that ship, one module each:

* ``"olin"`` (:mod:`.olin`): OLIN-EP's bounded daily plan;
* ``"learned"`` (:mod:`.learned`): a trained planner: on any economy, the input-output plan on
  reports de-biased by type inference with a learned investment share and region priorities
  (:mod:`.learned_io`); on the five-regions economy, the VAE/GNN/policy planner;
* ``"oracle"`` (:mod:`.learned_io`): the input-output plan on the units' true curves (a
  study's upper line);
* ``"exchange"`` (:mod:`.exchange`): OLIN-EP production, allocation by a competitive
  equilibrium after redistribution.

:data:`METHODS` is a plain table, name -> ``"module:attribute"`` of the method's class (or any
callable that returns a method); :func:`make_method` imports the module on first use, so
importing this package loads no solver and registers nothing. A new method joins the model by
one entry, made by whoever uses it::

    from innatura.abm.planning import METHODS
    METHODS["greedy"] = "mypackage.greedy:GreedyMethod"
    PlanningEconomy("selviaria", planner="greedy")
"""

from __future__ import annotations

import importlib
import inspect
import logging
from collections.abc import Callable
from typing import Any

from innatura.abm.planning.base import PlanDecision, PlanningInputs, PlanningMethod, StatefulMethod, check_state
from innatura.abm.planning.dispatch import dispatch_targets
from innatura.planner.errors import InvalidInputError

__all__ = [
    "METHODS",
    "PlanDecision",
    "PlanningInputs",
    "PlanningMethod",
    "StatefulMethod",
    "check_options",
    "check_state",
    "dispatch_targets",
    "make_method",
]

logger = logging.getLogger(__name__)

#: planning method name -> its factory: ``"module:attribute"`` (imported on first use) or a
#: callable; called with the model's ``planner_options`` as keyword arguments.
METHODS: dict[str, str | Callable[..., PlanningMethod]] = {
    "olin": "innatura.abm.planning.olin:OlinMethod",
    "learned": "innatura.abm.planning.learned:LearnedMethod",
    "exchange": "innatura.abm.planning.exchange:ExchangeMethod",
    "oracle": "innatura.abm.planning.learned_io:OracleMethod",
}


def make_method(name: str, **options: Any) -> PlanningMethod:
    """Build the planning method called ``name`` with ``options``.

    Raises:
        InvalidInputError: ``name`` is not in :data:`METHODS` (the message lists the known names),
            or ``options`` do not fit its factory (:func:`check_options`).
    """
    if name not in METHODS:
        raise InvalidInputError(f"planner {name!r} is unknown; known: {sorted(METHODS)}")
    factory = METHODS[name]
    if isinstance(factory, str):
        module, _, attr = factory.partition(":")
        factory = getattr(importlib.import_module(module), attr)
    check_options(name, factory, options)
    return factory(**options)


def check_options(name: str, factory: Callable[..., PlanningMethod], options: dict[str, Any]) -> None:
    """Raise :class:`InvalidInputError` unless ``options`` fit the factory's parameters: a
    required option missing (``--planner learned`` without ``--model``) or an unknown one."""
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):  # a builtin without a signature: let it check for itself
        return
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    named = {k: p for k, p in params.items() if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                                            inspect.Parameter.KEYWORD_ONLY)}
    unknown = sorted(set(options) - set(named))
    if unknown:
        known = sorted(named) or "none"
        raise InvalidInputError(f"planner {name!r}: unknown option {unknown[0]!r}; its options: {known}")
    missing = [k for k, p in named.items() if p.default is inspect.Parameter.empty and k not in options]
    if missing:
        hint = " (innatura run --model DIR, or --planner-option learned:model=DIR)" if missing[0] == "model" else ""
        raise InvalidInputError(f"planner {name!r}: needs the option {missing[0]!r}{hint}")
