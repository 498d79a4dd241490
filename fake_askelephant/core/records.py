"""`dataclass`: the standard library's, with `__eq__`, `__hash__` and `__repr__` shared, not generated per class.

The standard library compiles every generated method of every dataclass with `exec` when the class is created:
~90 of the emulator's dataclasses are created before `serve` answers, and their methods were a sixth of its own
start-up (issue 22 §5). Here the standard library generates only `__init__` (and, when frozen, the guards that
refuse assignment); equality, hashing and repr are functions over `operator.attrgetter` of the compared fields,
with the same results as the generated ones on the running Python (tests/emulator/test_records.py holds them
against `dataclasses.dataclass`): ~0.2 ms less per class. A drop-in for the options the emulator uses; `order`
and `unsafe_hash` are not offered.

A frozen class's `__init__` is replaced too, where it only stores its arguments: the generated one stores each field
with `object.__setattr__` (the class's own `__setattr__` refuses), about 1,200 machine instructions a field; ours
writes the instance's `__dict__`, or calls the slot's own descriptor, for a third to a half of that (issue 22 §2: a
create builds a dozen frozen records). Same signature, defaults, errors and values (tests/emulator/test_records.py).
"""

from __future__ import annotations

import dataclasses
import reprlib
import sys
import types
from collections.abc import Callable
from operator import attrgetter
from typing import Any, TypeVar, cast, dataclass_transform, overload

T = TypeVar("T")
_FIELD_BY_FIELD = sys.version_info >= (3, 13)  # 3.13's generated __eq__: identity, then `a == a and b == b …`


@overload
def dataclass(cls: type[T], /) -> type[T]: ...


@overload
def dataclass(
    *,
    frozen: bool = False,
    eq: bool = True,
    repr: bool = True,
    slots: bool = False,
    weakref_slot: bool = False,
    kw_only: bool = False,
) -> Callable[[type[T]], type[T]]: ...


@dataclass_transform(field_specifiers=(dataclasses.field, dataclasses.Field))
def dataclass(
    cls: type[T] | None = None,
    /,
    *,
    frozen: bool = False,
    eq: bool = True,
    repr: bool = True,
    slots: bool = False,
    weakref_slot: bool = False,
    kw_only: bool = False,
) -> type[T] | Callable[[type[T]], type[T]]:
    """Like `@dataclass(...)` with the same keywords; see the module docstring."""

    def wrap(cls: type[T]) -> type[T]:
        own = cls.__dict__
        own_eq = "__eq__" in own
        own_repr = "__repr__" in own
        class_hash = own.get("__hash__", dataclasses.MISSING)
        # As dataclasses decides: a class body that defines __eq__ gets __hash__ = None from Python, not explicitly.
        explicit_hash = not (class_hash is dataclasses.MISSING or (class_hash is None and own_eq))
        made: Any = dataclasses.dataclass(
            cls, frozen=frozen, eq=False, repr=False, slots=slots, weakref_slot=weakref_slot, kw_only=kw_only
        )
        fields = dataclasses.fields(made)
        if frozen:
            _store_directly(made, fields, slots=slots)
        if repr and not own_repr:
            made.__repr__ = _repr_of(made, tuple(f.name for f in fields if f.repr))
        if eq:
            compared = tuple(f.name for f in fields if f.compare)
            if not own_eq:
                made.__eq__ = _eq_field_by_field(compared) if _FIELD_BY_FIELD else _eq_as_tuples(compared)
            if not explicit_hash:
                hashed = tuple(f.name for f in fields if (f.compare if f.hash is None else f.hash))
                made.__hash__ = _hash_of(hashed) if frozen else None
        return cast("type[T]", made)

    return wrap if cls is None else wrap(cls)


def _values(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """The fields' values as a tuple (attrgetter alone returns a bare value for one name)."""
    if not names:
        return lambda obj: ()
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda obj: (one(obj),)
    return attrgetter(*names)


def _eq_field_by_field(names: tuple[str, ...]) -> Callable[[Any, Any], Any]:
    getters = tuple(attrgetter(name) for name in names)

    def __eq__(self: Any, other: Any) -> Any:
        if self is other:
            return True
        if other.__class__ is not self.__class__:
            return NotImplemented
        result: Any = True
        for get in getters:  # `a == a and b == b …`: the first false result, else the last
            result = get(self) == get(other)
            if not result:
                return result
        return result

    return __eq__


def _eq_as_tuples(names: tuple[str, ...]) -> Callable[[Any, Any], Any]:
    values = _values(names)

    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return values(self) == values(other)
        return NotImplemented

    return __eq__


def _hash_of(names: tuple[str, ...]) -> Callable[[Any], int]:
    values = _values(names)

    def __hash__(self: Any) -> int:
        return hash(values(self))

    return __hash__


def _repr_of(cls: type, names: tuple[str, ...]) -> Callable[[Any], str]:
    @reprlib.recursive_repr()
    def __repr__(self: Any) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{self.__class__.__qualname__}({inner})"

    __repr__.__qualname__ = f"{cls.__qualname__}.__repr__"
    return __repr__


def _store_directly(cls: Any, fields: tuple[dataclasses.Field[Any], ...], *, slots: bool) -> None:
    """Give a frozen dataclass an `__init__` that stores its arguments without `object.__setattr__`, when that is
    all the generated one does: every field an init argument with a plain default (no factory), no `__post_init__`
    or InitVar, and no descriptor of the class's own (a property, say) in the way of a field's store."""
    generated = cls.__init__
    names = [f.name for f in fields]
    code = generated.__code__
    params = code.co_varnames[1 : code.co_argcount + code.co_kwonlyargcount]
    if (
        not names
        or hasattr(cls, "__post_init__")
        or list(params) != names  # init=False fields, InitVars or another order: leave the generated one
        or any(f.default_factory is not dataclasses.MISSING for f in fields)
        or any(not _plain_slot(cls, name, slots) for name in names)
    ):
        return
    positional, keyword = params[: code.co_argcount - 1], params[code.co_argcount - 1 :]
    signature = ", ".join(["self", *positional, *(["*", *keyword] if keyword else [])])
    if slots:
        setters = {f"_set_{name}": cls.__dict__[name].__set__ for name in names}
        body = [f"_set_{name}(self, {name})" for name in names]
    else:
        setters = {}
        body = ["_d = self.__dict__", *(f"_d[{name!r}] = {name}" for name in names)]
    namespace: dict[str, Any] = {}
    exec(f"def __init__({signature}):\n    " + "\n    ".join(body), setters, namespace)  # noqa: S102  (our text)
    init = namespace["__init__"]
    init.__defaults__ = generated.__defaults__
    init.__kwdefaults__ = generated.__kwdefaults__
    init.__annotations__ = generated.__annotations__
    init.__qualname__ = generated.__qualname__  # TypeError messages name the class, as the generated one's do
    init.__module__ = generated.__module__
    init.__doc__ = generated.__doc__
    cls.__init__ = init


def _plain_slot(cls: type, name: str, slots: bool) -> bool:
    """A slots class's field is its own member descriptor; any other class's field is no data descriptor at all."""
    found = next((klass.__dict__[name] for klass in cls.__mro__ if name in klass.__dict__), None)
    if slots:
        return isinstance(found, types.MemberDescriptorType) and name in cls.__dict__
    return found is None or not hasattr(type(found), "__set__")
