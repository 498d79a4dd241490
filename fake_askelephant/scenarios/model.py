"""The scenario format: pydantic models for a YAML file of setup plus ordered steps (docs/scenarios.md).

Structure is checked here (unknown fields, types, one action per step); what the emulator itself
validates (pipeline overrides, faults, rules) is checked by the emulator when the scenario runs, so the
rules live in one place.
"""

from __future__ import annotations

import difflib
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from ..core.faults import FaultAction, FaultPhase
from ..core.pipeline import InsightOutcome, Stage, TranscriptionOutcome, WebhookChoice
from ..core.timefmt import parse_iso
from ..webhooks.endpoints import HeaderStyle

DEFAULT_START = "2026-03-09T11:59:00Z"
STEP_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")
# Roots a `${…}` reference may start with besides earlier step names.
BUILTIN_ROOTS = ("keys", "endpoints", "vars", "scenario", "target", "clock")
DEFAULT_KEY_NAME = "default"
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(value: Any) -> float:
    """Virtual seconds from a number or a string such as `90`, `45s`, `5m`, `1h30m`, `27h35m5s`, `250ms`."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or a string like 5m")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().replace(" ", "")
        parts = _DURATION_PART.findall(text)
        if not parts or "".join(n + u for n, u in parts) != text:
            raise ValueError(f"{value!r} is not a duration; write seconds (90) or units (45s, 5m, 1h30m, 2d)")
        seconds = sum(float(n) * _UNIT_S[u] for n, u in parts)
    else:
        raise ValueError("a duration is a number of seconds or a string like 5m")
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return seconds


def human_duration(ms: int) -> str:
    """`5m 5s`, `27h 35m 5s`, `250ms`: virtual durations as people say them."""
    if ms == 0:
        return "0s"
    if ms < 1000:
        return f"{ms}ms"
    seconds, millis = divmod(ms, 1000)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{minutes}m" if minutes else ""]
    tail = f"{secs}.{millis:03d}".rstrip("0").rstrip(".") + "s" if secs or millis else ""
    return " ".join(p for p in (*parts, tail) if p)


Duration = Annotated[float, BeforeValidator(parse_duration)]


class Spec(BaseModel):
    """Base of every scenario model: typos are errors, not silently ignored fields."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ClockSpec(Spec):
    start: str = DEFAULT_START
    """Where the virtual clock starts (ISO-8601 with a zone)."""
    time_scale: float = Field(0.0, ge=0)
    """0 (default) freezes time so only `advance` moves it: the deterministic mode."""

    @field_validator("start")
    @classmethod
    def _iso(cls, value: str) -> str:
        parse_iso(value)
        return value

    @property
    def start_ms(self) -> int:
        return parse_iso(self.start)


class UserSpec(Spec):
    email: str
    first_name: str | None = None
    last_name: str | None = None
    role: str | None = None
    phone: str | None = None


class KeySpec(Spec):
    """An API key created through `POST /__admin/api-keys`; referenced as `${keys.NAME}` or `key: NAME`."""

    scopes: list[str] = Field(min_length=1)
    workspace_id: str | None = None
    user: UserSpec | None = None


class WorkspaceSpec(Spec):
    keys: dict[str, KeySpec] = Field(default_factory=dict)


class EndpointSpec(Spec):
    """A webhook endpoint: the built-in sink named after the endpoint unless `url` is given."""

    url: str | None = None
    sink: str | None = Field(None, min_length=1, max_length=100, pattern=r"^[^/]+$")
    statuses: list[int] | None = Field(None, min_length=1)
    """The sink's answers in turn, the last one repeating (e.g. [500, 500, 200])."""
    delay_seconds: float | None = Field(None, ge=0)
    secret: str | None = None
    event_types: list[str] | None = None
    workspace_id: str | None = None
    header_style: HeaderStyle | None = None
    hazards: dict[str, float] | None = None

    @model_validator(mode="after")
    def _sink_or_url(self) -> EndpointSpec:
        if self.url is not None and (self.sink or self.statuses or self.delay_seconds is not None):
            raise ValueError("statuses, delay_seconds and sink belong to the built-in sink; drop them or drop url")
        return self


class FaultSpec(Spec):
    """An HTTP fault (pipeline.md §6), armed through `POST /__admin/faults` before the first step.

    Only the fields written are sent, so the emulator's defaults apply (count 1, probability 1, phase before).
    """

    method: str | None = None
    path: str
    workspace_id: str | None = None
    count: int | None = None
    probability: float | None = None
    status: int | None = None
    retry_after: int | None = None
    latency_ms: float | dict[str, Any] | None = None
    action: FaultAction | None = None
    phase: FaultPhase | None = None


class RequestSpec(Spec):
    method: str = "GET"
    path: str
    """Path and query under the target, e.g. `/api/v2/engagements/${submit.body.id}?expand=signals`."""
    key: str | None = DEFAULT_KEY_NAME
    """Which key goes into `Authorization` for /api paths; null sends none. An explicit header wins."""
    headers: dict[str, str] = Field(default_factory=dict)
    body: Any = None
    """A JSON body (sent compact, with Content-Type application/json unless headers say otherwise)."""
    raw: str | None = None
    """A body sent as is (malformed JSON, form data); set Content-Type in headers."""

    @field_validator("method")
    @classmethod
    def _method(cls, value: str) -> str:
        upper = value.upper()
        if upper not in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"):
            raise ValueError(f"unknown HTTP method {value!r}")
        return upper

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("path must start with / (the target's base URL is prepended)")
        return value

    @model_validator(mode="after")
    def _one_body(self) -> RequestSpec:
        if "body" in self.model_fields_set and self.raw is not None:
            raise ValueError("give either body (JSON) or raw, not both")
        return self

    @property
    def has_json_body(self) -> bool:
        return "body" in self.model_fields_set


class JsonPathCheck(Spec):
    """One assertion on the values a JSONPath expression selects (jsonpath-ng extended syntax)."""

    path: str
    equals: Any = None
    not_equals: Any = None
    one_of: list[Any] | None = None
    exists: bool | None = None
    count: int | None = Field(None, ge=0)
    length: int | None = Field(None, ge=0)
    contains: Any = None
    matches: str | None = None
    gte: float | None = None
    lte: float | None = None

    @model_validator(mode="after")
    def _has_check(self) -> JsonPathCheck:
        if not (self.model_fields_set - {"path"}):
            raise ValueError(
                "a jsonpath check needs one of equals, not_equals, one_of, exists, count, length, contains, "
                "matches, gte, lte"
            )
        if self.matches is not None:
            try:
                re.compile(self.matches)
            except re.error as exc:
                raise ValueError(f"matches is not a valid regular expression: {exc}") from exc
        return self


def _jsonpath_list(value: Any) -> Any:
    # Shorthand: {"$.a": 1, "$.b": "x"} means equals.
    if isinstance(value, dict):
        return [{"path": path, "equals": expected} for path, expected in value.items()]
    return value


class ExpectSpec(Spec):
    """Assertions on the last response (or on each response of a concurrent group)."""

    status: int | list[int] | None = None
    no_response: bool | None = None
    """true: the request must get no HTTP answer (connection dropped or body cut, e.g. an injected fault)."""
    headers: dict[str, str | None] | None = None
    """Exact values, case-insensitive names; null means the header must be absent."""
    body: Any = None
    """A JSON subset: objects may have more keys, arrays must have the same length."""
    schema_: dict[str, Any] | None = Field(None, alias="schema")
    jsonpath: Annotated[list[JsonPathCheck], BeforeValidator(_jsonpath_list)] = Field(default_factory=list)
    statuses: dict[int, int] | None = None
    """Concurrent groups: how many responses had each status, e.g. {201: 1, 200: 7}."""
    same: list[str] | None = None
    """Concurrent groups: JSONPaths whose value must be equal across all responses."""

    @property
    def has_body(self) -> bool:
        return "body" in self.model_fields_set


class ExpectWebhookSpec(Spec):
    """What a webhook endpoint received, waiting on the virtual clock up to `within`."""

    endpoint: str | None = None
    """A name from `endpoints` or an endpoint id (e.g. a reference); default: the scenario's only endpoint."""
    type: str | None = None
    body: Any = None
    """Filter: only deliveries whose JSON body contains this subset count."""
    within: Duration = 0.0
    wait: Literal["first", "full"] = "first"
    """first: stop once `count` (or one) matches arrived; full: run the whole window, then check."""
    count: int | None = Field(None, ge=0)
    """Exact number of matching requests received (retries and duplicates included); default at least one."""
    verified: bool | None = None
    same_svix_id: bool | None = None
    schedule: list[Duration] | None = None
    """Virtual seconds of each matching request after the first, e.g. [0, 5, 305]."""
    statuses: list[int | None] | None = None
    """What the endpoint answered each matching request (null: no answer)."""
    schema_: dict[str, Any] | None = Field(None, alias="schema")
    jsonpath: Annotated[list[JsonPathCheck], BeforeValidator(_jsonpath_list)] = Field(default_factory=list)

    @property
    def has_body(self) -> bool:
        return "body" in self.model_fields_set

    @property
    def target_count(self) -> int:
        return 1 if self.count is None else self.count


class WaitForSpec(Spec):
    """Poll a request on the virtual clock until `until` holds (e.g. the documented insights policy)."""

    request: RequestSpec
    until: ExpectSpec
    first_after: Duration = 0.0
    every: Duration = Field(15.0, gt=0)
    backoff: float = Field(1.0, ge=1)
    max_every: Duration | None = None
    timeout: Duration = 300.0


class ConcurrentSpec(Spec):
    """Requests sent at once; the step's result is the group, in the order they were sent."""

    count: int | None = Field(None, ge=2, le=100)
    request: RequestSpec | None = None
    requests: list[RequestSpec] | None = Field(None, min_length=2, max_length=100)

    @model_validator(mode="after")
    def _shape(self) -> ConcurrentSpec:
        if (self.request is None) == (self.requests is None):
            raise ValueError("give request (with count) or requests")
        if self.request is not None and self.count is None:
            raise ValueError("count is required with request")
        if self.requests is not None and self.count is not None:
            raise ValueError("count goes with request, not requests")
        return self

    def expanded(self) -> list[RequestSpec]:
        if self.requests is not None:
            return list(self.requests)
        assert self.request is not None and self.count is not None
        return [self.request] * self.count


class PipelineSpec(Spec):
    """`POST /__admin/engagements/{engagement}/pipeline` with the other keys (pipeline.md §5)."""

    engagement: str
    transcription: TranscriptionOutcome | None = None
    action_items: InsightOutcome | list[dict[str, Any]] | None = None
    signals: InsightOutcome | list[dict[str, Any]] | None = None
    webhook: WebhookChoice | None = None
    delays: dict[Stage, Duration] | None = None

    def overrides(self) -> dict[str, Any]:
        return self.model_dump(exclude={"engagement"}, exclude_none=True)


ACTIONS = ("request", "concurrent", "advance", "expect", "expect_webhook", "wait_for", "pipeline")
# `expect` may ride along with the step that produced the response it checks.
_EXPECT_COMPANIONS = ("request", "concurrent")


class Step(Spec):
    name: str | None = None
    """Lets later steps use this step's result: `${name.status}`, `${name.body.id}`, `${name.headers.Location}`."""
    note: str | None = None
    request: RequestSpec | None = None
    concurrent: ConcurrentSpec | None = None
    advance: Duration | None = None
    expect: ExpectSpec | None = None
    expect_webhook: ExpectWebhookSpec | None = None
    wait_for: WaitForSpec | None = None
    pipeline: PipelineSpec | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None and not STEP_NAME.match(value):
            raise ValueError("step names are identifiers: letters, digits, _ and -, starting with a letter or _")
        if value in BUILTIN_ROOTS:
            raise ValueError(f"{value!r} is reserved for ${{{value}.…}} references")
        return value

    @model_validator(mode="before")
    @classmethod
    def _one_action(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        present = [a for a in ACTIONS if a in data]
        primary = [a for a in present if a != "expect"]
        if not present:
            unknown = [str(k) for k in data if k not in ("name", "note")]
            hint = "".join(
                f"; unknown key {k!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
                for k in unknown
                for close in [difflib.get_close_matches(k, ACTIONS, n=1)]
            )
            raise ValueError(f"a step needs one action: {', '.join(ACTIONS)}{hint}")
        if len(primary) > 1 or ("expect" in present and primary and primary[0] not in _EXPECT_COMPANIONS):
            raise ValueError(
                f"a step has one action, got {', '.join(present)} (expect may accompany request or concurrent)"
            )
        return data

    @property
    def kind(self) -> str:
        """The step's action; `expect` only when it stands alone."""
        return next((a for a in ACTIONS if a != "expect" and getattr(self, a) is not None), "expect")


class Scenario(Spec):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    description: str = ""
    seed: int = 1
    clock: ClockSpec = ClockSpec(start=DEFAULT_START, time_scale=0.0)
    settings: dict[str, str | int | float | bool] = Field(default_factory=dict)
    """Extra `fake-askelephant serve` flags for the in-process emulator, e.g. {strict: true}."""
    vars: dict[str, Any] = Field(default_factory=dict)
    keys: dict[str, KeySpec] = Field(default_factory=dict)
    """Keys of wrks_local unless they say otherwise; `default` is the emulator's default admin key."""
    workspaces: dict[Annotated[str, Field(pattern=r"^wrks_[A-Za-z0-9]+$")], WorkspaceSpec] = Field(default_factory=dict)
    endpoints: dict[str, EndpointSpec] = Field(default_factory=dict)
    pipeline_rules: list[dict[str, Any]] = Field(default_factory=list)
    faults: list[FaultSpec] = Field(default_factory=list)
    steps: list[Step] = Field(min_length=1)

    def all_keys(self) -> dict[str, KeySpec]:
        """Top-level keys and each workspace's keys (bound to that workspace), by name."""
        merged = dict(self.keys)
        for workspace_id, ws in self.workspaces.items():
            for name, key in ws.keys.items():
                merged[name] = key.model_copy(update={"workspace_id": workspace_id})
        return merged
