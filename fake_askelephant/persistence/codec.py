"""A generic dataclass <-> JSON codec, driven by the dataclasses' own type hints.

Encoding is orjson's native dataclass support (fields in order; `_`-prefixed fields are caches and are
skipped), with sets as sorted lists, deques as lists and bytes as base64. Decoding walks the declared
types: nested dataclasses, `X | None` and other unions (picked by the JSON value's shape), `list`,
`tuple[X, ...]`, `set`/`frozenset`, `deque`, `dict[str, X]`, `Mapping`, `Literal` and `Any`.
Fields missing from stored JSON take their defaults and unknown keys are ignored, so a state file written
before a model gained (or lost) a field still loads.
"""

from __future__ import annotations

import base64
import collections
import collections.abc
import dataclasses
import functools
import types
import typing
from typing import Any, TypeVar

import orjson

T = TypeVar("T")


class CodecError(ValueError):
    """Stored JSON does not fit the declared type."""


def _default(value: Any) -> Any:
    if isinstance(value, set | frozenset):
        return sorted(value)
    if isinstance(value, collections.deque):
        return list(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(f"cannot persist {type(value).__name__}")


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=_default)


def to_plain(value: Any, *, skip: tuple[str, ...] = ()) -> Any:
    """JSON-ready data for `value`; `skip` names top-level dataclass fields that are runtime-only."""
    if skip and dataclasses.is_dataclass(value):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value) if f.name not in skip}
    return value


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def decode(tp: Any, value: Any, path: str = "$") -> Any:
    """Rebuild a value of declared type `tp` from JSON data; raises CodecError naming the bad path."""
    if tp is Any or tp is object:
        return value
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Union or origin is types.UnionType:
        return _decode_union(args, value, path)
    if origin is typing.Literal:
        if value not in args:
            raise CodecError(f"{path}: {value!r} is not one of {args}")
        return value
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return _decode_dataclass(tp, value, path)
    if tp in (int, str, bool, float, bytes, type(None)):
        return _decode_scalar(tp, value, path)
    if origin in (list, collections.abc.Sequence, collections.abc.MutableSequence):
        return [decode(args[0] if args else Any, v, f"{path}[{i}]") for i, v in enumerate(_list(value, path))]
    if origin is tuple:
        items = _list(value, path)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(decode(args[0], v, f"{path}[{i}]") for i, v in enumerate(items))
        return tuple(decode(a, v, f"{path}[{i}]") for i, (a, v) in enumerate(zip(args, items, strict=True)))
    if origin in (set, frozenset, collections.abc.Set):
        made = (decode(args[0] if args else Any, v, f"{path}[{i}]") for i, v in enumerate(_list(value, path)))
        return frozenset(made) if origin is frozenset else set(made)
    if origin is collections.deque:
        return collections.deque(decode(args[0], v, f"{path}[{i}]") for i, v in enumerate(_list(value, path)))
    if origin in (dict, collections.abc.Mapping, collections.abc.MutableMapping, collections.OrderedDict):
        if not isinstance(value, dict):
            raise CodecError(f"{path}: expected an object")
        key_tp, val_tp = args if args else (Any, Any)
        made_dict = {decode(key_tp, k, path): decode(val_tp, v, f"{path}.{k}") for k, v in value.items()}
        return collections.OrderedDict(made_dict) if origin is collections.OrderedDict else made_dict
    if tp in (list, dict, tuple, set, frozenset):
        return tp(value)
    raise CodecError(f"{path}: the codec does not know how to rebuild {tp!r}")


def _list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise CodecError(f"{path}: expected an array")
    return value


def _decode_scalar(tp: type, value: Any, path: str) -> Any:
    if tp is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if tp is bytes and isinstance(value, str):
        return base64.b64decode(value)
    if tp is int and isinstance(value, bool):
        raise CodecError(f"{path}: expected an integer")
    if tp is type(None) and value is None:
        return None
    if isinstance(value, tp):
        return value
    raise CodecError(f"{path}: expected {tp.__name__}, got {type(value).__name__}")


def _fits(tp: Any, value: Any) -> bool:
    """Whether a JSON value has the shape of `tp` (used to pick a union arm)."""
    origin = typing.get_origin(tp) or tp
    if tp is Any or tp is object:
        return True
    if value is None:
        return tp is type(None)
    if dataclasses.is_dataclass(origin) or origin in (dict, collections.abc.Mapping, collections.OrderedDict):
        return isinstance(value, dict)
    if origin in (list, tuple, set, frozenset, collections.deque, collections.abc.Sequence):
        return isinstance(value, list)
    if origin is typing.Literal:
        return value in typing.get_args(tp)
    if origin is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if origin is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if origin is bytes:
        return isinstance(value, str)
    return isinstance(origin, type) and isinstance(value, origin)


def _decode_union(args: tuple[Any, ...], value: Any, path: str) -> Any:
    for arm in args:
        if _fits(arm, value):
            return decode(arm, value, path)
    raise CodecError(f"{path}: {type(value).__name__} fits none of {args}")


def build(cls: type[T], value: Any, **given: Any) -> T:
    """Decode a dataclass whose `given` fields are supplied by the caller (links to other objects)."""
    return _decode_dataclass(cls, value, "$", given)


def _decode_dataclass(cls: type[T], value: Any, path: str, given: dict[str, Any] | None = None) -> T:
    if not isinstance(value, dict):
        raise CodecError(f"{path}: expected an object for {cls.__name__}")
    hints = _hints(typing.cast(type, cls))
    init: dict[str, Any] = {}
    later: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if given and f.name in given:
            (init if f.init else later)[f.name] = given[f.name]
            continue
        if f.name not in value or f.name.startswith("_"):
            continue
        decoded = decode(hints[f.name], value[f.name], f"{path}.{f.name}")
        (init if f.init else later)[f.name] = decoded
    try:
        obj = cls(**init)
    except TypeError as exc:
        raise CodecError(f"{path}: cannot rebuild {cls.__name__}: {exc}") from exc
    for name, v in later.items():
        object.__setattr__(obj, name, v)
    return obj


def loads(tp: type[T], data: bytes) -> T:
    result: T = decode(tp, orjson.loads(data))
    return result
