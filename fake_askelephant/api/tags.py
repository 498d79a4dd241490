"""Tag routes (api.md §10; the write routes are an emulator choice). Thin: parse, call the core, render."""

from __future__ import annotations

from aiohttp import web

from ..core import scopes, views
from . import context
from .context import query_params, requires
from .cursors import ListWalk
from .queries import TAG_LIST_PARAMS, QueryErrors, parse_list_query
from .responses import json_response, read_body

# Handlers that read a body import its wire model (api/schemas.py) where they read it: pydantic loads with the
# first such request, not with the server (api/validation.py).
routes = web.RouteTableDef()


@routes.get("/api/v2/tags")
@requires(scopes.TAGS_READ)
@query_params(*TAG_LIST_PARAMS)
async def list_tags(request: web.Request) -> web.Response:
    """No search on tags (api.md §8); filter[updated_at] as everywhere."""
    principal = context.principal(request)
    walk = ListWalk.start(request, workspace_id=principal.workspace_id)
    errors = QueryErrors()
    query, _ = parse_list_query(walk.query, errors, searchable=False, after=walk.after)
    errors.raise_if_any()
    page = context.emulator(request).tags.list_tags(principal, query)
    return walk.respond(page, views.tag)


@routes.post("/api/v2/tags")
@requires(scopes.TAGS_WRITE)
async def create_tag(request: web.Request) -> web.Response:
    """409 when a live tag already has the name (any case: emulator choice, the page names no rule)."""
    from .schemas import TagIn

    body = await read_body(request, TagIn)
    tag = context.emulator(request).tags.create_tag(context.principal(request).workspace_id, body.to_core())
    return json_response(views.tag(tag), status=201)


@routes.patch("/api/v2/tags/{tag_id}")
@requires(scopes.TAGS_WRITE)
async def update_tag(request: web.Request) -> web.Response:
    """Update a tag: a documented capability whose path no page gives (emulator-choices.md)."""
    from .schemas import TagPatchIn

    body = await read_body(request, TagPatchIn)
    tags = context.emulator(request).tags
    tag = tags.get_tag(context.principal(request), request.match_info["tag_id"])
    tags.update_tag(tag, body.changes())
    return json_response(views.tag(tag))


@routes.delete("/api/v2/tags/{tag_id}")
@requires(scopes.TAGS_WRITE)
async def delete_tag(request: web.Request) -> web.Response:
    """Soft delete → 200 `{id, object: "tag", deleted: true}` (delete-tag page); engagements let go of it."""
    tag = context.emulator(request).tags.delete_tag(context.principal(request), request.match_info["tag_id"])
    return json_response(views.deleted(tag.id, "tag"))
