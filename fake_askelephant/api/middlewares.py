"""Middlewares, outermost first: request id + error rendering, then authentication and scopes for /api.

Check order (api.md §4): injected fault (api/faults.py) → route (404/405) → auth 401 → rate limit 429 →
scope 403 → handler (syntax 400/413/415 → field rules 422 → expand scopes 403 → lookup 404 → logic).
"""

from __future__ import annotations

import logging

from aiohttp import web

from ..core import scopes
from ..core.errors import DomainError
from ..core.models import Principal
from . import context
from .problems import Problem, from_domain, from_http_exception
from .rate_limit import rate_limiter_key
from .routing import is_public, required_scopes

log = logging.getLogger("fake_askelephant.api")
API_PREFIX = "/api/"
API_VERSION = "2"
BEARER = "bearer "
STRICT_BEARER_DETAIL = "Send the raw API key without the Bearer prefix."


@web.middleware
async def edge_middleware(request: web.Request, handler: context.Handler) -> web.StreamResponse:
    """Every response gets X-Request-Id (and X-Api-Version under /api); every error becomes problem+json."""
    request_id = context.emulator(request).request_ids.new("rid")
    request[context.request_id_key] = request_id
    try:
        response = await handler(request)
    except Exception as exc:
        response = error_response(request, exc)
    stamp_headers(request, response)
    return response


def error_response(request: web.Request, exc: Exception) -> web.Response:
    """The problem+json response for any exception a handler raised (unexpected ones are logged as bugs)."""
    request_id = context.request_id(request)
    if isinstance(exc, Problem):
        return exc.response(request_id)
    if isinstance(exc, DomainError):
        return from_domain(exc).response(request_id)
    if isinstance(exc, web.HTTPException):
        return from_http_exception(exc).response(request_id)
    log.error("unhandled error in %s %s (request %s)", request.method, request.path, request_id, exc_info=exc)
    return Problem(500, "Internal error; this is a bug in fake-askelephant.").response(request_id)


def stamp_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Set before a response is prepared; the fault middleware calls it for bodies it sends itself."""
    response.headers["X-Request-Id"] = context.request_id(request)
    if request.path.startswith(API_PREFIX):
        response.headers["X-Api-Version"] = API_VERSION


@web.middleware
async def auth_middleware(request: web.Request, handler: context.Handler) -> web.StreamResponse:
    if not request.path.startswith(API_PREFIX):
        return await handler(request)
    match = request.match_info
    if match.http_exception is not None:
        raise match.http_exception  # unknown route / wrong method beat auth
    route_handler = match.handler
    if is_public(route_handler):
        return await handler(request)
    principal = authenticate(request)
    limiter = request.app.get(rate_limiter_key)
    if limiter is not None:
        limiter.check(principal.credential_id)  # 429 after auth, before scopes (api.md §4, §9)
    scopes.require(principal, required_scopes(route_handler))
    request[context.principal_key] = principal
    return await handler(request)


def authenticate(request: web.Request) -> Principal:
    """Raw `sk-apik_…` key or `Bearer <token>` (api.md §3); 401 with WWW-Authenticate otherwise."""
    header = request.headers.get("Authorization", "").strip()
    if not header:
        raise Problem(401, "Missing Authorization header; send your API key as `Authorization: sk-apik_<id>.<secret>`.")
    emulator = context.emulator(request)
    if header[: len(BEARER)].lower() == BEARER:
        token = header[len(BEARER) :].strip()
        if token.startswith("sk-apik_"):
            if request.app[context.settings_key].strict:
                raise Problem(401, STRICT_BEARER_DETAIL)
            principal = emulator.store.authenticate_key(token)
        else:
            principal = emulator.authenticate_token(token)
    else:
        principal = emulator.store.authenticate_key(header)
    if principal is None:
        raise Problem(401, "The credential is malformed, unknown or expired.")
    return principal
