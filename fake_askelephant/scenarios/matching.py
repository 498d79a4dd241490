"""Assertions on JSON: subsets, JSONPath checks (jsonpath-ng) and JSON Schema (jsonschema), as mismatch lists."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

import jsonschema
from jsonpath_ng import JSONPath
from jsonpath_ng.exceptions import JsonPathLexerError, JsonPathParserError
from jsonpath_ng.ext.parser import parse as parse_jsonpath

from ..core.records import dataclass
from .model import JsonPathCheck

_MISSING = object()


@dataclass(frozen=True)
class Mismatch:
    where: str
    """`status`, `headers.Location`, or a JSONPath-like location in a body such as `$.data[0].id`."""
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def show(value: Any) -> str:
    """Compact JSON for messages, cut to a readable length."""
    if value is _MISSING:
        return "(missing)"
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= 160 else text[:157] + "…"


def json_equal(a: Any, b: Any) -> bool:
    """JSON equality: 1 == 1.0, but true != 1 and key order does not matter."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _child_path(path: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(key)) else f"{path}[{json.dumps(key)}]"


def subset_mismatches(expected: Any, actual: Any, path: str = "$") -> list[Mismatch]:
    """Objects: every expected key present and matching; arrays: same length, item by item; else equal."""
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            return [Mismatch(path, f"expected an object, got {show(actual)}")]
        out: list[Mismatch] = []
        for key, value in expected.items():
            if key not in actual:
                out.append(Mismatch(_child_path(path, key), f"missing; expected {show(value)}"))
            else:
                out.extend(subset_mismatches(value, actual[key], _child_path(path, key)))
        return out
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [Mismatch(path, f"expected an array, got {show(actual)}")]
        if len(expected) != len(actual):
            return [Mismatch(path, f"expected {len(expected)} item(s), got {len(actual)}: {show(actual)}")]
        return [
            m
            for i, (e, a) in enumerate(zip(expected, actual, strict=True))
            for m in subset_mismatches(e, a, f"{path}[{i}]")
        ]
    if not json_equal(expected, actual):
        return [Mismatch(path, f"expected {show(expected)}, got {show(actual)}")]
    return []


def project(expected: Any, actual: Any) -> Any:
    """`actual` cut down to the shape of `expected`, so a diff shows only what the expectation talks about."""
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        return {k: project(v, actual[k]) if k in actual else "(missing)" for k, v in expected.items()}
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        return [project(e, a) for e, a in zip(expected, actual, strict=True)]
    return actual


def unified_diff(expected: Any, actual: Any) -> list[str]:
    """Line diff of the expected subset against the matching part of the actual body."""
    a = json.dumps(expected, indent=2, ensure_ascii=False, sort_keys=False).splitlines()
    b = json.dumps(project(expected, actual), indent=2, ensure_ascii=False, sort_keys=False).splitlines()
    return list(difflib.unified_diff(a, b, "expected", "actual", lineterm="", n=2))


@lru_cache(maxsize=512)
def compile_jsonpath(expression: str) -> JSONPath:
    """Parse once (the parser is slow); raises ValueError with the library's reason."""
    try:
        return parse_jsonpath(expression)
    except (JsonPathLexerError, JsonPathParserError) as exc:
        raise ValueError(f"invalid JSONPath {expression!r}: {exc}") from exc
    except Exception as exc:  # the filter grammar raises plain errors for some malformed input
        raise ValueError(f"invalid JSONPath {expression!r}: {exc}") from exc


def jsonpath_values(expression: str, document: Any) -> list[Any]:
    return [m.value for m in compile_jsonpath(expression).find(document)]


def _numeric(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def jsonpath_mismatches(check: JsonPathCheck, document: Any) -> list[Mismatch]:
    """Each given condition must hold; conditions on values hold for every selected value."""
    values = jsonpath_values(check.path, document)
    where, given = check.path, check.model_fields_set
    out: list[Mismatch] = []
    if "exists" in given and check.exists != bool(values):
        out.append(
            Mismatch(
                where, "expected a match, found none" if check.exists else f"expected no match, got {show(values)}"
            )
        )
    if check.count is not None and len(values) != check.count:
        out.append(Mismatch(where, f"expected {check.count} match(es), got {len(values)}: {show(values)}"))
    value_checks = given - {"path", "exists", "count"}
    if not value_checks:
        return out
    if not values:
        return [*out, Mismatch(where, "no value matched the path")]
    if "equals" in given:
        actual: Any = values[0] if len(values) == 1 else values
        if len(values) == 1 and isinstance(check.equals, list) and not isinstance(values[0], list):
            actual = values
        if not json_equal(check.equals, actual):
            out.append(Mismatch(where, f"expected {show(check.equals)}, got {show(actual)}"))
    for value in values:
        out.extend(_value_mismatches(check, given, value))
    return out


def _value_mismatches(check: JsonPathCheck, given: set[str], value: Any) -> Iterable[Mismatch]:
    where = check.path
    if "not_equals" in given and json_equal(check.not_equals, value):
        yield Mismatch(where, f"expected anything but {show(check.not_equals)}")
    if check.one_of is not None and not any(json_equal(option, value) for option in check.one_of):
        yield Mismatch(where, f"expected one of {show(check.one_of)}, got {show(value)}")
    if check.length is not None:
        if not isinstance(value, str | list | Mapping):
            yield Mismatch(where, f"expected something with a length, got {show(value)}")
        elif len(value) != check.length:
            yield Mismatch(where, f"expected length {check.length}, got {len(value)}: {show(value)}")
    if "contains" in given:
        if isinstance(value, str) and isinstance(check.contains, str):
            found = check.contains in value
        elif isinstance(value, list):
            found = any(
                json_equal(check.contains, item) or not subset_mismatches(check.contains, item) for item in value
            )
        else:
            found = False
        if not found:
            yield Mismatch(where, f"expected it to contain {show(check.contains)}, got {show(value)}")
    if check.matches is not None and (not isinstance(value, str) or not re.search(check.matches, value)):
        yield Mismatch(where, f"expected a string matching /{check.matches}/, got {show(value)}")
    if check.gte is not None and (not _numeric(value) or value < check.gte):
        yield Mismatch(where, f"expected a number >= {check.gte:g}, got {show(value)}")
    if check.lte is not None and (not _numeric(value) or value > check.lte):
        yield Mismatch(where, f"expected a number <= {check.lte:g}, got {show(value)}")


def schema_mismatches(schema: Mapping[str, Any], document: Any, prefix: str = "$") -> list[Mismatch]:
    validator = jsonschema.Draft202012Validator(schema)
    out = []
    for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path)):
        where = prefix
        for part in error.absolute_path:
            where = _child_path(where, part)
        out.append(Mismatch(where, f"schema: {error.message}"))
    return out


def check_schema(schema: Mapping[str, Any]) -> str | None:
    """None when `schema` is a valid JSON Schema (2020-12), else the reason."""
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        return str(exc.message)
    return None


def header_mismatches(expected: Mapping[str, str | None], headers: Mapping[str, str]) -> list[Mismatch]:
    lowered = {k.lower(): v for k, v in headers.items()}
    out = []
    for name, value in expected.items():
        actual = lowered.get(name.lower())
        if value is None and actual is not None:
            out.append(Mismatch(f"headers.{name}", f"expected no such header, got {show(actual)}"))
        elif value is not None and actual != value:
            out.append(
                Mismatch(
                    f"headers.{name}",
                    f"expected {show(value)}, got {show(actual) if actual is not None else '(absent)'}",
                )
            )
    return out


def distinct(values: Sequence[Any]) -> list[Any]:
    """Values without JSON-equal repeats, in first-seen order."""
    out: list[Any] = []
    for value in values:
        if not any(json_equal(value, seen) for seen in out):
            out.append(value)
    return out
