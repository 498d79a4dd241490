"""The public API's wire models (request bodies): engagements (api.md §5, §5.5) and the §10 resources.

Pydantic v2 at the edge only, from one base: strict, no coercion, an explicit null rejected where a field may
only be omitted. Each model hands the core a plain value (`to_draft`, `to_core`, `changes`).
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Literal, TypeGuard, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, field_validator, model_validator
from pydantic_core import PydanticCustomError

from ..core import jsonutil, policies
from ..core.companies import CompanyDraft
from ..core.contacts import ContactDraft
from ..core.directory import email_key, normalize_domain
from ..core.errors import FieldError
from ..core.models import (
    CommentStatus,
    CompanyDomain,
    CrmAssociation,
    EmailAddress,
    EngagementDraft,
    Participant,
    PhoneNumber,
    Speaker,
    TranscriptEntry,
    TranscriptTimeline,
)
from ..core.tags import TagDraft
from ..core.timefmt import TimestampOutOfRange, parse_iso
from .openapi.patterns import (
    DOMAIN_PATTERN,
    EMAIL_PATTERN,
    EXTERNAL_URL_PATTERN,
    MEDIA_URL_PATTERN,
    REQUEST_DATETIME_PATTERN,
)

TRANSCRIPT_MAX_CHARS = 900_000
TRANSCRIPT_MAX_BYTES = 950_000
MAX_CALL_SECONDS = 86_400
# Limits the docs leave open (emulator choice).
MAX_EMAILS = MAX_PHONES = MAX_DOMAINS = 20
MAX_LINKED_IDS = 100  # contact_ids / tag_ids per PUT


def _timestamp(value: Any) -> int:
    if not isinstance(value, str):
        raise PydanticCustomError("invalid_type", "must be an ISO-8601 timestamp string")
    try:
        return parse_iso(value)
    except TimestampOutOfRange as exc:
        raise PydanticCustomError("invalid_range", str(exc)) from exc
    except ValueError as exc:
        raise PydanticCustomError("invalid_type", "must be an ISO-8601 timestamp with a timezone") from exc


# Parsed to epoch ms; on the wire (and in the OpenAPI document) an ISO-8601 string.
Timestamp = Annotated[
    int,
    BeforeValidator(_timestamp),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": REQUEST_DATETIME_PATTERN}),
]


def reject_null(value: Any) -> Any:
    # Optional fields may be omitted but not sent as null (api.md §5 limits).
    if value is None:
        raise PydanticCustomError("invalid_type", "must not be null; omit the field instead")
    return value


class WireModel(BaseModel):
    # defer_build: schemas are built on first validation, not at import (start-up is paid by every CI job).
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True, defer_build=True)


# The rules below written in code (validators) are stated for the OpenAPI document with json_schema_extra;
# api/openapi/patterns.py holds the patterns, and its tests hold each pattern to its validator.
EMAIL_SCHEMA: dict[str, Any] = {"pattern": EMAIL_PATTERN}


def at_most_one(flag: str) -> dict[str, Any]:
    """An array in which at most one item has `flag: true` (one primary, one owner)."""
    return {
        "contains": {"type": "object", "properties": {flag: {"const": True}}, "required": [flag]},
        "minContains": 0,
        "maxContains": 1,
    }


def at_least_one_of(*fields: str) -> dict[str, Any]:
    """An object that has at least one of `fields`, written as if/then: code generators that do not read
    conditionals still see a plain object, validators and fuzzers still see the rule."""
    *others, last = fields
    return {"if": {"not": {"anyOf": [{"required": [f]} for f in others]}}, "then": {"required": [last]}}


def email_shape(value: str) -> str:
    local, at, domain = value.partition("@")
    if not at or not local or not domain or "@" in domain:
        raise PydanticCustomError("invalid_type", "must be an email address with one inner @")
    return value


class ParticipantIn(WireModel):
    model_config = ConfigDict(json_schema_extra=at_least_one_of("name", "email", "phone"))

    name: str | None = Field(None, min_length=1, max_length=255)
    email: str | None = Field(None, max_length=320, json_schema_extra=EMAIL_SCHEMA)
    phone: str | None = Field(None, min_length=1, max_length=50)
    is_owner: bool = False

    _no_null = field_validator("name", "email", "phone", "is_owner", mode="before")(reject_null)

    @field_validator("email")
    @classmethod
    def _email_shape(cls, value: str | None) -> str | None:
        return email_shape(value) if value is not None else None

    @model_validator(mode="after")
    def _one_contact_field(self) -> ParticipantIn:
        if self.name is None and self.email is None and self.phone is None:
            raise PydanticCustomError("required", "must have at least one of name, email or phone")
        return self

    def to_core(self) -> Participant:
        return Participant(self.name, self.email, self.phone, self.is_owner)


class SpeakerIn(WireModel):
    name: str = Field(min_length=1, max_length=255)
    email: str | None = Field(None, max_length=320)
    phone: str | None = Field(None, min_length=1, max_length=50)
    is_owner: bool = False

    _no_null = field_validator("email", "phone", "is_owner", mode="before")(reject_null)


def integral(value: Any) -> Any:
    """JSON has one number type: 3.0 is the integer 3 (as JSON Schema's `integer` says), 3.5 is not."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class EntryIn(WireModel):
    speaker_index: Annotated[int, BeforeValidator(integral)] = Field(ge=0)
    # A day is plenty for one call, and keeps end_at = start_at + duration representable (emulator choice).
    start_seconds: float = Field(ge=0, le=MAX_CALL_SECONDS)
    end_seconds: float = Field(ge=0, le=MAX_CALL_SECONDS)
    text: str = Field(min_length=1, max_length=10_000)
    sentiment: float | None = Field(None, ge=-1, le=1)

    _no_null = field_validator("sentiment", mode="before")(reject_null)


class TranscriptTimelineIn(WireModel):
    """Each entry's speaker_index names a declared speaker, and its end_seconds is not before start_seconds."""

    speakers: list[SpeakerIn] = Field(min_length=1, max_length=100)
    entries: list[EntryIn] = Field(min_length=1, max_length=20_000)

    def to_core(self) -> TranscriptTimeline:
        speakers = [Speaker(i, s.name, s.email, s.phone, s.is_owner) for i, s in enumerate(self.speakers)]
        entries = sorted(
            (
                TranscriptEntry(e.speaker_index, e.start_seconds, e.end_seconds, e.text, e.sentiment)
                for e in self.entries
            ),
            key=lambda e: (e.start_seconds, e.end_seconds),
        )
        return TranscriptTimeline(speakers, entries)


class EngagementCreateIn(WireModel):
    """POST /v2/engagements body (api.md §5). Unknown fields are ignored. media_url is required unless
    transcript_timeline is sent; at most one participant is the owner."""

    model_config = ConfigDict(json_schema_extra=at_least_one_of("transcript_timeline", "media_url"))

    type: Literal["CALL", "MEETING"]
    title: str = Field(min_length=1, max_length=500)
    source_system: str = Field(min_length=1, max_length=100)
    external_id: str = Field(min_length=1, max_length=500)
    media_url: str | None = Field(
        None,
        json_schema_extra={"maxLength": policies.MEDIA_URL_MAX, "pattern": MEDIA_URL_PATTERN},
        description="https, on a public host; private, loopback and link-local addresses are rejected.",
    )
    transcript_timeline: TranscriptTimelineIn | None = None
    external_url: str | None = Field(
        None,
        json_schema_extra={"minLength": 1, "maxLength": policies.EXTERNAL_URL_MAX, "pattern": EXTERNAL_URL_PATTERN},
        description="Any absolute URI (e.g. https://… or wavv://call/123) but javascript:, data:, vbscript:, "
        "blob: and file:.",
    )
    run_workflows: bool = True
    is_private: bool | None = None
    transcript: str | None = Field(
        None, max_length=TRANSCRIPT_MAX_CHARS, description=f"At most {TRANSCRIPT_MAX_BYTES:,} UTF-8 bytes too."
    )
    participants: list[ParticipantIn] = Field(
        default_factory=list, max_length=100, json_schema_extra=at_most_one("is_owner")
    )
    start_at: Timestamp | None = None

    _no_null = field_validator(
        "media_url",
        "transcript_timeline",
        "external_url",
        "run_workflows",
        "is_private",
        "transcript",
        "participants",
        "start_at",
        mode="before",
    )(reject_null)

    @field_validator("external_url")
    @classmethod
    def _external_url(cls, value: str | None) -> str | None:
        if value is not None and (err := policies.external_url_error(value)):
            raise PydanticCustomError(err.code, err.message)
        return value

    @field_validator("media_url")
    @classmethod
    def _media_url(cls, value: str | None) -> str | None:
        if value is not None and (err := policies.media_url_shape_error(value)):
            raise PydanticCustomError(err.code, err.message)
        return value

    @field_validator("transcript")
    @classmethod
    def _transcript_bytes(cls, value: str | None) -> str | None:
        if value is not None and len(value.encode("utf-8", "surrogatepass")) > TRANSCRIPT_MAX_BYTES:
            raise PydanticCustomError("too_long", f"transcript must be at most {TRANSCRIPT_MAX_BYTES:,} UTF-8 bytes")
        return value

    def to_draft(self) -> EngagementDraft:
        return EngagementDraft(
            engagement_type=self.type,
            title=self.title,
            source_system=self.source_system,
            external_id=self.external_id,
            media_url=self.media_url,
            external_url=self.external_url,
            run_workflows=self.run_workflows,
            is_private=self.is_private,
            transcript=self.transcript,
            participants=tuple([Participant(p.name, p.email, p.phone, p.is_owner) for p in self.participants]),
            start_at=self.start_at,
            transcript_timeline=self.transcript_timeline.to_core() if self.transcript_timeline else None,
        )


def _length_bounds(model: type[BaseModel], name: str) -> tuple[int, int]:
    """A string or list field's (min_length, max_length), as its model states them."""
    low, high = 0, 1 << 62
    for rule in model.model_fields[name].metadata:
        low = getattr(rule, "min_length", low)
        high = getattr(rule, "max_length", high)
    return low, high


_TITLE, _SOURCE, _EXTERNAL_ID, _TRANSCRIPT, _PARTICIPANTS = (
    _length_bounds(EngagementCreateIn, f)
    for f in ("title", "source_system", "external_id", "transcript", "participants")
)
_NAME, _EMAIL, _PHONE = (_length_bounds(ParticipantIn, f) for f in ("name", "email", "phone"))
_DRAFT_FIELDS = (
    "engagement_type", "title", "source_system", "external_id", "media_url", "external_url", "run_workflows",
    "is_private", "transcript", "participants", "start_at", "transcript_timeline",
)  # fmt: skip
if tuple(f.name for f in dataclasses.fields(EngagementDraft)) != _DRAFT_FIELDS:
    raise TypeError("models.EngagementDraft's fields changed: update plain_create_draft's positional call")
_CREATE_TYPES = get_args(EngagementCreateIn.model_fields["type"].annotation)  # the Literal's values


def _text(value: object, bounds: tuple[int, int]) -> TypeGuard[str]:
    """A str the model takes for a field of these bounds: pydantic counts code points, as len() does, and refuses a
    lone surrogate (which JSON decoding never yields, so ASCII text is the quick answer)."""
    if type(value) is not str or not bounds[0] <= len(value) <= bounds[1]:
        return False
    if value.isascii():
        return True
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def plain_create_draft(data: dict[str, Any]) -> EngagementDraft | None:
    """The draft EngagementCreateIn would give for a plain create body, or None: then the model decides (and
    reports every error). Plain: the rules of the model's fields and of create_cross_field_errors hold, no
    transcript_timeline, no null, every value of the exact JSON type. Checked here in a few µs, where pydantic takes
    ~10 (issue 22 §2: every create); tests/emulator/test_create_shortcut.py holds this to the model."""
    get = data.get
    kind, title, source, external_id = get("type"), get("title"), get("source_system"), get("external_id")
    media_url = get("media_url")
    if (
        kind not in _CREATE_TYPES
        or type(kind) is not str
        or not _text(title, _TITLE)
        or not _text(source, _SOURCE)
        or not _text(external_id, _EXTERNAL_ID)
        or type(media_url) is not str  # required without a timeline
        or "transcript_timeline" in data
    ):
        return None
    external_url, run_workflows = get("external_url"), get("run_workflows", True)
    is_private, transcript, start_at = get("is_private", False), get("transcript"), get("start_at")
    if (
        type(run_workflows) is not bool
        or type(is_private) is not bool
        or (external_url is not None and (type(external_url) is not str or policies.external_url_error(external_url)))
        or (transcript is not None and not _plain_transcript(transcript))
        or (None in data.values())
        or policies.media_url_shape_error(media_url)
    ):
        return None
    participants = get("participants", [])
    people = _plain_participants(participants) if type(participants) is list else None
    if people is None:
        return None
    if start_at is not None:
        try:
            start_at = parse_iso(start_at)  # not a str: a ValueError too
        except ValueError:
            return None
    # Positionally, in _DRAFT_FIELDS' order (binding 11 keywords took ~4,000 machine instructions).
    return EngagementDraft(
        kind, title, source, external_id, media_url, external_url, run_workflows, get("is_private"), transcript, people,
        start_at
    )  # fmt: skip


def _plain_transcript(value: object) -> bool:
    return _text(value, _TRANSCRIPT) and (value.isascii() or len(value.encode()) <= TRANSCRIPT_MAX_BYTES)


def _plain_participants(items: list[Any]) -> tuple[Participant, ...] | None:
    if len(items) > _PARTICIPANTS[1]:
        return None
    out = []
    owners = 0
    for item in items:
        if type(item) is not dict:
            return None
        get = item.get
        name, email, phone, is_owner = get("name"), get("email"), get("phone"), get("is_owner", False)
        if (
            (name is None and email is None and phone is None)
            or (name is not None and not _text(name, _NAME))
            or (email is not None and not (_text(email, _EMAIL) and _email_ok(email)))
            or (phone is not None and not _text(phone, _PHONE))
            or type(is_owner) is not bool
            or None in item.values()
        ):
            return None
        owners += is_owner
        out.append(Participant(name, email, phone, is_owner))
    return tuple(out) if owners <= 1 else None


def _email_ok(value: str) -> bool:
    local, at, domain = value.partition("@")
    return bool(at and local and domain and "@" not in domain)


def create_cross_field_errors(data: dict[str, Any]) -> list[FieldError]:
    """Rules that span fields, checked on the raw body so they are reported alongside field errors."""
    errors: list[FieldError] = []
    if "media_url" not in data and "transcript_timeline" not in data:
        errors.append(FieldError("media_url", "required", "media_url is required unless transcript_timeline is sent."))
    participants = data.get("participants")
    if isinstance(participants, list):
        owners = [p for p in participants if isinstance(p, dict) and p.get("is_owner") is True]
        if len(owners) > 1:
            errors.append(
                FieldError("participants", "multiple_owners", "At most one participant may have is_owner: true.")
            )
    timeline = data.get("transcript_timeline")
    if isinstance(timeline, dict) and isinstance(timeline.get("entries"), list):
        speakers = timeline.get("speakers")
        n = len(speakers) if isinstance(speakers, list) else None
        for i, entry in enumerate(timeline["entries"]):
            if not isinstance(entry, dict):
                continue
            path = f"transcript_timeline.entries[{i}]"
            index = entry.get("speaker_index")
            if n is not None and _is_int(index) and index >= 0 and index >= n:
                errors.append(
                    FieldError(
                        f"{path}.speaker_index",
                        "invalid_range",
                        f"{path}.speaker_index must name a declared speaker (0–{n - 1}).",
                    )
                )
            start, end = entry.get("start_seconds"), entry.get("end_seconds")
            if _is_number(start) and _is_number(end) and start > end:
                errors.append(
                    FieldError(f"{path}.end_seconds", "invalid_range", f"{path}.end_seconds must be >= start_seconds.")
                )
    return errors


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


# Contacts, companies, tags, engagement links and transcript comments (api.md §10) ----------------------


def one_primary(items: list[Any], noun: str) -> None:
    if sum(1 for i in items if i.is_primary) > 1:
        raise PydanticCustomError("invalid_range", f"must mark at most one {noun} as is_primary")


def no_repeats(keys: list[str], noun: str) -> None:
    seen: set[str] = set()
    for i, key in enumerate(keys):
        if key in seen:
            raise PydanticCustomError("invalid_type", f"must not repeat a {noun} (item {i} repeats an earlier one)")
        seen.add(key)


class EmailIn(WireModel):
    email: str = Field(min_length=3, max_length=320, json_schema_extra=EMAIL_SCHEMA)
    is_primary: bool = False

    _no_null = field_validator("is_primary", mode="before")(reject_null)
    _shape = field_validator("email")(email_shape)


class PhoneIn(WireModel):
    phone_number: str = Field(min_length=1, max_length=50)
    is_primary: bool = False

    _no_null = field_validator("is_primary", mode="before")(reject_null)


class DomainIn(WireModel):
    domain: str = Field(
        min_length=1,
        max_length=253,
        json_schema_extra={"pattern": DOMAIN_PATTERN},
        description="A domain name; a URL such as https://www.Acme.com/ is accepted too and stored as acme.com.",
    )
    is_primary: bool = False

    _no_null = field_validator("is_primary", mode="before")(reject_null)

    @field_validator("domain")
    @classmethod
    def _normalise(cls, value: str) -> str:
        """`https://www.Acme.com/` → `acme.com` (emulator choice)."""
        try:
            return normalize_domain(value)
        except ValueError as exc:
            raise PydanticCustomError("invalid_type", "must be a domain name such as acme.com") from exc


class CrmAssociationIn(WireModel):
    """PUT /v2/contacts|companies/{id}/crm_association; also in seed data. All three required, strings of 1–255
    (set-company-crm-association page); `object_type` is an enum whose values were not captured, so any text is
    taken (emulator choice). Stored and returned as sent."""

    object_type: str = Field(min_length=1, max_length=255)
    crm_object_id: str = Field(min_length=1, max_length=255)
    source: str = Field(min_length=1, max_length=255)

    def to_core(self) -> CrmAssociation:
        return CrmAssociation(self.object_type, self.crm_object_id, self.source)


# List rules shared by the PATCH/POST bodies here and the seed-data models (api/admin/seed_data.py).


def checked_emails(value: list[EmailIn]) -> list[EmailIn]:
    one_primary(value, "email")
    no_repeats([email_key(e.email) for e in value], "email")
    return value


def checked_phones(value: list[PhoneIn]) -> list[PhoneIn]:
    one_primary(value, "phone number")
    no_repeats([p.phone_number for p in value], "phone number")
    return value


def checked_domains(value: list[DomainIn]) -> list[DomainIn]:
    one_primary(value, "domain")
    no_repeats([d.domain for d in value], "domain")
    return value


def emails_to_core(items: list[EmailIn]) -> tuple[EmailAddress, ...]:
    return tuple(EmailAddress(e.email, e.is_primary) for e in items)


def phones_to_core(items: list[PhoneIn]) -> tuple[PhoneNumber, ...]:
    return tuple(PhoneNumber(p.phone_number, p.is_primary) for p in items)


def domains_to_core(items: list[DomainIn]) -> tuple[CompanyDomain, ...]:
    return tuple(CompanyDomain(d.domain, d.is_primary) for d in items)


def email_list(description: str) -> Any:
    """A contact's email list: at most MAX_EMAILS, at most one primary."""
    return Field(
        default_factory=list,
        max_length=MAX_EMAILS,
        json_schema_extra=at_most_one("is_primary"),
        description=description,
    )


def phone_list(description: str) -> Any:
    """A contact's phone list: at most MAX_PHONES, at most one primary."""
    return Field(
        default_factory=list,
        max_length=MAX_PHONES,
        json_schema_extra=at_most_one("is_primary"),
        description=description,
    )


class ContactFields(WireModel):
    """The text fields a contact's create and update bodies share (their lists differ in what they say)."""

    first_name: str | None = Field(None, min_length=1, max_length=255)
    last_name: str | None = Field(None, min_length=1, max_length=255)
    description: str | None = Field(None, min_length=1, max_length=2000)
    time_zone: str | None = Field(None, min_length=1, max_length=255)
    company_id: str | None = Field(None, min_length=1, max_length=100)


class ContactPatchIn(ContactFields):
    """PATCH /v2/contacts/{id}: every field optional; `null` clears a text field (api.md §10)."""

    emails: list[EmailIn] = email_list("Replaces the list; at most one primary, no address twice (case-insensitive).")
    phone_numbers: list[PhoneIn] = phone_list("Replaces the list; at most one primary, no number twice.")

    _no_null = field_validator("emails", "phone_numbers", mode="before")(reject_null)

    _emails = field_validator("emails")(checked_emails)
    _phones = field_validator("phone_numbers")(checked_phones)

    def changes(self) -> dict[str, Any]:
        """Only the fields the client sent, in core types."""
        out: dict[str, Any] = {}
        for name in self.model_fields_set:
            if name == "emails":
                out[name] = list(emails_to_core(self.emails))
            elif name == "phone_numbers":
                out[name] = list(phones_to_core(self.phone_numbers))
            else:
                out[name] = getattr(self, name)
        return out


class CompanyCreateIn(WireModel):
    """POST /v2/companies (api.md §10): domains required; other fields ignored like any unknown field."""

    domains: list[DomainIn] = Field(
        min_length=1,
        max_length=MAX_DOMAINS,
        json_schema_extra=at_most_one("is_primary"),
        description="At most one primary, no domain twice (compared once normalised).",
    )
    name: str | None = Field(None, min_length=1, max_length=255)
    description: str | None = Field(None, min_length=1, max_length=2000)

    _no_null = field_validator("name", "description", mode="before")(reject_null)

    _domains = field_validator("domains")(checked_domains)

    def to_draft(self) -> CompanyDraft:
        return CompanyDraft(domains=domains_to_core(self.domains), name=self.name, description=self.description)


class ContactCreateIn(ContactFields):
    """POST /v2/contacts (page not captured: the update-contact fields, no nulls, plus `crm_association`; at least
    a name, an email or a phone number; emulator choice)."""

    model_config = ConfigDict(
        **WireModel.model_config,
        json_schema_extra={
            "anyOf": [
                {"required": ["first_name"]},
                {"required": ["last_name"]},
                {"required": ["emails"], "properties": {"emails": {"minItems": 1}}},
                {"required": ["phone_numbers"], "properties": {"phone_numbers": {"minItems": 1}}},
            ]
        },
    )

    emails: list[EmailIn] = email_list(
        "At most one primary, no address twice (case-insensitive); none marked → the first."
    )
    phone_numbers: list[PhoneIn] = phone_list("At most one primary, no number twice; none marked → the first.")
    crm_association: CrmAssociationIn | None = None

    _no_null = field_validator(
        "first_name", "last_name", "description", "time_zone", "company_id", "emails", "phone_numbers",
        "crm_association", mode="before",
    )(reject_null)  # fmt: skip
    _emails = field_validator("emails")(checked_emails)
    _phones = field_validator("phone_numbers")(checked_phones)

    @model_validator(mode="after")
    def _someone(self) -> ContactCreateIn:
        if not (self.first_name or self.last_name or self.emails or self.phone_numbers):
            raise PydanticCustomError("required", "must have a name, an email or a phone number")
        return self

    def to_draft(self) -> ContactDraft:
        return ContactDraft(
            first_name=self.first_name,
            last_name=self.last_name,
            emails=emails_to_core(self.emails),
            phone_numbers=phones_to_core(self.phone_numbers),
            description=self.description,
            time_zone=self.time_zone,
            company_id=self.company_id,
            crm_association=self.crm_association.to_core() if self.crm_association else None,
        )


class CompanyPatchIn(WireModel):
    """PATCH /v2/companies/{id} (page not captured: the create-company fields; `null` clears name, description;
    domains replace the list; emulator choice)."""

    name: str | None = Field(None, min_length=1, max_length=255)
    description: str | None = Field(None, min_length=1, max_length=2000)
    domains: list[DomainIn] | None = Field(
        None,
        min_length=1,
        max_length=MAX_DOMAINS,
        json_schema_extra=at_most_one("is_primary"),
        description="Replaces the list; at most one primary, no domain twice.",
    )

    _no_null = field_validator("domains", mode="before")(reject_null)
    _domains = field_validator("domains")(lambda v: checked_domains(v) if v is not None else v)

    def changes(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.model_fields_set:
            value = getattr(self, name)
            out[name] = list(domains_to_core(value)) if name == "domains" and value is not None else value
        return out


HEX_COLOR = r"^#[A-Fa-f0-9]{6}$"


class TagIn(WireModel):
    """POST /v2/tags (create-tag page)."""

    name: str = Field(min_length=1, max_length=255)
    description: str | None = Field(None, min_length=1, max_length=2000)
    hex_color: str | None = Field(None, pattern=HEX_COLOR)
    auto_tagging_enabled: bool = True

    _no_null = field_validator("description", "hex_color", "auto_tagging_enabled", mode="before")(reject_null)

    def to_core(self) -> TagDraft:
        return TagDraft(self.name, self.description, self.hex_color, self.auto_tagging_enabled)


class TagPatchIn(WireModel):
    """Update a tag (documented capability, path unknown: emulator choice). `null` clears description, hex_color."""

    name: str | None = Field(None, min_length=1, max_length=255)
    description: str | None = Field(None, min_length=1, max_length=2000)
    hex_color: str | None = Field(None, pattern=HEX_COLOR)
    auto_tagging_enabled: bool | None = None

    _no_null = field_validator("name", "auto_tagging_enabled", mode="before")(reject_null)

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class ReplaceContactsIn(WireModel):
    contact_ids: list[str] = Field(max_length=MAX_LINKED_IDS)


class ReplaceTagsIn(WireModel):
    tag_ids: list[str] = Field(max_length=MAX_LINKED_IDS)


MAX_COMMENT_CHARS = 50_000
MAX_ANCHOR_BYTES = 10_000  # the anchor's fields were not captured: any small JSON object (emulator choice)


def trimmed_comment_body(value: str) -> str:
    """Leading and trailing whitespace is trimmed server-side; whitespace-only → 422 (create-comment page)."""
    trimmed = value.strip()
    if not trimmed:
        raise PydanticCustomError("too_short", "must not be blank (it is trimmed server-side)")
    return trimmed


def small_anchor(value: dict[str, Any]) -> dict[str, Any]:
    if len(jsonutil.dumps(value)) > MAX_ANCHOR_BYTES:
        raise PydanticCustomError("too_long", f"must be at most {MAX_ANCHOR_BYTES:,} bytes of JSON")
    return value


class TranscriptCommentIn(WireModel):
    """POST /v2/engagements/{id}/transcript_comments (create-transcript-comment page). `transcript_timeline_id`
    omitted → the engagement's primary timeline; another → 422."""

    body: str = Field(min_length=1, max_length=MAX_COMMENT_CHARS)
    transcript_timeline_id: str | None = Field(None, pattern=r"^tt_[A-Za-z0-9]+$")
    anchor: dict[str, Any] | None = None

    _no_null = field_validator("transcript_timeline_id", "anchor", mode="before")(reject_null)
    _trim = field_validator("body")(trimmed_comment_body)
    _anchor = field_validator("anchor")(small_anchor)


class TranscriptCommentPatchIn(WireModel):
    """PATCH /v2/transcript_comments/{id} (page not captured: emulator choice): body, status, anchor."""

    body: str | None = Field(None, min_length=1, max_length=MAX_COMMENT_CHARS)
    status: CommentStatus | None = None
    anchor: dict[str, Any] | None = None

    _no_null = field_validator("body", "status", "anchor", mode="before")(reject_null)
    _trim = field_validator("body")(lambda v: trimmed_comment_body(v) if v is not None else v)
    _anchor = field_validator("anchor")(lambda v: small_anchor(v) if v is not None else v)

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}
