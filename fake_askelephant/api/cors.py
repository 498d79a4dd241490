"""CORS for the public API, opt-in (`--cors-origin ORIGIN`, repeatable, or `*`): a vendor's web app on its own dev
server can call the emulator from the browser (issue 21).

Only `/api/…`. A preflight (OPTIONS with Origin and Access-Control-Request-Method) from an allowed origin is
answered 204 with the methods the route serves and the request headers the API reads; an actual request from
one gets Access-Control-Allow-Origin and exposes the headers a client needs (X-Request-Id, Location, ETag,
Retry-After, Warning). No credentials mode: the API key travels in Authorization, not in a cookie. The control
plane never answers CORS: a page on another origin cannot preflight its way to `/__admin` mutations
(api/admin/access.py refuses the simple ones).
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from ..config import Settings
from .problems import error_response

API_PREFIX = "/api/"
ANY = "*"
# What the API reads from a request; a browser asks for them by name in Access-Control-Request-Headers.
ALLOWED_HEADERS = ("Authorization", "Content-Type", "If-None-Match", "Idempotency-Key", "X-Request-Id")
EXPOSED_HEADERS = ("X-Request-Id", "X-Api-Version", "Location", "ETag", "Retry-After", "Warning")
MAX_AGE_S = 600

cors_origins_key = web.AppKey("cors_origins_key", frozenset[str])


def allowed(request: web.Request, origin: str | None) -> str | None:
    """The Access-Control-Allow-Origin value for this request, or None when CORS does not apply."""
    if origin is None or not request.path.startswith(API_PREFIX):
        return None
    origins = request.app[cors_origins_key]
    if ANY in origins:
        return ANY
    return origin if origin.rstrip("/") in origins else None


@web.middleware
async def cors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    allow_origin = allowed(request, request.headers.get("Origin"))
    if allow_origin is None:
        return await handler(request)
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        return _preflight(request, allow_origin)
    try:
        response = await handler(request)
    except Exception as exc:  # the edge middleware would render it; render it here so it carries CORS headers
        response = error_response(request, exc)
    response.headers["Access-Control-Allow-Origin"] = allow_origin
    response.headers["Access-Control-Expose-Headers"] = ", ".join(EXPOSED_HEADERS)
    response.headers.add("Vary", "Origin")
    return response


def _preflight(request: web.Request, allow_origin: str) -> web.StreamResponse:
    """204 naming the route's methods; an unknown path keeps its 404 (the browser then refuses the request)."""
    methods = _route_methods(request)
    if not methods:
        return error_response(request, web.HTTPNotFound())
    response = web.Response(status=204)
    response.headers["Access-Control-Allow-Origin"] = allow_origin
    response.headers["Access-Control-Allow-Methods"] = ", ".join(sorted(methods))
    response.headers["Access-Control-Allow-Headers"] = ", ".join(ALLOWED_HEADERS)
    response.headers["Access-Control-Max-Age"] = str(MAX_AGE_S)
    response.headers.add("Vary", "Origin")
    return response


def _route_methods(request: web.Request) -> set[str]:
    """From the router's own match: OPTIONS is served by no route, so it answered 405 naming the methods that are."""
    exc = request.match_info.http_exception
    if isinstance(exc, web.HTTPMethodNotAllowed):
        return {m for m in exc.allowed_methods if m not in ("HEAD", "OPTIONS")}
    return set()


def setup(app: web.Application, settings: Settings) -> None:
    """Inside the edge middleware (request ids on preflights too), outside faults and auth (a preflight carries no
    credential and must not be refused for it)."""
    app[cors_origins_key] = frozenset(o.rstrip("/") for o in settings.cors_origins)
    if settings.cors_origins:
        app.middlewares.append(cors_middleware)
