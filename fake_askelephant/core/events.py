"""Event envelopes (webhooks.md §2–3) and the bus that hands them to the log and the webhook dispatcher."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import field
from typing import Any

from . import jsonutil
from . import write_set as tables
from .clock import VirtualClock
from .ids import IdFactory
from .paging import Page, paginate_ordered
from .records import dataclass
from .releaser import Dropped
from .timefmt import format_ms
from .write_set import WriteSet

ENGAGEMENT_CREATED = "v1.engagement.created"
ENGAGEMENT_UPDATED = "v1.engagement.updated"
ENGAGEMENT_DELETED = "v1.engagement.deleted"
TRANSCRIPT_COMPLETED = "v1.engagement.transcript_timeline.completed"
RESOURCE_EVENT_TYPES = tuple(
    f"v1.{resource}.{verb}"
    for resource in ("engagement", "contact", "company", "tag")
    for verb in ("created", "updated", "deleted")
)
EVENT_TYPES = (*RESOURCE_EVENT_TYPES, TRANSCRIPT_COMPLETED)


@dataclass
class Event:
    id: str
    type: str
    created_at: int
    workspace_id: str
    object: Mapping[str, Any]
    previous_attributes: Mapping[str, Any]
    _body: bytes | None = field(default=None, repr=False)

    @property
    def resource_id(self) -> str:
        return str(self.object.get("id", ""))

    def envelope(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "api_version": "v1",
            "created_at": format_ms(self.created_at),
            "workspace_id": self.workspace_id,
            "data": {"object": self.object, "previous_attributes": self.previous_attributes},
        }

    @property
    def body(self) -> bytes:
        """Built once, so every attempt to every endpoint carries (and signs) the same bytes."""
        if self._body is None:
            self._body = jsonutil.dumps(self.envelope())
        return self._body


def previous_attributes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """Changed top-level fields with their previous values; fields absent before count as null."""
    changed: dict[str, Any] = {}
    for key in [*before, *(k for k in after if k not in before)]:
        if key not in before or key not in after or before[key] != after[key]:
            changed[key] = before.get(key)
    return changed


Subscriber = Callable[[Event], None]


class EventBus:
    """Emits envelopes at the virtual now, keeps a bounded log, and notifies subscribers in order."""

    def __init__(
        self, clock: VirtualClock, ids: IdFactory, log_limit: int = 10_000, write_set: WriteSet | None = None
    ) -> None:
        self._clock = clock
        self._ids = ids
        self._changes = write_set if write_set is not None else WriteSet()
        self.log: deque[Event] = deque(maxlen=log_limit)
        self._subscribers: list[Subscriber] = []

    def subscribe(self, fn: Subscriber) -> None:
        self._subscribers.append(fn)

    def emit(
        self,
        type_: str,
        workspace_id: str,
        obj: Mapping[str, Any],
        previous: Mapping[str, Any] | None = None,
    ) -> Event:
        event = Event(self._ids.new("evt"), type_, self._clock.now_ms(), workspace_id, obj, previous or {})
        if len(self.log) == self.log.maxlen:  # the bounded log forgets its oldest event
            self._changes.gone(tables.EVENTS, self.log[0].id)
        self.log.append(event)
        self._changes.put(tables.EVENTS, event.id, event)
        for fn in self._subscribers:
            fn(event)
        return event

    def find(
        self, *, type_: str | None = None, workspace_id: str | None = None, resource_id: str | None = None
    ) -> Iterator[Event]:
        for event in self.log:
            if type_ and event.type != type_:
                continue
            if workspace_id and event.workspace_id != workspace_id:
                continue
            if resource_id and event.resource_id != resource_id:
                continue
            yield event

    def page(
        self,
        *,
        type_: str | None,
        workspace_id: str | None,
        resource_id: str | None,
        newest_first: bool,
        limit: int,
        after_id: str | None,
    ) -> Page[Event]:
        """One page of `find`, in emission order or newest first, after the event `after_id` (a cursor's). An event
        the bounded log has forgotten since: a newest-first walk has nothing older left; an oldest-first walk goes
        on from the oldest event still held."""
        events: Iterator[Event] = iter(reversed(self.log) if newest_first else self.log)
        if after_id is not None and any(e.id == after_id for e in self.log):
            for event in events:  # up to the cursor's own event (the log is bounded: 10,000 by default)
                if event.id == after_id:
                    break
        elif after_id is not None and newest_first:
            return Page([], None)
        matched = (
            e
            for e in events
            if (not type_ or e.type == type_)
            and (not workspace_id or e.workspace_id == workspace_id)
            and (not resource_id or e.resource_id == resource_id)
        )
        return paginate_ordered(matched, lambda e: (e.created_at, e.id), limit=limit)

    def clear(self, workspace_id: str | None = None) -> list[Dropped]:
        """Swap in a log without the events (of one workspace); the old log is returned for a Releaser."""
        old = self.log
        kept = () if workspace_id is None else (e for e in old if e.workspace_id != workspace_id)
        self.log = deque(kept, maxlen=old.maxlen)
        return [Dropped(old)]
