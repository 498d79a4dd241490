"""The inspector page at /__admin/ui, its assets, and the read-only JSON it needs beyond the control plane."""

from __future__ import annotations

from importlib import resources

from aiohttp import web

from ..core.errors import NotFound
from ..inspector.history import engagement_history
from . import context
from .responses import json_response

routes = web.RouteTableDef()

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
    return json_response(engagement_history(context.emulator(request), request.match_info["engagement_id"]))
