"""Contact use cases: list, get, update, CRM association, participant matching, admin delete (api.md §5, §10)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .crm import association_matches
from .directory import with_one_primary
from .directory_service import DirectoryService, link_contacts
from .errors import ValidationFailed
from .models import Contact, CrmAssociation, EmailAddress, Participant, PhoneNumber, Principal, User
from .paging import ListQuery, Page, list_page, search_hit
from .records import dataclass

# What PATCH /v2/contacts/{id} may change (api.md §10).
PATCHABLE = ("first_name", "last_name", "description", "time_zone", "company_id", "emails", "phone_numbers")


@dataclass(frozen=True)
class ContactDraft:
    """A new contact, from a participant or a fixture. No company given → the one holding its email domain."""

    first_name: str | None = None
    last_name: str | None = None
    emails: tuple[EmailAddress, ...] = ()
    phone_numbers: tuple[PhoneNumber, ...] = ()
    description: str | None = None
    time_zone: str | None = None
    company_id: str | None = None
    crm_association: CrmAssociation | None = None


def split_name(name: str | None) -> tuple[str | None, str | None]:
    """`Jane Doe` → (Jane, Doe); `Mary Ann Smith` → (Mary Ann, Smith); `Jane` → (Jane, None) (emulator choice)."""
    if not name or not name.strip():
        return None, None
    first, _, last = name.strip().rpartition(" ")
    return (first.strip(), last) if first.strip() else (last, None)


class ContactService(DirectoryService):
    # Reads --------------------------------------------------------------------------------------

    def list_contacts(self, principal: Principal, query: ListQuery) -> Page[Contact]:
        """search = name + email (api.md §8); CRM entries match the stored association (core/crm.py)."""
        refs = query.crm_associations

        def matches(c: Contact) -> bool:
            if refs is not None and not association_matches(c.crm_association, refs):
                return False
            return search_hit(query.search, c.display_name, *(e.email for e in c.emails))

        return list_page(self._directory(principal.workspace_id).contacts.values(), query, matches)

    def get_contact(self, principal: Principal, contact_id: str) -> Contact:
        return self._find(self._directory(principal.workspace_id).contacts, "contact", contact_id)

    # Writes -------------------------------------------------------------------------------------

    def update_contact(self, principal: Principal, contact_id: str, changes: Mapping[str, Any]) -> Contact:
        """PATCH: 404 → unknown company_id 422 → email held by another contact 409 → store (emulator choice)."""
        contact = self.get_contact(principal, contact_id)
        d = self._directory(principal.workspace_id)
        fields = {name: value for name, value in changes.items() if name in PATCHABLE}
        company_id = fields.get("company_id")
        if company_id is not None and company_id not in d.companies:
            raise ValidationFailed.single(
                "company_id", "invalid_enum", f"company_id {company_id!r} is not a company in this workspace."
            )
        if "emails" in fields:
            self._check_unclaimed((e.email for e in fields["emails"]), d.contact_with_email, contact.id, "Email")
        return self.apply_changes(contact, fields)

    def apply_changes(self, contact: Contact, changes: Mapping[str, Any], *, emit: bool = True) -> Contact:
        """Store checked changes, keeping the email/phone indexes in step (PATCH and fixtures)."""
        d = self._directory(contact.workspace_id)
        fields = dict(changes)
        for name in ("emails", "phone_numbers"):
            if name in fields:
                fields[name] = with_one_primary(fields[name])
        return self._change_indexed(contact, fields, emit=emit, unindex=d.unindex_contact, index=d.index_contact)

    def create_contact_for(self, principal: Principal, draft: ContactDraft) -> Contact:
        """POST /v2/contacts: unknown company_id → 422, an email another contact holds → 409 (emulator choice)."""
        d = self._directory(principal.workspace_id)
        if draft.company_id is not None and draft.company_id not in d.companies:
            raise ValidationFailed.single(
                "company_id", "invalid_enum", f"company_id {draft.company_id!r} is not a company in this workspace."
            )
        return self.create_contact(principal.workspace_id, draft)

    def set_crm_association(self, principal: Principal, contact_id: str, association: CrmAssociation | None) -> Contact:
        """Replaces the contact's single association, or clears it with None (api.md §10)."""
        contact = self.get_contact(principal, contact_id)
        self._changes.change(contact, crm_association=association)
        return contact

    def create_contact(
        self, workspace_id: str, draft: ContactDraft, *, emit: bool = True, contact_id: str | None = None
    ) -> Contact:
        d = self._directory(workspace_id)
        self._check_unclaimed((e.email for e in draft.emails), d.contact_with_email, None, "Email")
        company_id = draft.company_id
        if company_id is None:
            holders = (d.company_for_email(e.email) for e in draft.emails)
            company_id = next((h.id for h in holders if h is not None), None)
        now = self._now_ms()
        contact = Contact(
            id=contact_id or self._ids.new("cnt"),
            workspace_id=workspace_id,
            created_at=now,
            updated_at=now,
            first_name=draft.first_name,
            last_name=draft.last_name,
            emails=with_one_primary(draft.emails),
            phone_numbers=with_one_primary(draft.phone_numbers),
            description=draft.description,
            company_id=company_id,
            crm_association=draft.crm_association,
            time_zone=draft.time_zone,
        )
        d.put_contact(contact)
        self._changes.created(contact, emit=emit)
        return contact

    def link_participants(
        self, workspace_id: str, participants: Sequence[Participant], users: Sequence[User | None]
    ) -> tuple[list[str], list[str]]:
        """Non-user participants → contacts, matched by email then phone, else created (api.md §5).

        Returns the engagement's contact ids (participant order, no repeats) and their companies.
        """
        d = self._directory(workspace_id)
        linked: list[Contact] = []
        linked_ids: list[str] = []
        for p, user in zip(participants, users, strict=True):
            if user is not None:
                continue
            contact = (d.contact_with_email(p.email) if p.email else None) or (
                d.contact_with_phone(p.phone) if p.phone else None
            )
            if contact is None:
                first, last = split_name(p.name)
                contact = self.create_contact(
                    workspace_id,
                    ContactDraft(
                        first_name=first,
                        last_name=last,
                        emails=(EmailAddress(p.email, True),) if p.email else (),
                        phone_numbers=(PhoneNumber(p.phone, True),) if p.phone else (),
                    ),
                )
            if contact.id not in linked_ids:
                linked_ids.append(contact.id)
                linked.append(contact)
        return linked_ids, d.companies_of(linked)

    def delete_contact(self, contact: Contact) -> None:
        """`DELETE /v2/contacts/{id}` and the admin delete: unlinks it from engagements (each emits updated), then
        emits `v1.contact.deleted`."""
        d = self._directory(contact.workspace_id)
        self._delete(
            contact,
            remove=lambda: d.remove_contact(contact),
            linked=lambda e: contact.id in e.contact_ids,
            unlink=lambda e: link_contacts(self._changes, d, e, [c for c in e.contact_ids if c != contact.id]),
        )
