"""`${step.body.id}` references: dotted paths into earlier results, resolved when a step runs.

A string that is exactly one reference takes the referenced value with its JSON type; references inside
longer strings are spliced in as text. `$${` writes a literal `${`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from ..core import jsonutil

_TOKEN = re.compile(r"\$\$\{|\$\{([^{}]*)\}")
_SEGMENT = re.compile(r"[^.\[\]]+|\[(\d+)\]")


class UnresolvedReference(Exception):
    """A reference names something that does not exist (yet)."""


def find_references(value: Any) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """(path inside `value`, reference expression) for every `${…}` in nested strings."""
    if isinstance(value, str):
        for m in _TOKEN.finditer(value):
            if m.group(0) != "$${":
                yield (), m.group(1).strip()
    elif isinstance(value, Mapping):
        for k, v in value.items():
            for path, expr in find_references(v):
                yield (k, *path), expr
    elif isinstance(value, list):
        for i, v in enumerate(value):
            for path, expr in find_references(v):
                yield (i, *path), expr


def split(expr: str) -> list[str]:
    """`submit.body.participants[0].email` → ["submit", "body", "participants", "0", "email"]."""
    if not expr:
        raise UnresolvedReference("empty reference ${}")
    parts: list[str] = []
    pos = 0
    for m in _SEGMENT.finditer(expr):
        gap = expr[pos : m.start()]
        if gap not in ("", "."):
            raise UnresolvedReference(f"malformed reference ${{{expr}}}")
        parts.append(m.group(1) if m.group(1) is not None else m.group(0))
        pos = m.end()
    if pos != len(expr) or not parts:
        raise UnresolvedReference(f"malformed reference ${{{expr}}}")
    return parts


def resolve(expr: str, roots: Mapping[str, Any]) -> Any:
    parts = split(expr)
    if parts[0] not in roots:
        known = ", ".join(sorted(roots)) or "none"
        raise UnresolvedReference(f"${{{expr}}}: no step or root named {parts[0]!r} (known: {known})")
    value = roots[parts[0]]
    for depth, part in enumerate(parts[1:], start=1):
        value = _child(value, part, expr, ".".join(parts[:depth]))
    return value


def _child(value: Any, part: str, expr: str, where: str) -> Any:
    if isinstance(value, Mapping):
        if part in value:
            return value[part]
        folded = [k for k in value if isinstance(k, str) and k.lower() == part.lower()]  # header names
        if len(folded) == 1:
            return value[folded[0]]
        keys = ", ".join(str(k) for k in list(value)[:12]) or "nothing"
        raise UnresolvedReference(f"${{{expr}}}: {where} has no {part!r} (it has {keys})")
    if isinstance(value, list):
        if part.isdigit() and int(part) < len(value):
            return value[int(part)]
        raise UnresolvedReference(f"${{{expr}}}: {where} is a list of {len(value)}; {part!r} is not an index in it")
    raise UnresolvedReference(f"${{{expr}}}: {where} is {_kind(value)}, so it has no {part!r}")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return "a number" if isinstance(value, int | float) else "a string"


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return jsonutil.dumps(value).decode()


def interpolate(value: Any, roots: Mapping[str, Any]) -> Any:
    """Resolve every reference in nested strings (keys included)."""
    if isinstance(value, str):
        whole = _TOKEN.fullmatch(value)
        if whole and whole.group(0) != "$${":
            return resolve(whole.group(1).strip(), roots)
        return _TOKEN.sub(
            lambda m: "${" if m.group(0) == "$${" else _as_text(resolve(m.group(1).strip(), roots)), value
        )
    if isinstance(value, Mapping):
        return {interpolate(k, roots) if isinstance(k, str) else k: interpolate(v, roots) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, roots) for v in value]
    return value


def escape(text: str) -> str:
    """Make recorded text literal: `${` → `$${`."""
    return text.replace("${", "$${")
