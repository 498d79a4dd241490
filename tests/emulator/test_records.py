"""core/records.py's `dataclass` behaves as `dataclasses.dataclass` on the running Python (the oracle).

Each case defines one class body twice, once with each decorator, and compares what a caller can see: repr,
equality (also against other classes and with a shared NaN, where the generated code's identity shortcut
shows), hashing (value and hashability), frozen assignment, explicit methods kept, inheritance and slots.
"""

from __future__ import annotations

import dataclasses
import pickle
import re
from collections.abc import Callable
from typing import Any

import pytest

from fake_askelephant.core.records import dataclass as record

NAN = float("nan")
OPTIONS: list[dict[str, bool]] = [
    {},
    {"frozen": True},
    {"frozen": True, "slots": True},
    {"slots": True},
    {"slots": True, "weakref_slot": True},
    {"eq": False, "slots": True, "weakref_slot": True},
    {"frozen": True, "eq": False},
    {"repr": False},
    {"kw_only": True},
]

Decorate = Callable[..., Any]


def plain(decorate: Decorate, opts: dict[str, bool]) -> Any:
    @decorate(**opts)
    class Point:
        x: int
        y: Any = 0
        note: str = dataclasses.field(default="n", compare=False)
        secret: str = dataclasses.field(default="s", repr=False)
        weight: float = dataclasses.field(default=1.0, hash=False)
        tags: tuple[str, ...] = ()

    return Point


def empty(decorate: Decorate, opts: dict[str, bool]) -> Any:
    @decorate(**opts)
    class Nothing:
        pass

    return Nothing


def single(decorate: Decorate, opts: dict[str, bool]) -> Any:
    @decorate(**opts)
    class One:
        only: Any

    return One


def own_methods(decorate: Decorate, opts: dict[str, bool]) -> Any:
    @decorate(**opts)
    class Own:
        a: int

        def __eq__(self, other: object) -> bool:
            return True

        def __repr__(self) -> str:
            return "own"

    return Own


def own_hash(decorate: Decorate, opts: dict[str, bool]) -> Any:
    @decorate(**opts)
    class OwnHash:
        a: int

        def __hash__(self) -> int:
            return 7

    return OwnHash


def derived(decorate: Decorate, opts: dict[str, bool]) -> Any:
    base = plain(decorate, {k: v for k, v in opts.items() if k not in ("slots", "weakref_slot")})

    @decorate(**opts)
    class Child(base):  # type: ignore[misc, valid-type]
        extra: int = 5

    return Child


SHAPES = {
    "plain": plain,
    "empty": empty,
    "single": single,
    "own": own_methods,
    "own_hash": own_hash,
    "derived": derived,
}


def samples(cls: Any) -> list[Any]:
    """Instances that differ in compared, uncompared and unhashed fields, and share a NaN."""
    names = [f.name for f in dataclasses.fields(cls)]
    values: list[dict[str, Any]] = [{}]
    if "only" in names:
        values = [{"only": 1}, {"only": 1}, {"only": 2}, {"only": NAN}, {"only": NAN}, {"only": [1]}]
    elif "a" in names:
        values = [{"a": 1}, {"a": 1}, {"a": 2}]
    elif "x" in names:
        values = [
            {"x": 1},
            {"x": 1},
            {"x": 1, "note": "other"},
            {"x": 1, "secret": "other"},
            {"x": 1, "weight": 2.0},
            {"x": 2, "y": NAN},
            {"x": 2, "y": NAN},
            {"x": 1, "tags": ("a",)},
        ]
    return [cls(**v) for v in values]


def observed(cls: Any) -> dict[str, Any]:
    instances = samples(cls)
    seen: dict[str, Any] = {
        "repr": [re.sub(" at 0x[0-9a-f]+", " at ADDRESS", repr(i)) for i in instances],
        "eq": [[a == b for b in instances] for a in instances],
        "ne": [[a != b for b in instances] for a in instances],
        "eq_other_class": [i.__eq__(object()) for i in instances],
        "hashable": cls.__hash__ is not None,
        "fields": [(f.name, f.compare, f.repr) for f in dataclasses.fields(cls)],
        "slots": getattr(cls, "__slots__", None),
        "match_args": getattr(cls, "__match_args__", None),
    }
    if cls.__hash__ is not None:
        seen["hash"] = [_hash(i) for i in instances]
    if instances:
        first = instances[0]
        try:
            setattr(first, "zzz" if not dataclasses.fields(cls) else dataclasses.fields(cls)[0].name, 3)
            seen["assign"] = "ok"
        except dataclasses.FrozenInstanceError:
            seen["assign"] = "frozen"
        except (AttributeError, TypeError) as exc:  # TypeError: 3.11's frozen+slots guard of a field-less class
            seen["assign"] = type(exc).__name__
        seen["copy_equal"] = dataclasses.replace(instances[-1]) == instances[-1]
    return seen


def _hash(obj: Any) -> Any:
    try:
        value = hash(obj)
    except TypeError:
        return "unhashable"
    return "identity" if value == object.__hash__(obj) else value


@pytest.mark.parametrize("opts", OPTIONS, ids=lambda o: ",".join(o) or "default")
@pytest.mark.parametrize("shape", list(SHAPES))
def test_record_matches_dataclass(shape: str, opts: dict[str, bool]) -> None:
    assert outcome(SHAPES[shape], record, opts) == outcome(SHAPES[shape], dataclasses.dataclass, opts)


def outcome(make: Callable[[Decorate, dict[str, bool]], Any], decorate: Decorate, opts: dict[str, bool]) -> Any:
    try:
        cls = make(decorate, opts)
    except TypeError as exc:  # e.g. a __weakref__ slot under a base that has one: refused alike
        return str(exc)
    return observed(cls)


def test_recursive_repr_and_qualname_match() -> None:
    classes = []
    decorate: Any
    for decorate in (dataclasses.dataclass, record):

        @decorate
        class Node:
            children: list[Any]

        node: Any = Node([])  # type: ignore[call-arg]
        node.children.append(node)
        classes.append((repr(node), Node.__repr__.__qualname__.rsplit(".", 2)[-2:]))
    assert classes[0] == classes[1]


@record(frozen=True)
class Picklable:
    a: int
    b: str = "b"


def test_a_frozen_record_pickles_and_keys_dicts() -> None:
    value = Picklable(1)
    assert pickle.loads(pickle.dumps(value)) == value  # noqa: S301  (our own bytes)
    assert {value: 1}[Picklable(1)] == 1
    assert dataclasses.asdict(value) == {"a": 1, "b": "b"}
