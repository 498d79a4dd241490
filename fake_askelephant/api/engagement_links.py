"""Routes under an engagement that change it or add to it: replace contacts / tags, comment on the transcript."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from aiohttp import web

from ..core import scopes, views
from ..core.models import Engagement, Principal
from . import context
from .context import requires
from .responses import json_response, read_body
from .schemas import ReplaceContactsIn, ReplaceTagsIn, TranscriptCommentIn

routes = web.RouteTableDef()
# EngagementLinks.replace_engagement_contacts / replace_engagement_tags: (principal, engagement id, ids).
Replace = Callable[[Principal, str, Sequence[str]], Engagement]


@routes.put("/api/v2/engagements/{engagement_id}/contacts")
@requires(scopes.ENGAGEMENTS_WRITE)
async def replace_engagement_contacts(request: web.Request) -> web.Response:
    """body → fields 422 → hidden 404 → private without private:write 403 → unknown ids 422 → 200 (api.md §3.1)."""
    body = await read_body(request, ReplaceContactsIn)
    return _replaced(request, context.emulator(request).links.replace_engagement_contacts, body.contact_ids)


@routes.put("/api/v2/engagements/{engagement_id}/tags")
@requires(scopes.ENGAGEMENTS_WRITE)
async def replace_engagement_tags(request: web.Request) -> web.Response:
    """As replace_engagement_contacts, for tags."""
    body = await read_body(request, ReplaceTagsIn)
    return _replaced(request, context.emulator(request).links.replace_engagement_tags, body.tag_ids)


def _replaced(request: web.Request, replace: Replace, ids: list[str]) -> web.Response:
    engagement = replace(context.principal(request), request.match_info["engagement_id"], ids)
    return json_response(views.engagement(engagement))


@routes.post("/api/v2/engagements/{engagement_id}/transcript_comments")
@requires(scopes.TRANSCRIPT_COMMENTS_WRITE, scopes.ENGAGEMENTS_READ)
async def create_transcript_comment(request: web.Request) -> web.Response:
    """201; 404 when hidden or before the transcript exists (emulator choice), 422 for bad fields."""
    body = await read_body(request, TranscriptCommentIn)
    comment = context.emulator(request).links.add_transcript_comment(
        context.principal(request), request.match_info["engagement_id"], body.text, body.start_seconds
    )
    return json_response(views.transcript_comment(comment), status=201)
