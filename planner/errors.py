"""Exceptions raised by the numerical core.

Every error carries enough context to act on: the goods, fields or values responsible.
"""

from __future__ import annotations

__all__ = [
    "ConvergenceError",
    "InfeasiblePlanError",
    "InnaturaError",
    "InvalidInputError",
    "NonProductiveError",
]


class InnaturaError(Exception):
    """Base class of every error innatura raises on purpose."""


class InvalidInputError(InnaturaError, ValueError):
    """An array or parameter is malformed: wrong shape, NaN, negative where it must not be."""


class NonProductiveError(InnaturaError):
    """The economy cannot produce a positive net output: ``I - A`` has no non-negative inverse.

    Attributes:
        goods: names (or indices, as strings) of the goods responsible, e.g. the members of the
            strongly connected block whose spectral radius is >= 1.
        spectral_radius: the spectral radius found, when computed.
    """

    def __init__(self, message: str, goods: tuple[str, ...] = (), spectral_radius: float | None = None):
        super().__init__(message)
        self.goods = tuple(goods)
        self.spectral_radius = spectral_radius


class ConvergenceError(InnaturaError):
    """An iterative method stopped without reaching its tolerance.

    Attributes:
        iterations: iterations performed.
        residual: the last relative residual.
    """

    def __init__(self, message: str, iterations: int = 0, residual: float = float("nan")):
        super().__init__(message)
        self.iterations = iterations
        self.residual = residual


class InfeasiblePlanError(InnaturaError):
    """A planning problem has no feasible point (e.g. negative stocks were passed)."""
