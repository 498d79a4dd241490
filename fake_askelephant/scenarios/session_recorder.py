"""Record-to-scenario: a live session's requests, clock moves and webhooks, written as a scenario file.

The HTTP side (api/admin/scenarios.py) captures exchanges; this module turns them into YAML that replays
green on a fresh emulator:

- requests become `request` steps whose `expect` holds what came back (status, Location/Retry-After,
  the body) with volatile values generalized: ids seen in an earlier response become `${step.body.…}`
  references, ids first seen in this response, request ids and (when the live clock ran by itself)
  timestamps are left out, and big lists become a length check;
- virtual time that passed between requests becomes `advance` steps;
- webhook attempts become cumulative `expect_webhook` steps, and every endpoint becomes a built-in sink
  that answers with the statuses the real receiver gave (no answer → 504), so the file needs no receiver.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import field
from typing import Any
from urllib.parse import urlsplit

import yaml

from .. import __version__
from ..core import jsonutil
from ..core.records import dataclass
from ..core.store import DEFAULT_API_KEY
from ..core.timefmt import format_ms
from . import refs
from .model import human_duration

ID_VALUE = re.compile(r"^(?:[a-z]+_[0-9A-HJKMNP-TV-Z]{26}|sk-apik_[A-Za-z0-9]+\.[A-Za-z0-9_-]+)$")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$")
NO_ANSWER_STATUS = 504
BIG_JSON_CHARS = 2000  # larger lists are checked by length, so a recorded file stays readable
_DROP = object()
_UNSET = object()
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Captured:
    """One exchange as the emulator answered it, with the virtual time and delivery-log position then."""

    method: str
    path: str  # path and query as sent
    request_headers: dict[str, str]
    request_body: bytes
    status: int | None  # None: the client got no answer (connection dropped or body cut by a fault)
    response_headers: dict[str, str]
    response_body: bytes
    virtual_ms: int
    attempt_seq: int  # the delivery log's last attempt number when the response went out

    @property
    def kind(self) -> str:
        """`request` (becomes a step), `clock` (only moves time), or `observe` (reads; left out)."""
        route = self.path.split("?", 1)[0]
        if route in ("/__admin/clock/advance", "/__admin/clock/set"):
            return "clock"
        if route.startswith("/__admin/recording") or route.startswith("/__media/"):
            return "observe"
        if route.startswith("/__admin/sink/") and self.method == "POST":
            return "observe"  # a delivery arriving over HTTP, not something the vendor's code did
        if route.startswith("/__admin/") and self.method in ("GET", "HEAD", "OPTIONS"):
            return "observe"
        return "request"


@dataclass
class Session:
    """What the emulator knew when recording started, plus everything captured since."""

    seed: int
    started_ms: int
    time_scale: float
    keys: dict[str, dict[str, Any]]  # token → {"scopes", "workspace_id", "user"?} for keys that existed
    endpoints: list[dict[str, Any]]  # endpoint views that existed
    engagements_before: int
    name: str = "recorded-session"
    exchanges: list[Captured] = field(default_factory=list)
    attempts: list[dict[str, Any]] = field(default_factory=list)  # delivery-log views (with "seq") since start
    stopped_ms: int | None = None


class _Refs:
    """Values seen in responses, and the reference that reaches each."""

    def __init__(self) -> None:
        self.by_value: dict[str, str] = {}

    def learn(self, value: Any, path: str) -> None:
        if isinstance(value, str):
            if ID_VALUE.match(value) and not value.startswith("rid_") and value not in self.by_value:
                self.by_value[value] = path
        elif isinstance(value, Mapping):
            for k, v in value.items():
                self.learn(v, f"{path}.{k}" if _IDENT.match(str(k)) else f"{path}[{k}]")
        elif isinstance(value, list):
            for i, v in enumerate(value):
                self.learn(v, f"{path}[{i}]")

    def text(self, value: str) -> str:
        """A string with `${` escaped and every known value replaced by its reference."""
        out = refs.escape(value)
        for known in sorted(self.by_value, key=len, reverse=True):
            if known in out:
                out = out.replace(known, "${" + self.by_value[known] + "}")
        return out

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        return value


def _parse(body: bytes) -> Any:
    if not body:
        return None
    try:
        return jsonutil.loads(body)
    except jsonutil.JSONDecodeError:
        return None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), None)


def _step_name(ex: Captured, n: int) -> str:
    segments = [s for s in ex.path.split("?", 1)[0].split("/") if s and s not in ("api", "v2", "__admin")]
    named = [s for s in segments if not ID_VALUE.match(s)]
    slug = (named[-1] if named else "root").replace("-", "_")
    if segments and ID_VALUE.match(segments[-1]) and slug.endswith("s"):
        slug = slug[:-1]  # /engagements/{id} → engagement
    return f"{ex.method.lower()}_{re.sub(r'[^A-Za-z0-9_]', '_', slug)}_{n}"


class _Builder:
    def __init__(self, session: Session) -> None:
        self.s = session
        self.refs = _Refs()
        self.steps: list[dict[str, Any]] = []
        self.keys: dict[str, dict[str, Any]] = {}
        self.key_names: dict[str, str] = {DEFAULT_API_KEY: "default"}
        self.endpoints: dict[str, dict[str, Any]] = {}
        self.endpoint_labels: dict[str, str] = {}  # endpoint id → `name` or `${step.body.id}`
        self.notes: list[str] = []
        self.moving_clock = session.time_scale != 0
        self.cursor_ms = session.started_ms
        self.seen_attempts: list[dict[str, Any]] = []
        self.sinks = 0

    # Setup sections ---------------------------------------------------------------------------

    def _statuses(self, endpoint_id: str) -> list[int]:
        answered = [a["response_status_code"] for a in self.s.attempts if a["endpoint_id"] == endpoint_id]
        return [NO_ANSWER_STATUS if s is None else int(s) for s in answered] or [200]

    def _existing_endpoints(self) -> None:
        for i, ep in enumerate(self.s.endpoints, start=1):
            name = f"endpoint{i}"
            spec: dict[str, Any] = {"statuses": self._statuses(ep["id"])}
            if ep.get("event_types"):
                spec["event_types"] = list(ep["event_types"])
            if ep.get("workspace_id") and ep["workspace_id"] != "wrks_local":
                spec["workspace_id"] = ep["workspace_id"]
            if ep.get("header_style") and ep["header_style"] != "svix":
                spec["header_style"] = ep["header_style"]
            self.endpoints[name] = spec
            self.endpoint_labels[ep["id"]] = name
            self.refs.by_value[ep["id"]] = f"endpoints.{name}.id"
            self._note_hazards(ep)

    def _note_hazards(self, ep: Mapping[str, Any]) -> None:
        if any(v for v in (ep.get("hazards") or {}).values()):
            self.notes.append(
                f"endpoint {ep['id']} had hazards; they are not replayed, so its expectations are left out"
            )
            self.endpoint_labels.pop(ep["id"], None)

    def _key_name(self, token: str) -> str | None:
        if token in self.key_names:
            return self.key_names[token]
        info = self.s.keys.get(token)
        if info is None:
            return None
        name = f"key{len(self.keys) + 1}"
        self.keys[name] = {k: v for k, v in info.items() if v is not None}
        self.key_names[token] = name
        return name

    # Steps ------------------------------------------------------------------------------------

    def build(self) -> dict[str, Any]:
        self._existing_endpoints()
        n = 0
        for ex in self.s.exchanges:
            self._advance_to(ex.virtual_ms)
            if ex.kind == "request":
                n += 1
                self._request_step(ex, n)
            self._webhook_steps(ex.attempt_seq)
        end = self.s.stopped_ms if self.s.stopped_ms is not None else self.cursor_ms
        self._advance_to(end)
        self._webhook_steps(max((a["seq"] for a in self.s.attempts), default=0))
        if not self.steps:
            self.steps.append({"advance": 0})
        return self._document(n, end)

    def _advance_to(self, ms: int) -> None:
        if ms > self.cursor_ms:
            seconds = (ms - self.cursor_ms) / 1000
            self.steps.append({"advance": int(seconds) if seconds == int(seconds) else seconds})
            self.cursor_ms = ms

    def _request_step(self, ex: Captured, n: int) -> None:
        name = _step_name(ex, n)
        request: dict[str, Any] = {}
        if ex.method != "GET":
            request["method"] = ex.method
        request["path"] = self.refs.text(ex.path)
        headers, key = self._request_headers(ex)
        if key is not _UNSET:
            request["key"] = key
        if headers:
            request["headers"] = headers
        body = _parse(ex.request_body)
        sink_url = None
        if body is not None:
            request["body"] = self.refs.value(body)
            if ex.path.split("?")[0] == "/__admin/webhook-endpoints" and ex.method == "POST":
                sink_url = self._sink_instead_of_url(request["body"], name, ex)
        elif ex.request_body:
            request["raw"] = self.refs.text(ex.request_body.decode("utf-8", errors="replace"))
        expect = self._expectation(ex, name)
        if sink_url is not None and isinstance(expect.get("body"), dict) and "url" in expect["body"]:
            expect["body"]["url"] = sink_url  # the endpoint now points at its sink
        self.steps.append({"name": name, "request": request, "expect": expect})

    def _request_headers(self, ex: Captured) -> tuple[dict[str, str], Any]:
        """Headers worth replaying, and the `key:` field (a key name, None for no credential, or unset)."""
        headers: dict[str, str] = {}
        key: Any = _UNSET
        auth = _header(ex.request_headers, "Authorization")
        on_api = ex.path.startswith("/api/")
        if auth is not None:
            named = self._key_name(auth)
            if named is not None and on_api:
                key = _UNSET if named == "default" else named
            else:
                headers["Authorization"] = self.refs.text(auth)
        elif on_api:
            key = None
        content_type = _header(ex.request_headers, "Content-Type")
        if content_type and (_parse(ex.request_body) is None or "json" not in content_type.lower()):
            headers["Content-Type"] = content_type
        for name in ("If-None-Match",):
            value = _header(ex.request_headers, name)
            if value is not None:
                headers[name] = self.refs.text(value)
        return headers, key

    def _sink_instead_of_url(self, body: dict[str, Any], step: str, ex: Captured) -> str | None:
        """The endpoint the session created points at a built-in sink, scripted as the real receiver answered."""
        created = _parse(ex.response_body)
        if ex.status != 201 or not isinstance(created, dict) or "id" not in created:
            return None
        path = urlsplit(str(created.get("url", ""))).path
        sink = path.removeprefix("/__admin/sink/") if path.startswith("/__admin/sink/") else step
        self.steps.append(
            {
                "name": f"script_{step}",
                "note": "The receiver the next step's endpoint pointed at, as a sink that answers as it did.",
                "request": {
                    "method": "PUT",
                    "path": f"/__admin/sink/{sink}",
                    "body": {"statuses": self._statuses(created["id"])},
                },
                "expect": {"status": 200},
            }
        )
        body["url"] = "${target.base_url}/__admin/sink/" + sink
        self.sinks += 1
        if _has_hazards(created):
            self._note_hazards(created)
        else:
            self.endpoint_labels[created["id"]] = "${" + step + ".body.id}"
        return str(body["url"])

    def _expectation(self, ex: Captured, name: str) -> dict[str, Any]:
        if ex.status is None:
            return {"no_response": True}
        expect: dict[str, Any] = {"status": ex.status}
        location = _header(ex.response_headers, "Location")
        retry_after = _header(ex.response_headers, "Retry-After")
        body = _parse(ex.response_body)
        before = dict(self.refs.by_value)
        self.refs.learn(body, f"{name}.body")
        etag = _header(ex.response_headers, "ETag")
        if etag is not None and etag not in self.refs.by_value:
            self.refs.by_value[etag] = f"{name}.headers.ETag"
        headers = {}
        if location is not None:
            headers["Location"] = self.refs.text(location)
        if retry_after is not None:
            headers["Retry-After"] = retry_after
        if headers:
            expect["headers"] = headers
        if body is not None:
            checks: list[dict[str, Any]] = []
            general = self._general(body, before, "$", checks)
            if general is not _DROP and general not in ({}, []):
                expect["body"] = general
            if checks:
                expect["jsonpath"] = checks
        return expect

    def _general(self, value: Any, known: Mapping[str, str], where: str, checks: list[dict[str, Any]]) -> Any:
        """What a replay must see again: stable values as they were, known ids as references."""
        if isinstance(value, str):
            if value.startswith("rid_") or (self.moving_clock and TIMESTAMP.match(value)):
                return _DROP
            if ID_VALUE.match(value):
                return "${" + known[value] + "}" if value in known else _DROP
            return self._text_with(value, known)
        if isinstance(value, Mapping):
            out = {}
            for k, v in value.items():
                if k in ("request_id", "secret"):  # per request / drawn from a seeded stream that may differ
                    continue
                g = self._general(v, known, f"{where}.{k}" if _IDENT.match(str(k)) else f"{where}[{k!r}]", checks)
                if g is not _DROP:
                    out[k] = g
            return out
        if isinstance(value, list):
            items = [self._general(v, known, f"{where}[{i}]", checks) for i, v in enumerate(value)]
            too_big = len(jsonutil.dumps(value)) > BIG_JSON_CHARS
            if too_big or any(g is _DROP for g in items):
                checks.append({"path": where, "length": len(value)})
                return _DROP
            return items
        return value

    def _text_with(self, value: str, known: Mapping[str, str]) -> str:
        out = refs.escape(value)
        for k in sorted(known, key=len, reverse=True):
            if k in out:
                out = out.replace(k, "${" + known[k] + "}")
        return out

    def _webhook_steps(self, upto_seq: int) -> None:
        new = [a for a in self.s.attempts if self._seen_seq() < a["seq"] <= upto_seq]
        if not new:
            return
        self.seen_attempts.extend(new)
        groups: dict[tuple[str, str, str | None], None] = {}
        for a in new:
            if a["endpoint_id"] in self.endpoint_labels:
                groups[(a["endpoint_id"], a["type"], a.get("object_id"))] = None
        for endpoint_id, type_, object_id in groups:
            reference = self.refs.by_value.get(object_id) if object_id else None
            matching = [
                a
                for a in self.seen_attempts
                if a["endpoint_id"] == endpoint_id
                and a["type"] == type_
                and (reference is None or a.get("object_id") == object_id)
            ]
            spec: dict[str, Any] = {"endpoint": self.endpoint_labels[endpoint_id], "type": type_}
            if reference is not None:
                spec["body"] = {"data": {"object": {"id": "${" + reference + "}"}}}
            spec["count"] = len(matching)
            statuses = [
                NO_ANSWER_STATUS if a["response_status_code"] is None else a["response_status_code"] for a in matching
            ]
            if any(not 200 <= s < 300 for s in statuses):
                spec["statuses"] = statuses
            self.steps.append({"expect_webhook": spec})

    def _seen_seq(self) -> int:
        return self.seen_attempts[-1]["seq"] if self.seen_attempts else 0

    def _document(self, requests: int, end_ms: int) -> dict[str, Any]:
        s = self.s
        facts = [
            f"Recorded from a live fake-askelephant session: {requests} request(s) over "
            f"{human_duration(end_ms - s.started_ms)} of virtual time (seed {s.seed}, time scale {s.time_scale:g})."
        ]
        if self.moving_clock:
            facts.append("The clock ran by itself, so timestamps are left out of the expectations.")
        if s.engagements_before:
            facts.append(
                f"{s.engagements_before} engagement(s) existed before recording started; "
                "the replay starts without them."
            )
        if s.endpoints or self.sinks:
            facts.append(
                "Webhook endpoints are built-in sinks answering with the statuses the receiver gave "
                f"(no answer → {NO_ANSWER_STATUS})."
            )
        facts.extend(self.notes)
        doc: dict[str, Any] = {
            "name": s.name,
            "description": "\n".join(facts) + "\n",
            "seed": s.seed,
            "clock": {"start": format_ms(s.started_ms)},
        }
        if self.keys:
            doc["keys"] = self.keys
        if self.endpoints:
            doc["endpoints"] = self.endpoints
        doc["steps"] = self.steps
        return doc


def _has_hazards(endpoint: Mapping[str, Any]) -> bool:
    return any(v for v in (endpoint.get("hazards") or {}).values())


def build(session: Session) -> dict[str, Any]:
    return _Builder(session).build()


class _Dumper(yaml.SafeDumper):
    """Block sequences indented under their key, as people write YAML."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.Node:
    """Short lists of scalars on one line: `statuses: [500, 200]`."""
    scalars = all(isinstance(v, str | int | float | bool) or v is None for v in value)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=scalars and len(str(value)) < 80)


_Dumper.add_representer(str, _str)
_Dumper.add_representer(list, _list)


def to_yaml(session: Session) -> str:
    header = (
        f"# Recorded by fake-askelephant {__version__}. Replay: fake-askelephant scenario run THIS_FILE\n"
        "# Edit freely: loosen expectations that should not matter, name the steps that do.\n"
    )
    return header + yaml.dump(build(session), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)
