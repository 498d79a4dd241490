"""Stored changes to engagements and the events they emit (webhooks.md §1, §3)."""

from __future__ import annotations

from typing import Any

from . import events, views
from .clock import VirtualClock
from .events import Event, EventBus
from .models import Engagement


class EngagementRecorder:
    """The one place an engagement changes after creation: bumps updated_at, emits updated with a diff."""

    def __init__(self, clock: VirtualClock, bus: EventBus) -> None:
        self._clock = clock
        self._bus = bus

    def created(self, e: Engagement) -> Event:
        return self._bus.emit(events.ENGAGEMENT_CREATED, e.workspace_id, views.engagement(e))

    def deleted(self, e: Engagement) -> Event:
        return self._bus.emit(events.ENGAGEMENT_DELETED, e.workspace_id, views.engagement(e))

    def transcript_completed(self, e: Engagement) -> Event:
        return self._bus.emit(events.TRANSCRIPT_COMPLETED, e.workspace_id, views.engagement(e))

    def change(self, e: Engagement, **fields: Any) -> Event | None:
        """Apply `fields`, move updated_at to now, and emit `v1.engagement.updated` if anything visible moved."""
        before = views.engagement(e)
        for name, value in fields.items():
            setattr(e, name, value)
        e.updated_at = max(e.updated_at, self._clock.now_ms())
        e.version += 1
        after = views.engagement(e)
        previous = events.previous_attributes(before, after)
        if not previous:
            return None
        return self._bus.emit(events.ENGAGEMENT_UPDATED, e.workspace_id, after, previous)
