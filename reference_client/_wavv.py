"""WAVV adapter: a typed WAVV call and its mapping to POST /v2/engagements (dialer-flow.md §6).

``WavvCall`` is our model of what a WAVV integration knows when a call ends; map your WAVV
payload into it. Its validation is strict enough that every valid call maps to a request the
API accepts (names trimmed, emails with one inner ``@``, ids safe in a URL path).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from reference_client._models import EngagementCreateIn, ParticipantIn, TranscriptTimelineIn

SOURCE_SYSTEM = "wavv"
TITLE_MAX = 500


def _trimmed(value: str | None) -> str | None:
    """Blank means unknown: WAVV exports often carry "" or spaces for missing fields."""
    if value is None:
        return None
    value = value.strip()
    return value or None


def _bounded(max_length: int) -> AfterValidator:
    def check(value: str | None) -> str | None:
        value = _trimmed(value)
        if value is not None and len(value) > max_length:
            raise ValueError(f"longer than {max_length} characters")
        return value

    return AfterValidator(check)


def _email(value: str | None) -> str | None:
    value = _trimmed(value)
    if value is None:
        return None
    local, at, domain = value.partition("@")
    if not at or not local or not domain or "@" in domain or any(c.isspace() for c in value):
        raise ValueError(f"not an email address: {value!r}")
    if len(value) > 320:
        raise ValueError("longer than 320 characters")
    return value


# Limits are the API's participant limits (api.md §5), checked after trimming.
Name = Annotated[str | None, _bounded(255)]
Email = Annotated[str | None, AfterValidator(_email)]
Phone = Annotated[str | None, _bounded(50)]


class _WavvModel(BaseModel):
    # WAVV payloads carry more than we map; keep it instead of failing on it.
    model_config = ConfigDict(extra="allow", str_strip_whitespace=False)


class CallDirection(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class WavvAgent(_WavvModel):
    """The WAVV user who made or took the call; becomes the owner participant."""

    id: str | None = None
    name: Name = None
    email: Email = None
    """Should match the agent's AskElephant user email so the engagement is owned by them."""
    phone: Phone = None

    @model_validator(mode="after")
    def _identified(self) -> WavvAgent:
        if self.name is None and self.email is None and self.phone is None:
            raise ValueError("the agent needs a name, an email or a phone")
        return self


class WavvLead(_WavvModel):
    """The lead/contact on the other end of the call."""

    id: str | None = None
    first_name: Name = None
    last_name: Name = None
    email: Email = None
    phone: Phone = None

    @property
    def full_name(self) -> str | None:
        name = " ".join(part for part in (self.first_name, self.last_name) if part)
        return name[:255] or None

    @property
    def display_name(self) -> str | None:
        return self.full_name or self.email or self.phone


class WavvCall(_WavvModel):
    """A WAVV call as a dialer integration sees it once the call has ended."""

    call_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
    """WAVV's call id; the engagement's ``external_id`` is ``wavv-call-<call_id>``."""
    agent: WavvAgent
    lead: WavvLead | None = None
    direction: CallDirection = CallDirection.OUTBOUND
    started_at: AwareDatetime
    answered_at: AwareDatetime | None = None
    ended_at: AwareDatetime | None = None
    recording_url: str | None = Field(default=None, max_length=2048)
    """Public https URL of the recording; None until WAVV has one."""
    disposition: str | None = Field(default=None, max_length=100)
    """E.g. "Interested"; known at submission time, so it goes into the title."""
    detail_url: str | None = Field(default=None, max_length=2048)
    """WAVV's call detail page, if your WAVV setup exposes one; else the ``wavv://`` deep link is used."""

    @model_validator(mode="after")
    def _ordered(self) -> WavvCall:
        if self.ended_at is not None and self.ended_at < self.started_at:
            raise ValueError("ended_at is before started_at")
        if self.answered_at is not None and self.answered_at < self.started_at:
            raise ValueError("answered_at is before started_at")
        return self

    @property
    def external_id(self) -> str:
        return f"wavv-call-{self.call_id}"

    @property
    def deep_link(self) -> str:
        return f"wavv://call/{self.call_id}"

    @property
    def duration_seconds(self) -> float | None:
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()


class WavvCallNotReady(ValueError):
    """The call has no recording (and no transcript) yet: there is nothing to submit."""


def wavv_title(call: WavvCall) -> str:
    """``WAVV call with Jane Doe (Interested)``: disposition included because it can't be sent later."""
    who = call.lead.display_name if call.lead is not None else None
    title = f"WAVV call with {who}" if who else "WAVV call"
    disposition = (call.disposition or "").strip()
    if disposition:
        title += f" ({disposition})"
    return title[:TITLE_MAX]


def engagement_from_wavv(
    call: WavvCall,
    *,
    title: str | None = None,
    external_url: str | None = None,
    transcript_timeline: TranscriptTimelineIn | None = None,
    run_workflows: bool = True,
) -> EngagementCreateIn:
    """The POST /v2/engagements body for a finished WAVV call.

    Mapping (dialer-flow.md §6): ``source_system`` "wavv"; ``external_id`` "wavv-call-<id>"
    (the idempotency key, so a re-synced call returns the original engagement); ``external_url``
    the given URL, else ``detail_url``, else ``wavv://call/<id>``; the agent is the
    ``is_owner`` participant, the lead a further participant; ``start_at`` the call start.

    Raises:
        WavvCallNotReady: neither a recording URL nor a ``transcript_timeline`` is available yet.
    """
    if call.recording_url is None and transcript_timeline is None:
        raise WavvCallNotReady(
            f"WAVV call {call.call_id} has no recording yet; submit it when the recording is available"
        )
    participants = [ParticipantIn(name=call.agent.name, email=call.agent.email, phone=call.agent.phone, is_owner=True)]
    lead = call.lead
    if lead is not None and (lead.full_name or lead.email or lead.phone):
        participants.append(ParticipantIn(name=lead.full_name, email=lead.email, phone=lead.phone))
    return EngagementCreateIn(
        type="CALL",
        title=title or wavv_title(call),
        source_system=SOURCE_SYSTEM,
        external_id=call.external_id,
        media_url=call.recording_url,
        transcript_timeline=transcript_timeline,
        external_url=external_url or call.detail_url or call.deep_link,
        run_workflows=run_workflows,
        participants=participants,
        start_at=call.started_at,
    )
