"""Wire models for the control plane's request bodies (pipeline.md §5, §7)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from ..core.models import USER_ROLES
from ..core.pipeline import MAX_DELAY_S, STAGES, PipelineOverrides
from ..core.store import WORKSPACE_ID
from .schemas import Timestamp, WireModel, _reject_null


class UserIn(WireModel):
    email: str = Field(min_length=3, max_length=320)
    first_name: str | None = Field(None, max_length=255)
    last_name: str | None = Field(None, max_length=255)
    role: Literal[USER_ROLES] = "MEMBER"  # type: ignore[valid-type]
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
    type: Literal["next_step", "objection", "pricing", "competitor", "buying_intent", "risk"] = "next_step"
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


class PipelineOverridesIn(WireModel):
    transcription: Literal["ok", "failed"] | None = None
    action_items: Literal["auto", "failed"] | list[CannedActionItemIn] | None = None
    signals: Literal["auto", "failed"] | list[CannedSignalIn] | None = None
    webhook: Literal["send", "suppress"] | None = None
    delays: DelaysIn | None = None

    _no_null = field_validator("transcription", "action_items", "signals", "webhook", "delays", mode="before")(
        _reject_null
    )

    def to_core(self) -> PipelineOverrides:
        def insights(value: Any) -> Any:
            if isinstance(value, list):
                return [item.model_dump(exclude_none=True) for item in value]
            return value

        delays = {k: v for k, v in (self.delays.model_dump() if self.delays else {}).items() if v is not None}
        assert set(delays) <= set(STAGES)
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
    media: Literal["ok", "unreachable", "unsupported_media_type"] | None = None
    duration_seconds: int | None = Field(None, ge=1, le=86_400)
