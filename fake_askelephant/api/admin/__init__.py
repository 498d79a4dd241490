"""The control plane under /__admin (pipeline.md §7), apart from the public API (api/).

  health.py      health (loaded with the app)
  control.py     the clock and scheduler, reset, API keys and OAuth clients, state and events,
                 pipeline overrides and rules, deletes with no public route
  webhooks.py    webhook endpoints, the delivery log, resend, the built-in sink
  seed_data.py   the seed-data document: `POST /__admin/fixtures`; seed_start.py: `--fixtures sample|none|FILE`
  openapi.py     the wire format's JSON Schemas and OpenAPI document
  faults.py      HTTP fault injection and its middleware
  journal.py     the request journal and its middleware
  snapshots.py   `--state-file` writes (middleware) and named snapshots
  scenarios.py   session recording (middleware, `serve --record`)
  inspector.py   the /__admin/ui page and engagement histories

Those with a middleware register themselves with `setup(app, settings)`, called by create_app, which writes the
middleware order once. `setup` here registers health and the route groups of control, webhooks, seed_data and
openapi, whose modules load on the first request to one of their routes: their wire models (pydantic) are
most of their cost, and no request needs them before the server answers (issue 22 §5). LAZY_ROUTES lists their
routes in each module's order (tests/emulator/test_startup_path.py holds it to the modules' own tables), so the
router is the one the modules would build.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Awaitable, Callable

from aiohttp import web

from ...config import Settings
from ...core.store import DEFAULT_WORKSPACE
from .. import context
from . import health

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

LAZY_ROUTES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "control": (
        ("GET", "/__admin/clock", "get_clock"),
        ("POST", "/__admin/clock/advance", "advance_clock"),
        ("POST", "/__admin/clock/set", "set_clock"),
        ("GET", "/__admin/scheduler", "peek_scheduler"),
        ("POST", "/__admin/reset", "reset"),
        ("POST", "/__admin/api-keys", "create_api_key"),
        ("POST", "/__admin/oauth-clients", "create_oauth_client"),
        ("POST", "/__admin/oauth-clients/{client_id}/authorize", "authorize_oauth_client"),
        ("GET", "/__admin/state", "dump_state"),
        ("GET", "/__admin/state/{workspace_id}/{collection}", "state_collection"),
        ("GET", "/__admin/events", "list_events"),
        ("POST", "/__admin/engagements/{engagement_id}/pipeline", "override_pipeline"),
        ("GET", "/__admin/engagements/{engagement_id}/pipeline", "get_pipeline"),
        ("DELETE", "/__admin/engagements/{engagement_id}", "delete_engagement"),
        ("DELETE", "/__admin/contacts/{contact_id}", "delete_contact"),
        ("DELETE", "/__admin/companies/{company_id}", "delete_company"),
        ("PUT", "/__admin/engagements/{engagement_id}/crm_association", "set_engagement_crm_association"),
        ("DELETE", "/__admin/engagements/{engagement_id}/crm_association", "clear_engagement_crm_association"),
        ("GET", "/__admin/workspaces/{workspace_id}", "get_workspace_settings"),
        ("PATCH", "/__admin/workspaces/{workspace_id}", "update_workspace_settings"),
        ("POST", "/__admin/pipeline-rules", "create_pipeline_rule"),
        ("GET", "/__admin/pipeline-rules", "list_pipeline_rules"),
        ("DELETE", "/__admin/pipeline-rules", "clear_pipeline_rules"),
    ),
    "webhooks": (
        ("POST", "/__admin/webhook-endpoints", "create_endpoint"),
        ("GET", "/__admin/webhook-endpoints", "list_endpoints"),
        ("GET", "/__admin/webhook-endpoints/{endpoint_id}", "get_endpoint"),
        ("PATCH", "/__admin/webhook-endpoints/{endpoint_id}", "update_endpoint"),
        ("DELETE", "/__admin/webhook-endpoints/{endpoint_id}", "delete_endpoint"),
        ("POST", "/__admin/webhook-endpoints/{endpoint_id}/rotate-secret", "rotate_secret"),
        ("POST", "/__admin/webhook-endpoints/{endpoint_id}/send-test", "send_test_event"),
        ("POST", "/__admin/webhook-endpoints/{endpoint_id}/recover", "recover_endpoint"),
        ("GET", "/__admin/deliveries", "list_deliveries"),
        ("POST", "/__admin/deliveries/{msg_id}/resend", "resend"),
        ("PUT", "/__admin/sink/{name}", "configure_sink"),
        ("POST", "/__admin/sink/{name}", "receive_at_sink"),
        ("GET", "/__admin/sink/{name}/requests", "sink_requests"),
    ),
    "seed_data": (("POST", "/__admin/fixtures", "load_fixtures"),),
    "openapi": (
        ("GET", "/__admin/schemas", "index"),
        ("GET", "/__admin/schemas/{name}", "schema"),
        ("GET", "/__admin/openapi.json", "openapi"),
    ),
}


def setup(app: web.Application, settings: Settings) -> None:
    """Health, the lazily loaded route groups, and the `--webhook-url` endpoint of wrks_local (not again when a
    state file restored it)."""
    app.add_routes(health.routes)
    for module, routes in LAZY_ROUTES.items():
        app.add_routes(web.RouteDef(method, path, on_first_use(module, name), {}) for method, path, name in routes)
    dispatcher = app[context.emulator_key].webhooks
    registered = {(e.workspace_id, e.url) for e in dispatcher.endpoints.values()}
    if settings.webhook_url and (DEFAULT_WORKSPACE, settings.webhook_url) not in registered:
        dispatcher.create_endpoint(DEFAULT_WORKSPACE, settings.webhook_url, secret=settings.webhook_secret)


def on_first_use(module: str, name: str) -> Handler:
    """A handler that imports `module` on its first call (once per process) and hands every request to its `name`.

    The import runs on a worker thread: with its wire models it is 70–100 ms of CPU (seed_data: pydantic and the
    fixture document's models), which on the event loop held every other request, health included, that long. The
    thread gives up the interpreter every few ms (sys.getswitchinterval), so the loop goes on answering; a second
    request to the module meanwhile waits on the import system's own per-module lock, in its own thread too."""
    real: Handler | None = None

    async def handler(request: web.Request) -> web.StreamResponse:
        nonlocal real
        if real is None:
            loaded = await asyncio.to_thread(importlib.import_module, f"{__name__}.{module}")
            real = getattr(loaded, name)
        return await real(request)

    handler.__name__ = handler.__qualname__ = name
    return handler
