"""Seed data: the document's wire models (`--fixtures FILE`, `POST /__admin/fixtures`); start-up: seed_start.py.

`--fixtures sample` (default) makes a small world per --seed (core/seed_data.py), `none` starts empty, anything else
is a YAML/JSON file. The document's wire models are strict: unknown keys are rejected.

workspace_id: wrks_local          # optional; default wrks_local
users:     [{email, first_name, last_name, role, phone, job_title, time_zone, last_activity_at, id?}]
companies: [{domains: [{domain, is_primary?}], name, description, industry, website,
             number_of_employees, logo_url, crm_association, id?}]
contacts:  [{first_name, last_name, emails: [{email, is_primary?}], phone_numbers: [{phone_number}],
             description, time_zone, company: <cmp_ id or domain>, crm_association, id?}]
tags:      [{name, id?}]
settings:  {is_private_default}   # the workspace's configuration (api.md §5: is_private omitted → this)
workspaces: [ {workspace_id, users, companies, contacts, tags, settings}, … ]   # more workspaces, same shape
"""

from __future__ import annotations

import asyncio
from dataclasses import fields
from typing import Any

from aiohttp import web
from pydantic import ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from ...core.companies import CompanyDraft
from ...core.contacts import ContactDraft
from ...core.directory import email_key
from ...core.errors import ValidationFailed
from ...core.models import UserRole
from ...core.seed_data import (
    CompanySeed,
    ContactSeed,
    TagSeed,
    UserSeed,
    WorkspaceSeed,
    WorkspaceSettings,
)
from ...core.store import DEFAULT_WORKSPACE, WORKSPACE_ID
from ...gc_policy import collector_paused
from .. import context
from ..problems import Problem
from ..responses import json_response, read_json_object
from ..schemas import (
    MAX_DOMAINS,
    MAX_EMAILS,
    MAX_PHONES,
    CrmAssociationIn,
    DomainIn,
    EmailIn,
    PhoneIn,
    Timestamp,
    WireModel,
    checked_domains,
    checked_emails,
    domains_to_core,
    email_shape,
    emails_to_core,
    phones_to_core,
    reject_null,
)
from ..validation import in_request_order, to_field_error

YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
routes = web.RouteTableDef()


@routes.post("/__admin/fixtures")
async def load_fixtures(request: web.Request) -> web.Response:
    """JSON, or YAML with a YAML Content-Type. Upsert; emits created/updated events; all or nothing.

    Without CPython's automatic collector passes (gc_policy.collector_paused): parsing and validating 40,000 records
    on the worker thread set off full passes there (57–91 ms of CPU each, holding the GIL, so the event loop waited
    too); the collector policy's short passes go on between the load's slices, and a load of over 20,000 records is
    frozen once stored."""
    with collector_paused(policy=False) as made:
        if request.content_type in YAML_TYPES:
            import yaml  # only YAML bodies need it: ~0.015 s off start-up

            try:
                # On a worker thread, like the validation below: a document of 40,000 records takes seconds to
                # parse, and the event loop keeps answering meanwhile (the thread gives up the GIL every few ms).
                data = await asyncio.to_thread(yaml.safe_load, await request.text())
            except yaml.YAMLError as exc:
                raise Problem(400, f"Request body is not valid YAML: {exc}") from exc
        else:
            data = await read_json_object(request, check_content_type=False)
        seed_data = await asyncio.to_thread(parse_seed_data, data)
        loaded = await context.emulator(request).load_seed_data(seed_data)  # in slices (core/seed_data.py)
        made(sum(len(item.users) + len(item.companies) + len(item.contacts) + len(item.tags) for item in loaded))
    # Shallow: the lists hold ids (dataclasses.asdict deep-copied them: 39 ms of CPU on the loop for 40,000 records).
    return json_response(
        {"object": "list", "data": [{f.name: getattr(item, f.name) for f in fields(item)} for item in loaded]}
    )


# The document -----------------------------------------------------------------------------------

MAX_RECORDS = 10_000  # per list; seed data, not a database


class SeedModel(WireModel):
    # A typo in a seed file should fail loudly, not load half of what was meant.
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class UserSeedIn(SeedModel):
    id: str | None = Field(None, pattern=r"^usr_[A-Za-z0-9]+$")
    email: str = Field(min_length=3, max_length=320)
    first_name: str | None = Field(None, min_length=1, max_length=255)
    last_name: str | None = Field(None, min_length=1, max_length=255)
    role: UserRole = "MEMBER"
    phone: str | None = Field(None, min_length=1, max_length=50)
    job_title: str | None = Field(None, min_length=1, max_length=255)
    time_zone: str | None = Field(None, min_length=1, max_length=255)
    last_activity_at: Timestamp | None = None

    _shape = field_validator("email")(email_shape)

    def to_core(self) -> UserSeed:
        return UserSeed(**self.model_dump())


class CompanySeedIn(SeedModel):
    id: str | None = Field(None, pattern=r"^cmp_[A-Za-z0-9]+$")
    domains: list[DomainIn] = Field(min_length=1, max_length=MAX_DOMAINS)
    name: str | None = Field(None, min_length=1, max_length=255)
    description: str | None = Field(None, min_length=1, max_length=2000)
    industry: str | None = Field(None, min_length=1, max_length=255)
    website: str | None = Field(None, min_length=1, max_length=2048)
    number_of_employees: int | None = Field(None, ge=0)
    logo_url: str | None = Field(None, min_length=1, max_length=2048)
    crm_association: CrmAssociationIn | None = None

    _domains = field_validator("domains")(checked_domains)

    def to_core(self) -> CompanySeed:
        draft = CompanyDraft(
            domains=domains_to_core(self.domains),
            name=self.name,
            description=self.description,
            industry=self.industry,
            website=self.website,
            number_of_employees=self.number_of_employees,
            logo_url=self.logo_url,
            crm_association=self.crm_association.to_core() if self.crm_association else None,
        )
        return CompanySeed(draft, self.id)


class ContactSeedIn(SeedModel):
    id: str | None = Field(None, pattern=r"^cnt_[A-Za-z0-9]+$")
    first_name: str | None = Field(None, min_length=1, max_length=255)
    last_name: str | None = Field(None, min_length=1, max_length=255)
    emails: list[EmailIn] = Field(default_factory=list, max_length=MAX_EMAILS)
    phone_numbers: list[PhoneIn] = Field(default_factory=list, max_length=MAX_PHONES)
    description: str | None = Field(None, min_length=1, max_length=2000)
    time_zone: str | None = Field(None, min_length=1, max_length=255)
    company: str | None = Field(None, min_length=1, max_length=253)
    crm_association: CrmAssociationIn | None = None

    _emails = field_validator("emails")(checked_emails)

    def to_core(self) -> ContactSeed:
        draft = ContactDraft(
            first_name=self.first_name,
            last_name=self.last_name,
            emails=emails_to_core(self.emails),
            phone_numbers=phones_to_core(self.phone_numbers),
            description=self.description,
            time_zone=self.time_zone,
            crm_association=self.crm_association.to_core() if self.crm_association else None,
        )
        return ContactSeed(draft, self.company, self.id)


class TagSeedIn(SeedModel):
    id: str | None = Field(None, pattern=r"^tag_[A-Za-z0-9]+$")
    name: str = Field(min_length=1, max_length=100)


class WorkspaceSettingsIn(SeedModel):
    """`settings` of a seed-data workspace, and the body of `PATCH /__admin/workspaces/{workspace_id}`."""

    is_private_default: bool | None = None

    _no_null = field_validator("is_private_default", mode="before")(reject_null)

    def to_core(self) -> WorkspaceSettings:
        return WorkspaceSettings(is_private_default=self.is_private_default)


class WorkspaceSeedIn(SeedModel):
    workspace_id: str = Field(DEFAULT_WORKSPACE, pattern=WORKSPACE_ID.pattern)
    settings: WorkspaceSettingsIn = Field(default_factory=WorkspaceSettingsIn)
    users: list[UserSeedIn] = Field(default_factory=list, max_length=MAX_RECORDS)
    companies: list[CompanySeedIn] = Field(default_factory=list, max_length=MAX_RECORDS)
    contacts: list[ContactSeedIn] = Field(default_factory=list, max_length=MAX_RECORDS)
    tags: list[TagSeedIn] = Field(default_factory=list, max_length=MAX_RECORDS)

    # Two records claiming one email or domain would silently merge on upsert: reject instead.
    @field_validator("users")
    @classmethod
    def _unique_user_emails(cls, value: list[UserSeedIn]) -> list[UserSeedIn]:
        _unique_across("users", [[email_key(u.email)] for u in value], "email")
        return value

    @field_validator("companies")
    @classmethod
    def _unique_domains(cls, value: list[CompanySeedIn]) -> list[CompanySeedIn]:
        _unique_across("companies", [[d.domain for d in c.domains] for c in value], "domain")
        return value

    @field_validator("contacts")
    @classmethod
    def _unique_contact_emails(cls, value: list[ContactSeedIn]) -> list[ContactSeedIn]:
        _unique_across("contacts", [[email_key(e.email) for e in c.emails] for c in value], "email")
        return value

    def to_core(self) -> WorkspaceSeed:
        return WorkspaceSeed(
            self.workspace_id,
            tuple(u.to_core() for u in self.users),
            tuple(c.to_core() for c in self.companies),
            tuple(c.to_core() for c in self.contacts),
            tuple(TagSeed(t.name, t.id) for t in self.tags),
            self.settings.to_core(),
        )

    @property
    def empty(self) -> bool:
        return not (self.users or self.companies or self.contacts or self.tags or self.settings.model_fields_set)


def _unique_across(name: str, keys_per_record: list[list[str]], noun: str) -> None:
    owner: dict[str, int] = {}
    for i, keys in enumerate(keys_per_record):
        for key in keys:
            if owner.setdefault(key, i) != i:
                raise PydanticCustomError(
                    "invalid_type",
                    f"must not give two records one {noun}: {name}[{i}] repeats {key!r} of {name}[{owner[key]}]",
                )


class SeedDataIn(WorkspaceSeedIn):
    workspaces: list[WorkspaceSeedIn] = Field(default_factory=list, max_length=1000)


def parse_seed_data(data: Any) -> list[WorkspaceSeed]:
    """A fixture document (already parsed from YAML or JSON) → one WorkspaceSeed per workspace.

    Raises ValidationFailed listing every bad field (paths like `contacts[2].emails[0].email`).
    """
    if data is None:
        return []  # an empty file: nothing to load
    if not isinstance(data, dict):
        raise ValidationFailed.single(
            "body", "invalid_type", "A fixture document must be a mapping (YAML/JSON object)."
        )
    try:
        doc = SeedDataIn.model_validate(data)
    except ValidationError as exc:
        errors = [to_field_error(e) for e in exc.errors(include_url=False)]
        raise ValidationFailed(in_request_order(errors, list(data))) from None
    top = [] if doc.empty and "workspace_id" not in data else [doc]
    seen = {doc.workspace_id} if top else set()
    for i, w in enumerate(doc.workspaces):
        if w.workspace_id in seen:
            raise ValidationFailed.single(
                f"workspaces[{i}].workspace_id", "invalid_type", f"workspaces[{i}] names {w.workspace_id} again."
            )
        seen.add(w.workspace_id)
    return [w.to_core() for w in (*top, *doc.workspaces)]
