"""User routes (api.md §10): list and get, for owner lookup and expand=owner. Users come from keys and seed data."""

from __future__ import annotations

from aiohttp import web

from ..core import scopes, views
from . import context
from .context import requires
from .queries import QueryErrors, parse_list_query
from .responses import conditional_json, list_response

routes = web.RouteTableDef()


@routes.get("/api/v2/users")
@requires(scopes.USERS_READ)
async def list_users(request: web.Request) -> web.Response:
    """search = name + email (api.md §8); filter[updated_at]."""
    errors = QueryErrors()
    query, _ = parse_list_query(request.query, errors)
    errors.raise_if_any()
    page = context.emulator(request).users.list_users(context.principal(request), query)
    return list_response(page, views.user)


@routes.get("/api/v2/users/{user_id}")
@requires(scopes.USERS_READ)
async def get_user(request: web.Request) -> web.Response:
    user = context.emulator(request).users.get_user(context.principal(request), request.match_info["user_id"])
    return conditional_json(request, views.user(user))
