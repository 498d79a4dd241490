"""One engagement's causal history for the inspector: create request → pipeline stages → events.

Delivery attempts are not joined here: the page reads them from `GET /__admin/deliveries?engagement_id=`
and hangs each under its event by `event_id`, so this module needs only the core.
"""

from __future__ import annotations

from typing import Any

from ..core import views
from ..core.emulator import Emulator
from ..core.errors import NotFound
from ..core.events import ENGAGEMENT_DELETED, Event
from ..core.pipeline import STAGES
from ..core.timefmt import format_ms

CREATE_ROUTE = "POST /api/v2/engagements"
# Same-instant order: the request causes the stage plan, a stage causes its events.
_RANK = {"request": 0, "stage": 1, "event": 2}


def engagement_history(emulator: Emulator, engagement_id: str) -> dict[str, Any]:
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
    steps: list[tuple[int, int, int, dict[str, Any]]] = [
        (created_ms, _RANK["request"], 0, _request_step(created_ms, engagement)),
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


def _request_step(created_ms: int, engagement: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "request",
        "at": format_ms(created_ms),
        "route": CREATE_ROUTE,
        "status": 201,
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
