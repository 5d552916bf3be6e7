"""Exceptions raised by the numerical core.

Every error carries enough context to act on: the goods, fields or values responsible.
"""

from __future__ import annotations

__all__ = [
    "ConvergenceError",
    "InfeasiblePlanError",
    "InnaturaError",
    "InputFileError",
    "InvalidInputError",
    "NonProductiveError",
    "OutputError",
]


class InnaturaError(Exception):
    """Base class of every error innatura raises on purpose."""


class InvalidInputError(InnaturaError, ValueError):
    """An array or parameter is malformed: wrong shape, NaN, negative where it must not be."""


class InputFileError(InvalidInputError):
    """An input file cannot be used: missing, not a regular file, too large, not UTF-8 text,
    malformed, or a field in it is invalid.

    The message reads ``PATH: FIELD: problem (got VALUE)``; ``FIELD`` and the value are left
    out when the problem is with the file as a whole.

    Attributes:
        path: the file, as given.
        field: the field inside the file (``weights[1][0]``, ``rho``), or ``None``.
        value: the offending value, when there is one.
        problem: the problem, without the location.
    """

    _NO_VALUE = object()

    def __init__(self, path: object, problem: str, *, field: str | None = None, value: object = _NO_VALUE):
        self.path = str(path)
        self.field = field
        self.problem = problem
        self.value = None if value is self._NO_VALUE else value
        where = self.path if field is None else f"{self.path}: {field}"
        shown = "" if value is self._NO_VALUE else f" (got {_short(value)})"
        super().__init__(f"{where}: {problem}{shown}")


class OutputError(InnaturaError):
    """A result file or folder cannot be written: the path is a file where a folder is needed
    (or the reverse), is not writable, or the disk is full. What was written before stays as
    it was (every write is atomic).

    Attributes:
        path: the file or folder.
        reason: why, e.g. ``No space left on device``.
    """

    def __init__(self, path: object, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: cannot write: {reason}")


def _short(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


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
