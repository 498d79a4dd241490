"""User routes (api.md §10): list and get, needed for owner lookup and expand=owner."""

from __future__ import annotations

from aiohttp import web

from ..core import scopes, views
from ..core.paging import Cursor, paginate
from . import context
from .queries import QueryErrors, parse_page_params
from .responses import conditional_json, list_response
from .routing import requires

routes = web.RouteTableDef()


@routes.get("/api/v2/users")
@requires(scopes.USERS_READ)
async def list_users(request: web.Request) -> web.Response:
    errors = QueryErrors()
    limit, order, cursor_token = parse_page_params(request.query, errors)
    errors.raise_if_any()
    cursor = Cursor.decode(cursor_token, order) if cursor_token else None
    principal = context.principal(request)
    search = (request.query.get("search") or "").casefold()
    users = context.emulator(request).store.workspace(principal.workspace_id).users.values()
    matching = (u for u in users if not search or search in u.email.casefold() or search in u.display_name.casefold())
    page = paginate(matching, lambda u: (u.updated_at, u.id), order=order, limit=limit, cursor=cursor)
    return list_response(page, views.user)


@routes.get("/api/v2/users/{user_id}")
@requires(scopes.USERS_READ)
async def get_user(request: web.Request) -> web.Response:
    principal = context.principal(request)
    user = context.emulator(request).store.get_user(principal.workspace_id, request.match_info["user_id"])
    return conditional_json(request, views.user(user))
