"""core/records.py's `dataclass` behaves as `dataclasses.dataclass` on the running Python (the oracle).

Each case defines one class body twice, once with each decorator, and compares what a caller can see: repr,
equality (also against other classes and with a shared NaN, where the generated code's identity shortcut
shows), hashing (value and hashability), frozen assignment, explicit methods kept, inheritance and slots; and what
`__init__` does (stored values, defaults, the TypeError of a bad call), which frozen records replace.
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


def factory_default(decorate: Decorate, opts: dict[str, bool]) -> Any:
    @decorate(**opts)
    class Bag:
        a: int
        items: list[int] = dataclasses.field(default_factory=list)

    return Bag


def post_init(decorate: Decorate, opts: dict[str, bool]) -> Any:
    @decorate(**opts)
    class Checked:
        a: int

        def __post_init__(self) -> None:
            if self.a < 0:
                raise ValueError("negative")

    return Checked


def init_var(decorate: Decorate, opts: dict[str, bool]) -> Any:
    @decorate(**opts)
    class Seeded:
        a: int
        seed: dataclasses.InitVar[int] = 0  # type: ignore[assignment]

    return Seeded


def not_in_init(decorate: Decorate, opts: dict[str, bool]) -> Any:
    @decorate(**opts)
    class Partial:
        a: int
        b: int = dataclasses.field(default=2, init=False)

    return Partial


SHAPES = {
    "plain": plain,
    "factory": factory_default,
    "post_init": post_init,
    "init_var": init_var,
    "not_in_init": not_in_init,
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
        if "items" in names:
            values.append({"a": 3, "items": [1]})
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
    names = [f.name for f in dataclasses.fields(cls)]
    seen: dict[str, Any] = {
        "repr": [re.sub(" at 0x[0-9a-f]+", " at ADDRESS", repr(i)) for i in instances],
        "eq": [[a == b for b in instances] for a in instances],
        "ne": [[a != b for b in instances] for a in instances],
        "eq_other_class": [i.__eq__(object()) for i in instances],
        "hashable": cls.__hash__ is not None,
        "fields": [(f.name, f.compare, f.repr) for f in dataclasses.fields(cls)],
        "slots": getattr(cls, "__slots__", None),
        "match_args": getattr(cls, "__match_args__", None),
        "values": [[getattr(i, name, "unset") for name in names] for i in instances],
        "bad_calls": [_bad_call(cls, args, kwargs) for args, kwargs in BAD_CALLS],
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


BAD_CALLS: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
    ((), {}),  # missing arguments (for a class that has some)
    ((1, 2, 3, 4, 5, 6, 7, 8), {}),  # too many
    ((1,), {"nope": 1}),  # an unknown keyword
    ((1,), {"a": 1, "x": 1, "only": 1}),  # one value twice
    ((-1,), {}),  # __post_init__ refuses it
]


def _bad_call(cls: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    try:
        made = cls(*args, **kwargs)
    except (TypeError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return "made " + re.sub(" at 0x[0-9a-f]+", "", repr(made)) if cls.__repr__ is not object.__repr__ else "made"


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


def test_frozen_records_store_without_object_setattr() -> None:
    """The point of the replaced __init__ (issue 22 §2): a plain frozen record, with or without slots, stores its
    fields without calling object.__setattr__ per field; one with a __post_init__ keeps the generated __init__."""
    for opts in ({"frozen": True}, {"frozen": True, "slots": True}, {"frozen": True, "kw_only": True}):
        assert "__setattr__" not in plain(record, opts).__init__.__code__.co_names, opts
        assert "__setattr__" in plain(dataclasses.dataclass, opts).__init__.__code__.co_names, opts  # what it replaces
    assert "__setattr__" in post_init(record, {"frozen": True}).__init__.__code__.co_names
    assert "__setattr__" in post_init(dataclasses.dataclass, {"frozen": True}).__init__.__code__.co_names


def test_a_frozen_record_under_a_property_keeps_the_generated_init() -> None:
    """A field whose store a data descriptor of the class intercepts is left to object.__setattr__, as generated."""
    seen = []
    for decorate in (dataclasses.dataclass, record):

        class Base:
            @property
            def a(self) -> int:
                return 7

            @a.setter
            def a(self, value: int) -> None:
                seen.append(value)

        made: Any = decorate(frozen=True)(type("Shadowed", (Base,), {"__annotations__": {"a": int}}))
        assert made(5).a == 7
    assert seen == [5, 5]
