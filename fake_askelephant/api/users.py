"""User routes (api.md §10): list and get, for owner lookup and expand=owner. Users come from keys and fixtures."""

from __future__ import annotations

from aiohttp import web

from ..core import scopes, views
from ..core.listing import list_page, search_hit
from ..core.models import User
from . import context
from .context import requires
from .listing import parse_list_query
from .queries import QueryErrors
from .responses import conditional_json, list_response

routes = web.RouteTableDef()


@routes.get("/api/v2/users")
@requires(scopes.USERS_READ)
async def list_users(request: web.Request) -> web.Response:
    """search = name + email (api.md §8); filter[updated_at]."""
    errors = QueryErrors()
    query, _ = parse_list_query(request.query, errors)
    errors.raise_if_any()
    principal = context.principal(request)
    users = context.emulator(request).store.workspace(principal.workspace_id).users.values()

    def matches(u: User) -> bool:
        return search_hit(query.search, u.email, u.display_name)

    return list_response(list_page(users, query, matches), views.user)


@routes.get("/api/v2/users/{user_id}")
@requires(scopes.USERS_READ)
async def get_user(request: web.Request) -> web.Response:
    principal = context.principal(request)
    user = context.emulator(request).store.get_user(principal.workspace_id, request.match_info["user_id"])
    return conditional_json(request, views.user(user))
