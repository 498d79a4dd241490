"""The inspector page at /__admin/ui, its assets, and the read-only JSON it needs beyond the control plane."""

from __future__ import annotations

from importlib import resources

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from ...config import Settings
from ...core.errors import NotFound
from ...emulator import Emulator
from ...inspector.history import CreateRequest, CreateRequests, engagement_history
from .. import context
from ..responses import json_response

routes = web.RouteTableDef()
create_requests_key = web.AppKey("create_requests_key", CreateRequests)


def setup_notes(app: web.Application, settings: Settings) -> None:
    """Remember which request created (201) or replayed (200) each engagement, for its history: a middleware outside
    the faults (create_app places it), so it sees the answer the client got."""
    creates = app[create_requests_key] = CreateRequests()
    app.middlewares.append(create_notes_middleware(creates, app[context.emulator_key]))


def setup(app: web.Application, settings: Settings) -> None:
    """The page's routes."""
    app.add_routes(routes)


def create_notes_middleware(creates: CreateRequests, emulator: Emulator) -> Middleware:
    """A middleware, not an `on_response_prepare` signal: that would run a coroutine on every response of every
    route to find the few that created something."""

    @web.middleware
    async def note_creates(request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        engagement_id = context.peek(request, context.created_engagement_key)
        if engagement_id is not None:
            note_create_request(creates, emulator, request, engagement_id, response)
        return response

    return note_creates


def note_create_request(
    creates: CreateRequests,
    emulator: Emulator,
    request: web.Request,
    engagement_id: str,
    response: web.StreamResponse,
) -> None:
    """The create handler names the engagement on the request; an answer a fault replaced (another status) or cut
    short (a bare StreamResponse) never reached the client whole, so it is not a request to correlate with."""
    if response.status not in (200, 201) or not isinstance(response, web.Response):
        return
    creates.record(engagement_id, CreateRequest(context.request_id(request), response.status, emulator.clock.now_ms()))


# Strict by construction: only our own script and stylesheet run, the page talks only to this origin, and
# Trusted Types make any `innerHTML = string` throw, so a payload in the data can never become markup.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
        "require-trusted-types-for 'script'",
        "trusted-types 'none'",
    )
)
UI_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    # A development tool whose assets change with the installed version: never serve a stale page.
    "Cache-Control": "no-store",
}
PAGE = "index.html"
CONTENT_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
_PACKAGE = resources.files("fake_askelephant.inspector")
# Served by name from this allowlist only: the shipped files of fake_askelephant.inspector (package data).
ASSETS = {
    item.name: CONTENT_TYPES[suffix]
    for item in _PACKAGE.iterdir()
    if (suffix := item.name[item.name.rfind(".") :]) in CONTENT_TYPES
}


def asset_bytes(name: str) -> bytes:
    return _PACKAGE.joinpath(name).read_bytes()


def _asset_response(name: str) -> web.Response:
    return web.Response(body=asset_bytes(name), content_type=ASSETS[name], charset="utf-8", headers=UI_HEADERS)


@routes.get("/__admin/ui")
@routes.get("/__admin/ui/")
async def page(request: web.Request) -> web.Response:
    return _asset_response(PAGE)


@routes.get("/__admin/ui/{name}")
async def asset(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in ASSETS:
        raise NotFound("inspector asset", name)
    return _asset_response(name)


@routes.get("/__admin/engagements/{engagement_id}/history")
async def history(request: web.Request) -> web.Response:
    """Request → stages (done, pending, skipped) → events, in virtual-time order (inspector module)."""
    emulator = context.emulator(request)
    creates = request.app[create_requests_key]
    return json_response(engagement_history(emulator, request.match_info["engagement_id"], creates))
