"""Engagement routes (api.md §5–6, §10): create, read, list, the transcript timeline, replacing contacts and tags,
transcript comments. Thin: parse, call the engagement service, render."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cache, partial
from typing import TYPE_CHECKING, Any

from aiohttp import hdrs, web

from ..core import scopes, views
from ..core.engagements import EngagementQuery
from ..core.errors import FieldError
from ..core.models import Engagement, EngagementDraft, Principal
from . import context
from .context import query_params, requires
from .cursors import ListWalk
from .media_links import media_link
from .queries import ENGAGEMENT_FILTERS, ENGAGEMENT_LIST_PARAMS, QueryErrors, parse_engagement_query, parse_expand
from .responses import conditional_json, json_response, read_body, read_json_object
from .validation import validate

if TYPE_CHECKING:
    from .schemas import EngagementCreateIn

# Handlers that read a body import its wire model (api/schemas.py) where they read it: pydantic loads with the
# first such request, not with the server (api/validation.py).
routes = web.RouteTableDef()


@routes.post("/api/v2/engagements")
@requires(scopes.ENGAGEMENTS_WRITE)
async def create_engagement(request: web.Request) -> web.Response:
    """auth → scope → body 400/413/415 → field rules 422 → idempotency 200 → media policy 422 → create 201."""
    model, cross_field_errors, plain_draft = _create_body()
    data = await read_json_object(request)
    draft = plain_draft(data) or validate(model, data, cross_field_errors(data)).to_draft()
    emulator = context.emulator(request)
    engagement, created, view = await emulator.engagements.create_engagement(context.principal(request), draft)
    request[context.created_engagement_key] = engagement.id
    if created:
        return json_response(view, status=201, headers={hdrs.LOCATION: f"/api/v2/engagements/{engagement.id}"})
    return json_response(view)


@cache  # the import statement itself costs a µs or two per create (relative-name resolution): once
def _create_body() -> tuple[
    type[EngagementCreateIn],
    Callable[[dict[str, Any]], list[FieldError]],
    Callable[[dict[str, Any]], EngagementDraft | None],
]:
    from .schemas import EngagementCreateIn, create_cross_field_errors, plain_create_draft

    return EngagementCreateIn, create_cross_field_errors, plain_create_draft


@routes.get("/api/v2/engagements/{engagement_id}")
@requires(scopes.ENGAGEMENTS_READ)
@query_params("expand")
async def get_engagement(request: web.Request) -> web.Response:
    errors = QueryErrors()
    expand = parse_expand(request.query, errors)
    errors.raise_if_any()
    principal = context.principal(request)
    scopes.require(principal, (scopes.EXPAND_SCOPES[x] for x in expand if x in scopes.EXPAND_SCOPES))
    service = context.emulator(request).engagements
    engagement = service.get_engagement(principal, request.match_info["engagement_id"])
    return conditional_json(request, service.expanded(engagement, expand, partial(media_link, request)))


@routes.get("/api/v2/engagements")
@requires(scopes.ENGAGEMENTS_READ)
@query_params(*ENGAGEMENT_LIST_PARAMS)
async def list_engagements(request: web.Request) -> web.Response:
    return engagement_list(request)


def engagement_list(
    request: web.Request,
    *,
    filters: Mapping[str, tuple[str, ...]] = ENGAGEMENT_FILTERS,
    crm: bool = True,
    scoped_to: Callable[[Principal, EngagementQuery], EngagementQuery] | None = None,
) -> web.Response:
    """A page of engagements: GET /v2/engagements, and the contact's and company's engagements, whose path names
    the contact or company (`scoped_to` looks it up, 404 first, and narrows the query to it)."""
    principal = context.principal(request)
    walk = ListWalk.start(request, workspace_id=principal.workspace_id)
    query, expand = parse_engagement_query(walk.query, walk.after, filters=filters, crm=crm)
    scopes.require(principal, (scopes.EXPAND_SCOPES[x] for x in expand if x in scopes.EXPAND_SCOPES))
    if scoped_to is not None:
        query = scoped_to(principal, query)
    service = context.emulator(request).engagements
    page = service.list_engagements(principal, query)
    link = partial(media_link, request)
    return walk.respond(page, lambda e: service.expanded(e, expand, link))


@routes.get("/api/v2/engagements/{engagement_id}/transcript_timeline")
@requires(scopes.TRANSCRIPT_TIMELINES_READ)
async def get_transcript_timeline(request: web.Request) -> web.Response:
    principal = context.principal(request)
    engagement_id = request.match_info["engagement_id"]
    engagement = context.emulator(request).engagements.get_engagement(principal, engagement_id)
    if engagement.is_private:
        # Private timelines also need engagements:read, and private:read unless the caller is a participant
        # (api.md §3.1; get_engagement hid it from everyone else).
        scopes.require(principal, (scopes.ENGAGEMENTS_READ,))
    _, timeline = context.emulator(request).engagements.get_transcript_timeline(principal, engagement_id)
    return json_response(views.transcript_timeline(engagement_id, timeline))


# EngagementService.replace_engagement_contacts / replace_engagement_tags: (principal, engagement id, ids).
Replace = Callable[[Principal, str, Sequence[str]], Engagement]


@routes.put("/api/v2/engagements/{engagement_id}/contacts")
@requires(scopes.ENGAGEMENTS_WRITE)
async def replace_engagement_contacts(request: web.Request) -> web.Response:
    """body → fields 422 → hidden 404 → private without private:write 403 → unknown ids 422 → 200 (api.md §3.1)."""
    from .schemas import ReplaceContactsIn

    body = await read_body(request, ReplaceContactsIn)
    return _replaced(request, context.emulator(request).engagements.replace_engagement_contacts, body.contact_ids)


@routes.put("/api/v2/engagements/{engagement_id}/tags")
@requires(scopes.ENGAGEMENTS_WRITE)
async def replace_engagement_tags(request: web.Request) -> web.Response:
    """As replace_engagement_contacts, for tags."""
    from .schemas import ReplaceTagsIn

    body = await read_body(request, ReplaceTagsIn)
    return _replaced(request, context.emulator(request).engagements.replace_engagement_tags, body.tag_ids)


def _replaced(request: web.Request, replace: Replace, ids: list[str]) -> web.Response:
    engagement = replace(context.principal(request), request.match_info["engagement_id"], ids)
    return json_response(views.engagement(engagement))


@routes.post("/api/v2/engagements/{engagement_id}/transcript_comments")
@requires(scopes.TRANSCRIPT_COMMENTS_WRITE, scopes.ENGAGEMENTS_READ)
async def create_transcript_comment(request: web.Request) -> web.Response:
    """201; 404 when hidden or before the transcript exists (emulator choice), 422 for bad fields."""
    from .schemas import TranscriptCommentIn

    body = await read_body(request, TranscriptCommentIn)
    comment = context.emulator(request).engagements.add_transcript_comment(
        context.principal(request),
        request.match_info["engagement_id"],
        body.body,
        body.transcript_timeline_id,
        body.anchor,
    )
    return json_response(views.transcript_comment(comment), status=201)


@routes.get("/api/v2/transcript_comments/{transcript_comment_id}")
@requires(scopes.TRANSCRIPT_COMMENTS_READ, scopes.ENGAGEMENTS_READ)
async def get_transcript_comment(request: web.Request) -> web.Response:
    """404 when unknown or on an engagement the caller may not view (scopes matrix: + engagements:read)."""
    comment = context.emulator(request).engagements.get_transcript_comment(
        context.principal(request), request.match_info["transcript_comment_id"]
    )
    return conditional_json(request, views.transcript_comment(comment))


@routes.patch("/api/v2/transcript_comments/{transcript_comment_id}")
@requires(scopes.TRANSCRIPT_COMMENTS_WRITE, scopes.ENGAGEMENTS_READ)
async def update_transcript_comment(request: web.Request) -> web.Response:
    """body, status (open | resolved: resolving records resolved_by / resolved_at), anchor."""
    from .schemas import TranscriptCommentPatchIn

    body = await read_body(request, TranscriptCommentPatchIn)
    comment = context.emulator(request).engagements.update_transcript_comment(
        context.principal(request), request.match_info["transcript_comment_id"], body.changes()
    )
    return json_response(views.transcript_comment(comment))


@routes.delete("/api/v2/transcript_comments/{transcript_comment_id}")
@requires(scopes.TRANSCRIPT_COMMENTS_WRITE, scopes.ENGAGEMENTS_READ)
async def delete_transcript_comment(request: web.Request) -> web.Response:
    """200 with the delete confirmation, as the tag's (emulator choice: that page was not captured)."""
    comment = context.emulator(request).engagements.delete_transcript_comment(
        context.principal(request), request.match_info["transcript_comment_id"]
    )
    return json_response(views.deleted(comment.id, "transcript_comment"))
