"""The control plane's request bodies (pydantic wire models), apart from its routes: control, webhooks, faults,
recording, snapshots (the seed-data document's are in seed_data.py).

A route module loads with the app (for its middleware) or on its first request (api/admin/__init__.py); these
models load with the first request that reads a body, as the public API's do (api/validation.py), so a first
admin read does not pay for pydantic (issue 22 §5).
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from ...core.events import EVENT_TYPES
from ...core.faults import MAX_LATENCY_MS, FaultAction, FaultPhase
from ...core.models import SignalType, UserRole
from ...core.pipeline import (
    MAX_DELAY_S,
    STAGES,
    InsightOutcome,
    PipelineOverrides,
    Stage,
    TranscriptionOutcome,
    WebhookChoice,
)
from ...core.rules import MediaOutcome
from ...core.store import DEFAULT_WORKSPACE, WORKSPACE_ID
from ...webhooks.endpoints import HeaderStyle
from ...webhooks.hazards import Hazards
from ...webhooks.signing import InvalidSecret, validate_secret
from ..schemas import Timestamp, WireModel, reject_null


class LognormalIn(WireModel):
    median_ms: float = Field(gt=0, le=MAX_LATENCY_MS)
    sigma: float = Field(0.5, ge=0, le=5)


class LognormalLatencyIn(WireModel):
    lognormal: LognormalIn


class FaultIn(WireModel):
    """`POST /__admin/faults`; nulls mean "any" / "none" as in the spec's example body."""

    method: str = Field("*", pattern=r"^(\*|[A-Za-z]{1,16})$")
    path: str = Field("*", min_length=1, max_length=2048, pattern=r"^[/*]")
    workspace_id: str | None = Field(None, pattern=WORKSPACE_ID.pattern)
    count: int | None = Field(1, ge=1)
    probability: float = Field(1.0, ge=0, le=1)
    status: int | None = Field(None, ge=400, le=599)
    retry_after: int | None = Field(None, ge=1, le=86_400)
    latency_ms: Any = None  # a number or {"lognormal": …}; checked by latency_errors for flat error paths
    action: FaultAction | None = None
    phase: FaultPhase = "before"


class RecordingStartIn(WireModel):
    name: str = Field("recorded-session", min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class SnapshotIn(WireModel):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")


# control.py ------------------------------------------------------------------------------------------


class UserIn(WireModel):
    email: str = Field(min_length=3, max_length=320)
    first_name: str | None = Field(None, max_length=255)
    last_name: str | None = Field(None, max_length=255)
    role: UserRole = "MEMBER"
    phone: str | None = Field(None, min_length=1, max_length=50)


class ApiKeyIn(WireModel):
    scopes: list[str] = Field(min_length=1)
    workspace_id: str = Field("wrks_local", pattern=WORKSPACE_ID.pattern)
    user: UserIn | None = None


class AdvanceIn(WireModel):
    seconds: float = Field(ge=0, le=MAX_DELAY_S)


class SetClockIn(WireModel):
    now: Timestamp


class CannedActionItemIn(WireModel):
    title: str = Field(min_length=1, max_length=500)
    description: str | None = Field(None, max_length=2000)
    assignee_user_id: str | None = None
    due_at: Timestamp | None = None


class CannedSignalIn(WireModel):
    type: SignalType = "next_step"
    label: str | None = Field(None, min_length=1, max_length=200)
    quote: str | None = Field(None, min_length=1, max_length=2000)
    speaker_index: int | None = Field(None, ge=0)
    start_seconds: float | None = Field(None, ge=0)
    confidence: float | None = Field(None, ge=0, le=1)


class DelaysIn(WireModel):
    processing: float | None = Field(None, ge=0, le=MAX_DELAY_S)
    transcript: float | None = Field(None, ge=0, le=MAX_DELAY_S)
    action_items: float | None = Field(None, ge=0, le=MAX_DELAY_S)
    signals: float | None = Field(None, ge=0, le=MAX_DELAY_S)

    def chosen(self) -> dict[Stage, float]:
        return {stage: delay for stage in STAGES if (delay := getattr(self, stage)) is not None}


class PipelineOverridesIn(WireModel):
    transcription: TranscriptionOutcome | None = None
    action_items: InsightOutcome | list[CannedActionItemIn] | None = None
    signals: InsightOutcome | list[CannedSignalIn] | None = None
    webhook: WebhookChoice | None = None
    delays: DelaysIn | None = None

    _no_null = field_validator("transcription", "action_items", "signals", "webhook", "delays", mode="before")(
        reject_null
    )

    def to_core(self) -> PipelineOverrides:
        def insights(value: Any) -> Any:
            if isinstance(value, list):
                return [item.model_dump(exclude_none=True) for item in value]
            return value

        delays = self.delays.chosen() if self.delays else {}
        return PipelineOverrides(
            transcription=self.transcription,
            action_items=insights(self.action_items),
            signals=insights(self.signals),
            webhook=self.webhook,
            delays=delays,
        )


class RuleMatchIn(WireModel):
    external_id: str | None = None
    media_url: str | None = None
    workspace_id: str | None = None


class PipelineRuleIn(WireModel):
    match: RuleMatchIn = Field(default_factory=RuleMatchIn)
    count: int | None = Field(None, ge=1)
    pipeline: PipelineOverridesIn = Field(default_factory=PipelineOverridesIn)
    media: MediaOutcome | None = None
    duration_seconds: int | None = Field(None, ge=1, le=86_400)


class OAuthClientIn(WireModel):
    scopes: list[str] = Field(min_length=1)
    workspace_id: str = Field(DEFAULT_WORKSPACE, pattern=WORKSPACE_ID.pattern)


class OAuthConsentIn(WireModel):
    """The authorization request a consenting user approves (RFC 6749 §4.1.1, RFC 7636 §4.3)."""

    redirect_uri: str = Field(min_length=1, max_length=2048, pattern=r"^[A-Za-z][A-Za-z0-9+.-]*://\S+$")
    scope: str | None = Field(None, max_length=2000)
    state: str | None = Field(None, max_length=2000)
    # A challenge is 43–128 unreserved characters (RFC 7636 §4.1–§4.2).
    code_challenge: str | None = Field(None, min_length=43, max_length=128, pattern=r"^[A-Za-z0-9._~-]+$")
    code_challenge_method: Literal["S256", "plain"] | None = None
    user_id: str | None = Field(None, description="The consenting user; default the client's (the owner).")

    _no_null = field_validator("scope", "state", "code_challenge", "code_challenge_method", "user_id", mode="before")(
        reject_null
    )


# webhooks.py -----------------------------------------------------------------------------------------

Probability = Field(0.0, ge=0, le=1)


class HazardsIn(WireModel):
    duplicate: float = Probability
    out_of_order: float = Probability
    stale_timestamp: float = Probability
    wrong_secret: float = Probability
    body_altered: float = Probability
    delay_first_attempt_seconds: float = Field(0.0, ge=0, le=7 * 86_400)

    def to_core(self) -> Hazards:
        return Hazards(**self.model_dump())


def _check_secret(value: str | None) -> str | None:
    if value is not None:
        try:
            validate_secret(value)
        except InvalidSecret as exc:
            raise PydanticCustomError("invalid_type", f"must be a valid secret: {exc}") from exc
    return value


def _check_url(value: str | None) -> str | None:
    if value is not None:
        parts = urlsplit(value)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value):
            raise PydanticCustomError("invalid_url", "must be an absolute http(s) URL")
    return value


def _check_types(value: list[str] | None) -> list[str] | None:
    unknown = [t for t in value or [] if t not in EVENT_TYPES]
    if unknown:
        raise PydanticCustomError("invalid_enum", f"has unknown event type(s): {', '.join(unknown)}")
    return value


class EndpointIn(WireModel):
    url: str = Field(min_length=1, max_length=2048)
    secret: str | None = None
    event_types: list[str] | None = Field(None, min_length=1)
    workspace_id: str = Field(DEFAULT_WORKSPACE, pattern=WORKSPACE_ID.pattern)
    header_style: HeaderStyle = "svix"
    hazards: HazardsIn = Field(default_factory=HazardsIn)

    _no_null = field_validator("secret", "event_types", "hazards", mode="before")(reject_null)
    _url = field_validator("url")(_check_url)
    _secret = field_validator("secret")(_check_secret)
    _types = field_validator("event_types")(_check_types)


class EndpointPatchIn(WireModel):
    url: str | None = Field(None, min_length=1, max_length=2048)
    event_types: list[str] | None = Field(None, min_length=1)
    disabled: bool | None = None
    header_style: HeaderStyle | None = None
    hazards: HazardsIn | None = None

    _url = field_validator("url")(_check_url)
    _types = field_validator("event_types")(_check_types)


class RotateIn(WireModel):
    secret: str | None = None
    _secret = field_validator("secret")(_check_secret)


class SinkConfigIn(WireModel):
    statuses: list[int] = Field(default_factory=lambda: [200], min_length=1, max_length=1000)
    delay_seconds: float = Field(0.0, ge=0, le=3600)

    @field_validator("statuses")
    @classmethod
    def _statuses(cls, value: list[int]) -> list[int]:
        if any(not 100 <= s <= 599 for s in value):
            raise PydanticCustomError("invalid_range", "must be HTTP status codes (100–599)")
        return value


class TestEventIn(WireModel):
    event_type: str = Field("v1.engagement.created", json_schema_extra={"enum": list(EVENT_TYPES)})

    @field_validator("event_type")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in EVENT_TYPES:
            raise PydanticCustomError("invalid_enum", f"must be one of {', '.join(EVENT_TYPES)}")
        return value
