"""`askelephant-contract parity RECORDING --target-url URL`: replay a `fake-askelephant proxy` recording (issue 20).

Each recorded request is sent to the target (the emulator) with the target's key; each answer is compared with
the recorded one on what a client depends on: the status, the headers the docs name (presence; the value of
`X-Api-Version` and the media type), and the body's shape — field sets, JSON types, nullability, and the values
of every field the OpenAPI document gives an enum or a constant. Counts and free values (titles, times, ids) are
not compared: the two sides hold different data.

Placeholders in the recording (`ngmt_@3`, `@cursor1`) are mapped to what the target answered at the same place,
and substituted into later requests, so a create → get → list walk replays against the target's own records.
Standard library only.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from contract_tests.schemas import openapi_document

PLACEHOLDER = re.compile(r"^(?:[a-z]+_@\d+|@cursor\d+)$")
PRESENT = "@present"


@dataclass(frozen=True)
class Difference:
    exchange: int  # 1-based line of the recording
    request: str
    where: str
    what: str

    def __str__(self) -> str:
        return f"#{self.exchange} {self.request} {self.where}: {self.what}"


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes


@cache
def enum_fields() -> frozenset[str]:
    """Property names that carry an enum or a constant anywhere in the served OpenAPI document."""
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for name, prop in (node.get("properties") or {}).items():
                if isinstance(prop, dict) and ("enum" in prop or "const" in prop):
                    names.add(name)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(openapi_document()["components"])
    return frozenset(names)


def load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def send(base_url: str, api_key: str, method: str, path: str, query: list[tuple[str, str]], body: Any) -> Answer:
    url = base_url.rstrip("/") + path + ("?" + urllib.parse.urlencode(query) if query else "")
    data = None if body is None else json.dumps(body).encode()
    headers = {"Authorization": api_key, "Accept": "application/json"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 - http(s) only
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:  # noqa: S310
            return Answer(resp.status, dict(resp.headers.items()), resp.read())
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, dict(exc.headers.items()), exc.read())


def replay(recording: Iterable[Mapping[str, Any]], base_url: str, api_key: str) -> list[Difference]:
    """Every difference between the recording and the target at `base_url` (the API base, `…/api`)."""
    if not base_url.startswith(("http://", "https://")):
        raise ValueError(f"--target-url must be http(s): {base_url}")
    mapping: dict[str, str] = {}
    found: list[Difference] = []
    for n, exchange in enumerate(recording, 1):
        req, want = exchange["request"], exchange["response"]
        path = "/".join(mapping.get(part, part) for part in req["path"].split("/"))
        query = [(k, _substitute(v, mapping)) for k, v in req["query"]]
        body = _substitute(req["json"], mapping)
        label = f"{req['method']} {req['path']}"
        got = send(base_url, api_key, req["method"], path, query, body)
        found += [Difference(n, label, where, what) for where, what in _compare(want, got, mapping)]
    return found


def _substitute(value: Any, mapping: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return mapping.get(value, value)
    if isinstance(value, list):
        return [_substitute(v, mapping) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, mapping) for k, v in value.items()}
    return value


def _compare(want: Mapping[str, Any], got: Answer, mapping: dict[str, str]) -> Iterator[tuple[str, str]]:
    if got.status != want["status"]:
        yield "status", f"recorded {want['status']}, target {got.status}"
    headers = {k.lower(): v for k, v in got.headers.items()}
    for name, value in want["headers"].items():
        mine = headers.get(name.lower())
        if mine is None:
            yield f"header {name}", "recorded, absent from the target"
        elif name == "Content-Type" and mine.split(";")[0].strip() != value:
            yield f"header {name}", f"recorded {value!r}, target {mine.split(';')[0].strip()!r}"
        elif name == "X-Api-Version" and mine != value:
            yield f"header {name}", f"recorded {value!r}, target {mine!r}"
    for name in ("X-Api-Version", "ETag", "WWW-Authenticate", "Retry-After"):
        if name.lower() in headers and name not in want["headers"]:
            yield f"header {name}", "absent from the recording, sent by the target"
    recorded = want["json"]
    try:
        mine_json = json.loads(got.body) if got.body else None
    except ValueError:
        mine_json = None
    if recorded is None or mine_json is None:
        if (recorded is None) != (mine_json is None):
            sides = ["no JSON" if v is None else "JSON" for v in (recorded, mine_json)]
            yield "body", f"recorded {sides[0]}, target {sides[1]}"
        return
    yield from _shape(recorded, mine_json, "$", mapping)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _shape(
    want: Any, got: Any, where: str, mapping: dict[str, str], key: str | None = None
) -> Iterator[tuple[str, str]]:
    a, b = _kind(want), _kind(got)
    if a != b:
        what = "nullability" if "null" in (a, b) else "type"
        yield where, f"{what}: recorded {a}, target {b}"
        return
    if a == "string":
        if PLACEHOLDER.match(want):
            mapping.setdefault(want, got)
        elif key in enum_fields() and want != got and want != "@datetime":
            yield where, f"enum value: recorded {want!r}, target {got!r}"
    elif a == "object":
        for missing in sorted(set(want) - set(got)):
            yield f"{where}.{missing}", "field recorded, absent from the target"
        for extra in sorted(set(got) - set(want)):
            yield f"{where}.{extra}", "field sent by the target, absent from the recording"
        for name in sorted(set(want) & set(got)):
            yield from _shape(want[name], got[name], f"{where}.{name}", mapping, name)
    elif a == "array":
        for i, (x, y) in enumerate(zip(want, got, strict=False)):
            yield from _shape(x, y, f"{where}[{i}]", mapping, key)
