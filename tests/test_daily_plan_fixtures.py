"""Economies shared by the daily-plan and nonlinear tests (built by hand from the papers)."""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
from innatura.planner.curves import PowerLawInput, StackedCurve
from innatura.planner.economy import CurveCell, Economy

CAPS = (500.0, 500.0, math.inf)


def selviaria(curves: bool = True) -> Economy:
    """OLIN-EP Table 1 (Selviaria): Lucloelium, Vorpal Pick +1, T-ring and their labour rows."""
    goods = ("Lucloelium", "Vorpal Pick +1", "T-ring", "Lb(Lucloelium)", "Lb(Vorpal Pick +1)", "Lb(T-ring)")
    kinds = ("final", "industrial", "final", "labour", "labour", "labour")
    A = np.zeros((6, 6))
    A[0, 0], A[0, 2], A[1, 0] = 0.001, 1.0, 0.5
    A[3, 0], A[4, 1], A[5, 2] = 0.001, 0.012, 0.001
    cells = ()
    if curves:
        f01 = StackedCurve(CAPS, (PowerLawInput(0.002, 1), PowerLawInput(0.01, 0.5), PowerLawInput(1e-6, 2)))
        f11 = StackedCurve(CAPS, (PowerLawInput(0.003, 1), PowerLawInput(0.005, 1), PowerLawInput(0.001, 1)))
        cells = (CurveCell(0, 1, f01), CurveCell(1, 1, f11))
    else:
        A[0, 1], A[1, 1] = 0.002, 0.003
    B = np.zeros((6, 2))
    B[0], B[2] = (3.0, 2.0), (0.1, 0.2)
    return Economy(goods, kinds, sp.csr_matrix(A), ("Profile 0", "Profile 1"), B, np.array([800.0, 500.0]),
                   curves=cells, externality_weights=np.array([1.0, 2.0, 0.5, 0, 0, 0]))


def selviaria_state():
    """Initial stocks and labour of Selviaria (OLIN-EP workshop village, scenarios/builtin/selviaria.toml)."""
    stocks = np.array([2.0, 5.0, 100000.0, 0.0, 0.0, 0.0])
    labour = np.array([0.0, 0.0, 0.0, 100000.0, 700000.0, 700000.0])
    return stocks, labour


def random_plan_economy(rng: np.random.Generator, n_final: int, n_ind: int, n_lab: int, m: int, density=0.4):
    """A random small economy with every kind of good, plus stocks, labour and capacities."""
    n = n_final + n_ind + n_lab
    kinds = ("final",) * n_final + ("industrial",) * n_ind + ("labour",) * n_lab
    A = np.zeros((n, n))
    prod = slice(0, n_final + n_ind)
    block = rng.random((n_final + n_ind, n_final + n_ind)) * (rng.random((n_final + n_ind,) * 2) < density)
    A[prod, prod] = 0.3 * block / max(1.0, block.sum(axis=0).max())
    if n_lab:
        A[n_final + n_ind:, prod] = rng.random((n_lab, n_final + n_ind)) * 0.05
    B = np.zeros((n, m))
    B[:n_final] = rng.random((n_final, m)) * 3 * (rng.random((n_final, m)) < 0.8)
    pop = rng.integers(1, 100, size=m).astype(float)
    e = Economy(tuple(f"g{i}" for i in range(n)), kinds, sp.csr_matrix(A), tuple(f"p{j}" for j in range(m)), B, pop)
    is_lab = np.array(kinds) == "labour"
    stocks = np.where(is_lab, 0.0, rng.random(n) * 50)
    labour = np.where(is_lab, rng.random(n) * 20, 0.0)
    capacity = np.where(is_lab, 0.0, rng.random(n) * 200 + 1)
    return e, stocks, labour, capacity


def test_fixtures_are_valid_economies():
    e = selviaria()
    assert e.n_goods == 6 and e.n_profiles == 2
    assert e.demand()[0] == 3 * 800 + 2 * 500
    e2, s, L, c = random_plan_economy(np.random.default_rng(0), 3, 2, 1, 2)
    assert e2.n_goods == 6 and s.shape == L.shape == c.shape == (6,)
