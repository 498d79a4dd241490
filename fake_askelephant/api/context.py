"""What the app and each request carry (typed keys and accessors), and route declarations the auth middleware reads."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from aiohttp import web
from aiohttp.typedefs import Handler

from ..config import Settings
from ..core.models import Principal
from ..emulator import Emulator

emulator_key = web.AppKey("emulator_key", Emulator)
settings_key = web.AppKey("settings_key", Settings)

request_id_key = web.RequestKey("request_id_key", str)
principal_key = web.RequestKey("principal_key", Principal)
# Set by `POST /v2/engagements` to the id it answered with (the inspector notes which request created what).
created_engagement_key = web.RequestKey("created_engagement_key", str)

# What the request did that the API tolerates but a client should hear about (issue 20 §9, §10): each becomes a
# `Warning: 299` response header and a journal note (problems.py stamp_headers, admin/journal.py).
warnings_key = web.RequestKey("warnings_key", list[str])

SCOPES_ATTR = "required_scopes"
PUBLIC_ATTR = "public_route"
QUERY_ATTR = "query_params"

T = TypeVar("T")


def peek(request: web.Request, key: web.RequestKey[T]) -> T | None:
    """`request.get(key)` for a key most requests do not carry (a warning, an injected fault): web.Request's `get` is
    `Mapping.get`, which raises and catches a KeyError for an absent key (~1 µs, several times a request)."""
    return request._state.get(key)  # aiohttp's own dict behind `request[key]`


def warn(request: web.Request, text: str) -> None:
    """Tell the client, on this response, about something tolerated (ASCII text: it goes into a header)."""
    request.setdefault(warnings_key, []).append(text)


def warnings(request: web.Request) -> list[str]:
    found = peek(request, warnings_key)
    return found if found is not None else []


def principal(request: web.Request) -> Principal:
    return request[principal_key]


def emulator(request: web.Request) -> Emulator:
    return request.app[emulator_key]


def request_id(request: web.Request) -> str:
    return request[request_id_key]


# Route declarations ---------------------------------------------------------------------------------


def requires(*scopes: str) -> Callable[[Handler], Handler]:
    """Declare the scopes a route needs (api.md §3.1); checked after auth, before the body is read."""

    def mark(handler: Handler) -> Handler:
        setattr(handler, SCOPES_ATTR, scopes)
        return handler

    return mark


def public(handler: Handler) -> Handler:
    """A /api route that takes no credential (the OAuth token endpoint)."""
    setattr(handler, PUBLIC_ATTR, True)
    return handler


def query_params(*names: str) -> Callable[[Handler], Handler]:
    """Declare the query parameters a route reads (a name ending in `[` is a prefix, e.g. `filter[`); anything else
    gets a warning, or a 400 under --strict (api/auth.py). Undeclared routes take no query parameters."""

    def mark(handler: Handler) -> Handler:
        setattr(handler, QUERY_ATTR, names)
        return handler

    return mark


def accepted_query_params(handler: object) -> tuple[str, ...]:
    return getattr(handler, QUERY_ATTR, ())


def required_scopes(handler: object) -> tuple[str, ...]:
    return getattr(handler, SCOPES_ATTR, ())


def is_public(handler: object) -> bool:
    return bool(getattr(handler, PUBLIC_ATTR, False))
