"""The decomposed regional plan's investment stage (stage 2): closing targets, then capital growth.

On top of the consumption stage's fulfilment, with the units' full capacity (within what the
regions can supply), the stage keeps the closing targets (:func:`fill_targets`), then grows
capital good by good (:func:`fill_growth`), then keeps, with what is left, the closing stocks
beyond today's targets, in the exact plan's order (``docs/model.md``, "The regional plan").
Both are progressive fillings (:func:`~innatura.planner.regional.filling.water_fill`): the
targets or goods a round's bottleneck holds keep their level and the others rise on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import numpy as np
from innatura.planner.errors import InvalidInputError
from innatura.planner.regional.filling import spread, users, water_fill
from innatura.planner.regional.fixed_point import FEASIBLE, Bottleneck, Evaluator, Point, Strategy, describe
from innatura.planner.regional.problem import RegionalProblem
from innatura.planner.regional.routing import Routes

__all__ = ["RELIEF_ROUNDS", "STAGE2_TOL", "Consumption", "fill_growth", "fill_targets", "invest", "relief"]

logger = logging.getLogger(__name__)

#: rounds of re-planning growth with the units that stop it capped (:func:`_relieved`)
RELIEF_ROUNDS = 2
#: tolerance of the investment stage's searches (share of their range): the stage's
#: objectives are shares of targets and growth rates, not fulfilment
STAGE2_TOL = 1e-3


@dataclass(frozen=True, eq=False)
class Consumption:
    """What the investment stage builds on: the consumption stage's fulfilment ``t`` per region
    and profile ``(R, m)``, its plan ``point`` and dispatch ``strategy``, and ``keep``, its
    closing stocks ``(R, n)`` (kept when the investment stage cannot carry it)."""

    t: np.ndarray
    point: Point
    strategy: Strategy
    keep: np.ndarray


def _growable(p: RegionalProblem, use: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Capital goods with a unit that has capacity left and every labour input it needs still
    available in its region, and every capital input in the nation (capital is shipped in the
    morning to the regions whose units need it; where the regions have no edges, in its region)."""
    capital = p.stocks - use
    if p.n_edges:
        capital = np.broadcast_to(capital.sum(axis=0, keepdims=True), capital.shape)
    left = np.where(p.labour_mask[None, :], p.labour - use, np.where(p.industrial[None, :], capital, 1.0))
    inp = p.inputs
    blocked_entry = (left[p.unit_region[inp.unit], inp.good] <= 0) & ~p.final[inp.good] & (inp.coefficient > 0)
    blocked = np.zeros(p.n_units, dtype=bool)
    blocked[inp.unit[blocked_entry]] = True
    ok_unit = p.industrial[p.unit_good] & ~blocked & (p.unit_capacity > q)
    grow = np.zeros(p.n_goods, dtype=bool)
    grow[p.unit_good[ok_unit]] = True
    return grow


def _theta_high(ev: Evaluator, t: float | np.ndarray, targets: np.ndarray, grow_at) -> float:  # noqa: ANN001
    """An upper end of the growth searches: ``u`` at which ``grow_at(u)`` (capital growth per
    good, rising in ``u``) reaches some rising good's total unit capacity, or (no capacity)
    twice the last doubling of ``u`` that still fits."""
    p = ev.problem
    cap = np.bincount(p.unit_good, p.unit_capacity, minlength=p.n_goods)
    rate = grow_at(1.0) - grow_at(0.0)  # growth per unit of u of the rising goods
    rising = rate > 0
    hi = float(np.min((cap[rising] - grow_at(0.0)[rising]) / rate[rising], initial=np.inf))
    if np.isfinite(hi):
        return max(hi, 0.0)
    hi = 1.0
    while ev.evaluate(t, targets, grow_at(2 * hi)).excess <= FEASIBLE:
        hi *= 2.0
        if hi > 1e12:
            raise InvalidInputError("regional plan: capital goods can grow without limit; give their units a "
                                    "capacity or a labour or capital input")
    return 2.0 * hi


def made_with(p: RegionalProblem, good: int, region: int) -> np.ndarray:
    """The goods whose units in ``region`` use ``good``, ``(n,)`` boolean."""
    inp = p.inputs
    entry = np.concatenate([(inp.good == good) & (inp.coefficient > 0), inp.curve_good == good])
    unit = np.concatenate([inp.unit, inp.curve_unit])[entry]
    unit = unit[p.unit_region[unit] == region]
    out = np.zeros(p.n_goods, dtype=bool)
    out[p.unit_good[unit]] = True
    return out


def _grows_with(p: RegionalProblem, b: Bottleneck | None, depth: int) -> np.ndarray:
    """The capital goods whose growth a bottleneck of the growth search holds, ``(n,)``: a good's
    capacity holds that good (then, deeper, the goods made with it); a region's labour, capital,
    input on hand of a good hold the capital goods whose units in that region use it (depth 0),
    then those made with it anywhere, directly or through ``depth - 1`` goods; a region's
    deliveries of a good (what transport brings there competes with every region's use) hold
    the capital goods made with it anywhere from the start."""
    if b is None or b.kind == "productivity":
        return p.industrial.copy()
    if b.kind == "capacity":
        return p.industrial & users(p, b.good, depth)
    if depth == 0 and b.region >= 0 and b.kind != "deliveries":
        return p.industrial & made_with(p, b.good, b.region)
    return p.industrial & users(p, b.good, depth + 1)


def fill_growth(ev: Evaluator, t: float | np.ndarray, kept: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Capital growth per good, ``(n,)``: ``theta_k * weight_k`` (``weight_k = S_k + 1`` for the
    goods that can grow, 0 otherwise) by progressive filling. The growing goods' ``theta`` rise
    together until a bound stops them; the goods the bound holds (:func:`_grows_with`) keep
    their level and the others rise on. So a capital good its units' regions cannot make (short
    of labour or of a capital input) does not hold back the growth of the others, as one
    balanced ``theta`` over all of them would."""
    p = ev.problem
    cap = np.bincount(p.unit_good, p.unit_capacity, minlength=p.n_goods)

    def held(b: Bottleneck | None, free: np.ndarray, theta: np.ndarray) -> np.ndarray:
        if b is None:  # the search's upper end: the goods there are at their units' capacity
            return free & (theta * weight >= cap * (1.0 - 1e-9))
        return spread(lambda d: _grows_with(p, b, d), free)

    theta = water_fill(
        np.zeros(weight.shape), (weight <= 0) | (cap <= 0), lambda th: ev.evaluate(t, kept, th * weight), held,
        share=False, high=lambda at: _theta_high(ev, t, kept, lambda u: at(u) * weight), tol=STAGE2_TOL)
    return theta * weight


def relief(p: RegionalProblem, pt: Point, caps: np.ndarray, floor: np.ndarray, which: np.ndarray) -> np.ndarray | None:
    """Caps of the units (among ``which``) in regions that the plan ``pt`` over-asks of labour,
    capital or an input on hand: each such unit's output times what is available over what is
    asked, at least ``floor`` (``None``: no unit over-asks)."""
    over = pt.use > pt.available * (1 + 1e-9) + 1e-12
    ratio = np.where(over, np.divide(pt.available, pt.use, out=np.ones_like(pt.use), where=over), 1.0)
    inp = p.inputs
    cut = np.ones(p.n_units)
    for unit, good in ((inp.unit, inp.good), (inp.curve_unit, inp.curve_good)):
        np.minimum.at(cut, unit, ratio[p.unit_region[unit], good])
    cut = np.where(which, cut, 1.0)
    if not (cut < 1).any():
        return None
    return np.where(cut < 1, np.maximum(np.minimum(caps, pt.q * cut), floor), caps)


def _relative(grow: np.ndarray, weight: np.ndarray) -> float:
    """The relative capital growth ``sum_k grow_k / (S_k + 1)`` (the exact plan's second
    objective of the investment stage)."""
    return float(np.divide(grow, weight, out=np.zeros(grow.shape), where=weight > 0).sum())


def _relieved(ev: Evaluator, t: float | np.ndarray, kept: np.ndarray, grow: np.ndarray,
              weight: np.ndarray) -> np.ndarray | None:
    """Caps of the units making capital goods that more growth would send to regions short of
    an input: growth goes to each good's units in rank order, so a unit whose region lacks
    labour, capital or an input on hand (beyond the closing stocks ``kept`` of final goods)
    stops the good's growth although its units elsewhere could make it. At a probe of more
    growth (half way to the growing goods' capacity), each such unit is capped at its output
    at the probe times what its region has over what the probe asks, at least its output with
    ``grow``; the rest of its good's growth moves to the good's other units (``None``: no unit
    over-asks)."""
    p = ev.problem
    cap = np.bincount(p.unit_good, p.unit_capacity, minlength=p.n_goods)
    room = np.where(weight > 0, np.maximum(cap - grow, 0.0), 0.0)
    room = np.where(np.isfinite(room), room, weight)
    if not (room > 0).any():
        return None
    root = ev.evaluate(t, kept, grow)
    probe = ev.evaluate(t, kept, grow + 0.5 * room)
    final = ~p.labour_mask & ~p.industrial
    net = replace(probe, available=np.where(final[None, :], np.maximum(probe.available - kept, 0.0), probe.available))
    return relief(p, net, ev.strategy.caps, root.q, p.industrial[p.unit_good])


def _users_of(p: RegionalProblem, goods: np.ndarray) -> np.ndarray:
    """The goods made with any of ``goods`` (one step down the chains), ``(n,)`` boolean."""
    out = np.zeros(p.n_goods, dtype=bool)
    for g in np.flatnonzero(goods):
        out |= users(p, int(g), 1)
    return out


def _held(p: RegionalProblem, b: Bottleneck | None, depth: int = 0) -> np.ndarray:
    """The closing targets a bottleneck of the investment stage holds, ``(R, n)``: a good's
    capacity holds that good's targets everywhere (deeper, those of the goods made with it); a
    region's labour, capital or input on hand holds the targets, everywhere, of the goods its
    units there make with it (deeper, of the goods made with those); a region's deliveries of a
    good the good's targets everywhere (what transport brings there is what the other regions'
    targets of it do not take first; deeper, the goods made with it)."""
    out = np.zeros((p.n_regions, p.n_goods), dtype=bool)
    if b is None:
        out[:] = True
    elif b.region >= 0 and b.kind in ("labour", "capital", "inputs on hand"):
        made = made_with(p, b.good, b.region)
        for _ in range(depth):
            made = made | _users_of(p, made)
        out[:, made] = True
    else:
        out[:, users(p, b.good, depth)] = True
    return out


def _region_of(p: RegionalProblem, b: Bottleneck | None) -> np.ndarray | None:
    """The closing targets of a regional bottleneck's region, ``(R, n)`` (``None``: national)."""
    if b is None or b.region < 0:
        return None
    out = np.zeros((p.n_regions, p.n_goods), dtype=bool)
    out[b.region] = True
    return out


def fill_targets(ev: Evaluator, t: float | np.ndarray, target: np.ndarray, base: np.ndarray | None = None,
                 grow: np.ndarray | None = None) -> np.ndarray:
    """The share of each closing target the investment stage keeps, ``(R, n)``, on top of the
    closing stocks ``base`` and the capital growth ``grow`` already planned: the largest common
    share, then (progressive filling) the targets the last round's bottleneck does not hold rise
    together, so one target out of reach (a good no unit can make today) does not hold back the
    others."""
    p = ev.problem
    base = np.zeros(target.shape) if base is None else base
    grow = np.zeros(p.n_goods) if grow is None else grow

    def held(b: Bottleneck | None, free: np.ndarray, _share: np.ndarray) -> np.ndarray:
        return spread(lambda d: _held(p, b, d), free, _region_of(p, b))

    share = water_fill(np.zeros(target.shape), target <= 0, lambda s: ev.evaluate(t, base + s * target, grow),
                       held, tol=STAGE2_TOL)
    return np.where(target > 0, share, 0.0)


def invest(p: RegionalProblem, routes: Routes | None, s1: Consumption, counter: list, target: np.ndarray,
           supply: np.ndarray, capital: np.ndarray, extra: np.ndarray) -> tuple[Point, np.ndarray, np.ndarray]:
    """Stage 2 on the consumption stage ``s1`` (its dispatch's caps widened to all capacity
    within the ``supply`` caps), in the exact plan's
    order: the closing ``target`` ``(R, n)`` (:func:`fill_targets`), then, on top, the
    ``extra`` closing stocks (tomorrow's inputs beyond today's) and the ``capital`` the regions'
    units need, then capital growth (:func:`fill_growth`). Returns the final point, the share of
    each target kept and the closing stocks planned; when the wider dispatch does not carry the
    consumption stage, the consumption stage itself."""
    t, point, strategy = s1.t, s1.point, s1.strategy
    keep = 1.0 - p.investment_share
    staffed = p.final[p.unit_good] & (strategy.caps < keep * p.unit_capacity)
    caps = np.maximum(np.minimum(np.where(staffed, strategy.caps / keep, p.unit_capacity), supply), point.q)
    zero_g = np.zeros(p.n_goods)
    ev = Evaluator(p, routes, 2, point.q, Strategy(caps, strategy.rank, strategy.local))
    share = fill_targets(ev, t, target) if target.any() else np.zeros(target.shape)
    kept = share * target
    for more in (extra, capital):
        if more.any():
            kept = kept + fill_targets(ev, t, more, kept) * more
    weight = np.where(_growable(p, point.use, point.q), ev.stock + 1.0, 0.0)
    grow = fill_growth(ev, t, kept, weight) if weight.any() else zero_g
    for _ in range(RELIEF_ROUNDS if weight.any() else 0):
        caps = _relieved(ev, t, kept, grow, weight)
        if caps is None:
            break
        trial = Evaluator(p, routes, 2, point.q, Strategy(caps, strategy.rank, strategy.local))
        # the caps must still carry the targets kept
        if trial.evaluate(t, kept, zero_g).excess > FEASIBLE:
            counter[0] += trial.evaluations
            break
        more = fill_growth(trial, t, kept, weight)
        better = _relative(more, weight) > _relative(grow, weight) * (1 + 1e-6) + 1e-12
        counter[0] += (ev if better else trial).evaluations
        if not better:
            break
        ev, grow = trial, more
    final = ev.evaluate(t, kept, grow, with_flows=True)
    counter[0] += ev.evaluations
    if final.excess > FEASIBLE:
        # the wider stage-2 dispatch does not carry the consumption stage itself: keep stage 1
        logger.info("regional plan: investment stage infeasible (%s); keeping the consumption stage",
                    describe(p, final.bottleneck))
        ev1 = Evaluator(p, routes, 1, np.zeros(p.n_units), strategy)
        return ev1.evaluate(t, s1.keep, zero_g, with_flows=True), np.zeros(target.shape), s1.keep
    return final, share, kept
