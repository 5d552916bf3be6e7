"""Small random regional economies for the regional plan's tests (drawn from a numpy Generator)."""

from __future__ import annotations

import numpy as np
from innatura.planner.curves import PowerLawInput
from innatura.planner.regional import InputUse, RegionalProblem


def random_problem(rng, n_final=4, n_ind=1, n_lab=2, regions=3, profiles=2, curves=False, sigma=0.2,
                   edge_capacity=True, targets=False, scarce=0.5, second_units=0.4):
    """A random, productive regional economy.

    Every produced good gets one or two units in random regions (some bounded), needs one
    labour type, a few final inputs (small constant coefficients) and perhaps a capital good;
    ``curves`` gives some units power-law input functions. Regions form a connected graph (a
    path plus random chords) with lossy edges, some capacitated. Stocks, labour and edge
    capacities are drawn around the day's need, ``scarce`` of the time well below it.
    """
    n = n_final + n_ind + n_lab
    kinds = ("final",) * n_final + ("industrial",) * n_ind + ("labour",) * n_lab
    goods = tuple(f"g{k}" for k in range(n))
    R = regions
    produced = np.arange(n_final + n_ind)
    unit_good, unit_region, cap = [], [], []
    for j in produced:
        for _ in range(1 + int(rng.random() < second_units)):
            unit_good.append(int(j))
            unit_region.append(int(rng.integers(R)))
            cap.append(float(rng.uniform(5, 40)) if rng.random() < 0.5 else np.inf)
    U = len(unit_good)
    e_unit, e_good, e_coef = [], [], []
    c_unit, c_good, c_fun = [], [], []
    for u in range(U):
        j = unit_good[u]
        e_unit.append(u)
        e_good.append(n_final + n_ind + int(rng.integers(n_lab)))
        e_coef.append(float(rng.uniform(0.2, 1.0)))
        for i in rng.choice(n_final, size=min(2, n_final), replace=False):
            if i == j:
                continue
            if curves and rng.random() < 0.5:
                c_unit.append(u)
                c_good.append(int(i))
                c_fun.append(PowerLawInput(float(rng.uniform(0.05, 0.2)), float(rng.uniform(0.8, 1.3))))
            else:
                e_unit.append(u)
                e_good.append(int(i))
                e_coef.append(float(rng.uniform(0.02, 0.2)))
        if n_ind and kinds[j] == "final" and rng.random() < 0.5:
            e_unit.append(u)
            e_good.append(n_final + int(rng.integers(n_ind)))
            e_coef.append(float(rng.uniform(0.05, 0.3)))
    inputs = InputUse(np.array(e_unit), np.array(e_good), np.array(e_coef), np.array(c_unit, dtype=np.int64),
                      np.array(c_good, dtype=np.int64), tuple(c_fun))
    bundles = np.zeros((n, profiles))
    for p in range(profiles):
        for i in rng.choice(n_final, size=min(2, n_final), replace=False):
            bundles[i, p] = float(rng.uniform(0.5, 2.0))
    demand = rng.integers(0, 10, size=(R, profiles)).astype(float)
    need = demand @ bundles.T  # (R, n)
    low = rng.random() < scarce
    stocks = np.zeros((R, n))
    stocks[:, : n_final] = rng.uniform(0, 0.6 if low else 2.0, size=(R, n_final)) * (need[:, :n_final].sum() / R + 1.0)
    stocks[:, n_final:n_final + n_ind] = rng.uniform(0, 10, size=(R, n_ind))
    labour = np.zeros((R, n))
    labour[:, n_final + n_ind:] = rng.uniform(0, 8 if low else 40, size=(R, n_lab))
    src, dst = [], []
    pairs = {(k, k + 1) for k in range(R - 1)}
    for _ in range(R // 2):
        a, b = sorted(rng.choice(R, size=2, replace=False).tolist())
        pairs.add((a, b))
    for a, b in sorted(pairs):
        src += [a, b]
        dst += [b, a]
    D = len(src)
    ecap = np.where(rng.random(D) < (0.5 if edge_capacity else 0.0), rng.uniform(1, 15, D), np.inf)
    loss = rng.uniform(0.0, 0.15, D)
    target = np.zeros((R, n))
    if targets:
        target[:, :n_final] = rng.uniform(0, 1.0, size=(R, n_final)) * need[:, :n_final]
    return RegionalProblem(
        goods=goods, kinds=kinds, regions=tuple(f"r{k}" for k in range(R)),
        profiles=tuple(f"p{k}" for k in range(profiles)), bundles=bundles, demand=demand, stocks=stocks,
        labour=labour, unit_good=np.array(unit_good), unit_region=np.array(unit_region), unit_capacity=np.array(cap),
        inputs=inputs, edge_src=np.array(src), edge_dst=np.array(dst), edge_capacity=ecap, edge_loss=loss,
        investment_share=sigma, closing_target=target,
    )


def flour_mill(flour_in_a=4.0, cap_ab=np.inf, **timing):
    """A mill in A, a bakery in B (one flour and one labour per loaf), flour in stock only in A:
    B's bakery can only have the flour A ships in the morning (10 % lost); ``timing``: the
    problem's ``timing`` and ``layers``."""
    goods, kinds = ("flour", "bread", "Lb"), ("final", "final", "labour")
    inputs = InputUse(unit=[0, 1, 1], good=[2, 0, 2], coefficient=[1.0, 1.0, 1.0])
    return RegionalProblem(
        goods, kinds, ("A", "B"), ("p",), bundles=[[0.0], [1.0], [0.0]], demand=[[0.0], [10.0]],
        stocks=[[flour_in_a, 0, 0], [0, 0, 0]], labour=[[0, 0, 100], [0, 0, 100]], unit_good=[0, 1],
        unit_region=[0, 1], unit_capacity=[np.inf, np.inf], inputs=inputs, edge_src=[0, 1], edge_dst=[1, 0],
        edge_capacity=[cap_ab, np.inf], edge_loss=[0.1, 0.1], **timing,
    )
