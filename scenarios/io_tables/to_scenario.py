"""An :class:`IOTable` as a runnable scenario (:class:`~scenarios.spec.ScenarioSpec`).

The mapping (stated in every generated file's description and header):

* **Goods.** Every industry with output becomes a ``final`` good: IO tables record
  intermediate and final flows but not capital stocks, so no good is ``industrial``.
  Quantities are the table's money flows per day (annual flows / 365) treated as physical
  units: one unit of a good is one (e.g.) US$ million of that industry's output at the table's
  prices. Industries with neither output nor use are left out.
* **Labour.** Value added (compensation, taxes on production, operating surplus; for WIOD
  gross output less domestic intermediates) becomes one ``labour`` good: industry ``j`` needs
  ``v_j / x_j`` of it per unit of output (negative value added counts as 0).
* **Profiles.** Final-demand components are grouped (households, nonprofits, government,
  investment, exports; per region for multi-regional tables). Households become a profile of
  ``population`` citizens, each consuming 1/population of household final demand a day (the
  table's per-capita consumption, scaled to the stated population); every other group is a
  profile of one citizen with the whole group's demand. Imports are netted out by the
  negative-value policy (``clip``), so bundles are domestic final demand; the few positive
  cells of BEA's imports column (adjustments for used and non-comparable goods) that remain
  form a one-citizen ``import-adjustments`` profile.
* **Units.** One production unit per industry, with curves derived from the table: input
  ``i`` for an order of ``q`` is ``a_ij x*_j (q / x*_j) ** (1 / E)``, which equals the table's
  coefficient ``a_ij`` at the observed daily output ``x*_j``. ``E`` is the returns-to-scale
  exponent (output grows as inputs ** E); ``E = 1`` (the default) writes constant
  coefficients instead. ``E`` must lie in (0, 1]: with ``E > 1`` the coefficient diverges as
  output falls to 0. Capacity: ``capacity_factor`` times the day-1 requirement over
  ``1 - investment_share``.
* **Day 1 is plannable.** With ``x`` the solution of ``(I - A) x = f`` (daily), labour
  supply is ``labour_margin * l.x / (1 - investment_share)`` and the opening stock of each
  good is ``inventory_days * x``: the consumption stage can deliver every bundle in full with
  the ``1 - investment_share`` share of labour and capacity it may use.
* **Regions.** MRIO tables: regions become graph nodes (a complete graph: every pair trades),
  each industry's unit and opening stock sit in its region, and profiles live in the region
  that buys. Household citizens are split over regions by population (or household demand).
"""

from __future__ import annotations

import logging
import math
import re
from collections import OrderedDict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from innatura.planner.errors import InvalidInputError
from innatura.scenarios.io_tables.table import IOTable

if TYPE_CHECKING:  # pragma: no cover
    from innatura.scenarios.spec import ScenarioSpec

__all__ = ["DAYS_PER_YEAR", "MAPPING_OPTIONS", "component_group", "table_header", "table_to_dict", "table_to_spec"]

logger = logging.getLogger(__name__)

DAYS_PER_YEAR = 365.0
#: keyword options of :func:`table_to_dict` besides the table and the name.
MAPPING_OPTIONS = ("population", "returns_to_scale", "investment_share", "inventory_days", "capacity_factor",
                   "labour_margin", "days", "seed")
LABOUR = "labour"

_BEA_GROUPS = {"F01": "households", "F02": "investment", "F03": "investment", "F04": "exports",
               "F05": "import-adjustments", "F06": "government", "F07": "government", "F08": "government",
               "F09": "government", "F10": "government"}
_WIOD_GROUPS = {"CONS_h": "households", "CONS_np": "nonprofits", "CONS_g": "government",
                "GFCF": "investment", "INVEN": "investment", "EXP": "exports"}
_NAME_GROUPS = (("npish", "nonprofits"), ("non-profit", "nonprofits"), ("household", "households"),
                ("government", "government"), ("capital formation", "investment"),
                ("inventor", "investment"), ("valuables", "investment"), ("export", "exports"),
                ("import", "import-adjustments"))


def component_group(code: str, name: str = "") -> str:
    """The profile group of a final-demand component (BEA ``F...`` codes, WIOD codes, or names)."""
    last = code.rsplit("/", 1)[-1]
    if last in _WIOD_GROUPS:
        return _WIOD_GROUPS[last]
    if re.match(r"^F\d\d", last) and last[:3] in _BEA_GROUPS:
        return _BEA_GROUPS[last[:3]]
    text = f"{last} {name}".lower()
    for key, group in _NAME_GROUPS:
        if key in text:
            return group
    return re.sub(r"[^a-z0-9]+", "-", last.lower()).strip("-") or "final-demand"


def _good_names(table: IOTable) -> list[str]:
    names = list(table.industry_names)
    if table.regions is None and len(set(names)) == len(names) and max(map(len, names)) <= 100 \
            and all(n.strip() == n and n for n in names):
        return names
    return list(table.industries)


def _daily(unit: str) -> str:
    return unit.replace("per year", "per day") if "per year" in unit else f"{unit} / 365 per day"


def table_header(table: IOTable, population: int, returns_to_scale: float) -> list[str]:
    """Comment lines for a generated scenario file: provenance, units, mapping, policy."""
    lines = [
        f"Generated from {table.name} ({table.source}).",
        f"Units: the table's money flows ({table.unit}) divided by {DAYS_PER_YEAR:g} days and treated as",
        "physical quantities: one unit of a good is one unit of money's worth of that industry's output.",
        "Industries are final goods (IO tables do not separate capital); value added is one labour good.",
        f"Households: {population} citizens share household final demand; other final-demand groups are",
        "one-citizen profiles. Production units: one per industry, curves equal to the table's",
        f"coefficients at the observed output, returns-to-scale exponent {returns_to_scale:g}"
        + (" (constant coefficients)." if returns_to_scale == 1 else "."),
    ]
    negative_va = [c for c, v in zip(table.industries, table.value_added, strict=False) if v < 0]
    if negative_va:
        lines.append(f"Value added is negative for {negative_va}: their labour coefficient is 0.")
    if table.negatives is not None:
        lines.append(table.negatives.summary() + ".")
    return lines


def table_to_dict(
    table: IOTable,
    name: str,
    *,
    population: int = 1000,
    returns_to_scale: float = 1.0,
    investment_share: float = 0.1,
    inventory_days: float = 1.0,
    capacity_factor: float = 1.25,
    labour_margin: float = 1.05,
    days: int = 365,
    seed: int = 0,
) -> dict:
    """The scenario for ``table`` as a plain dict in the scenario-file layout (FORMAT.md).

    Args:
        table: a table whose ``A`` and final-demand components are non-negative (load it with
            ``negative_policy="clip"``).
        name: scenario name (a slug).
        population: household citizens.
        returns_to_scale: exponent ``E`` in (0, 1] (see the module docstring).
        investment_share: the planner's ``sigma``.
        inventory_days: opening stock, in days of the day-1 requirement.
        capacity_factor: unit capacity over the day-1 requirement (before ``1 - sigma``).
        labour_margin: labour supply over the day-1 requirement (before ``1 - sigma``).
        days: default run length.
        seed: default seed.

    Raises:
        InvalidInputError: negative cells left in the table, or parameters out of range.
    """
    _check_mapping(table, population=population, returns_to_scale=returns_to_scale,
                   investment_share=investment_share, inventory_days=inventory_days,
                   capacity_factor=capacity_factor, labour_margin=labour_margin)
    from innatura.planner.leontief import solve_io

    A = table.A.tocsc()
    F = table.final_demand / DAYS_PER_YEAR
    x_obs = table.gross_output / DAYS_PER_YEAR
    x_req = np.maximum(np.asarray(solve_io(table.A, F.sum(axis=1)).x, dtype=float), 0.0)
    used = np.asarray(abs(A).sum(axis=1)).ravel() + np.asarray(abs(A).sum(axis=0)).ravel()
    keep = np.flatnonzero((x_obs > 0) | (x_req > 0) | (used > 0) | (F.sum(axis=1) > 0))
    dropped = sorted(set(range(table.n)) - set(keep.tolist()))
    if dropped:
        logger.info("%s: industries without output or use left out: %s", table.source,
                    [table.industries[i] for i in dropped])
    goods_all = _good_names(table)
    goods = [goods_all[i] for i in keep]
    if LABOUR in goods:
        raise InvalidInputError(f"{table.source}: an industry is named {LABOUR!r}, the labour good's name")
    sub = A[keep][:, keep].tocsc()
    labour = np.clip(table.labour_coefficients[keep], 0.0, None)
    x_req, x_obs, F = x_req[keep], x_obs[keep], F[keep]
    sigma = float(investment_share)
    regions = [table.regions[i] for i in keep] if table.regions is not None else None
    anchor = np.where(x_obs > 0, x_obs, x_req)
    capacity = capacity_factor * np.maximum(x_req, x_obs) / (1.0 - sigma)

    coefficients, units = _units(goods, sub, labour, capacity, anchor, regions, returns_to_scale)

    profiles = _profiles(table, keep, goods, F, population)
    data: dict = {
        "scenario": {
            "name": name,
            "description": (f"{table.name}: {len(goods)} industries as final goods; quantities are "
                            f"{_daily(table.unit)} (annual flows / 365) treated as physical units; "
                            "value added as labour")[:300],
            "population_note": " ".join(table_header(table, population, returns_to_scale)),
            "days": int(days),
            "seed": int(seed),
        },
        "goods": [{"name": g, "kind": "final"} for g in goods] + [{"name": LABOUR, "kind": "labour"}],
        "coefficients": coefficients,
        "profiles": profiles,
        "units": units,
        "planning": {"investment_share": sigma},
    }
    need = labour * x_req
    stock = inventory_days * np.maximum(x_req, 0.0)
    if regions is None:
        data["inventory"] = {g: float(s) for g, s in zip(goods, stock, strict=False) if s > 0}
        data["labour"] = {LABOUR: float(labour_margin * need.sum() / (1.0 - sigma))}
    else:
        names = list(dict.fromkeys(regions))
        data["regions"] = _mrio_regions(table, names, profiles)
        data["inventory"] = {g: {r: float(s)} for g, r, s in zip(goods, regions, stock, strict=False) if s > 0}
        data["labour"] = {LABOUR: {r: float(labour_margin * need[[k for k, q in enumerate(regions) if q == r]].sum()
                                              / (1.0 - sigma)) for r in names}}
    return data


def _check_mapping(table: IOTable, **options: Any) -> None:
    """Raise :class:`InvalidInputError` for a table with negative cells left or an option out of range."""
    if (table.A.nnz and table.A.data.min() < 0) or (table.final_demand < 0).any():
        found = table.negatives.summary() if table.negatives is not None else "negative values"
        raise InvalidInputError(
            f"{table.source}: a scenario needs non-negative coefficients and final demand; {found}. "
            "Load the table with negative_policy='clip' (--negative-policy clip)"
        )
    returns_to_scale, population = options["returns_to_scale"], options["population"]
    if not (0 < returns_to_scale <= 1):
        raise InvalidInputError(f"returns_to_scale: {returns_to_scale!r} must lie in (0, 1]; with E > 1 the "
                                "coefficient diverges as output falls to 0")
    if not (isinstance(population, (int, np.integer)) and population >= 1):
        raise InvalidInputError(f"population: {population!r} must be a positive integer")
    if not (0 <= options["investment_share"] < 1):
        raise InvalidInputError(f"investment_share: {options['investment_share']!r} must lie in [0, 1)")
    for key in ("inventory_days", "capacity_factor", "labour_margin"):
        value = options[key]
        if not (math.isfinite(value) and value > 0):
            raise InvalidInputError(f"{key}: {value!r} must be a positive number")


def _units(goods: list[str], sub: Any, labour: np.ndarray, capacity: np.ndarray, anchor: np.ndarray,
           regions: list[str] | None, returns_to_scale: float) -> tuple[dict[str, dict[str, float]], list[dict]]:
    """One unit per industry; its inputs are constant coefficients (``returns_to_scale`` 1) or
    the unit's power-law curves through its anchor output."""
    coefficients: dict[str, dict[str, float]] = {}
    units = []
    inv_e = 1.0 / returns_to_scale
    for j, good in enumerate(goods):
        col = sub.getcol(j)
        inputs = {goods[i]: float(v) for i, v in zip(col.indices, col.data, strict=False) if v > 0}
        if labour[j] > 0:
            inputs[LABOUR] = float(labour[j])
        unit: dict[str, Any] = {"name": f"{good} producers", "good": good, "capacity": float(max(capacity[j], 1e-12))}
        if regions is not None:
            unit["region"] = regions[j]
        if returns_to_scale == 1.0:
            if inputs:
                coefficients[good] = inputs
        else:
            factor = anchor[j] ** (1.0 - inv_e) if anchor[j] > 0 else 1.0
            unit["inputs"] = {i: {"scale": float(a * factor), "exponent": inv_e} for i, a in inputs.items()}
        units.append(unit)
    return coefficients, units


def _profiles(table: IOTable, keep: np.ndarray, goods: list[str], F: np.ndarray, population: int) -> list[dict]:
    groups: OrderedDict[str, list[int]] = OrderedDict()
    for k, (code, label) in enumerate(zip(table.final_demand_codes, table.final_demand_names, strict=False)):
        group = component_group(code, label)
        if table.final_demand_regions is not None:
            group = f"{table.final_demand_regions[k]}/{group}"
        groups.setdefault(group, []).append(k)
    household = [g for g in groups if g.rsplit("/", 1)[-1] == "households"]
    shares = _household_split(table, household, groups, F, population)
    profiles = []
    for group, cols in groups.items():
        total = F[:, cols].sum(axis=1)
        if not (total > 0).any():
            continue
        count = int(shares.get(group, 1)) if group in household else 1
        if count == 0:
            continue
        bundle = {goods[i]: float(v / count) for i, v in enumerate(total) if v > 0}
        profile = {"name": group, "population": count, "bundle": bundle}
        if table.final_demand_regions is not None:
            profile["regions"] = {group.rsplit("/", 1)[0]: 1.0}
        profiles.append(profile)
    if not profiles:
        raise InvalidInputError(f"{table.source}: no positive final demand left to become a profile")
    return profiles


def _household_split(table: IOTable, household: list[str], groups: Mapping[str, list[int]], F: np.ndarray,
                     population: int) -> dict[str, int]:
    if len(household) <= 1:
        return {g: population for g in household}
    weights = np.array([F[:, groups[g]].sum() for g in household])
    if table.region_population is not None:
        pops = dict(zip(table.region_names, table.region_population, strict=False))
        weights = np.array([pops.get(g.rsplit("/", 1)[0], 0.0) for g in household])
    from innatura.scenarios.arrays import split_integer

    counts = split_integer(population, weights / weights.sum())
    return dict(zip(household, counts.tolist(), strict=False))


def _mrio_regions(table: IOTable, names: list[str], profiles: list[dict]) -> dict:
    people = {r: 0 for r in names}
    for p in profiles:
        for r in p.get("regions", {}):
            people[r] = people.get(r, 0) + p["population"]
    total = sum(people.values())
    nodes = [{"name": r, "population_share": people[r] / total} for r in names]
    edges = [{"source": a, "target": b} for k, a in enumerate(names) for b in names[k + 1:]]
    return {"nodes": nodes, "edges": edges}


def table_to_spec(table: IOTable, name: str, **options: Any) -> ScenarioSpec:
    """The validated :class:`~scenarios.spec.ScenarioSpec` for ``table`` (see :func:`table_to_dict`).

    Raises:
        NonProductiveError: the table's ``A`` is not productive (naming the table and the
            industries), whatever returns to scale the scenario would have.
    """
    from innatura.planner.errors import NonProductiveError
    from innatura.planner.leontief import check_productive
    from innatura.scenarios.loader import spec_from_dict

    if not (table.A.nnz and table.A.data.min() < 0):  # a signed A (negatives kept) is refused by the spec
        try:
            check_productive(table.A, table.industries)
        except NonProductiveError as exc:
            raise NonProductiveError(f"{table.source}: {exc}", goods=exc.goods,
                                     spectral_radius=exc.spectral_radius) from None
    return spec_from_dict(table_to_dict(table, name, **options), source=f"<{table.source}>")
