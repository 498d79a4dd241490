"""The HTTP edge. This package is the public API (/api/v2, api.md); the control plane is api/admin/.

context.py      AppKeys, request keys, and route declarations (`requires`, `public`)
auth.py         credential → rate limit → scopes for /api routes
problems.py     the one error → problem+json mapping, and the edge middleware (request ids)
schemas.py      the public wire models (pydantic, request bodies), imported where a body is read: pydantic
                loads with the first request that has one, not with the server (issue 22 §5)
validation.py   pydantic errors → errors[]; responses.py JSON bodies, lists, ETags, reading bodies
queries.py      query parameters: paging, filter[…], CRM filters, expand
engagements.py contacts.py companies.py tags.py users.py oauth.py media_links.py
                thin route handlers: parse, call the core service, render a core view
openapi/        the OpenAPI document, generated from schemas.py, the response models and the router
"""

from __future__ import annotations

from aiohttp import web

from ..config import Settings
from . import companies, contacts, engagements, media_links, oauth, tags, users
from .auth import RateLimiter, auth_middleware, rate_limiter_key
from .context import emulator_key

ROUTE_GROUPS = (engagements, users, contacts, companies, tags, oauth, media_links)


def setup(app: web.Application, settings: Settings) -> None:
    """The public API: the auth middleware (innermost, create_app places it), `--rate-limit`, the v2 routes."""
    limiter = None
    if settings.rate_limit is not None:
        limiter = app[rate_limiter_key] = RateLimiter(settings.rate_limit)
    app.middlewares.append(auth_middleware(app[emulator_key], settings.strict, limiter))
    for group in ROUTE_GROUPS:
        app.add_routes(group.routes)
