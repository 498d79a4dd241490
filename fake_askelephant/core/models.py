"""Domain records. Plain dataclasses: validation happens at the HTTP edge, rules in the services.

Records held per engagement use `slots=True` (issue 22): no per-instance dict, so an engagement with its
participants costs a few hundred bytes instead of about a kilobyte, and the collector has fewer objects to walk.
"""

from __future__ import annotations

from dataclasses import field
from typing import Any, Literal

from .records import dataclass

ENGAGEMENT_TYPES = ("MEETING", "CALL", "EMAIL", "TASK", "NOTE", "CALENDAR_EVENT", "DOCUMENT")
PROCESSING_STATUSES = ("PENDING", "PROCESSING", "COMPLETED", "FAILED")
UserRole = Literal["OWNER", "MANAGER", "MEMBER", "INACTIVE", "NOT_INVITED"]
# Roles that cannot own an engagement (api.md §5 owner rule).
NON_OWNER_ROLES: frozenset[UserRole] = frozenset({"INACTIVE", "NOT_INVITED"})
SignalType = Literal["next_step", "objection", "pricing", "competitor", "buying_intent", "risk"]


@dataclass
class User:
    id: str
    workspace_id: str
    email: str
    role: UserRole
    created_at: int
    updated_at: int
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    job_title: str | None = None
    time_zone: str | None = None
    last_activity_at: int | None = None

    @property
    def can_own(self) -> bool:
        return self.role not in NON_OWNER_ROLES

    @property
    def display_name(self) -> str:
        name = " ".join(part for part in (self.first_name, self.last_name) if part)
        return name or self.email


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    secret: str
    workspace_id: str
    user_id: str
    scopes: frozenset[str]

    @property
    def token(self) -> str:
        return f"sk-apik_{self.key_id}.{self.secret}"


@dataclass(frozen=True)
class Principal:
    """Who is calling: resolved from an API key or an OAuth token."""

    workspace_id: str
    user_id: str
    scopes: frozenset[str]
    credential_id: str


@dataclass(frozen=True, slots=True)
class Participant:
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    is_owner: bool = False


@dataclass(slots=True)
class Speaker:
    speaker_index: int
    name: str
    email: str | None = None
    phone: str | None = None
    is_owner: bool = False
    user_id: str | None = None


@dataclass(slots=True)
class TranscriptEntry:
    speaker_index: int
    start_seconds: float
    end_seconds: float
    text: str
    sentiment: float | None = None


@dataclass(slots=True, weakref_slot=True)
class TranscriptTimeline:
    speakers: list[Speaker]
    entries: list[TranscriptEntry]


@dataclass(slots=True)
class ActionItem:
    id: str
    engagement_id: str
    title: str
    description: str | None
    assignee_user_id: str | None
    due_at: int | None
    created_at: int


@dataclass(slots=True)
class Signal:
    id: str
    engagement_id: str
    type: SignalType
    label: str
    quote: str
    speaker_index: int
    start_seconds: float
    confidence: float
    created_at: int


@dataclass(frozen=True)
class EngagementDraft:
    """A validated create request, as the HTTP edge hands it to the core."""

    engagement_type: str
    title: str
    source_system: str
    external_id: str
    media_url: str | None = None
    external_url: str | None = None
    run_workflows: bool = True
    is_private: bool | None = None
    transcript: str | None = None
    participants: tuple[Participant, ...] = ()
    start_at: int | None = None
    transcript_timeline: TranscriptTimeline | None = None


@dataclass(slots=True, weakref_slot=True)
class Engagement:
    id: str
    workspace_id: str
    title: str
    engagement_type: str
    processing_status: str
    is_private: bool
    is_internal: bool
    created_at: int
    updated_at: int
    start_at: int
    owner_user_id: str
    host_user_id: str | None
    source_system: str
    external_id: str
    end_at: int | None = None
    duration_seconds: int | None = None
    external_url: str | None = None
    media_url: str | None = None
    run_workflows: bool = True
    participants: tuple[Participant, ...] = ()
    submitted_transcript: str | None = None
    submitted_timeline: TranscriptTimeline | None = None
    # No transcript, action items or signals here: they are derived when read (core/derived.py).
    # Related resources (api.md §10); ids in the engagement's workspace.
    contact_ids: list[str] = field(default_factory=list)
    company_ids: list[str] = field(default_factory=list)
    tag_ids: list[str] = field(default_factory=list)
    # The CRM record it was matched to (seed data / admin: the emulator has no CRM integration).
    crm_association: CrmAssociation | None = None
    # Users among the participants (matched by email, then phone): with the owner, they may view it when it is
    # private (api.md §3.1).
    participant_user_ids: list[str] = field(default_factory=list)
    # Bumped on every stored change so views can be cached per version.
    version: int = 0


# Contacts, companies, tags, transcript comments and OAuth (api.md §10) ------------------------------


@dataclass
class EmailAddress:
    email: str
    is_primary: bool = False


@dataclass
class PhoneNumber:
    phone_number: str
    is_primary: bool = False


@dataclass
class CompanyDomain:
    domain: str  # normalised: lower case, no scheme, no `www.`, no trailing dot
    is_primary: bool = False


@dataclass(frozen=True)
class CrmAssociation:
    """Returned as sent (emulator choice): the emulator links to no CRM, it only remembers."""

    object_type: str
    crm_object_id: str
    source: str | None = None


@dataclass
class Contact:
    id: str
    workspace_id: str
    created_at: int
    updated_at: int
    first_name: str | None = None
    last_name: str | None = None
    emails: list[EmailAddress] = field(default_factory=list)
    phone_numbers: list[PhoneNumber] = field(default_factory=list)
    description: str | None = None
    company_id: str | None = None
    crm_association: CrmAssociation | None = None
    time_zone: str | None = None

    @property
    def display_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


@dataclass
class Company:
    id: str
    workspace_id: str
    created_at: int
    updated_at: int
    name: str | None = None
    domains: list[CompanyDomain] = field(default_factory=list)
    description: str | None = None
    industry: str | None = None
    website: str | None = None
    number_of_employees: int | None = None
    logo_url: str | None = None
    crm_association: CrmAssociation | None = None


@dataclass
class Tag:
    id: str
    workspace_id: str
    name: str
    created_at: int
    updated_at: int
    description: str | None = None
    hex_color: str | None = None
    # The analysis applies the tag to calls that match it (core/derived.py auto_tags); default on (emulator choice).
    auto_tagging_enabled: bool = True
    deleted_at: int | None = None  # soft delete (api.md §10): gone from every read, kept for the record


CommentStatus = Literal["open", "resolved"]  # the page's enum values were not captured (emulator choice)


@dataclass
class TranscriptComment:
    id: str
    workspace_id: str
    engagement_id: str
    transcript_timeline_id: str
    body: str
    created_by: str
    created_at: int
    updated_at: int
    status: CommentStatus = "open"
    anchor: dict[str, Any] = field(default_factory=dict)
    resolved_by: str | None = None
    resolved_at: int | None = None


@dataclass(frozen=True)
class OAuthClient:
    """Created by `POST /__admin/oauth-clients`; never holds workspace:admin (api.md §10)."""

    client_id: str
    secret: str
    workspace_id: str
    user_id: str
    scopes: frozenset[str]


OAuthGrantKind = Literal["access", "refresh", "code"]


@dataclass(frozen=True)
class OAuthToken:
    """What the authorization server issued: an access token, a refresh token, or an authorization code (with
    the redirect URI and PKCE challenge it is bound to). One table, so reset and persistence treat them alike."""

    token: str
    client_id: str
    workspace_id: str
    user_id: str
    scopes: frozenset[str]
    expires_at: int  # virtual-clock ms
    kind: OAuthGrantKind = "access"
    redirect_uri: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None
