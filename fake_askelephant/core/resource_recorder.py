"""Stored changes to contacts, companies and tags, and their `v1.<resource>.*` events (webhooks.md §1, §3)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import changes as tables
from . import events, views
from .changes import Changes, scoped
from .clock import VirtualClock
from .events import Event, EventBus
from .models import Company, Contact, Tag

Record = Contact | Company | Tag
_KINDS: dict[type[Any], tuple[str, Callable[[Any], dict[str, Any]]]] = {
    Contact: ("contact", views.contact),
    Company: ("company", views.company),
    Tag: ("tag", views.tag),
}
_TABLES: dict[type[Any], str] = {Contact: tables.CONTACTS, Company: tables.COMPANIES, Tag: tables.TAGS}


def kind_of(record: Record) -> str:
    return _KINDS[type(record)][0]


def view_of(record: Record) -> dict[str, Any]:
    return _KINDS[type(record)][1](record)


class ResourceRecorder:
    """Like EngagementRecorder, for the directory resources: the one place they change after creation.

    `emit=False` stores without events: start-up fixtures are the world as it was before the emulator
    started, so nobody is told about them (emulator choice).
    """

    def __init__(self, clock: VirtualClock, bus: EventBus, changes: Changes | None = None) -> None:
        self._clock = clock
        self._bus = bus
        self._changes = changes if changes is not None else Changes()

    def _stored(self, record: Record, *, gone: bool = False) -> None:
        key = scoped(record.workspace_id, record.id)
        if gone:
            self._changes.gone(_TABLES[type(record)], key)
        else:
            self._changes.put(_TABLES[type(record)], key, record)

    def created(self, record: Record, *, emit: bool = True) -> Event | None:
        self._stored(record)
        if not emit:
            return None
        return self._bus.emit(f"v1.{kind_of(record)}.created", record.workspace_id, view_of(record))

    def deleted(self, record: Record) -> Event:
        self._stored(record, gone=True)
        return self._bus.emit(f"v1.{kind_of(record)}.deleted", record.workspace_id, view_of(record))

    def change(self, record: Record, *, emit: bool = True, **fields: Any) -> Event | None:
        """Apply `fields`; if the visible resource changed, move updated_at to now and emit `.updated`."""
        before = view_of(record)
        for name, value in fields.items():
            setattr(record, name, value)
        self._stored(record)
        if view_of(record) == before:
            return None  # a no-op write stores nothing, so updated_at stays
        record.updated_at = max(record.updated_at, self._clock.now_ms())
        after = view_of(record)
        if not emit:
            return None
        return self._bus.emit(
            f"v1.{kind_of(record)}.updated", record.workspace_id, after, events.previous_attributes(before, after)
        )
