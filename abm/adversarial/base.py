"""What every reporting strategy shares: parameters as a frozen dataclass, a stable key, and
registration in the model's strategy tables (:data:`abm.reporting.CITIZEN_STRATEGIES`,
:data:`abm.reporting.UNIT_STRATEGIES`).

A strategy is called once a night with a :class:`abm.reporting.StrategyContext` holding every
agent that uses it, and answers for all of them at once (vectorised). The model gives each
agent one parameter (``ctx.param``): a strategy's *primary* parameter (``Strategy.primary``)
travels that way, so agents on one strategy may differ in it; the other fields are shared.

Registering a strategy puts it in the table under its :attr:`Strategy.key` (its name and
parameters), so the same key always means the same strategy in every process, and the model
refers to it by that key::

    key, param = Inflate(factor=1.5).model_args()   # registers, returns ("inflate(factor=1.5)", 1.5)
    PlanningEconomy("selviaria", misreport_share=0.2, citizen_misreport=(key, param))
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, fields
from typing import ClassVar

import numpy as np
from innatura.abm.reporting import CITIZEN_STRATEGIES, UNIT_STRATEGIES, StrategyContext
from innatura.planner.errors import InvalidInputError

__all__ = ["Strategy", "check_positive", "register"]

logger = logging.getLogger(__name__)


def check_positive(owner: str, name: str, value: float, *, low: float = 0.0, high: float = np.inf,
                   closed_low: bool = False) -> None:
    """Raise :class:`InvalidInputError` naming ``owner.name`` unless ``value`` is finite and in range."""
    ok = np.isfinite(value) and (value >= low if closed_low else value > low) and value <= high
    if not ok:
        bound = f"{'[' if closed_low else '('}{low}, {high}]"
        raise InvalidInputError(f"{owner}: {name} must be in {bound}, got {value!r}")


@dataclass(frozen=True)
class Strategy:
    """Base of the named reporting strategies (subclasses are frozen dataclasses).

    Class attributes:
        name: the strategy's name (``"inflate"``).
        kind: ``"citizen"`` (answers demand factors ``(k,)``) or ``"unit"`` (answers
            ``(input factors (k,), capacity factors (k,))``).
        primary: the field whose value the model hands each agent as ``ctx.param``.
    """

    name: ClassVar[str] = ""
    kind: ClassVar[str] = ""
    primary: ClassVar[str] = ""

    def __call__(self, ctx: StrategyContext):
        raise NotImplementedError

    @property
    def key(self) -> str:
        """``name(field=value,...)``; a non-scalar field is shown by a short hash of its value."""
        parts = []
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, tuple):
                v = "#" + hashlib.sha256(repr(v).encode()).hexdigest()[:10]
            parts.append(f"{f.name}={v}")
        return f"{self.name}({','.join(parts)})"

    def model_args(self) -> tuple[str, float]:
        """Register the strategy and return ``(key, primary parameter)`` for the model's
        ``citizen_misreport`` / ``unit_misreport`` arguments."""
        return register(self), float(getattr(self, self.primary))


def register(strategy: Strategy) -> str:
    """Put ``strategy`` in its table under its key (idempotent) and return the key."""
    table = {"citizen": CITIZEN_STRATEGIES, "unit": UNIT_STRATEGIES}.get(strategy.kind)
    if table is None:
        raise InvalidInputError(f"strategy {strategy!r}: kind must be 'citizen' or 'unit'")
    key = strategy.key
    have = table.get(key)
    if have is not None and have != strategy:
        raise InvalidInputError(f"strategy key {key!r} is taken by a different strategy")
    table[key] = strategy
    return key
