"""What the public API answers, as pydantic models: the response half of the OpenAPI document.

The request half is api/schemas.py, the models the handlers validate with. These describe core/views.py's
output; the generator validates every example it captures from a live in-process emulator against them
(`extra="forbid"`), so a view that grows, loses or retypes a field fails `python -m fake_askelephant.api.openapi`
and the document's drift test instead of shipping a wrong document.

Conventions, chosen for code generators: a field the views omit when empty has no default and is not
required (`Omitted`); a field always present but sometimes null is required and nullable; every array has
`items`; timestamps are `format: date-time`; closed sets are enums.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ...core.events import EVENT_TYPES
from ...core.models import ENGAGEMENT_TYPES, PROCESSING_STATUSES, SignalType, UserRole
from ..problems import SLUGS, TYPE_BASE
from ..validation import OUR_CODES


def _id(prefix: str) -> Any:
    return Field(pattern=rf"^{prefix}_[A-Za-z0-9]+$")


EngagementId = Annotated[str, _id("ngmt")]
ContactId = Annotated[str, _id("cnt")]
CompanyId = Annotated[str, _id("cmp")]
UserId = Annotated[str, _id("usr")]
TagId = Annotated[str, _id("tag")]
ActionItemId = Annotated[str, _id("actitm")]
SignalId = Annotated[str, _id("sgnl")]
CommentId = Annotated[str, _id("tano")]
TimelineId = Annotated[str, _id("tt")]
EventId = Annotated[str, _id("evt")]
WorkspaceId = Annotated[str, _id("wrks")]
RequestId = Annotated[str, _id("rid")]
# The emulator writes milliseconds and Z (api.md §1); generators read format: date-time.
Timestamp = datetime
EngagementType = Literal[ENGAGEMENT_TYPES]  # type: ignore[valid-type]
ProcessingStatus = Literal[PROCESSING_STATUSES]  # type: ignore[valid-type]

# Marks a field the views leave out when it has no value: not required, never null (the generator drops the
# `default: null` pydantic would write).
OMITTED: Any = None


class Resource(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class CrmAssociation(Resource):
    """As sent with PUT …/crm_association (emulator choice: the emulator links to no CRM, it remembers)."""

    object_type: str = Field(min_length=1, max_length=255)
    crm_object_id: str = Field(min_length=1, max_length=255)
    source: str = Field(min_length=1, max_length=255)


class EmailAddress(Resource):
    email: str
    is_primary: bool


class PhoneNumber(Resource):
    phone_number: str
    is_primary: bool


class CompanyDomain(Resource):
    domain: str
    is_primary: bool


class CompanyRef(Resource):
    object: Literal["company"]
    id: CompanyId


class User(Resource):
    """api.md §10. Unknown `job_title`, `time_zone`, `last_activity_at` read "", "UTC" and created_at (emulator
    choice: the documented types, never null)."""

    object: Literal["user"]
    id: UserId
    role: UserRole
    created_at: Timestamp
    updated_at: Timestamp
    first_name: str | None
    last_name: str | None
    emails: list[EmailAddress]
    job_title: str
    time_zone: str
    last_activity_at: Timestamp


class Contact(Resource):
    """api.md §10: description, company, crm_association and time_zone are omitted when empty."""

    object: Literal["contact"]
    id: ContactId
    created_at: Timestamp
    updated_at: Timestamp
    first_name: str | None
    last_name: str | None
    emails: list[EmailAddress]
    phone_numbers: list[PhoneNumber]
    description: str = OMITTED
    company: CompanyRef = OMITTED
    crm_association: CrmAssociation = OMITTED
    time_zone: str = OMITTED


class Company(Resource):
    """api.md §10: the descriptive fields are omitted when empty."""

    object: Literal["company"]
    id: CompanyId
    created_at: Timestamp
    updated_at: Timestamp
    name: str | None
    domains: list[CompanyDomain]
    description: str = OMITTED
    industry: str = OMITTED
    website: str = OMITTED
    number_of_employees: int = Field(OMITTED, ge=0)
    logo_url: str = OMITTED
    crm_association: CrmAssociation = OMITTED


class EngagementCompany(Resource):
    """An `expand=companies` item (fields: emulator choice)."""

    object: Literal["engagement_company"]
    id: CompanyId
    name: str | None


class Tag(Resource):
    """The create-tag page's shape."""

    object: Literal["tag"]
    id: TagId
    name: str
    created_at: Timestamp
    updated_at: Timestamp
    hex_color: str | None = Field(pattern=r"^#[A-Fa-f0-9]{6}$")
    description: str | None
    auto_tagging_enabled: bool


class ActionItem(Resource):
    object: Literal["action_item"]
    id: ActionItemId
    engagement_id: EngagementId
    title: str
    description: str | None
    assignee_user_id: UserId | None
    due_at: Timestamp | None
    created_at: Timestamp


class Signal(Resource):
    object: Literal["signal"]
    id: SignalId
    engagement_id: EngagementId
    type: SignalType
    label: str
    quote: str
    speaker_index: int = Field(ge=0)
    start_seconds: float = Field(ge=0)
    confidence: float = Field(ge=0, le=1)
    created_at: Timestamp


class Engagement(Resource):
    """api.md §6.2. The expansions are present exactly when asked for with `expand`."""

    object: Literal["engagement"]
    id: EngagementId
    title: str
    engagement_type: EngagementType
    processing_status: ProcessingStatus
    is_private: bool
    created_at: Timestamp
    updated_at: Timestamp
    data_source: Literal["API"]
    is_internal: bool
    engagement_at: Timestamp
    start_at: Timestamp
    end_at: Timestamp
    duration_seconds: int = Field(ge=0)
    external_url: str = Field(OMITTED, min_length=1)
    crm_association: CrmAssociation = OMITTED
    owner_user_id: UserId
    host_user_id: UserId = OMITTED
    # expand=…
    companies: list[EngagementCompany] = OMITTED
    contacts: list[Contact] = OMITTED
    owner: User | None = OMITTED
    action_items: list[ActionItem] = OMITTED
    signals: list[Signal] = OMITTED
    transcript: str | None = OMITTED
    media_url: str | None = OMITTED
    tags: list[Tag] = OMITTED


class Speaker(Resource):
    speaker_index: int = Field(ge=0)
    name: str
    email: str | None
    phone: str | None
    is_owner: bool
    user_id: UserId | None


class TranscriptEntry(Resource):
    speaker_index: int = Field(ge=0)
    start_seconds: float = Field(ge=0)
    end_seconds: float = Field(ge=0)
    text: str
    sentiment: float | None = Field(ge=-1, le=1)


class TranscriptTimeline(Resource):
    object: Literal["transcript_timeline"]
    id: TimelineId = Field(description="The engagement's primary timeline (emulator choice: the page lists no id).")
    engagement_id: EngagementId
    speakers: list[Speaker]
    entries: list[TranscriptEntry]
    overall_sentiment: float | None = Field(ge=-1, le=1)


class TranscriptComment(Resource):
    """The create-transcript-comment page's shape (`object`, `status` values and `anchor` fields: emulator choice)."""

    object: Literal["transcript_comment"]
    id: CommentId
    engagement_id: EngagementId
    transcript_timeline_id: TimelineId
    body: str = Field(min_length=1, max_length=50_000)
    status: Literal["open", "resolved"]
    anchor: dict[str, Any]
    created_by: UserId
    resolved_by: UserId | None
    resolved_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp


class DeleteConfirmation(Resource):
    """Every public delete answers this (the delete-tag page's `tag_delete_response`; for the others: emulator
    choice)."""

    id: str
    object: Literal["tag", "contact", "company", "transcript_comment"]
    deleted: bool


class OAuthToken(Resource):
    """RFC 6749 §5.1."""

    access_token: str = Field(min_length=1)
    token_type: Literal["Bearer"]
    expires_in: int = Field(gt=0)
    refresh_token: str = Field(
        OMITTED,
        min_length=1,
        description="authorization_code and refresh_token grants only (RFC 6749 §4.4.3); a refresh spends it.",
    )
    scope: str


def _page(item: type[Resource], name: str) -> type[Resource]:
    """One list envelope per item type (api.md §8), so generators type `data` without generics."""

    class Page(Resource):
        object: Literal["list"]
        data: list[item]  # type: ignore[valid-type]
        has_more: bool
        next_cursor: str | None = Field(description="Opaque; null exactly when has_more is false.")

    Page.__name__ = Page.__qualname__ = name
    Page.__doc__ = f"A page of {item.__name__} records (api.md §8)."
    return Page


EngagementList = _page(Engagement, "EngagementList")
ContactList = _page(Contact, "ContactList")
CompanyList = _page(Company, "CompanyList")
UserList = _page(User, "UserList")
TagList = _page(Tag, "TagList")

# Errors -------------------------------------------------------------------------------------------------

# Built from the server's own tables: mypy sees plain strings, the schema sees the enums.
if TYPE_CHECKING:
    ProblemType = str
    ErrorCode = str
else:
    ProblemType = Literal[tuple(TYPE_BASE + slug for slug in sorted(set(SLUGS.values())))]
    ErrorCode = Literal[tuple(sorted(OUR_CODES))]


class FieldError(Resource):
    field: str = Field(min_length=1, description="The failing field's path, e.g. participants[1].email.")
    code: ErrorCode
    message: str = Field(min_length=1)


class Problem(Resource):
    """api.md §4: every error body, as application/problem+json. `errors` only on 422; `missing_scopes`
    on 403; `invalid_params` on a cursor's 400; `error`/`error_description` (RFC 6749 §5.2) on the OAuth
    token endpoint's errors."""

    type: ProblemType
    title: str = Field(min_length=1)
    status: int = Field(ge=400, le=599)
    detail: str
    request_id: RequestId
    errors: list[FieldError] = Field(OMITTED, min_length=1)
    missing_scopes: list[str] = Field(OMITTED, min_length=1)
    invalid_params: list[str] = Field(
        OMITTED, min_length=1, description="400 for a cursor sent with parameters its first page did not have."
    )
    error: Literal["invalid_request", "invalid_client", "invalid_grant", "unsupported_grant_type", "invalid_scope"] = (
        OMITTED
    )
    error_description: str = OMITTED


# Webhook events (webhooks.md §1–3) ----------------------------------------------------------------------

EVENT_OBJECTS: dict[str, type[Resource]] = {
    "engagement": Engagement,
    "contact": Contact,
    "company": Company,
    "tag": Tag,
}


def _event(event_type: str) -> type[Resource]:
    resource = event_type.split(".")[1]
    obj = EVENT_OBJECTS[resource]
    name = "".join(part.title() for part in event_type.removeprefix("v1.").replace("_", ".").split(".")) + "Event"
    data_name = name.removesuffix("Event") + "Data"

    class Data(Resource):
        object: obj  # type: ignore[valid-type]
        previous_attributes: dict[str, Any] = Field(
            description="Changed top-level fields with their previous values; {} unless the type is *.updated."
        )

    Data.__name__ = Data.__qualname__ = data_name

    class Event(Resource):
        id: EventId
        type: Literal[event_type]  # type: ignore[valid-type]
        api_version: Literal["v1"]
        created_at: Timestamp
        workspace_id: WorkspaceId
        data: Data

    Event.__name__ = Event.__qualname__ = name
    Event.__doc__ = f"The `{event_type}` webhook body (webhooks.md §2)."
    return Event


EVENTS: dict[str, type[Resource]] = {event_type: _event(event_type) for event_type in EVENT_TYPES}


class TokenRequest(BaseModel):
    """POST /api/v1/oauth/token, form-encoded (RFC 6749 §4.1.3, §4.4, §6). Documentation only: api/oauth.py reads
    the form itself, with RFC 6749's error codes. The client authenticates here (`client_secret_post`) or with HTTP
    Basic, not both. A code comes from the consent step (`POST /__admin/oauth-clients/{id}/authorize`)."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    grant_type: Literal["client_credentials", "authorization_code", "refresh_token"]
    client_id: str = Field(OMITTED, min_length=1)
    client_secret: str = Field(OMITTED, min_length=1)
    scope: str = Field(
        OMITTED, description="Space-separated scopes narrowing the client's (or the refresh token's); default all."
    )
    code: str = Field(OMITTED, min_length=1, description="authorization_code: the code; single use, 10 minutes.")
    redirect_uri: str = Field(OMITTED, description="authorization_code: the redirect URI the code was issued for.")
    code_verifier: str = Field(OMITTED, description="authorization_code: the PKCE verifier (RFC 7636), if challenged.")
    refresh_token: str = Field(OMITTED, min_length=1, description="refresh_token: the refresh token to spend.")
