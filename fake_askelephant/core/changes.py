"""Stored changes to engagements, contacts, companies and tags, and the events they emit (webhooks.md §1, §3).

The one path a resource takes after creation: apply the fields, move updated_at to the virtual now, emit
`v1.<resource>.updated` with the previous values of what the view shows changed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import events, views
from . import write_set as tables
from .clock import VirtualClock
from .events import Event, EventBus
from .models import Company, Contact, Engagement, Tag
from .records import dataclass
from .write_set import WriteSet, scoped

Record = Engagement | Contact | Company | Tag
_TABLES: dict[type[Any], str] = {
    Engagement: tables.ENGAGEMENTS,
    Contact: tables.CONTACTS,
    Company: tables.COMPANIES,
    Tag: tables.TAGS,
}


@dataclass(frozen=True)
class _Kind:
    name: str  # the event's resource: v1.<name>.updated
    view: Callable[[Any], dict[str, Any]]
    # Engagements: every write is a stored change (a pipeline stage, relations), so updated_at moves even when
    # the view does not; the others store nothing when the view stays as it was.
    every_write_counts: bool = False
    # Stored but not in the view (only expansions show them): replaced within the same virtual millisecond they
    # change no visible field, yet they are a stored change, announced with empty previous_attributes.
    relations: frozenset[str] = frozenset()


_KINDS: dict[type[Any], _Kind] = {
    Engagement: _Kind(
        "engagement",
        views.engagement,
        every_write_counts=True,
        relations=frozenset({"contact_ids", "company_ids", "tag_ids"}),
    ),
    Contact: _Kind("contact", views.contact),
    Company: _Kind("company", views.company),
    Tag: _Kind("tag", views.tag),
}


class ChangeRecorder:
    """`emit=False` stores without events: start-up seed data is the world as it was before the emulator started,
    so nobody is told about it (emulator choice)."""

    def __init__(
        self,
        clock: VirtualClock,
        bus: EventBus,
        reorder: Callable[[Engagement, bool], None],
        write_set: WriteSet | None = None,
    ) -> None:
        self._clock = clock
        self._bus = bus
        self._reorder = (
            reorder  # the store's engagement list order, told whenever updated_at moves (and if the title did)
        )
        self._write_set = write_set if write_set is not None else WriteSet()  # what the state file must get next

    def _stored(self, record: Record, *, gone: bool = False) -> None:
        key = scoped(record.workspace_id, record.id)
        if gone:
            self._write_set.gone(_TABLES[type(record)], key)
        else:
            self._write_set.put(_TABLES[type(record)], key, record)

    def created(self, record: Record, *, emit: bool = True) -> Event | None:
        self._stored(record)
        if not emit:
            return None
        kind = _KINDS[type(record)]
        return self._bus.emit(f"v1.{kind.name}.created", record.workspace_id, kind.view(record))

    def deleted(self, record: Record, *, soft: bool = False) -> Event:
        """`soft`: the record stays stored (a soft-deleted tag keeps its row, marked deleted_at)."""
        self._stored(record, gone=not soft)
        kind = _KINDS[type(record)]
        return self._bus.emit(f"v1.{kind.name}.deleted", record.workspace_id, kind.view(record))

    def transcript_completed(self, e: Engagement) -> Event:
        return self._bus.emit(events.TRANSCRIPT_COMPLETED, e.workspace_id, views.engagement(e))

    def change(self, record: Record, *, emit: bool = True, **fields: Any) -> Event | None:
        """Apply `fields`; move updated_at to now and emit `.updated` if the change is stored (see _Kind)."""
        kind = _KINDS[type(record)]
        before = kind.view(record)
        relations_moved = any(name in kind.relations and getattr(record, name) != v for name, v in fields.items())
        for name, value in fields.items():
            setattr(record, name, value)
        self._stored(record)
        if not kind.every_write_counts and kind.view(record) == before:
            return None  # a no-op write stores nothing, so updated_at stays
        self._touch(record, retitled="title" in fields)
        after = kind.view(record)
        previous = events.previous_attributes(before, after)
        if not emit or (not previous and not relations_moved):
            return None
        return self._bus.emit(f"v1.{kind.name}.updated", record.workspace_id, after, previous)

    def _touch(self, record: Record, *, retitled: bool) -> None:
        record.updated_at = max(record.updated_at, self._clock.now_ms())
        if isinstance(record, Engagement):
            record.version += 1  # views are cached per version
            self._reorder(record, retitled)  # its place in the list orders: updated_at, status, links may have moved
