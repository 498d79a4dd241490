"""`filter[crm_associations]` entries and their bucket semantics (api.md §6.3, §10).

Buckets (docs): company = company_ids + CRM associations that resolve to companies; participant = contact_ids +
CRM associations that resolve to contacts; project = CRM associations that resolve to deals. OR within a bucket,
AND across the populated ones; unresolved entries take nothing away from the direct ids in their bucket, and a
bucket filled only by unresolved entries matches nothing.

The workspace's CRM state is what it stores (emulator choice): the associations on its contacts and companies,
and an engagement's own association (seed data / admin), which also places a deal. Contacts and companies match
CRM entries against their stored association on their own lists too.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from .models import CrmAssociation
from .records import dataclass

CRM_OBJECT_TYPES = ("company", "contact", "deal")
MAX_CRM_ENTRIES = 20


@dataclass(frozen=True)
class CrmRef:
    id: str
    object_type: str


@dataclass(frozen=True)
class Bucket:
    """One populated bucket: the ids an engagement may share (direct and resolved), and the entries it may match
    with its own association."""

    ids: frozenset[str]
    refs: tuple[CrmRef, ...]

    def admits(self, have: Collection[str], own: CrmAssociation | None) -> bool:
        return not self.ids.isdisjoint(have) or association_matches(own, self.refs)


def resolve_bucket(
    ids: frozenset[str] | None,
    refs: tuple[CrmRef, ...],
    object_type: str,
    holders: Iterable[tuple[str, CrmAssociation | None]] = (),
) -> Bucket | None:
    """The bucket of `object_type`, None when nothing populates it. `holders` (id, association) are the records
    whose stored association resolves an entry into their id (contacts, companies)."""
    mine = tuple(r for r in refs if r.object_type == object_type)
    if ids is None and not mine:
        return None
    resolved = {record_id for record_id, a in holders if mine and association_matches(a, mine)}
    return Bucket((ids or frozenset()) | resolved, mine)


def association_matches(association: CrmAssociation | None, refs: tuple[CrmRef, ...]) -> bool:
    """A stored association matches an entry with the same id and object type (type case-insensitive)."""
    if association is None:
        return False
    kind = association.object_type.casefold()
    return any(r.id == association.crm_object_id and r.object_type == kind for r in refs)
