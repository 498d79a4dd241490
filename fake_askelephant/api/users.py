"""User routes (api.md §10): list and get, for owner lookup and expand=owner. Users come from keys and seed data."""

from __future__ import annotations

from aiohttp import web

from ..core import scopes, views
from . import context
from .context import query_params, requires
from .cursors import ListWalk
from .queries import DIRECTORY_LIST_PARAMS, QueryErrors, parse_list_query
from .responses import conditional_json

routes = web.RouteTableDef()


@routes.get("/api/v2/users")
@requires(scopes.USERS_READ)
@query_params(*DIRECTORY_LIST_PARAMS)
async def list_users(request: web.Request) -> web.Response:
    """search = name + email (api.md §8); filter[updated_at]."""
    principal = context.principal(request)
    walk = ListWalk.start(request, workspace_id=principal.workspace_id)
    errors = QueryErrors()
    query, _ = parse_list_query(walk.query, errors, after=walk.after)
    errors.raise_if_any()
    page = context.emulator(request).users.list_users(principal, query)
    return walk.respond(page, views.user)


@routes.get("/api/v2/users/{user_id}")
@requires(scopes.USERS_READ)
async def get_user(request: web.Request) -> web.Response:
    user = context.emulator(request).users.get_user(context.principal(request), request.match_info["user_id"])
    return conditional_json(request, views.user(user))
