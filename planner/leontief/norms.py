"""Euclidean norms without BLAS.

numpy's ``norm`` and ``dot`` call multithreaded BLAS for long vectors; on an oversubscribed
machine its threads wait for cores and a norm of 10^4 entries can take milliseconds instead of
microseconds. ``einsum`` without ``optimize`` runs numpy's own loops, in the calling thread.
"""

from __future__ import annotations

import numpy as np

__all__ = ["column_norms", "dot", "norm"]


def column_norms(v: np.ndarray) -> np.ndarray | float:
    """2-norm of a vector (a float), or of each column of a matrix (an array)."""
    if v.ndim == 1:
        return float(np.sqrt(np.einsum("i,i->", v, v)))
    return np.sqrt(np.einsum("ij,ij->j", v, v))


def norm(v: np.ndarray) -> float:
    """2-norm of a vector."""
    return float(np.sqrt(np.einsum("i,i->", v, v)))


def dot(a: np.ndarray, b: np.ndarray) -> float:
    """Inner product of two vectors."""
    return float(np.einsum("i,i->", a, b))
