"""Engagement routes (api.md §5–6). Thin: parse, call the core, render."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..core import scopes, views
from ..core.directory import Directory
from ..core.models import Engagement
from . import context
from .context import requires
from .media_links import media_link
from .queries import QueryErrors, parse_engagement_query, parse_expand
from .responses import conditional_json, json_response, list_response, read_json_object
from .schemas import EngagementCreateIn, create_cross_field_errors
from .validation import validate

routes = web.RouteTableDef()


@routes.post("/api/v2/engagements")
@requires(scopes.ENGAGEMENTS_WRITE)
async def create_engagement(request: web.Request) -> web.Response:
    """auth → scope → body 400/413/415 → field rules 422 → idempotency 200 → media policy 422 → create 201."""
    data = await read_json_object(request)
    body = validate(EngagementCreateIn, data, create_cross_field_errors(data))
    emulator = context.emulator(request)
    engagement, created = await emulator.engagements.create_engagement(context.principal(request), body.to_draft())
    payload = views.engagement(engagement)
    if created:
        return json_response(payload, status=201, headers={"Location": f"/api/v2/engagements/{engagement.id}"})
    return json_response(payload)


@routes.get("/api/v2/engagements/{engagement_id}")
@requires(scopes.ENGAGEMENTS_READ)
async def get_engagement(request: web.Request) -> web.Response:
    errors = QueryErrors()
    expand = parse_expand(request.query, errors)
    errors.raise_if_any()
    principal = context.principal(request)
    scopes.require(principal, (scopes.EXPAND_SCOPES[x] for x in expand if x in scopes.EXPAND_SCOPES))
    engagement = context.emulator(request).engagements.get_engagement(principal, request.match_info["engagement_id"])
    return conditional_json(request, expanded(request, engagement, expand))


@routes.get("/api/v2/engagements")
@requires(scopes.ENGAGEMENTS_READ)
async def list_engagements(request: web.Request) -> web.Response:
    query, expand = parse_engagement_query(request.query)
    principal = context.principal(request)
    scopes.require(principal, (scopes.EXPAND_SCOPES[x] for x in expand if x in scopes.EXPAND_SCOPES))
    page = context.emulator(request).engagements.list_engagements(principal, query)
    return list_response(page, lambda e: expanded(request, e, expand))


@routes.get("/api/v2/engagements/{engagement_id}/transcript_timeline")
@requires(scopes.TRANSCRIPT_TIMELINES_READ)
async def get_transcript_timeline(request: web.Request) -> web.Response:
    principal = context.principal(request)
    engagement_id = request.match_info["engagement_id"]
    engagement = context.emulator(request).engagements.get_engagement(principal, engagement_id)
    if engagement.is_private:
        # Private timelines also need engagements:read + private:read (api.md §3.1).
        scopes.require(principal, (scopes.ENGAGEMENTS_READ,))
    _, timeline = context.emulator(request).engagements.get_transcript_timeline(principal, engagement_id)
    return json_response(views.transcript_timeline(engagement_id, timeline))


def expanded(request: web.Request, e: Engagement, expand: tuple[str, ...]) -> dict[str, Any]:
    """The engagement plus the requested expansions, in the order asked (api.md §6.2)."""
    out = views.engagement(e)
    if not expand:
        return out
    store = context.emulator(request).store
    for name in expand:
        if name == "transcript":
            out["transcript"] = views.transcript_text(e.timeline) if e.timeline else None
        elif name == "action_items":
            out["action_items"] = [views.action_item(a) for a in e.action_items]
        elif name == "signals":
            out["signals"] = [views.signal(s) for s in e.signals]
        elif name == "owner":
            ws = store.workspaces.get(e.workspace_id)
            owner = ws.users.get(e.owner_user_id) if ws else None
            out["owner"] = views.user(owner) if owner else None
        elif name == "media_url":
            out["media_url"] = media_link(request, e)
        else:
            out[name] = related(store.workspace(e.workspace_id).directory, e, name)
    return out


def related(d: Directory, e: Engagement, name: str) -> list[dict[str, Any]]:
    """`expand=companies|contacts|tags`: the linked records that still exist, in link order (api.md §6.2)."""
    if name == "companies":
        return [views.engagement_company(d.companies[i]) for i in e.company_ids if i in d.companies]
    if name == "contacts":
        return [views.contact(d.contacts[i]) for i in e.contact_ids if i in d.contacts]
    assert name == "tags", name
    return [views.tag(d.tags[i]) for i in e.tag_ids if i in d.tags]
