"""What a model remembers besides its state: generators, defences, strategies, the planning method.

* Generators: the numpy ``rng``'s ``bit_generator.state`` and Mesa's stdlib ``random`` state
  (``random.getstate()``), as JSON.
* Defences: for each bound defence of ``model.defence_chain``, its parameters (``to_dict()``)
  and its memory (``state_dict()``); on restore every array of the memory must have the type
  and shape the freshly bound defence has.
* Strategies: for each memory the model holds for a strategy (``model.memories``, an adaptive
  strategy's learner), the agents' kind, the strategy's code, the strategy (``to_dict()``,
  checked against the state's table) and its ``state_dict()``; on restore every array must have
  the type and shape of the memory the strategy makes afresh.
* The planning method: its ``state_dict()`` (:class:`abm.planning.StatefulMethod`), and the
  central planner's last decision (the plan kept when a night's method fails).

Each piece is a tree of plain data (:mod:`abm.checkpoint.tree`): JSON in the manifest, arrays
in ``state.npz``.
"""

from __future__ import annotations

import logging
from dataclasses import fields
from typing import TYPE_CHECKING, Any

import numpy as np
from innatura.abm.adversarial.defences import BoundDefence
from innatura.abm.adversarial.vocabulary import parse_defence
from innatura.abm.checkpoint.files import ArrayFile, Field
from innatura.abm.checkpoint.guard import check_exact, check_no_import
from innatura.abm.checkpoint.tree import join, split
from innatura.abm.planning import METHODS, PlanDecision
from innatura.planner.errors import InputFileError, InvalidInputError

if TYPE_CHECKING:  # pragma: no cover
    from innatura.abm.model import PlanningEconomy

__all__ = ["capture_memory", "restore_memory"]

logger = logging.getLogger(__name__)

#: length of the state of Python's Mersenne Twister (``random.getstate()[1]``).
_MT_WORDS = 625


def _class_path(obj: Any) -> str:
    """``"module:QualName"`` of ``obj``'s class (of ``obj`` itself when it is a class)."""
    cls = obj if isinstance(obj, type) else type(obj)
    return f"{cls.__module__}:{cls.__qualname__}"


def _method_state(model: PlanningEconomy) -> dict[str, Any]:
    method = model.central_planner.method
    name = model.settings.planner
    if not (callable(getattr(method, "state_dict", None)) and callable(getattr(method, "load_state_dict", None))):
        raise InvalidInputError(
            f"planning method {name!r} ({_class_path(method)}) cannot be checkpointed: it has no state_dict() and "
            "load_state_dict() to save its memory as data (see abm.planning.StatefulMethod; a method without "
            "memory returns {})")
    factory = METHODS.get(name)
    expected = factory if isinstance(factory, str) else _class_path(factory) if isinstance(factory, type) else None
    if expected is not None and expected != _class_path(method):
        raise InvalidInputError(f"the model's planning method is a {_class_path(method)}, but its settings name "
                                f"{name!r} ({expected}): a checkpoint rebuilds the method from the settings")
    return {"name": name, "class": _class_path(method), "state": method.state_dict()}


def _decision(decision: PlanDecision | None) -> dict[str, Any] | None:
    """The last decision as plain data; diagnostics (``info``) that are not plain data are
    left out (they only reach the log)."""
    if decision is None:
        return None
    # a regional plan's diagnostics are the day's output (diagnostics.parquet), not memory
    out = {f.name: getattr(decision, f.name) for f in fields(decision) if f.name != "diagnostics"}
    info = {}
    for key, value in dict(decision.info).items():
        try:
            split(value, "info")
        except InvalidInputError:
            logger.debug("plan diagnostics %r are not plain data; not saved", key)
            continue
        info[str(key)] = value
    out["info"] = info
    return out


def _check_decision(data: dict[str, Any], model: PlanningEconomy) -> PlanDecision:
    """A :class:`PlanDecision` from saved data, with the shapes of ``model``'s economy."""
    lay = model.layout
    n, m, U = lay.n_goods, lay.economy.bundles.shape[1], lay.n_units
    R, D = lay.n_regions, lay.edge_src.size
    shapes = {"production": (n,), "allocation": (n, m), "fulfilment": (m,), "unit_targets": (U,),
              "unit_inputs": (lay.true_inputs.unit.size,), "delivered": (R, n), "regional_fulfilment": (R, m),
              "morning_shipments": (D, n), "evening_shipments": (D, n)}
    optional = ("unit_targets", "unit_inputs", "delivered", "regional_fulfilment", "morning_shipments",
                "evening_shipments")
    if "diagnostics" in data:
        raise InvalidInputError("diagnostics: not part of a saved decision")
    phases = data.get("phase_shipments")
    if phases is not None and not (isinstance(phases, np.ndarray) and phases.dtype == np.float64
                                   and phases.ndim == 3 and phases.shape[1:] == (D, n)):
        got = f"{phases.dtype} {phases.shape}" if isinstance(phases, np.ndarray) else type(phases).__name__
        raise InvalidInputError(f"phase_shipments: expected an array of float64 (layers - 1, {D}, {n}), got {got}")
    for key, shape in shapes.items():
        value = data.get(key)
        if value is None and key in optional:
            continue
        if not (isinstance(value, np.ndarray) and value.dtype == np.float64 and value.shape == shape):
            got = f"{value.dtype} {value.shape}" if isinstance(value, np.ndarray) else type(value).__name__
            raise InvalidInputError(f"{key}: expected an array of float64 {shape}, got {got}")
    if not isinstance(data.get("planned_humanity"), float) or not isinstance(data.get("info"), dict):
        raise InvalidInputError("planned_humanity: expected a float, info: a dict")
    try:
        return PlanDecision(**data)
    except TypeError as exc:
        raise InvalidInputError(f"not a plan decision ({exc})") from None


def capture_memory(model: PlanningEconomy) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """``(manifest part, arrays)`` of the generators, defences, strategies' memory and planning
    method of ``model``.

    Raises:
        InvalidInputError: a planning method without ``state_dict``, a defence that is not a
            bound defence, or memory that is not plain data; the message says which.
    """
    defences = []
    for i, bound in enumerate(model.defence_chain):
        if not isinstance(bound, BoundDefence):
            raise InvalidInputError(f"defence {i} of the model's chain ({bound!r}) is not a bound defence "
                                    "(abm.adversarial.Defence.bind): its memory cannot be saved")
        defences.append({"spec": bound.spec.to_dict(), "memory": bound.state_dict()})
    tree = {
        "generators": {"numpy": model.rng.bit_generator.state, "python": list(model.random.getstate())},
        "defences": defences,
        "strategies": _strategy_memories(model),
        "planner": _method_state(model),
        "last_decision": _decision(model.central_planner.last_decision),
    }
    return split(tree, "memory")


def _strategy_table(model: PlanningEconomy, kind: str) -> tuple:
    return model.state.citizen_strategies if kind == "citizen" else model.state.unit_strategies


def _strategy_memories(model: PlanningEconomy) -> list[dict[str, Any]]:
    """What the model's strategies remember, in the order of ``(kind, code)``."""
    out = []
    for (kind, code), held in sorted(model.memories.items()):
        if not (callable(getattr(held, "state_dict", None)) and callable(getattr(held, "load_state_dict", None))):
            raise InvalidInputError(f"the memory of {kind} strategy {code} ({_class_path(held)}) has no state_dict() "
                                    "and load_state_dict() to save it as data (see Strategy.new_memory)")
        strategy = _strategy_table(model, kind)[code]
        out.append({"kind": kind, "code": int(code), "strategy": strategy.to_dict(), "memory": held.state_dict()})
    return out


def _generators(model: PlanningEconomy, gen: Field, arrays: dict[str, np.ndarray]) -> None:
    numpy_state = join(gen.get("numpy", dict), arrays, f"{gen.path}: {gen.name}.numpy")
    kind = type(model.rng.bit_generator).__name__
    if numpy_state.get("bit_generator") != kind:
        raise gen.error(f"expected the state of a {kind} generator", "numpy.bit_generator",
                        value=numpy_state.get("bit_generator"))
    try:
        model.rng.bit_generator.state = numpy_state
    except (TypeError, ValueError, KeyError, OverflowError) as exc:
        raise gen.error(f"not a {kind} state ({exc})", "numpy") from None
    py = gen.get("python", list)
    ok = (len(py) == 3 and py[0] == 3 and isinstance(py[1], list) and len(py[1]) == _MT_WORDS
          and all(isinstance(w, int) and not isinstance(w, bool) and 0 <= w < 2**32 for w in py[1])
          and (py[2] is None or isinstance(py[2], float)))
    if not ok:
        raise gen.error(f"expected [3, [{_MT_WORDS} whole numbers in [0, 2**32)], null or a float] "
                        "(random.getstate())", "python")
    try:
        model.random.setstate((3, tuple(py[1]), py[2]))
    except (TypeError, ValueError, OverflowError) as exc:
        raise gen.error(f"not a state of random.Random ({exc})", "python") from None


def _memory_value(fresh: Any, saved: Any, where: str) -> Any:
    if isinstance(fresh, np.ndarray):
        if not (isinstance(saved, np.ndarray) and saved.dtype == fresh.dtype and saved.shape == fresh.shape):
            got = f"{saved.dtype} {saved.shape}" if isinstance(saved, np.ndarray) else type(saved).__name__
            raise InvalidInputError(f"{where}: expected an array of {fresh.dtype} {fresh.shape}, got {got}")
        return saved
    if isinstance(fresh, (int, float)) and not isinstance(fresh, bool):
        if isinstance(saved, bool) or not isinstance(saved, type(fresh)):
            raise InvalidInputError(f"{where}: expected a {type(fresh).__name__}, got {saved!r}")
        return saved
    raise InvalidInputError(f"{where}: a memory of type {type(fresh).__name__} cannot be restored")


def _defences(model: PlanningEconomy, items: list, manifest: Field, arrays: dict[str, np.ndarray]) -> None:
    chain = model.defence_chain
    if len(items) < len(chain):
        raise manifest.error(f"{len(items)} defences saved, the run's settings bind {len(chain)}", "memory.defences")
    for i, item in enumerate(items):
        where = f"memory.defences[{i}]"
        check_no_import(item, manifest.path, where)
        data = join(item, arrays, f"{manifest.path}: {where}") if isinstance(item, dict) else None
        if not (isinstance(data, dict) and isinstance(data.get("spec"), dict) and isinstance(data.get("memory"), dict)):
            raise manifest.error("expected {'spec': {...}, 'memory': {...}}", where)
        try:
            spec = parse_defence(data["spec"])
            check_exact(data["spec"], spec.to_dict(), manifest.path, f"{where}.spec")
            if i >= len(chain):  # attached after the model was built (abm.adversarial.attach_defences)
                chain.append(spec.bind(model))
            bound = chain[i]
            if bound.spec != spec:
                raise InvalidInputError(f"saved as {spec}, the run's settings bind {bound.spec}")
            saved = data["memory"]
            if set(saved) != set(bound.memory):
                raise InvalidInputError(f"memory fields {sorted(bound.memory)} expected, got {sorted(saved)}")
            bound.load_state_dict({k: _memory_value(getattr(bound, k), saved[k], k) for k in bound.memory})
        except InputFileError:
            raise
        except InvalidInputError as exc:
            raise InputFileError(manifest.path, str(exc), field=where) from None


def _strategies(model: PlanningEconomy, items: list, manifest: Field, arrays: dict[str, np.ndarray]) -> None:
    """Put each saved strategy memory into the memory the model makes afresh for it."""
    for i, item in enumerate(items):
        where = f"memory.strategies[{i}]"
        check_no_import(item, manifest.path, where)
        data = join(item, arrays, f"{manifest.path}: {where}") if isinstance(item, dict) else None
        if not (isinstance(data, dict) and set(data) == {"kind", "code", "strategy", "memory"}
                and isinstance(data["memory"], dict)):
            raise manifest.error("expected {'kind': ..., 'code': ..., 'strategy': {...}, 'memory': {...}}", where)
        kind, code = data["kind"], data["code"]
        if kind not in ("citizen", "unit"):
            raise manifest.error("expected 'citizen' or 'unit'", f"{where}.kind", value=kind)
        table = _strategy_table(model, kind)
        if isinstance(code, bool) or not isinstance(code, int) or not 0 <= code < len(table):
            raise manifest.error(f"expected a strategy code in [0, {len(table) - 1}]", f"{where}.code", value=code)
        try:
            if data["strategy"] != table[code].to_dict():
                raise InvalidInputError(f"saved for {data['strategy']}, the state's {kind} strategy {code} is "
                                        f"{table[code]}")
            fresh = model.strategy_memory(kind, code)
            if fresh is None:
                raise InvalidInputError(f"{kind} strategy {table[code]} remembers nothing")
            mine, saved = fresh.state_dict(), data["memory"]
            if set(saved) != set(mine):
                raise InvalidInputError(f"memory fields {sorted(mine)} expected, got {sorted(saved)}")
            fresh.load_state_dict({k: _memory_value(mine[k], saved[k], k) for k in mine})
        except InvalidInputError as exc:
            raise InputFileError(manifest.path, str(exc), field=where) from None


def _planner(model: PlanningEconomy, manifest: Field, arrays: dict[str, np.ndarray]) -> None:
    planner = manifest.sub("memory").sub("planner")
    method = model.central_planner.method
    if planner.get("name", str) != model.settings.planner:
        raise planner.error(f"the run's settings name the planner {model.settings.planner!r}", "name",
                            value=planner.data["name"])
    if planner.get("class", str) != _class_path(method):
        raise planner.error(f"saved by a {planner.data['class']}, the run's settings build a {_class_path(method)}",
                            "class")
    state = join(planner.get("state", dict), arrays, f"{manifest.path}: memory.planner.state")
    try:
        method.load_state_dict(state)
    except InvalidInputError as exc:
        raise InputFileError(manifest.path, str(exc), field="memory.planner.state") from None
    saved = manifest.sub("memory").get("last_decision", dict, optional=True)
    if saved is not None:
        data = join(saved, arrays, f"{manifest.path}: memory.last_decision")
        try:
            model.central_planner.last_decision = _check_decision(data, model)  # type: ignore[assignment]
        except InvalidInputError as exc:
            raise InputFileError(manifest.path, str(exc), field="memory.last_decision") from None


def restore_memory(model: PlanningEconomy, manifest: Field, npz: ArrayFile) -> None:
    """Put the saved generators, defences, strategies' and planning method's memory into ``model``.

    Raises:
        InputFileError: naming the file and the field of any problem.
    """
    memory = manifest.sub("memory")
    arrays = {k: npz.get(k) for k in npz.names() if k.startswith("memory/")}
    _generators(model, memory.sub("generators"), arrays)
    _defences(model, memory.get("defences", list), manifest, arrays)
    _strategies(model, memory.get("strategies", list), manifest, arrays)
    _planner(model, manifest, arrays)

