"""Route declarations carry their scopes, so the auth middleware can check them before the handler runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SCOPES_ATTR = "required_scopes"
PUBLIC_ATTR = "public_route"


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


def required_scopes(handler: object) -> tuple[str, ...]:
    return getattr(handler, SCOPES_ATTR, ())


def is_public(handler: object) -> bool:
    return bool(getattr(handler, PUBLIC_ATTR, False))
