"""One engagement's causal history for the inspector: create request → pipeline stages → events.

Delivery attempts are not joined here: the page reads them from `GET /__admin/deliveries?engagement_id=`
and hangs each under its event by `event_id`, so this module needs only the core.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from ..core import views
from ..core.errors import NotFound
from ..core.events import ENGAGEMENT_DELETED, Event
from ..core.pipeline import STAGES
from ..core.records import dataclass
from ..core.timefmt import format_ms
from ..emulator import Emulator

CREATE_ROUTE = "POST /api/v2/engagements"
# Same-instant order: the request causes the stage plan, a stage causes its events.
_RANK = {"request": 0, "stage": 1, "event": 2}


@dataclass(slots=True)  # not frozen: one is made per create, and a frozen __init__ costs a setattr call per field
class CreateRequest:
    """One POST /api/v2/engagements that answered with this engagement: 201 created it, 200 replayed it."""

    request_id: str
    status: int
    at: int


class CreateRequests:
    """Which requests created or replayed each engagement, so the history starts at the real request id.

    Bounded (oldest engagements forgotten first); ids are never reused, so entries need no reset.
    """

    def __init__(self, engagements: int = 10_000, per_engagement: int = 100) -> None:
        self._limit = engagements
        self._per_engagement = per_engagement
        self._by_engagement: OrderedDict[str, list[CreateRequest]] = OrderedDict()

    def record(self, engagement_id: str, request: CreateRequest) -> None:
        requests = self._by_engagement.setdefault(engagement_id, [])
        if len(requests) < self._per_engagement:
            requests.append(request)
        while len(self._by_engagement) > self._limit:
            self._by_engagement.popitem(last=False)

    def of(self, engagement_id: str) -> list[CreateRequest]:
        return list(self._by_engagement.get(engagement_id, ()))


def engagement_history(emulator: Emulator, engagement_id: str, creates: CreateRequests | None = None) -> dict[str, Any]:
    """The engagement and its steps in virtual-time order; 404 when neither it nor any event of it exists.

    A deleted engagement is rebuilt from its last event (its last state, webhooks.md §2), so the page can
    still explain what happened to it.
    """
    events = list(emulator.bus.find(resource_id=engagement_id))
    stored = emulator.store.find_engagement_by_id(engagement_id)
    if stored is None and not events:
        raise NotFound("engagement", engagement_id)
    if stored is not None:
        engagement: dict[str, Any] = {
            **views.engagement(stored),
            "workspace_id": stored.workspace_id,
            "external_id": stored.external_id,
            "source_system": stored.source_system,
            "deleted": False,
        }
        created_ms = stored.created_at
    else:
        last = events[-1]
        engagement = {**last.object, "workspace_id": last.workspace_id, "deleted": last.type == ENGAGEMENT_DELETED}
        created_ms = events[0].created_at
    recorded = creates.of(engagement_id) if creates is not None else []
    if not any(r.status == 201 for r in recorded):
        # Created before the recorder saw it (or by a path that is not the API): the time is still known.
        recorded.insert(0, CreateRequest("", 201, created_ms))
    # The 201 happened at the engagement's created_at, even if the response went out a moment later.
    recorded = [CreateRequest(r.request_id, r.status, created_ms) if r.status == 201 else r for r in recorded]
    steps: list[tuple[int, int, int, dict[str, Any]]] = [
        (r.at, _RANK["request"], order, _request_step(r, engagement)) for order, r in enumerate(recorded)
    ]
    run = emulator.pipeline.runs.get(engagement_id)
    if run is not None:
        plan = run.plan()
        for order, stage in enumerate(STAGES):
            at = plan[stage]
            step = {"kind": "stage", "stage": stage, "at": format_ms(at), "state": run.stage_state(stage)}
            steps.append((at, _RANK["stage"], order, step))
    for order, event in enumerate(events):
        steps.append((event.created_at, _RANK["event"], order, _event_step(event)))
    steps.sort(key=lambda s: s[:3])
    return {
        "engagement": engagement,
        "now": format_ms(emulator.clock.now_ms()),
        "finished": run.finished if run is not None else True,
        "steps": [s[3] for s in steps],
    }


def _request_step(request: CreateRequest, engagement: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "request",
        "at": format_ms(request.at),
        "route": CREATE_ROUTE,
        "status": request.status,
        "request_id": request.request_id or None,
        "replay": request.status == 200,
        "external_id": engagement.get("external_id"),
        "source_system": engagement.get("source_system"),
    }


def _event_step(event: Event) -> dict[str, Any]:
    return {
        "kind": "event",
        "at": format_ms(event.created_at),
        "event_id": event.id,
        "type": event.type,
        "changed": sorted(event.previous_attributes),
        "processing_status": event.object.get("processing_status"),
    }
