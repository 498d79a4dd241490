"""The directory: a workspace's contacts, companies and tags (the api.md §10 records an engagement links to), and
its transcript comments, with the lookup indexes they need. The services that change them share directory_service.py.

Users are not in the directory: they are the workspace's members (credentials act as one), kept by the store.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import field, replace
from functools import lru_cache
from typing import TypeVar

from .models import Company, CompanyDomain, Contact, EmailAddress, PhoneNumber, Tag, TranscriptComment
from .records import dataclass

P = TypeVar("P", EmailAddress, PhoneNumber, CompanyDomain)


def with_one_primary(items: Sequence[P]) -> list[P]:
    """When no item is marked primary, the first one is (emulator choice); the edge rejects two."""
    out = list(items)
    if out and not any(i.is_primary for i in out):
        out[0] = replace(out[0], is_primary=True)
    return out


def live_tags(tags: Iterable[Tag]) -> Iterator[Tag]:
    """The tags not soft-deleted (api.md §10: a deleted tag is gone from every read)."""
    return (t for t in tags if t.deleted_at is None)


def email_key(email: str) -> str:
    """Emails match case-insensitively (api.md §5 owner and contact matching)."""
    return email.casefold()


_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


@lru_cache(maxsize=1024)  # every create looks up its participants' email domains; IDNA encoding is the cost
def normalize_domain(text: str) -> str:
    """`https://www.Acme.com./path` → `acme.com` (api.md §10 company domains, emulator choice).

    Lower-cased; scheme, `www.`, port, path and trailing dot dropped; IDNs to punycode. Raises ValueError
    when what is left is no hostname with at least two labels.
    """
    host = text.strip().lower()
    if "://" in host:
        host = host.split("://", 1)[1]
    host = re.split(r"[/?#]", host, maxsplit=1)[0].rsplit("@", 1)[-1]
    host = host.split(":", 1)[0].rstrip(".").removeprefix("www.")
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValueError("is not a valid domain name") from exc
    labels = host.split(".")
    if len(host) > 253 or len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise ValueError("must be a domain name such as acme.com")
    return host


def email_domain(email: str) -> str | None:
    """The normalised domain of an email address, or None when it has none."""
    local, at, domain = email.rpartition("@")
    if not (at and local and domain):
        return None
    try:
        return normalize_domain(domain)
    except ValueError:
        return None


@dataclass
class Directory:
    """Plain state; the services in contacts.py, companies.py and tags.py keep the indexes in step.

    The indexes are derived (rebuild_indexes recomputes them), so a persisted copy needs only the records.
    """

    contacts: dict[str, Contact] = field(default_factory=dict)
    companies: dict[str, Company] = field(default_factory=dict)
    tags: dict[str, Tag] = field(default_factory=dict)
    transcript_comments: dict[str, TranscriptComment] = field(default_factory=dict)
    contact_by_email: dict[str, str] = field(default_factory=dict, repr=False)
    contact_by_phone: dict[str, str] = field(default_factory=dict, repr=False)
    company_by_domain: dict[str, str] = field(default_factory=dict, repr=False)

    def clear(self) -> None:
        self.contacts.clear()
        self.companies.clear()
        self.tags.clear()
        self.transcript_comments.clear()
        self.contact_by_email.clear()
        self.contact_by_phone.clear()
        self.company_by_domain.clear()

    def rebuild_indexes(self) -> None:
        for _ in self.rebuilding_indexes():
            pass

    def rebuilding_indexes(self, piece: int = 1000) -> Iterator[None]:
        """rebuild_indexes, pausing (yield) every `piece` records: a state file's load gives way to requests."""
        self.contact_by_email.clear()
        self.contact_by_phone.clear()
        self.company_by_domain.clear()
        for n, contact in enumerate(list(self.contacts.values()), 1):
            self.index_contact(contact)
            if n % piece == 0:
                yield
        for n, company in enumerate(list(self.companies.values()), 1):
            self.index_company(company)
            if n % piece == 0:
                yield

    def merged(self, staged: Directory) -> Directory:
        """This directory's records, then `staged`'s inserted after them in order (a record in both takes staged's
        value at this one's place), with the indexes `rebuild_indexes` would give that, made from staged's own
        (built) indexes: O(this directory + staged's index entries), no pass over staged's records. Returns staged
        itself when this directory is empty (a restore adopting a directory built aside, persistence/state.py).

        Why the indexes agree: a key's holder is the first record holding it in the merged order. If one of this
        directory's records (with its final value) holds it, that one comes first; otherwise staged's holder is
        one of the records only staged has (a record in both would be one of this directory's), and the first of
        those in staged's order, which the merged order keeps."""
        if not (self.contacts or self.companies or self.tags or self.transcript_comments):
            return staged
        own_contacts, own_companies = list(self.contacts), list(self.companies)
        self.contacts.update(staged.contacts)
        self.companies.update(staged.companies)
        self.tags.update(staged.tags)
        self.transcript_comments.update(staged.transcript_comments)
        self.contact_by_email.clear()
        self.contact_by_phone.clear()
        self.company_by_domain.clear()
        for contact_id in own_contacts:
            self.index_contact(self.contacts[contact_id])
        for company_id in own_companies:
            self.index_company(self.companies[company_id])
        for mine, theirs in (
            (self.contact_by_email, staged.contact_by_email),
            (self.contact_by_phone, staged.contact_by_phone),
            (self.company_by_domain, staged.company_by_domain),
        ):
            for key, record_id in theirs.items():
                mine.setdefault(key, record_id)
        return self

    # Contacts -----------------------------------------------------------------------------------

    def put_contact(self, contact: Contact) -> None:
        old = self.contacts.get(contact.id)
        if old is not None:
            self.unindex_contact(old)
        self.contacts[contact.id] = contact
        self.index_contact(contact)

    def index_contact(self, contact: Contact) -> None:
        for e in contact.emails:
            self.contact_by_email.setdefault(email_key(e.email), contact.id)
        for p in contact.phone_numbers:
            self.contact_by_phone.setdefault(p.phone_number, contact.id)

    def unindex_contact(self, contact: Contact) -> None:
        # Phones (and, via fixtures or participants, rarely emails) may be shared: hand the key to the
        # next holder rather than losing it.
        for key in {email_key(e.email) for e in contact.emails}:
            if self.contact_by_email.get(key) == contact.id:
                del self.contact_by_email[key]
                heir = next(
                    (c for c in self.contacts.values() if c.id != contact.id and key in map(email_key, _emails(c))),
                    None,
                )
                if heir is not None:
                    self.contact_by_email[key] = heir.id
        for phone in {p.phone_number for p in contact.phone_numbers}:
            if self.contact_by_phone.get(phone) == contact.id:
                del self.contact_by_phone[phone]
                heir = next(
                    (
                        c
                        for c in self.contacts.values()
                        if c.id != contact.id and any(p.phone_number == phone for p in c.phone_numbers)
                    ),
                    None,
                )
                if heir is not None:
                    self.contact_by_phone[phone] = heir.id

    def remove_contact(self, contact: Contact) -> None:
        self.unindex_contact(contact)
        self.contacts.pop(contact.id, None)

    def contact_with_email(self, email: str) -> Contact | None:
        contact_id = self.contact_by_email.get(email_key(email))
        return self.contacts.get(contact_id) if contact_id else None

    def contact_with_phone(self, phone: str) -> Contact | None:
        contact_id = self.contact_by_phone.get(phone)
        return self.contacts.get(contact_id) if contact_id else None

    # Companies ----------------------------------------------------------------------------------

    def put_company(self, company: Company) -> None:
        old = self.companies.get(company.id)
        if old is not None:
            self.unindex_company(old)
        self.companies[company.id] = company
        self.index_company(company)

    def index_company(self, company: Company) -> None:
        for d in company.domains:
            self.company_by_domain.setdefault(d.domain, company.id)

    def unindex_company(self, company: Company) -> None:
        for d in company.domains:
            if self.company_by_domain.get(d.domain) == company.id:
                del self.company_by_domain[d.domain]

    def remove_company(self, company: Company) -> None:
        self.unindex_company(company)
        self.companies.pop(company.id, None)

    def company_with_domain(self, domain: str) -> Company | None:
        company_id = self.company_by_domain.get(domain)
        return self.companies.get(company_id) if company_id else None

    def companies_holding(self, domains: list[str]) -> list[Company]:
        found = (self.company_with_domain(d) for d in domains)
        return list({c.id: c for c in found if c is not None}.values())

    def company_for_email(self, email: str | None) -> Company | None:
        domain = email_domain(email) if email else None
        return self.company_with_domain(domain) if domain else None

    def companies_of(self, contacts: Sequence[Contact]) -> list[str]:
        """An engagement's companies: each contact's company, else the company holding one of its email domains."""
        found: list[str] = []
        for c in contacts:
            company_id = c.company_id if c.company_id in self.companies else None
            if company_id is None:
                holders = (self.company_for_email(e.email) for e in c.emails)
                company_id = next((h.id for h in holders if h is not None), None)
            if company_id is not None and company_id not in found:
                found.append(company_id)
        return found


def _emails(contact: Contact) -> list[str]:
    return [e.email for e in contact.emails]
