"""Seed data: users, companies, contacts and tags loaded into a workspace (`--fixtures`, `POST /__admin/fixtures`),
and the small default world made per --seed (`--fixtures sample`).

Loading is an upsert (emulator choice): a record with an `id` updates that record; otherwise users match
by email, companies by any domain, contacts by any email, tags by name; the rest is created. So loading
one file twice changes nothing. Every check runs before the first write, so a rejected load stores nothing.

The sample world is small on purpose and fixed per seed. Names come from the emulator's own word lists
(vocabulary.py), which generated call content draws from too. Company domains use the reserved `.example` TLD
and contact emails read `first.last@domain`, so they never collide with addresses a client sends.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Callable, Generator, Sequence
from dataclasses import field, fields, replace
from typing import Any

from . import write_set as tables
from .companies import CompanyDraft, CompanyService
from .contacts import ContactDraft, ContactService
from .content import rng_for
from .directory import Directory, email_key, live_tags, normalize_domain
from .errors import Conflict, FieldError, ValidationFailed
from .ids import IdFactory
from .models import Company, CompanyDomain, Contact, EmailAddress, PhoneNumber, Tag, User, UserRole
from .records import dataclass
from .slicing import SLICE_S, Slices
from .store import Store, Workspace
from .tags import TagDraft, TagService
from .vocabulary import CATCH_PHRASE_WORDS, COMPANY_SUFFIXES, FIRST_NAMES, LAST_NAMES


@dataclass(frozen=True)
class UserSeed:
    email: str
    first_name: str | None = None
    last_name: str | None = None
    role: UserRole = "MEMBER"
    phone: str | None = None
    job_title: str | None = None
    time_zone: str | None = None
    last_activity_at: int | None = None
    id: str | None = None


@dataclass(frozen=True)
class CompanySeed:
    draft: CompanyDraft
    id: str | None = None


@dataclass(frozen=True)
class ContactSeed:
    draft: ContactDraft  # company_id unset: `company` names it
    company: str | None = None  # a cmp_ id or a domain; None → the company holding its email domain
    id: str | None = None


@dataclass(frozen=True)
class TagSeed:
    name: str
    id: str | None = None
    description: str | None = None
    hex_color: str | None = None
    auto_tagging_enabled: bool = True


@dataclass(frozen=True)
class WorkspaceSettings:
    """The workspace's configuration; None leaves a setting as it is."""

    is_private_default: bool | None = None  # `is_private` omitted on create → this (api.md §5)


@dataclass(frozen=True)
class WorkspaceSeed:
    workspace_id: str
    users: tuple[UserSeed, ...] = ()
    companies: tuple[CompanySeed, ...] = ()
    contacts: tuple[ContactSeed, ...] = ()
    tags: tuple[TagSeed, ...] = ()
    settings: WorkspaceSettings = WorkspaceSettings()


@dataclass
class Loaded:
    workspace_id: str
    users: list[str] = field(default_factory=list)
    companies: list[str] = field(default_factory=list)
    contacts: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)


class _Lookups:
    """One workspace's users by email and live tags by name (both casefolded; the first in store order, as the
    scans they replace found them), for one load. Those scans cost O(n) per record: a load of 10,000 tags took
    minutes (issue 23). Rebuilt whenever anything else wrote in between (`write_set.version`): a sliced load lets
    other requests run between its records."""

    __slots__ = ("tags", "users", "version", "ws")

    def __init__(self, store: Store, workspace_id: str) -> None:
        ws = store.workspaces.get(workspace_id) or Workspace(workspace_id)  # a stand-in when new: reading creates none
        self.ws = ws
        self.users: dict[str, User] = {}
        for u in ws.users.values():
            self.users.setdefault(email_key(u.email), u)
        self.tags: dict[str, Tag] = {}
        for t in live_tags(ws.directory.tags.values()):
            self.tags.setdefault(t.name.casefold(), t)
        self.version = store.write_set.version


Step = Generator[None, None, None]


class SeedDataLoader:
    def __init__(
        self,
        *,
        store: Store,
        ids: IdFactory,
        now_ms: Callable[[], int],
        contacts: ContactService,
        companies: CompanyService,
        tags: TagService,
    ) -> None:
        self._store = store
        self._ids = ids
        self._now_ms = now_ms
        self._contacts = contacts
        self._companies = companies
        self._tags = tags
        self.slice_s = SLICE_S  # load_sliced yields after this much work (core/slicing.py; tests set 0 or inf)
        self._one_at_a_time = asyncio.Lock()  # a load checks, then writes: another load must not come in between

    def load(
        self, fixtures: Sequence[WorkspaceSeed], *, emit: bool = True, ids: IdFactory | None = None
    ) -> list[Loaded]:
        """Check every workspace, then write; one workspace per fixture (the edge rejects repeats).

        `ids` replaces the loader's id stream for this load (start-up seed data has its own).
        """
        loaded: list[Loaded] = []
        for _ in self.loading(fixtures, loaded, emit=emit, ids=ids):
            pass
        return loaded

    async def load_sliced(self, fixtures: Sequence[WorkspaceSeed]) -> list[Loaded]:
        """`load` (with events), yielding to the event loop between records once a slice is used up, so health and
        reads are answered during a big load (issue 23). The same records, ids and events, in the same order."""
        loaded: list[Loaded] = []
        async with self._one_at_a_time:
            slices = Slices(self.slice_s)
            for _ in self.loading(fixtures, loaded, emit=True):
                await slices.tick()
        return loaded

    def loading(
        self, fixtures: Sequence[WorkspaceSeed], loaded: list[Loaded], *, emit: bool, ids: IdFactory | None = None
    ) -> Step:
        """The load as steps of one record each: checks first, then writes, appending to `loaded`."""
        assert len({fx.workspace_id for fx in fixtures}) == len(fixtures), "one fixture per workspace"
        for fx in fixtures:
            yield from self._check(fx)
        for fx in fixtures:
            result = Loaded(fx.workspace_id)
            loaded.append(result)
            yield from self._apply(fx, emit, ids or self._ids, result)

    def _lookups(self, workspace_id: str, known: _Lookups | None) -> _Lookups:
        """`known` while nothing but this load wrote since it was made (or the store changed its workspace)."""
        if known is not None and known.version == self._store.write_set.version:
            return known
        return _Lookups(self._store, workspace_id)

    def _apply(self, fx: WorkspaceSeed, emit: bool, ids: IdFactory, loaded: Loaded) -> Step:
        apply_settings(self._store, self._store.workspace(fx.workspace_id), fx.settings)
        at: _Lookups | None = None
        for u in fx.users:
            at = self._lookups(fx.workspace_id, at)
            loaded.users.append(self._upsert_user(fx.workspace_id, u, ids, at))
            at.version = self._store.write_set.version
            yield
        for company in fx.companies:
            directory = self._store.workspace(fx.workspace_id).directory
            loaded.companies.append(self._upsert_company(fx.workspace_id, directory, company, emit, ids))
            yield
        for contact in fx.contacts:
            directory = self._store.workspace(fx.workspace_id).directory
            loaded.contacts.append(self._upsert_contact(fx.workspace_id, directory, contact, emit, ids))
            yield
        for t in fx.tags:
            at = self._lookups(fx.workspace_id, at)
            loaded.tags.append(self._upsert_tag(fx.workspace_id, t, emit, ids, at))
            at.version = self._store.write_set.version
            yield

    # Checks (nothing is written until all pass) -------------------------------------------------

    def _check(self, fx: WorkspaceSeed) -> Step:
        """Against the workspace as it is (a stand-in when new: checking creates nothing)."""
        at: _Lookups | None = None
        for i, u in enumerate(fx.users):
            at = self._lookups(fx.workspace_id, at)
            holder = at.users.get(email_key(u.email))
            if u.id is not None and holder is not None and holder.id != u.id:
                raise Conflict(f"users[{i}]: email {u.email!r} already belongs to user {holder.id}.")
            yield
        d = (self._store.workspaces.get(fx.workspace_id) or Workspace(fx.workspace_id)).directory
        for i, c in enumerate(fx.companies):
            company = _company_target(d, c)
            others = {h.id for h in d.companies_holding([x.domain for x in c.draft.domains])} - {
                company.id if company else c.id
            }
            if others:
                raise Conflict(f"companies[{i}]: its domains belong to {', '.join(sorted(others))}.")
            yield
        known = set(d.companies) | {c.id for c in fx.companies if c.id}  # company ids and domains, once per load
        known |= set(d.company_by_domain) | {x.domain for c in fx.companies for x in c.draft.domains}
        errors: list[FieldError] = []
        for i, ct in enumerate(fx.contacts):
            contact = _contact_target(d, ct)
            holders = {h for e in ct.draft.emails if (h := d.contact_by_email.get(email_key(e.email)))}
            others = holders - {contact.id if contact else ct.id}
            if others:
                raise Conflict(f"contacts[{i}]: its emails belong to {', '.join(sorted(others))}.")
            if ct.company is not None and _company_key(ct.company) not in known:
                errors.append(
                    FieldError(
                        f"contacts[{i}].company",
                        "invalid_enum",
                        f"contacts[{i}].company {ct.company!r} is neither a company id nor a domain of one.",
                    )
                )
            yield
        if errors:
            raise ValidationFailed(errors)
        for i, t in enumerate(fx.tags):
            at = self._lookups(fx.workspace_id, at)
            target = at.ws.directory.tags.get(t.id) if t.id is not None else at.tags.get(t.name.casefold())
            namesake = at.tags.get(t.name.casefold())
            if namesake is not None and namesake.id != (target.id if target else t.id):
                raise Conflict(f"tags[{i}]: the name {t.name!r} belongs to tag {namesake.id}.")
            yield

    # Upserts ------------------------------------------------------------------------------------

    def _upsert_user(self, workspace_id: str, u: UserSeed, ids: IdFactory, at: _Lookups) -> str:
        ws = self._store.workspace(workspace_id)
        existing = (ws.users.get(u.id) if u.id else None) or at.users.get(email_key(u.email))
        values = {f.name: getattr(u, f.name) for f in fields(UserSeed) if f.name != "id"}
        now = self._now_ms()
        if existing is None:
            user_id = u.id or ids.new("usr")
            user = self._store.add_user(User(user_id, workspace_id, created_at=now, updated_at=now, **values))
            at.users.setdefault(email_key(user.email), user)
            return user.id
        if any(getattr(existing, k) != v for k, v in values.items()):
            moved = email_key(existing.email) != email_key(u.email)
            for k, v in values.items():
                setattr(existing, k, v)
            existing.updated_at = max(existing.updated_at, now)
            self._store.user_changed(existing)
            if moved:  # rare (a user named by id gets another email): look everyone up afresh
                at.users = _Lookups(self._store, workspace_id).users
        return existing.id

    def _upsert_company(self, workspace_id: str, d: Directory, c: CompanySeed, emit: bool, ids: IdFactory) -> str:
        existing = _company_target(d, c)
        if existing is None:
            company_id = c.id or ids.new("cmp")
            return self._companies.create_company(workspace_id, c.draft, emit=emit, company_id=company_id).id
        self._companies.update_company(existing, _as_fields(c.draft), emit=emit)
        return existing.id

    def _upsert_contact(self, workspace_id: str, d: Directory, c: ContactSeed, emit: bool, ids: IdFactory) -> str:
        company_id = None
        if c.company is not None:
            key = _company_key(c.company)
            company = d.companies.get(key) or d.company_with_domain(key)
            assert company is not None, "checked in _check"
            company_id = company.id
        draft = replace(c.draft, company_id=company_id)
        existing = _contact_target(d, c)
        if existing is None:
            contact_id = c.id or ids.new("cnt")
            return self._contacts.create_contact(workspace_id, draft, emit=emit, contact_id=contact_id).id
        changes = _as_fields(draft)
        if company_id is None:
            del changes["company_id"]  # keep the contact's company unless the fixture names one
        self._contacts.apply_changes(existing, changes, emit=emit)
        return existing.id

    def _upsert_tag(self, workspace_id: str, t: TagSeed, emit: bool, ids: IdFactory, at: _Lookups) -> str:
        draft = TagDraft(t.name, t.description, t.hex_color, t.auto_tagging_enabled)
        d = self._store.workspace(workspace_id).directory
        existing = d.tags.get(t.id) if t.id is not None else at.tags.get(t.name.casefold())
        wanted = t.name.casefold()
        namesake = at.tags.get(wanted)
        if namesake is not None and namesake is not existing:
            # What TagService's own name check says, from the lookup instead of a scan of every tag.
            raise Conflict(f"Tag name {t.name!r} is already used by tag {namesake.id}.")
        if existing is None:
            tag = self._tags.create_tag(
                workspace_id, draft, emit=emit, tag_id=t.id or ids.new("tag"), name_checked=True
            )
            at.tags.setdefault(wanted, tag)
            return tag.id
        if at.tags.get(existing.name.casefold()) is existing:
            del at.tags[existing.name.casefold()]
        existing.deleted_at = None  # a seed naming a soft-deleted tag's id brings it back
        self._tags.update_tag(existing, _as_fields(draft), emit=emit, name_checked=True)
        at.tags.setdefault(wanted, existing)
        return existing.id


def _company_target(d: Directory, c: CompanySeed) -> Company | None:
    """The company a fixture updates: its id, else the first (by id) holding one of its domains."""
    if c.id is not None:
        return d.companies.get(c.id)
    holders = sorted(d.companies_holding([x.domain for x in c.draft.domains]), key=lambda h: h.id)
    return holders[0] if holders else None


def _contact_target(d: Directory, c: ContactSeed) -> Contact | None:
    """The contact a fixture updates: its id, else the holder of one of its emails, else of one of its phones."""
    if c.id is not None:
        return d.contacts.get(c.id)
    by_email = (d.contact_with_email(e.email) for e in c.draft.emails)
    by_phone = (d.contact_with_phone(p.phone_number) for p in c.draft.phone_numbers)
    return next((h for h in (*by_email, *by_phone) if h is not None), None)


def _company_key(ref: str) -> str:
    if ref.startswith("cmp_"):
        return ref
    try:
        return normalize_domain(ref)
    except ValueError:
        return ref


def _as_fields(draft: Any) -> dict[str, Any]:
    out = {f.name: getattr(draft, f.name) for f in fields(draft)}
    for name in ("domains", "emails", "phone_numbers"):
        if name in out:
            out[name] = list(out[name])
    return out


# The sample world (`--fixtures sample`) ---------------------------------------------------------------

TEAM_ROLES: tuple[UserRole, ...] = (
    "MANAGER",
    "MEMBER",
    "INACTIVE",
    "NOT_INVITED",
)  # the last two never own engagements
COMPANIES = 3
CONTACTS_PER_COMPANY = 2
TAG_NAMES = ("Discovery", "Demo", "Negotiation", "Closed won", "Churn risk", "Renewal")
TAGS = 4
INDUSTRIES = ("Software", "Healthcare", "Logistics", "Financial services", "Manufacturing", "Retail")
TIME_ZONES = ("America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/London")
JOB_TITLES = (
    "Account Executive", "Sales Development Representative", "Customer Success Manager", "Sales Manager",
    "Solutions Engineer", "Revenue Operations Analyst", "Head of Sales", "Account Manager",
    "Sales Enablement Lead", "VP of Customer Experience",
)  # fmt: skip


def _company_name(rng: random.Random) -> str:
    """Shaped like faker's en_US companies: "Novak LLC", "Chen-Rossi", "Kim, Diaz and Weber"."""
    a, b, c = rng.sample(LAST_NAMES, 3)
    return rng.choice((f"{a} {rng.choice(COMPANY_SUFFIXES)}", f"{a}-{b}", f"{a}, {b} and {c}"))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40].strip("-") or "company"


def sample_workspace(seed: int, workspace_id: str) -> WorkspaceSeed:
    rng = rng_for(seed, "sample-data", workspace_id)

    taken: set[str] = set()

    def email(first: str, last: str, domain: str) -> str:
        base = f"{_slug(first)}.{_slug(last)}"
        local = next(f"{base}{n or ''}" for n in range(len(taken) + 1) if f"{base}{n or ''}@{domain}" not in taken)
        taken.add(f"{local}@{domain}")
        return f"{local}@{domain}"

    def phone() -> str:
        return f"+1{rng.randint(201, 989)}555{rng.randint(0, 9999):04d}"

    users = []
    for role in TEAM_ROLES:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        users.append(
            UserSeed(
                email=email(first, last, "example.com"),
                first_name=first,
                last_name=last,
                role=role,
                phone=phone(),
                job_title=rng.choice(JOB_TITLES),
                time_zone=rng.choice(TIME_ZONES),
            )
        )
    companies: list[CompanySeed] = []
    contacts: list[ContactSeed] = []
    seen_domains: set[str] = set()
    for _ in range(COMPANIES):
        name = _company_name(rng)
        domain = f"{_slug(name)}.example"
        if domain in seen_domains:
            domain = f"{_slug(name)}-{len(seen_domains)}.example"
        seen_domains.add(domain)
        companies.append(
            CompanySeed(
                CompanyDraft(
                    domains=(CompanyDomain(domain, True),),
                    name=name,
                    description=" ".join(rng.choice(words) for words in CATCH_PHRASE_WORDS),
                    industry=rng.choice(INDUSTRIES),
                    website=f"https://www.{domain}",
                    number_of_employees=rng.choice((12, 45, 180, 850, 4200)),
                )
            )
        )
        for _ in range(CONTACTS_PER_COMPANY):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            contacts.append(
                ContactSeed(
                    ContactDraft(
                        first_name=first,
                        last_name=last,
                        emails=(EmailAddress(email(first, last, domain), True),),
                        phone_numbers=(PhoneNumber(phone(), True),),
                        time_zone=rng.choice(TIME_ZONES),
                    ),
                    company=domain,
                )
            )
    tags = tuple(TagSeed(name) for name in rng.sample(TAG_NAMES, TAGS))
    return WorkspaceSeed(workspace_id, tuple(users), tuple(companies), tuple(contacts), tags)


def apply_settings(store: Store, ws: Workspace, settings: WorkspaceSettings) -> None:
    """Seed data and `PATCH /__admin/workspaces/{id}`: configuration, no event (nothing public shows it)."""
    if settings.is_private_default is not None and settings.is_private_default != ws.private_by_default:
        ws.private_by_default = settings.is_private_default
        store.write_set.put(tables.WORKSPACES, ws.id, ws)
