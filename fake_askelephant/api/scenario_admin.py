"""Control plane for scenarios (docs/scenarios.md): the scheduler peek the runner steps by."""

from __future__ import annotations

from aiohttp import web

from ..core.timefmt import format_ms
from . import context
from .responses import json_response

routes = web.RouteTableDef()


@routes.get("/__admin/scheduler")
async def peek_scheduler(request: web.Request) -> web.Response:
    """When the next pending job is due, so a client can advance exactly to it (and see what it did)."""
    scheduler = context.emulator(request).scheduler
    due = scheduler.next_due_ms()
    return json_response(
        {
            "now": format_ms(scheduler.clock.now_ms()),
            "next_due_at": format_ms(due) if due is not None else None,
            "pending": len(scheduler),
        }
    )
