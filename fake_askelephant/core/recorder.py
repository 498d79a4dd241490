"""Stored changes to engagements and the events they emit (webhooks.md §1, §3)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import events, views
from .clock import VirtualClock
from .events import Event, EventBus
from .models import Engagement

# Stored but not part of the engagement's wire view (only expansions show them).
RELATIONS = frozenset({"contact_ids", "company_ids", "tag_ids"})


class EngagementRecorder:
    """The one place an engagement changes after creation: bumps updated_at, emits updated with a diff."""

    def __init__(
        self,
        clock: VirtualClock,
        bus: EventBus,
        on_reorder: Callable[[Engagement], None],
        on_change: Callable[[Engagement], None] = lambda e: None,
    ) -> None:
        self._clock = clock
        self._bus = bus
        self._on_reorder = on_reorder  # told when updated_at moves (the store's list order)
        self._on_change = on_change  # told of every stored change (the write set)

    def created(self, e: Engagement) -> Event:
        return self._bus.emit(events.ENGAGEMENT_CREATED, e.workspace_id, views.engagement(e))

    def deleted(self, e: Engagement) -> Event:
        return self._bus.emit(events.ENGAGEMENT_DELETED, e.workspace_id, views.engagement(e))

    def transcript_completed(self, e: Engagement) -> Event:
        return self._bus.emit(events.TRANSCRIPT_COMPLETED, e.workspace_id, views.engagement(e))

    def change(self, e: Engagement, **fields: Any) -> Event | None:
        """Apply `fields`, move updated_at to now, emit `v1.engagement.updated` if anything visible or linked moved."""
        before = views.engagement(e)
        relations_moved = any(name in RELATIONS and getattr(e, name) != value for name, value in fields.items())
        for name, value in fields.items():
            setattr(e, name, value)
        updated_at, e.updated_at = e.updated_at, max(e.updated_at, self._clock.now_ms())
        if e.updated_at != updated_at:
            self._on_reorder(e)
        e.version += 1
        self._on_change(e)
        after = views.engagement(e)
        previous = events.previous_attributes(before, after)
        # A relation replaced within the same virtual millisecond changes no visible field, yet it is a
        # stored change, so it is announced with empty previous_attributes.
        if not previous and not relations_moved:
            return None
        return self._bus.emit(events.ENGAGEMENT_UPDATED, e.workspace_id, after, previous)
