"""What the contact, company and tag services share: their collaborators, lookups, uniqueness checks, the admin
delete cascade, and relinking an engagement's contacts (core/directory.py defines the directory)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from .changes import ChangeRecorder
from .directory import Directory
from .errors import Conflict, NotFound
from .ids import IdFactory
from .models import Company, Contact, Engagement, Tag
from .records import dataclass
from .store import Store

R = TypeVar("R", Contact, Company, Tag)


@dataclass(frozen=True)
class DirectoryDeps:
    """The collaborators of every directory service, so the emulator wires them once."""

    store: Store
    ids: IdFactory
    now_ms: Callable[[], int]
    changes: ChangeRecorder


class DirectoryService:
    """Base of ContactService, CompanyService and TagService (core/contacts.py, companies.py, tags.py)."""

    def __init__(self, deps: DirectoryDeps) -> None:
        self._store = deps.store
        self._ids = deps.ids
        self._now_ms = deps.now_ms
        self._changes = deps.changes

    def _directory(self, workspace_id: str) -> Directory:
        return self._store.workspace(workspace_id).directory

    @staticmethod
    def _find(table: Mapping[str, R], kind: str, record_id: str) -> R:
        """The record, or NotFound: a foreign workspace's id is simply not in `table` (core/store.py)."""
        record = table.get(record_id)
        if record is None:
            raise NotFound(kind, record_id)
        return record

    def _change_indexed(
        self,
        record: R,
        fields: Mapping[str, Any],
        *,
        emit: bool,
        unindex: Callable[[R], None],
        index: Callable[[R], None],
    ) -> R:
        """Store checked changes with the record out of the directory's indexes, re-indexing it even on failure."""
        unindex(record)
        try:
            self._changes.change(record, emit=emit, **fields)
        finally:
            index(record)
        return record

    @staticmethod
    def _check_unclaimed(
        values: Iterable[str], holder_of: Callable[[str], R | None], owner_id: str | None, noun: str
    ) -> None:
        """409 when another record already holds one of `values` (an email, a domain; emulator choice)."""
        for value in values:
            holder = holder_of(value)
            if holder is not None and holder.id != owner_id:
                kind = type(holder).__name__.lower()
                raise Conflict(f"{noun} {value!r} already belongs to {kind} {holder.id}.")

    def _delete(
        self,
        record: R,
        remove: Callable[[], object],
        linked: Callable[[Engagement], bool],
        unlink: Callable[[Engagement], object],
    ) -> None:
        """Admin deletes, one order for every kind: take the record out of the directory, `unlink` every engagement
        that refers to it (each emits `v1.engagement.updated`), then emit `v1.<resource>.deleted`."""
        ws = self._store.workspace(record.workspace_id)
        remove()
        for e in [e for e in ws.engagements.values() if linked(e)]:  # a copy: unlinking changes them
            unlink(e)
        self._changes.deleted(record)


def link_contacts(changes: ChangeRecorder, d: Directory, e: Engagement, contact_ids: Sequence[str]) -> None:
    """Store an engagement's contacts; its companies follow them (Directory.companies_of)."""
    contacts = [d.contacts[c] for c in contact_ids if c in d.contacts]
    changes.change(e, contact_ids=list(contact_ids), company_ids=d.companies_of(contacts))
