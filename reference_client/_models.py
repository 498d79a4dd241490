"""Typed wire models: ``*In`` are request bodies we send, ``*Out`` are responses we read.

``*Out`` models allow unknown fields (the real API may add some) but type every documented one;
``*In`` models forbid unknown fields so a typo fails here instead of being ignored by the server.
Optional request fields are omitted, never sent as ``null`` (the API answers ``null`` with 422).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_serializer, model_validator


def format_datetime(value: datetime) -> str:
    """ISO-8601 UTC with milliseconds and ``Z``, the form the API itself writes."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _InModel(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def to_wire(self) -> dict[str, Any]:
        """JSON-ready dict without unset/None optional fields."""
        return self.model_dump(mode="json", exclude_none=True)


class _OutModel(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class EngagementType(StrEnum):
    MEETING = "MEETING"
    CALL = "CALL"
    EMAIL = "EMAIL"
    TASK = "TASK"
    NOTE = "NOTE"
    CALENDAR_EVENT = "CALENDAR_EVENT"
    DOCUMENT = "DOCUMENT"


class ProcessingStatus(StrEnum):
    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"

    @property
    def is_final(self) -> bool:
        """Status never moves back from COMPLETED or FAILED (pipeline.md §2)."""
        return self in (ProcessingStatus.COMPLETED, ProcessingStatus.FAILED)


class Expand(StrEnum):
    """Values of ``?expand=`` on GET /v2/engagements/{id} (api.md §6.1)."""

    COMPANIES = "companies"
    CONTACTS = "contacts"
    OWNER = "owner"
    ACTION_ITEMS = "action_items"
    SIGNALS = "signals"
    TRANSCRIPT = "transcript"
    MEDIA_URL = "media_url"
    TAGS = "tags"


# ---------------------------------------------------------------- requests


class ParticipantIn(_InModel):
    """A call participant; at least one of name, email or phone identifies them."""

    name: str | None = Field(default=None, min_length=1, max_length=255)
    email: str | None = Field(default=None, min_length=3, max_length=320)
    phone: str | None = Field(default=None, min_length=1, max_length=50)
    is_owner: bool | None = None
    """True for the one participant who owns the engagement (resolved to a workspace user by email)."""

    @model_validator(mode="after")
    def _identified(self) -> ParticipantIn:
        if self.name is None and self.email is None and self.phone is None:
            raise ValueError("a participant needs a name, an email or a phone")
        return self


class TimelineSpeakerIn(_InModel):
    name: str = Field(min_length=1, max_length=255)
    email: str | None = None
    phone: str | None = None
    is_owner: bool | None = None


class TimelineEntryIn(_InModel):
    speaker_index: int = Field(ge=0)
    start_seconds: float = Field(ge=0)
    end_seconds: float = Field(ge=0)
    text: str = Field(min_length=1, max_length=10_000)
    sentiment: float | None = Field(default=None, ge=-1, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> TimelineEntryIn:
        if self.end_seconds < self.start_seconds:
            raise ValueError("end_seconds must not be before start_seconds")
        return self


class TranscriptTimelineIn(_InModel):
    """A diarized transcript sent instead of (or with) a recording (api.md §5.5)."""

    speakers: list[TimelineSpeakerIn] = Field(min_length=1, max_length=100)
    entries: list[TimelineEntryIn] = Field(min_length=1, max_length=20_000)

    @model_validator(mode="after")
    def _speakers_exist(self) -> TranscriptTimelineIn:
        for i, entry in enumerate(self.entries):
            if entry.speaker_index >= len(self.speakers):
                raise ValueError(f"entries[{i}].speaker_index {entry.speaker_index} names no speaker")
        return self


class EngagementCreateIn(_InModel):
    """Body of POST /v2/engagements (api.md §5). ``external_id`` is the idempotency key."""

    type: Literal["CALL", "MEETING"]
    title: str = Field(min_length=1, max_length=500)
    source_system: str = Field(min_length=1, max_length=100)
    external_id: str = Field(min_length=1, max_length=500)
    """Workspace-scoped idempotency key; prefix it per source (``wavv-call-12345``)."""
    media_url: str | None = Field(default=None, min_length=1, max_length=2048)
    """Public https URL of the recording; required unless ``transcript_timeline`` is given."""
    transcript_timeline: TranscriptTimelineIn | None = None
    external_url: str | None = Field(default=None, min_length=1, max_length=2048)
    """Deep link back to the call (https, http or an app scheme such as ``wavv://``)."""
    run_workflows: bool | None = None
    is_private: bool | None = None
    transcript: str | None = Field(default=None, max_length=900_000)
    participants: list[ParticipantIn] | None = Field(default=None, max_length=100)
    start_at: AwareDatetime | None = None
    """When the call started; naive datetimes are refused because the API rejects offset-less times."""

    @model_validator(mode="after")
    def _documented_rules(self) -> EngagementCreateIn:
        if self.media_url is None and self.transcript_timeline is None:
            raise ValueError("either media_url or transcript_timeline is required")
        owners = sum(1 for p in self.participants or () if p.is_owner)
        if owners > 1:
            raise ValueError("at most one participant may have is_owner: true")
        return self

    @field_serializer("start_at")
    def _start_at_wire(self, value: datetime | None) -> str | None:
        return None if value is None else format_datetime(value)


# ---------------------------------------------------------------- responses


class FieldErrorOut(_OutModel):
    field: str
    code: str
    message: str = ""


class ProblemOut(_OutModel):
    """An ``application/problem+json`` body (api.md §4)."""

    type: str = "about:blank"
    title: str = ""
    status: int
    detail: str = ""
    request_id: str | None = None
    errors: list[FieldErrorOut] | None = None


class ActionItemOut(_OutModel):
    object: str = "action_item"
    id: str
    engagement_id: str | None = None
    title: str
    description: str | None = None
    assignee_user_id: str | None = None
    due_at: datetime | None = None
    created_at: datetime | None = None


class SignalOut(_OutModel):
    object: str = "signal"
    id: str
    engagement_id: str | None = None
    type: str
    """``next_step``, ``objection``, ``pricing``, ``competitor``, ``buying_intent``, ``risk`` today."""
    label: str | None = None
    quote: str | None = None
    speaker_index: int | None = None
    start_seconds: float | None = None
    confidence: float | None = None
    created_at: datetime | None = None


class EmailOut(_OutModel):
    email: str
    is_primary: bool = False


class PhoneNumberOut(_OutModel):
    phone_number: str
    is_primary: bool = False


class UserOut(_OutModel):
    object: str = "user"
    id: str
    role: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    emails: list[EmailOut] = Field(default_factory=list)
    job_title: str | None = None
    time_zone: str | None = None


class ContactOut(_OutModel):
    object: str = "contact"
    id: str
    first_name: str | None = None
    last_name: str | None = None
    emails: list[EmailOut] = Field(default_factory=list)
    phone_numbers: list[PhoneNumberOut] = Field(default_factory=list)


class EngagementCompanyOut(_OutModel):
    object: str = "engagement_company"
    id: str
    name: str | None = None


class TagOut(_OutModel):
    object: str = "tag"
    id: str
    name: str


class EngagementOut(_OutModel):
    """An engagement (api.md §6.2). Expanded lists are None when not requested, ``[]`` while pending."""

    object: str = "engagement"
    id: str
    title: str
    engagement_type: EngagementType
    processing_status: ProcessingStatus
    is_private: bool
    is_internal: bool
    created_at: datetime
    updated_at: datetime
    start_at: datetime
    engagement_at: datetime
    end_at: datetime | None = None
    duration_seconds: int | None = None
    data_source: str | None = None
    description: str | None = None
    meeting_url: str | None = None
    external_url: str | None = None
    """Returned verbatim as submitted, only when it was given."""
    crm_association: dict[str, Any] | None = None
    owner_user_id: str
    host_user_id: str | None = None
    # Expansions.
    transcript: str | None = None
    media_url: str | None = None
    companies: list[EngagementCompanyOut] | None = None
    contacts: list[ContactOut] | None = None
    owner: UserOut | None = None
    action_items: list[ActionItemOut] | None = None
    signals: list[SignalOut] | None = None
    tags: list[TagOut] | None = None

    @property
    def has_insights(self) -> bool:
        """Both insight lists are non-empty (needs ``expand=action_items,signals``)."""
        return bool(self.action_items) and bool(self.signals)


class EngagementListOut(_OutModel):
    """One page of GET /v2/engagements (api.md §8)."""

    object: str = "list"
    data: list[EngagementOut]
    has_more: bool
    next_cursor: str | None = None


class TimelineSpeakerOut(_OutModel):
    speaker_index: int
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    is_owner: bool = False
    user_id: str | None = None


class TimelineEntryOut(_OutModel):
    speaker_index: int
    start_seconds: float
    end_seconds: float
    text: str
    sentiment: float | None = None


class TranscriptTimelineOut(_OutModel):
    """GET /v2/engagements/{id}/transcript_timeline (api.md §6.4)."""

    object: str = "transcript_timeline"
    engagement_id: str
    speakers: list[TimelineSpeakerOut]
    entries: list[TimelineEntryOut]
    overall_sentiment: float | None = None


class WebhookDataOut(_OutModel):
    object: dict[str, Any]
    previous_attributes: dict[str, Any] = Field(default_factory=dict)


class WebhookEventOut(_OutModel):
    """A webhook envelope (webhooks.md §2); ``data.object`` is the resource as REST returns it."""

    id: str
    type: str
    api_version: str
    created_at: datetime
    workspace_id: str
    data: WebhookDataOut

    def engagement(self) -> EngagementOut:
        """``data.object`` as a typed engagement; raises ValueError for non-engagement events."""
        if not self.type.startswith("v1.engagement."):
            raise ValueError(f"{self.type} does not carry an engagement")
        return EngagementOut.model_validate(self.data.object)


TRANSCRIPT_COMPLETED = "v1.engagement.transcript_timeline.completed"
"""The event a dialer subscribes to (dialer-flow.md §3)."""
