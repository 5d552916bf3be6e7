"""The fast constructions of a unit's reported input functions equal the checked ones to the last bit."""

import numpy as np
import pytest
from innatura.abm.active_learning import SampledInput, UnitSamples, summed_use
from innatura.planner.errors import InvalidInputError


def _samples(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    qs = np.unique(rng.uniform(0.01, 100.0, int(rng.integers(1, 10))))
    values = rng.uniform(0.0, 5.0, (qs.size, int(rng.integers(1, 12))))
    values[rng.uniform(size=values.shape) < 0.15] = 0.0  # zero samples: the tail's line
    return qs, values


def _same(a: SampledInput, b: SampledInput, q: np.ndarray) -> bool:
    return (a == b and np.array_equal(a(q), b(q)) and np.array_equal(a.derivative(q), b.derivative(q))
            and a.knots()[2] == b.knots()[2])


def test_columns_and_with_factor_equal_the_constructor_to_the_last_bit() -> None:
    rng = np.random.default_rng(3)
    q = np.concatenate([rng.uniform(0.0, 150.0, 50), [0.0, 1e-9]])
    for _ in range(200):
        qs, values = _samples(rng)
        factor = float(rng.uniform(0.5, 3.0))
        fast = UnitSamples(qs, values).fitted(factor)
        slow = [SampledInput(tuple(qs), tuple(values[:, j]), factor) for j in range(values.shape[1])]
        assert all(_same(a, b, q) for a, b in zip(fast, slow, strict=True))
        s = float(rng.uniform(0.3, 3.0))
        assert all(_same(a.with_factor(s), SampledInput(a.qs, a.values, s), q) for a in fast)
        for x in [*qs.tolist(), *rng.uniform(1e-6, 130.0, 6).tolist()]:
            assert summed_use(fast, x) == sum(float(g(x)) for g in slow)


def test_columns_reject_what_the_constructor_rejects() -> None:
    with pytest.raises(InvalidInputError, match="strictly increasing"):
        SampledInput.columns(np.array([2.0, 1.0]), np.ones((2, 3)))
    with pytest.raises(InvalidInputError, match="finite"):
        SampledInput.columns(np.array([1.0, 2.0]), np.array([[1.0], [-1.0]]))
    with pytest.raises(InvalidInputError, match="finite"):
        SampledInput.columns(np.array([1.0]), np.ones((1, 1))).pop().with_factor(float("nan"))
