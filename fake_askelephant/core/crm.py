"""`filter[crm_associations]` entries and their bucket semantics (api.md §6.3, §10).

Buckets (docs): company = company_ids + CRM companies; participant = contact_ids + CRM contacts;
project = CRM deals. OR within a bucket, AND across the populated ones. The emulator has no CRM, so
CRM entries on engagements resolve to nothing: a bucket filled only by them matches nothing, and next
to valid ids they take nothing away (emulator choice). Contacts and companies carry the association a
client stored, so their own lists match CRM entries against it (emulator choice).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from .models import CrmAssociation

CRM_OBJECT_TYPES = ("company", "contact", "deal")
MAX_CRM_ENTRIES = 20


@dataclass(frozen=True)
class CrmRef:
    id: str
    object_type: str


def bucket(ids: frozenset[str] | None, refs: tuple[CrmRef, ...], object_type: str) -> frozenset[str] | None:
    """The ids an engagement must share one of, or None when the bucket is not populated."""
    if ids is None and not any(r.object_type == object_type for r in refs):
        return None
    return ids or frozenset()


def bucket_admits(wanted: frozenset[str] | None, have: Collection[str]) -> bool:
    return wanted is None or not wanted.isdisjoint(have)


def association_matches(association: CrmAssociation | None, refs: tuple[CrmRef, ...]) -> bool:
    """A stored association matches an entry with the same id and object type (type case-insensitive)."""
    if association is None:
        return False
    kind = association.object_type.casefold()
    return any(r.id == association.crm_object_id and r.object_type == kind for r in refs)
