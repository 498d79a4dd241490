"""Wire models for contacts, companies, tags, engagement links and transcript comments (api.md §10)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from ..core.companies import CompanyDraft
from ..core.directory import email_key, normalize_domain
from ..core.models import CompanyDomain, CrmAssociation, EmailAddress, PhoneNumber
from .schemas import WireModel, _reject_null

# Limits the docs leave open (emulator choice).
MAX_EMAILS = MAX_PHONES = MAX_DOMAINS = 20
MAX_LINKED_IDS = 100  # contact_ids / tag_ids per PUT


def email_shape(value: str) -> str:
    local, at, domain = value.partition("@")
    if not at or not local or not domain or "@" in domain:
        raise PydanticCustomError("invalid_type", "must be an email address with one inner @")
    return value


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
    email: str = Field(min_length=3, max_length=320)
    is_primary: bool = False

    _no_null = field_validator("is_primary", mode="before")(_reject_null)
    _shape = field_validator("email")(email_shape)


class PhoneIn(WireModel):
    phone_number: str = Field(min_length=1, max_length=50)
    is_primary: bool = False

    _no_null = field_validator("is_primary", mode="before")(_reject_null)


class DomainIn(WireModel):
    domain: str = Field(min_length=1, max_length=253)
    is_primary: bool = False

    _no_null = field_validator("is_primary", mode="before")(_reject_null)

    @field_validator("domain")
    @classmethod
    def _normalise(cls, value: str) -> str:
        """`https://www.Acme.com/` → `acme.com` (emulator choice)."""
        try:
            return normalize_domain(value)
        except ValueError as exc:
            raise PydanticCustomError("invalid_type", "must be a domain name such as acme.com") from exc


class CrmAssociationIn(WireModel):
    """PUT /v2/contacts/{id}/crm_association; also in fixtures. Stored and returned as sent."""

    object_type: str = Field(min_length=1, max_length=100)
    crm_object_id: str = Field(min_length=1, max_length=255)
    source: str | None = Field(None, min_length=1, max_length=100)

    _no_null = field_validator("source", mode="before")(_reject_null)

    def to_core(self) -> CrmAssociation:
        return CrmAssociation(self.object_type, self.crm_object_id, self.source)


# List rules shared by the PATCH/POST bodies here and the seed-data models (api/fixture_schemas.py).


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


class ContactPatchIn(WireModel):
    """PATCH /v2/contacts/{id}: every field optional; `null` clears a text field (api.md §10)."""

    first_name: str | None = Field(None, min_length=1, max_length=255)
    last_name: str | None = Field(None, min_length=1, max_length=255)
    description: str | None = Field(None, min_length=1, max_length=2000)
    time_zone: str | None = Field(None, min_length=1, max_length=255)
    company_id: str | None = Field(None, min_length=1, max_length=100)
    emails: list[EmailIn] = Field(default_factory=list, max_length=MAX_EMAILS)
    phone_numbers: list[PhoneIn] = Field(default_factory=list, max_length=MAX_PHONES)

    _no_null = field_validator("emails", "phone_numbers", mode="before")(_reject_null)

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

    domains: list[DomainIn] = Field(min_length=1, max_length=MAX_DOMAINS)
    name: str | None = Field(None, min_length=1, max_length=255)
    description: str | None = Field(None, min_length=1, max_length=2000)

    _no_null = field_validator("name", "description", mode="before")(_reject_null)

    _domains = field_validator("domains")(checked_domains)

    def to_draft(self) -> CompanyDraft:
        return CompanyDraft(domains=domains_to_core(self.domains), name=self.name, description=self.description)


class TagIn(WireModel):
    name: str = Field(min_length=1, max_length=100)


class TagPatchIn(WireModel):
    name: str | None = Field(None, min_length=1, max_length=100)

    _no_null = field_validator("name", mode="before")(_reject_null)


class ReplaceContactsIn(WireModel):
    contact_ids: list[str] = Field(max_length=MAX_LINKED_IDS)


class ReplaceTagsIn(WireModel):
    tag_ids: list[str] = Field(max_length=MAX_LINKED_IDS)


class TranscriptCommentIn(WireModel):
    """`transcript_timeline_id` (docs: default the primary timeline) is accepted and ignored: an engagement
    has exactly one timeline in the emulator (emulator choice)."""

    text: str = Field(min_length=1, max_length=5000)
    start_seconds: float | None = Field(None, ge=0, allow_inf_nan=False)
    transcript_timeline_id: str | None = Field(None, min_length=1, max_length=255)

    _no_null = field_validator("start_seconds", "transcript_timeline_id", mode="before")(_reject_null)
