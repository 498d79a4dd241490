"""The inspector page at /__admin/ui, its assets, and the read-only JSON it needs beyond the control plane."""

from __future__ import annotations

from importlib import resources

from aiohttp import web

from ...config import Settings
from ...core.errors import NotFound
from ...inspector.history import CreateRequest, CreateRequests, engagement_history
from .. import context
from ..responses import json_response

routes = web.RouteTableDef()
create_requests_key = web.AppKey("create_requests_key", CreateRequests)


def setup(app: web.Application, settings: Settings) -> None:
    """The page's routes; remember which request created (201) or replayed (200) each engagement, for its history."""
    app[create_requests_key] = CreateRequests()
    app.on_response_prepare.append(note_create_request)
    app.add_routes(routes)


async def note_create_request(request: web.Request, response: web.StreamResponse) -> None:
    """The create handler names the engagement on the request; an answer a fault replaced (another status) or cut
    short (a bare StreamResponse) never reached the client whole, so it is not a request to correlate with."""
    engagement_id = context.peek(request, context.created_engagement_key)
    if engagement_id is None or response.status not in (200, 201) or not isinstance(response, web.Response):
        return
    record = CreateRequest(context.request_id(request), response.status, context.emulator(request).clock.now_ms())
    request.app[create_requests_key].record(engagement_id, record)


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
