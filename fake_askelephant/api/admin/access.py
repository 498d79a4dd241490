"""Who may use the control plane (issue #19): safe on a laptop with a browser open, lockable on a network.

- **Cross-site requests** (CSRF): a page on another site can make the browser send simple requests — no-cors
  `text/plain` or form POSTs — with no preflight. Every `/__admin` mutation (any method but GET/HEAD/OPTIONS)
  is refused with 403 when `Sec-Fetch-Site` says anything but `same-origin`/`none` or `Origin` names
  another origin than the request's own, and with 415 when it carries a body that is not JSON (YAML too on
  /__admin/fixtures) — the content types a page can only send after a CORS preflight the emulator never
  grants. Tools (curl, SDKs, the scenario runner) send no `Origin`; the inspector's requests are same-origin.
- **Admin token** (`--admin-token`, env FAKE_ASKELEPHANT_ADMIN_TOKEN): when set, every `/__admin` route needs it
  in `X-Admin-Token` or `Authorization: Bearer …` (401 otherwise), except the health probe, the inspector's
  page and assets (the page asks for the token) and the sink's receiving route (webhook senders cannot add it).

The public API's CORS (issue #21) never applies to `/__admin` mutations: this rule runs first for them.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Handler

from ...config import Settings
from ..problems import Problem

ADMIN_PREFIX = "/__admin/"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TRUSTED_FETCH_SITES = frozenset({"same-origin", "none"})  # `none`: typed in the address bar, a bookmark
TOKEN_HEADER = "X-Admin-Token"  # noqa: S105 - a header name
# The Fetch standard's CORS-safelisted request content types: what a cross-site page sends without a preflight.
SIMPLE_TYPES = frozenset({"text/plain", "application/x-www-form-urlencoded", "multipart/form-data"})
YAML_TYPES = frozenset({"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"})
JSON_HINT = "send Content-Type: application/json (curl: -H 'Content-Type: application/json', or --json)"
SINK_PREFIX = "/__admin/sink/"


@web.middleware
async def admin_access_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    path = request.path
    if not (path.startswith(ADMIN_PREFIX) or path == "/__admin"):
        return await handler(request)
    token = request.app[admin_token_key]
    if token is not None and not _token_free(request) and not _presents(request, token):
        raise Problem(
            401,
            f"The control plane needs the admin token: send it as {TOKEN_HEADER} (serve --admin-token).",
            headers={"WWW-Authenticate": 'Bearer realm="fake-askelephant-admin"'},
        )
    if request.method not in READ_METHODS:
        _refuse_cross_site(request)
    return await handler(request)


def _token_free(request: web.Request) -> bool:
    path, method = request.path, request.method
    if method in ("GET", "HEAD") and (path in ("/__admin/health", "/__admin/ui") or path.startswith("/__admin/ui/")):
        return True
    return _is_sink_receiver(request)


def _is_sink_receiver(request: web.Request) -> bool:
    """`POST /__admin/sink/{name}`: the built-in receiver, where webhook deliveries arrive."""
    name = request.path.removeprefix(SINK_PREFIX)
    return request.method == "POST" and request.path.startswith(SINK_PREFIX) and bool(name) and "/" not in name


def _presents(request: web.Request, token: str) -> bool:
    given = request.headers.get(TOKEN_HEADER)
    if given is None:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        given = value.strip() if scheme.lower() == "bearer" else None
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


def _refuse_cross_site(request: web.Request) -> None:
    """403 for what a browser says came from another site; 415 for a body only a preflight-free page would send."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site.lower() not in TRUSTED_FETCH_SITES:
        raise Problem(403, f"Control-plane changes are refused from another site (Sec-Fetch-Site: {fetch_site}).")
    origin = request.headers.get("Origin")
    if origin is not None and not _same_origin(origin, request.host):
        raise Problem(403, "Control-plane changes are refused from another origin than the emulator's own.")
    if _is_sink_receiver(request):
        return  # a receiver records what a webhook sender sends, whatever its type
    mime = request.content_type.lower()
    json_like = _is_json(mime) or (mime in YAML_TYPES and request.path == "/__admin/fixtures")
    # A body must be JSON; an empty request may carry any type but those a page sends without a preflight.
    if (request.body_exists and not json_like) or ("Content-Type" in request.headers and mime in SIMPLE_TYPES):
        raise Problem(415, f"Control-plane changes take JSON bodies only: {JSON_HINT}.")


def _same_origin(origin: str, host: str) -> bool:
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and parts.netloc.lower() == host.lower()


def _is_json(mime: str) -> bool:
    return mime == "application/json" or (mime.startswith("application/") and mime.endswith("+json"))


admin_token_key: web.AppKey[str | None] = web.AppKey("admin_token_key")


def setup(app: web.Application, settings: Settings) -> None:
    """The access middleware (create_app places it: inside the edge, so refusals are problem+json with an id)."""
    app[admin_token_key] = settings.admin_token
    app.middlewares.append(admin_access_middleware)
