"""A generator of broken inputs: scenario TOML, market JSON, input-output tables, command lines.

Each strategy draws a *case*: the bytes of a broken input (or a broken command line) and what
a good error message must name (the field, the flag, the industry). ``tests/test_bad_inputs.py``
runs every command on them and checks the promise of ``README.md`` ("What innatura
guarantees"): exit status 2, a message naming the file and the field, no traceback, and no file
in the output folder changed.

The bases are small valid inputs; a case breaks one thing in them (a value out of range, of
the wrong type, NaN, huge; a name that does not exist; a field that does not exist; nesting;
bytes that are not UTF-8; a non-productive economy; a table cell that is not a number ...).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st

from innatura.cli import main

# -- valid bases ----------------------------------------------------------------------------
#: a small productive economy: 2 final goods, 1 industrial, 1 labour type, 2 regions.
SCENARIO: dict[str, Any] = {
    "scenario": {"name": "corpus", "description": "a small economy the corpus breaks", "days": 5, "seed": 0},
    "goods": [
        {"name": "bread", "kind": "final", "externality": 0.1},
        {"name": "milk", "kind": "final", "transport_loss": 0.01},
        {"name": "oven", "kind": "industrial"},
        {"name": "Lb", "kind": "labour"},
    ],
    "coefficients": {"bread": {"milk": 0.2, "oven": 0.1, "Lb": 0.01}, "milk": {"Lb": 0.02}},
    "profiles": [
        {"name": "young", "population": 30, "bundle": {"bread": 1.0, "milk": 0.5}},
        {"name": "old", "population": 20, "bundle": {"milk": 1.0}},
    ],
    "units": [
        {"name": "bakery", "good": "bread", "region": "east", "capacity": 80.0},
        {"name": "dairy", "good": "milk", "region": "west", "capacity": 120.0},
        {"name": "forge", "good": "oven", "region": "west",
         "inputs": {"bread": {"scale": 0.5, "exponent": 1.2}, "Lb": {"scale": 0.01, "exponent": 1.0}}},
    ],
    "regions": {"nodes": [{"name": "east"}, {"name": "west"}],
                "edges": [{"source": "east", "target": "west", "capacity": 500.0, "loss": 0.01}]},
    "inventory": {"bread": 20.0, "milk": 30.0, "oven": {"east": 8.0}},
    "labour": {"Lb": 50.0},
    "planning": {"investment_share": 0.3},
    "losses": {"enabled": True, "events": [{"goods": ["milk"], "probability": 0.2, "fraction": 0.1}]},
}

#: a small exchange economy and a small Fisher market.
MARKETS: list[dict[str, Any]] = [
    {"utility": "cobb-douglas", "weights": [[1.0, 2.0], [2.0, 1.0]], "endowments": [[1.0, 0.5], [0.5, 1.0]]},
    {"utility": "ces", "rho": 0.5, "weights": [[1.0, 2.0], [2.0, 1.0]], "endowments": [[1.0, 0.5], [0.5, 1.0]]},
    {"utility": "linear", "weights": [[1.0, 2.0], [2.0, 1.0]], "budgets": [1.0, 2.0], "supply": [1.0, 1.0]},
    {"utility": "ces", "rho": -2.0, "weights": [[1.0, 2.0], [2.0, 1.0]], "budgets": [1.0, 2.0], "supply": [1.0, 1.0]},
]


# -- writing TOML (every table inline, so that any value can be written) -----------------------
def _toml_key(key: str) -> str:
    return key if key and all(c.isalnum() or c in "_-" for c in key) and key.isascii() else json.dumps(key)


def toml_value(value: Any) -> str:
    """``value`` as TOML: inline tables and arrays, ``nan``/``inf``, JSON-escaped strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r}")


def toml_text(data: dict[str, Any]) -> str:
    """A whole scenario as TOML: one ``key = inline value`` line per top-level field."""
    return "".join(f"{_toml_key(k)} = {toml_value(v)}\n" for k, v in data.items())


# -- cases ---------------------------------------------------------------------------------------
@dataclass
class Case:
    """A broken input and what its error message must name.

    Attributes:
        payload: the file's bytes (scenario, market) or ``None`` (a command-line case).
        names: substrings the message must hold (a field path, a flag, an industry code).
        argv: extra command-line arguments.
        label: what was broken, for failure reports.
    """

    payload: bytes | None
    names: tuple[str, ...]
    argv: tuple[str, ...] = ()
    label: str = ""
    files: dict[str, bytes] = field(default_factory=dict)


def _bad_number(lo: float | None, hi: float | None, *, integer: bool = False, hi_open: bool = False,
                allow_inf: bool = False) -> st.SearchStrategy:
    """Values that a number field in ``[lo, hi]`` (``[lo, hi)`` with ``hi_open``) must refuse."""
    options = [st.just(math.nan), st.just("3"), st.just(True), st.just([1.0]), st.just({"x": 1.0})]
    if lo is not None:
        options.append(st.floats(max_value=float(lo), exclude_max=True, allow_nan=False, allow_infinity=True))
    if hi is not None:
        above = st.floats(min_value=float(hi), exclude_min=not hi_open, allow_nan=False, allow_infinity=not allow_inf)
        options.append(above.filter(lambda v: not (allow_inf and math.isinf(v))))
    if integer:
        options += [st.floats(0.5, 1e6).filter(lambda v: v != int(v)), st.just(2**63 + 5)]
    return st.one_of(options)


#: (path into the scenario, lo, hi, integer, hi open, inf allowed, the path as the message writes it)
NUMBER_FIELDS: list[tuple[tuple, float | None, float | None, bool, bool, bool, str]] = [
    (("scenario", "days"), 1, 1_000_000, True, False, False, "scenario.days"),
    (("scenario", "seed"), 0, 2**63 - 1, True, False, False, "scenario.seed"),
    (("goods", 0, "externality"), 0, 1e9, False, False, False, "goods[0].externality"),
    (("goods", 1, "transport_loss"), 0, 1, False, True, False, "goods[1].transport_loss"),
    (("coefficients", "bread", "milk"), 0, 1e9, False, False, False, "coefficients.bread.milk"),
    (("profiles", 0, "population"), 0, 1e10, True, False, False, "profiles[0].population"),
    (("profiles", 1, "bundle", "milk"), 0, 1e9, False, False, False, "profiles[1].bundle.milk"),
    (("units", 0, "capacity"), 0, 1e9, False, False, True, "units[0].capacity"),
    (("units", 2, "inputs", "bread", "scale"), 0, 1e9, False, False, False, "units[2].inputs.bread.scale"),
    (("units", 2, "inputs", "bread", "exponent"), 0, 10, False, False, False, "units[2].inputs.bread.exponent"),
    (("units", 1, "reporting_factor"), 0, 1e9, False, False, False, "units[1].reporting_factor"),
    (("regions", "edges", 0, "loss"), 0, 1, False, True, False, "regions.edges[0].loss"),
    (("inventory", "bread"), 0, 1e9, False, False, False, "inventory.bread"),
    (("labour", "Lb"), 0, 1e9, False, False, False, "labour.Lb"),
    (("planning", "investment_share"), 0, 1, False, True, False, "planning.investment_share"),
    (("planning", "safety_stock"), 0, 365, False, False, False, "planning.safety_stock"),
    (("losses", "events", 0, "probability"), 0, 1, False, False, False, "losses.events[0].probability"),
    (("losses", "events", 0, "fraction"), 0, 1, False, False, False, "losses.events[0].fraction"),
]

#: (path, the path as the message writes it) of names that must refer to something
NAME_FIELDS: list[tuple[tuple, str]] = [
    (("units", 1, "good"), "units[1].good"),
    (("units", 0, "region"), "units[0].region"),
    (("regions", "edges", 0, "target"), "regions.edges[0].target"),
    (("losses", "events", 0, "goods", 0), "losses.events[0].goods[0]"),
]


def _set(data: dict, path: tuple, value: Any) -> dict:
    out = copy.deepcopy(data)
    node = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return out


def _scenario_case(data: dict, names: tuple[str, ...], label: str) -> Case:
    return Case(toml_text(data).encode(), names, label=label)


@st.composite
def number_cases(draw: Callable) -> Case:
    path, lo, hi, integer, hi_open, allow_inf, shown = draw(st.sampled_from(NUMBER_FIELDS))
    value = draw(_bad_number(lo, hi, integer=integer, hi_open=hi_open, allow_inf=allow_inf))
    return _scenario_case(_set(SCENARIO, path, value), (shown,), f"{shown} = {value!r}")


@st.composite
def name_cases(draw: Callable) -> Case:
    path, shown = draw(st.sampled_from(NAME_FIELDS))
    name = draw(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=8).filter(
        lambda t: t not in ("bread", "milk", "oven", "east", "west")))
    return _scenario_case(_set(SCENARIO, path, name), (shown,), f"{shown} = {name!r}")


@st.composite
def structure_cases(draw: Callable) -> Case:
    """Unknown and missing fields, wrong containers, duplicates, wrong kinds."""
    kind = draw(st.sampled_from(["unknown", "missing", "container", "duplicate", "kind", "labour-stock"]))
    if kind == "unknown":
        section = draw(st.sampled_from(["scenario", "planning"]))
        key = draw(st.text(alphabet="abcdefghij_", min_size=3, max_size=10).filter(
            lambda t: t not in ("name", "description", "days", "seed", "investment_share", "safety_stock", "method",
                                "population_note")))
        return _scenario_case(_set(SCENARIO, (section, key), 1), (f"{section}.{key}",), f"unknown {section}.{key}")
    if kind == "missing":
        path, shown = draw(st.sampled_from([(("profiles", 0), "profiles[0].bundle"), (("goods", 2), "goods[2].kind"),
                                            (("units", 0), "units[0].good")]))
        data = copy.deepcopy(SCENARIO)
        node = data
        for key in path:
            node = node[key]
        node.pop(shown.rsplit(".", 1)[-1])
        return _scenario_case(data, (shown,), f"missing {shown}")
    if kind == "container":
        path, shown = draw(st.sampled_from([(("profiles", 0, "bundle"), "profiles[0].bundle"),
                                            (("units", 2, "inputs"), "units[2].inputs"),
                                            (("goods",), "goods")]))
        value = draw(st.sampled_from([1.5, "x", [1, 2]]))
        return _scenario_case(_set(SCENARIO, path, value), (shown,), f"{shown} = {value!r}")
    if kind == "duplicate":
        data = copy.deepcopy(SCENARIO)
        data["goods"].append(dict(data["goods"][0]))
        return _scenario_case(data, ("goods[4].name",), "duplicate good")
    if kind == "kind":
        return _scenario_case(_set(SCENARIO, ("goods", 0, "kind"), "magic"), ("goods[0].kind",), "kind magic")
    return _scenario_case(_set(SCENARIO, ("inventory", "Lb"), 5.0), ("inventory.Lb",), "labour in inventory")


@st.composite
def nonproductive_cases(draw: Callable) -> Case:
    """A good needing >= 1 of itself, or a cycle of two goods with spectral radius >= 1."""
    rho = draw(st.one_of(st.just(1.0), st.floats(1.0, 50.0)))
    data = copy.deepcopy(SCENARIO)
    if draw(st.booleans()):
        data["coefficients"]["milk"]["milk"] = rho
        goods = ("milk",)
    else:  # bread needs a of milk, milk needs b of bread, a * b = rho ** 2
        a = draw(st.floats(0.2, 5.0))
        data["coefficients"]["bread"]["milk"] = a
        data["coefficients"]["milk"]["bread"] = rho**2 / a
        goods = ("bread", "milk")
    return _scenario_case(data, ("coefficients", "not productive", "spectral radius", *goods), f"rho {rho}")


@st.composite
def size_cases(draw: Callable) -> Case:
    """Populations and generated region graphs beyond what the format (or the machine) allows."""
    if draw(st.booleans()):
        n = draw(st.integers(2_001, 10**9))
        data = _set(SCENARIO, ("regions",), {"generator": draw(st.sampled_from(["path_graph", "cycle_graph",
                                                                                  "star_graph"])),
                                              "params": {"n": n}})
        for unit in data["units"]:
            unit.pop("region")
        data["inventory"]["oven"] = 8.0
        return _scenario_case(data, ("regions.params",), f"{n} regions")
    if draw(st.booleans()):  # each amount within its limit, their product (the daily need) beyond
        population = draw(st.integers(10**4, 10**10))
        bundle = draw(st.floats(1e12 / population * 1.001, 1e9))
        data = _set(SCENARIO, ("profiles", 0, "population"), population)
        return _scenario_case(_set(data, ("profiles", 0, "bundle", "bread"), bundle), ("profiles[0].bundle.bread",),
                              f"need {population} x {bundle}")
    population = draw(st.integers(10**10 + 1, 2**63 - 1))
    return _scenario_case(_set(SCENARIO, ("profiles", 0, "population"), population), ("profiles[0].population",),
                          f"population {population}")


@st.composite
def file_cases(draw: Callable) -> Case:
    """Whole-file problems: syntax, deep nesting, bytes that are not UTF-8, an empty file."""
    kind = draw(st.sampled_from(["syntax", "nesting", "utf8", "empty", "table-nesting"]))
    text = toml_text(SCENARIO)
    if kind == "syntax":
        cut = draw(st.integers(5, len(text) - 5))
        return Case((text[:cut] + " = = \n" + text[cut:]).encode(), ("TOML syntax error",), label="syntax")
    if kind == "nesting":
        depth = draw(st.integers(70, 5000))
        return Case((text + "deep = " + "[" * depth + "]" * depth + "\n").encode(), ("nested",), label=f"[{depth}")
    if kind == "table-nesting":
        depth = draw(st.integers(70, 3000))
        return Case((text + "deep = " + "{ a = " * depth + "1" + " }" * depth + "\n").encode(), ("nested",),
                    label=f"{{{depth}")
    if kind == "utf8":
        raw = text.encode()
        at = draw(st.integers(0, len(raw) - 1))
        bad = draw(st.sampled_from([b"\xff", b"\xe9", b"\xc3\x28", b"\x80"]))
        return Case(raw[:at] + bad + raw[at:], ("not UTF-8",), label="utf8")
    return Case(b"", ("scenario",), label="empty")


#: fields whose lower bound is excluded (``> 0``), and the smallest value the edge cases use
_EXCLUSIVE_LOW = {"units[0].capacity": 1e-9, "units[2].inputs.bread.exponent": 1e-9,
                  "units[1].reporting_factor": 1e-9}


@st.composite
def valid_edge_scenarios(draw: Callable) -> dict[str, Any]:
    """The base scenario with a few fields set to their bounds or anywhere within them."""
    data = copy.deepcopy(SCENARIO)
    chosen = draw(st.lists(st.sampled_from(NUMBER_FIELDS), min_size=1, max_size=5, unique_by=lambda f: f[-1]))
    for path, lo, hi, integer, hi_open, _, shown in chosen:
        low = _EXCLUSIVE_LOW.get(shown, lo)
        if shown == "profiles[1].bundle.milk":
            low = 1e-9  # a profile needs a positive amount of something
        if integer:
            top = int(min(hi, 10**6) if hi is not None else 10**6)
            value = draw(st.sampled_from([int(low), top]) | st.integers(int(low), top))
        else:
            top = float(hi if hi is not None else 1e9)
            edge = [float(low), top * (1 - 1e-9) if hi_open else top]
            value = draw(st.sampled_from(edge) | st.floats(float(low), top, exclude_max=hi_open))
        data = _set(data, path, value)
    return data


def scenario_cases() -> st.SearchStrategy:
    """Every kind of broken scenario file."""
    return st.one_of(number_cases(), name_cases(), structure_cases(), nonproductive_cases(), size_cases(),
                     file_cases())


# -- market JSON ----------------------------------------------------------------------------------
@st.composite
def market_cases(draw: Callable) -> Case:
    base = copy.deepcopy(draw(st.sampled_from(MARKETS)))
    fisher = "budgets" in base
    kind = draw(st.sampled_from(["entry", "shape", "zero-row", "rho", "utility", "unknown", "missing",
                                 "nesting", "utf8", "syntax", "vector"]))
    if kind == "entry":
        key = draw(st.sampled_from(["weights", "budgets", "supply"] if fisher else ["weights", "endowments"]))
        value = draw(st.sampled_from([-1.0, "x", None, [1.0]]))
        if isinstance(base[key][0], list):
            base[key][draw(st.integers(0, 1))][draw(st.integers(0, 1))] = value
        else:
            base[key][draw(st.integers(0, 1))] = value
        return Case(json.dumps(base).encode(), (key,), label=f"{key} entry {value!r}")
    if kind == "vector":
        key = draw(st.sampled_from(["budgets", "supply"])) if fisher else "endowments"
        base[key] = [[0.0, 0.0], [0.0, 0.0]] if key == "endowments" else [0.0, 1.0]
        return Case(json.dumps(base).encode(), (key,), label=f"{key} zero")
    if kind == "shape":
        base["weights"] = [[1.0, 2.0, 3.0]]
        return Case(json.dumps(base).encode(), ("weights" if not fisher else "budgets",), label="shape")
    if kind == "zero-row":
        base["weights"][draw(st.integers(0, 1))] = [0.0, 0.0]
        return Case(json.dumps(base).encode(), ("weights",), label="zero row")
    if kind == "rho":
        base["utility"] = "ces"
        rho = draw(st.one_of(st.floats(1.0, 1e300), st.just(0.0), st.floats(-1e300, -1e4), st.just("x")))
        base["rho"] = rho
        return Case(json.dumps(base).encode(), ("rho",), label=f"rho {rho!r}")
    if kind == "utility":
        base["utility"] = draw(st.sampled_from(["leontief", "", "CES", 3]))
        base.pop("rho", None)
        return Case(json.dumps(base).encode(), ("utility",), label="utility")
    if kind == "unknown":
        base["prices"] = [1, 2]
        return Case(json.dumps(base).encode(), ("prices",), label="unknown field")
    if kind == "missing":
        key = draw(st.sampled_from(["utility", "weights"]))
        base.pop(key)
        return Case(json.dumps(base).encode(), (key,), label=f"missing {key}")
    if kind == "nesting":
        depth = draw(st.integers(70, 100_000))
        base["weights"] = json.loads("[" * 3 + "1" + "]" * 3)
        text = json.dumps(base).replace('"weights": [[[1]]]', '"weights": ' + "[" * depth + "]" * depth)
        return Case(text.encode(), ("nested",), label=f"[{depth}")
    if kind == "utf8":
        raw = json.dumps({**base, "note": "caf\u00e9"}, ensure_ascii=False).encode().replace("é".encode(), b"\xe9")
        return Case(raw, ("not UTF-8",), label="utf8")
    text = json.dumps(base)
    cut = draw(st.integers(1, len(text) - 1))
    return Case(text[:cut].encode(), ("not valid JSON",), label="truncated")


# -- input-output tables (BEA layout) ------------------------------------------------------
def bea_tables(A: np.ndarray, g: np.ndarray, e: np.ndarray) -> dict[str, bytes]:
    """A consistent BEA Make/Use pair whose industry-by-industry ``A`` is exactly ``A``:
    industry ``i`` makes only commodity ``i`` (``D = I``), ``U = A diag(g)``, final demand ``e``
    (one column), value added ``g - 1^T U``, commodity output ``U 1 + e = g``."""
    n = len(g)
    U = A * g[None, :]
    inds = [f"I{i + 1}" for i in range(n)]
    coms = [f"C{i + 1}" for i in range(n)]
    va = g - U.sum(axis=0)
    fd = g - U.sum(axis=1)

    def f(v: float) -> str:
        return repr(float(v))

    use = [["code", *inds, "Total Intermediate", "F010", "Total Final Uses (GDP)", "Total Commodity Output"]]
    for i in range(n):
        use.append([coms[i], *[f(U[i, j]) for j in range(n)], f(U[i].sum()), f(fd[i]), f(fd[i]), f(g[i])])
    use.append(["Total Intermediate", *[f(U[:, j].sum()) for j in range(n)], f(U.sum()), f(fd.sum()), f(fd.sum()),
                f(g.sum())])
    use.append(["V001", *[f(v) for v in va], f(va.sum()), "", "", ""])
    use.append(["Total Industry Output", *[f(v) for v in g], f(g.sum()), "", "", ""])
    make = [["code", *coms, "Total Industry Output"]]
    for i in range(n):
        make.append([inds[i], *[f(g[i]) if j == i else "0" for j in range(n)], f(g[i])])
    make.append(["Total Commodity Output", *[f(v) for v in g], f(g.sum())])
    del e

    def text(rows: list[list[str]]) -> bytes:
        return "".join(",".join(r) + "\n" for r in rows).encode()

    return {"use.csv": text(use), "make.csv": text(make)}


@st.composite
def io_table_cases(draw: Callable) -> Case:
    """A consistent small table broken in one cell or row, or made non-productive."""
    n = draw(st.integers(2, 4))
    g = np.array(draw(st.lists(st.floats(50.0, 500.0), min_size=n, max_size=n)))
    kind = draw(st.sampled_from(["cell", "duplicate", "ragged", "nonproductive", "utf8"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    A = rng.uniform(0.05, 1.0, (n, n))
    if kind == "nonproductive":
        rho = draw(st.floats(1.0, 3.0))
        A *= rho / np.max(np.abs(np.linalg.eigvals(A)))
        A *= 1.0 + 1e-9  # a radius of exactly 1 must not read as 0.9999999999
        return Case(None, ("not productive", "I1"), label=f"rho {rho}", files=bea_tables(A, g, g))
    A *= 0.5 / np.max(np.abs(np.linalg.eigvals(A)))
    files = bea_tables(A, g, g)
    which = draw(st.sampled_from(["use.csv", "make.csv"]))
    lines = files[which].decode().splitlines()
    if kind == "cell":
        r = draw(st.integers(1, n))
        cells = lines[r].split(",")
        c = draw(st.integers(1, n))
        cells[c] = draw(st.sampled_from(["n/a", "", "nan", "inf", "1e400", "--3"]))
        lines[r] = ",".join(cells)
        names: tuple[str, ...] = (which, cells[0])
    elif kind == "duplicate":
        r = draw(st.integers(1, n))
        lines.insert(r + 1, lines[r])
        names = (which, "duplicate", lines[r].split(",")[0])
    elif kind == "ragged":
        r = draw(st.integers(1, n))
        lines[r] = ",".join(lines[r].split(",")[:-1])
        names = (which, "ragged", lines[r].split(",")[0])
    else:
        files[which] = files[which].replace(b"code", b"c\xf6de")
        return Case(None, (which, "not UTF-8"), label="utf8", files=files)
    files[which] = ("\n".join(lines) + "\n").encode()
    return Case(None, names, label=f"{kind} in {which}", files=files)


# -- command lines ------------------------------------------------------------------------------
#: flags and the kind of value each takes: (command words, flag, kind, extra arguments the command needs)
FLAGS: list[tuple[tuple[str, ...], str, str, tuple[str, ...]]] = [
    (("run",), "--days", "count1", ()),
    (("run",), "--seed", "seed", ()),
    (("run",), "--investment", "share_open", ()),
    (("run",), "--safety-stock", "days365", ()),
    (("run",), "--noise", "share", ()),
    (("run",), "--misreport-share", "share", ()),
    (("run",), "--query-budget", "budget", ()),
    (("run",), "--regional-labour-rounds", "count0", ()),
    (("run",), "--checkpoint-every", "count0", ()),
    (("solve", "butter-village"), "--investment", "share_open", ()),
    (("equilibrium", "MARKET"), "--tol", "tol", ()),
    (("equilibrium", "MARKET"), "--indent", "count0", ()),
    (("import-io", "test"), "--days", "count1", ("--format", "pymrio", "--out", "OUT/x.toml")),
    (("import-io", "test"), "--population", "count1", ("--format", "pymrio", "--out", "OUT/x.toml")),
    (("import-io", "test"), "--returns-to-scale", "tol_closed", ("--format", "pymrio", "--out", "OUT/x.toml")),
    (("import-io", "test"), "--investment-share", "share_open", ("--format", "pymrio", "--out", "OUT/x.toml")),
    (("io", "solve", "test"), "--year", "year", ("--format", "pymrio")),
    (("experiment", "misreporting"), "--workers", "workers", ("--out", "OUT")),
    (("experiment", "misreporting"), "--seeds", "count1", ("--local", "--out", "OUT")),
    (("experiment", "misreporting"), "--days", "count1", ("--local", "--out", "OUT")),
    (("experiment", "misreporting"), "--shares", "share", ("--local", "--out", "OUT")),
    (("experiment", "misreporting"), "--audit-probability", "share", ("--local", "--out", "OUT")),
    (("experiment", "investment-profiles"), "--days", "count1", ("--out", "OUT")),
    (("experiment", "investment-profiles"), "--seed", "seed", ("--out", "OUT")),
    (("experiment", "investment-profiles"), "--seeds", "count1", ("--out", "OUT")),
    (("experiment", "investment-profiles"), "--shares", "share_open", ("--out", "OUT")),
    (("experiment", "mee"), "--episodes", "count10", ("--out", "OUT")),
    (("experiment", "mee"), "--sizes", "count1", ("--out", "OUT")),
    (("experiment", "learned-ablation"), "--seeds", "count1", ("--out", "OUT")),
    (("experiment", "learned-ablation"), "--misreport-share", "share", ("--out", "OUT")),
    (("train", "learned"), "--lr", "positive", ("--out", "OUT")),
    (("train", "learned"), "--batch-size", "count1", ("--out", "OUT")),
    (("bench", "day"), "--citizens", "memory", ()),
    (("bench", "day"), "--regions", "count1", ()),
    (("bench", "fisher"), "--tol", "tol", ()),
    (("bench", "fisher"), "--buyers", "count1", ()),
    (("bench", "io"), "--repeat", "count1", ()),
    (("bench", "io"), "--tol", "tol", ()),
    (("bench", "nonlinear"), "--curve-share", "share", ()),
    (("bench", "nonlinear"), "--tol", "tol", ()),
    (("bench", "nonlinear"), "--repeat", "count1", ()),
    (("bench", "nonlinear"), "--seed", "seed", ()),
    (("viz",), "--port", "port", ()),
]


def bad_flag_values(kind: str) -> st.SearchStrategy:
    """Text a flag of ``kind`` must refuse."""
    common = [st.just("nan"), st.just("inf"), st.just("-inf"), st.just("x"),
              st.text(alphabet="abc!@ ", min_size=1, max_size=4)]
    common.append(st.sampled_from(["0,5", "1,-2", "a,b", ","]) if kind == "count_list" else st.just("1,5"))
    below = {"count0": -1, "count1": 0, "count10": 9, "seed": -1, "budget": 0, "workers": 0, "memory": 0,
             "port": -1, "year": 999, "count_list": 0}
    above = {"seed": 2**63, "budget": 10_001, "port": 65_536, "year": 10_000, "memory": 10**15}
    if kind in below:
        common.append(st.integers(max_value=below[kind]).map(str))
        common.append(st.floats(0.5, 1e6).filter(lambda v: v != int(v)).map(repr))
    if kind in above:
        common.append(st.integers(min_value=above[kind], max_value=above[kind] * 1000).map(str))
    if kind == "workers":
        import os

        common.append(st.integers(min_value=(os.cpu_count() or 1) + 1, max_value=10**6).map(str))
    if kind in ("share", "share_open", "tol", "tol_closed", "days365", "positive"):
        high = {"share": 1.0, "share_open": 1.0, "tol": 1.0, "tol_closed": 1.0, "days365": 365.0,
                "positive": 10.0}[kind]
        common.append(st.floats(max_value=-1e-9, allow_nan=False, allow_infinity=False).map(repr))
        common.append(st.floats(min_value=high + 1e-6, max_value=1e300).map(repr))
        if kind in ("share_open", "tol"):
            common.append(st.just("1"))
        if kind in ("tol", "tol_closed", "positive"):
            common.append(st.just("0"))
    return st.one_of(common)


# -- study files ---------------------------------------------------------------------------------
#: a small valid study (``innatura experiment run``) that the study cases break one field of.
STUDY: dict[str, Any] = {
    "study": {"name": "corpus", "description": "a small study the corpus breaks", "scenarios": ["selviaria"],
              "seeds": 2, "days": 2},
    "levers": {"defence": ["none", "audit(probability=0.5)"]},
    "uncertainties": {"share": [0.0, 0.3], "strategies": [{"citizens": "inflate(1.5)", "units": "ratchet"}],
                      "citizen_factor": {"low": 1.1, "high": 2.0, "levels": 2}},
    "design": {"method": "full-factorial"},
}

#: (path into the study, a bad value, the field as the message writes it, what it says about it)
STUDY_FIELDS: list[tuple[tuple, Any, str, str]] = [
    (("study", "days"), 0, "study.days", "greater than or equal to 1"),
    (("study", "days"), "3", "study.days", "valid integer"),
    (("study", "seeds"), 0, "study.seeds", "greater than or equal to 1"),
    (("study", "seeds"), [1, 1], "study.seeds", "each value once"),
    (("study", "name"), "Bad Name!", "study.name", "pattern"),
    (("study", "scenarios", 0), "atlantis", "study.scenarios[0]", "unknown scenario 'atlantis'"),
    (("study", "planner"), "clairvoyant", "study.planner", "planner 'clairvoyant' is unknown"),
    (("levers", "defence", 1), "audit(probability=2.0)", "levers.defence[1]", "Audit: probability"),
    (("levers", "defence", 0), "magic", "levers.defence[0]", "defence 'magic' is unknown"),
    (("uncertainties", "share", 1), 1.5, "uncertainties.share[1]", "less than or equal to 1"),
    (("uncertainties", "share", 1), math.nan, "uncertainties.share[1]", "finite number"),
    (("uncertainties", "strategies", 0, "citizens"), "bribe", "uncertainties.strategies[0].citizens",
     "citizen strategy 'bribe' is unknown"),
    (("uncertainties", "strategies", 0, "units"), "inflate", "uncertainties.strategies[0].units",
     "is a citizen strategy"),
    (("uncertainties", "strategies", 0, "citizens"), "inflate(factor=0.5)", "uncertainties.strategies[0].citizens",
     "Inflate: factor"),
    (("uncertainties", "strategies", 0, "colour"), "red", "uncertainties.strategies[0].colour", "unknown field"),
    (("uncertainties", "citizen_factor", "high"), 0.5, "uncertainties.citizen_factor", "below low"),
    (("uncertainties", "citizen_factor"), {"low": 1.1, "high": 2.0}, "uncertainties.citizen_factor", "levels"),
    (("uncertainties", "citizen_factor"), [0.5], "uncertainties.strategies", "Inflate: factor"),
    (("design", "method"), "random", "design.method", "'full-factorial' or 'latin-hypercube'"),
    (("design", "samples"), 10, "design", "latin-hypercube"),
    (("outcomes", "keep"), ["happiness"], "outcomes.keep[0]", "happiness"),
    (("levers", "share"), [0.1], "uncertainties.share", "both [levers] and [uncertainties]"),
    (("uncertainties", "bribes"), [1], "uncertainties.bribes", "unknown field"),
]


def study_text(data: dict[str, Any]) -> str:
    """A study as TOML: one table per section, every value inline."""
    return "".join(f"[{section}]\n" + "".join(f"{_toml_key(k)} = {toml_value(v)}\n" for k, v in fields.items())
                   for section, fields in data.items())


@st.composite
def study_cases(draw: Callable) -> Case:
    """A study file with one field broken; ``names``: the field as the message writes it, and
    what the message says about it."""
    path, value, shown, said = draw(st.sampled_from(STUDY_FIELDS))
    data = copy.deepcopy(STUDY)
    node = data
    for key in path[:-1]:
        node = node.setdefault(key, {}) if isinstance(key, str) else node[key]
    node[path[-1]] = value
    return Case(study_text(data).encode(), (shown, said), label=f"{shown} = {value!r}")


# -- running commands and checking what they did -------------------------------------------
def examples(ci: int) -> int:
    """``ci`` examples under the default profile; the loaded profile's count under another."""
    loaded = settings.default.max_examples
    return ci if loaded <= 100 else loaded


def call(argv: list[str]) -> tuple[int, str, str]:
    """Run ``innatura ARGV`` in this process; ``(status, stdout, stderr)``."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([str(a) for a in argv])
    return status, out.getvalue(), err.getvalue()


def snapshot(folder: Path) -> dict[str, tuple[int, str, int]]:
    """Every file under ``folder``: size, content hash and modification time."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            found[str(path.relative_to(folder))] = (len(data), digest, path.stat().st_mtime_ns)
    return found


def populated(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def assert_refused(status: int, err: str, names: tuple[str, ...], argv: list, label: str = "") -> None:
    where = f"innatura {' '.join(map(str, argv))} [{label}]"
    assert status == 2, f"{where}: exit {status}, stderr {err!r}"
    assert "Traceback" not in err, f"{where}: {err}"
    missing = [n for n in names if n not in err]
    assert not missing, f"{where}: the message does not name {missing}: {err!r}"
