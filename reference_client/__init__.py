"""Reference AskElephant dialer integration: typed client, webhook receiver, WAVV mapping."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reference_client._client import API_KEY_ENV, BASE_URL_ENV, DEFAULT_BASE_URL, AskElephantClient
from reference_client._clock import Clock, SystemClock
from reference_client._dedup import MIN_TTL_SECONDS, DedupStore, InMemoryDedupStore, SqliteDedupStore
from reference_client._errors import (
    ApiError,
    AskElephantError,
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    RateLimited,
    ServerError,
    TransportError,
    Unauthorized,
    ValidationFailed,
)
from reference_client._insights import InsightsOutcome, InsightsPolicy, InsightsResult
from reference_client._models import (
    TRANSCRIPT_COMPLETED,
    ActionItemOut,
    ContactOut,
    EngagementCreateIn,
    EngagementListOut,
    EngagementOut,
    EngagementType,
    Expand,
    FieldErrorOut,
    ParticipantIn,
    ProblemOut,
    ProcessingStatus,
    SignalOut,
    TimelineEntryIn,
    TimelineSpeakerIn,
    TranscriptTimelineIn,
    TranscriptTimelineOut,
    UserOut,
    WebhookEventOut,
)
from reference_client._retry import RetryPolicy
from reference_client._sync import SyncAskElephantClient
from reference_client._wavv import (
    CallDirection,
    WavvAgent,
    WavvCall,
    WavvCallNotReady,
    WavvLead,
    engagement_from_wavv,
    wavv_title,
)
from reference_client._wavv_lifecycle import (
    WAVV_LIFECYCLE,
    ApiAction,
    LifecycleStep,
    WavvMoment,
    api_action_for,
)

if TYPE_CHECKING:
    from reference_client._webhooks import WebhookReceiver, create_webhook_app, webhook_receiver

# The receiver needs the optional ``svix`` package (extra "reference"); import it only when asked
# so the HTTP client works with aiohttp and pydantic alone.
_WEBHOOK_NAMES = frozenset({"WebhookReceiver", "create_webhook_app", "webhook_receiver"})


def __getattr__(name: str) -> Any:
    if name in _WEBHOOK_NAMES:
        from reference_client import _webhooks

        return getattr(_webhooks, name)
    raise AttributeError(f"module 'reference_client' has no attribute {name!r}")


__all__ = [
    "API_KEY_ENV",
    "BASE_URL_ENV",
    "DEFAULT_BASE_URL",
    "MIN_TTL_SECONDS",
    "TRANSCRIPT_COMPLETED",
    "WAVV_LIFECYCLE",
    "ActionItemOut",
    "ApiAction",
    "ApiError",
    "AskElephantClient",
    "AskElephantError",
    "CallDirection",
    "Clock",
    "Conflict",
    "ContactOut",
    "DedupStore",
    "EngagementCreateIn",
    "EngagementListOut",
    "EngagementOut",
    "EngagementType",
    "Expand",
    "FieldErrorOut",
    "Forbidden",
    "InMemoryDedupStore",
    "InsightsOutcome",
    "InsightsPolicy",
    "InsightsResult",
    "InvalidRequest",
    "LifecycleStep",
    "NotFound",
    "ParticipantIn",
    "ProblemOut",
    "ProcessingStatus",
    "RateLimited",
    "RetryPolicy",
    "ServerError",
    "SignalOut",
    "SqliteDedupStore",
    "SyncAskElephantClient",
    "SystemClock",
    "TimelineEntryIn",
    "TimelineSpeakerIn",
    "TranscriptTimelineIn",
    "TranscriptTimelineOut",
    "TransportError",
    "Unauthorized",
    "UserOut",
    "ValidationFailed",
    "WavvAgent",
    "WavvCall",
    "WavvCallNotReady",
    "WavvLead",
    "WavvMoment",
    "WebhookEventOut",
    "WebhookReceiver",
    "api_action_for",
    "create_webhook_app",
    "engagement_from_wavv",
    "wavv_title",
    "webhook_receiver",
]
