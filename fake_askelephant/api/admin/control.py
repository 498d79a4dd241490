"""The control plane's basics (pipeline.md §5, §7): the clock and scheduler, reset, credentials (API keys, OAuth
clients), the state dump and event log, pipeline overrides and rules, and deletes with no public route. Health is
in health.py: this module loads on the first request to one of its routes (api/admin/__init__.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

from aiohttp import web

from ...core import views
from ...core.errors import NotFound, ValidationFailed
from ...core.oauth import CODE_LIFETIME_S
from ...core.pipeline import (
    PipelineOverrides,
)
from ...core.rules import PipelineRule
from ...core.seed_data import apply_settings
from ...core.store import WORKSPACE_ID, Workspace
from ...core.timefmt import format_ms
from ...core.users import NewUser
from ...emulator import STATE_COLLECTIONS, STATE_PAGE
from .. import context
from ..cursors import ListWalk, codec_for
from ..queries import QueryErrors, once, parse_int
from ..responses import json_response, read_body, unpaged_list, versioned_json
from .health import clock_body

T = TypeVar("T")
ADMIN_PAGE_MAX = 1000


routes = web.RouteTableDef()


@routes.get("/__admin/clock")
async def get_clock(request: web.Request) -> web.Response:
    return json_response(clock_body(request))


@routes.post("/__admin/clock/advance")
async def advance_clock(request: web.Request) -> web.Response:
    """Runs everything due within `seconds`, in order, and returns once that work (webhooks too) is done."""
    from .bodies import AdvanceIn

    body = await read_body(request, AdvanceIn, check_content_type=False)
    await context.emulator(request).advance(body.seconds)
    return json_response(clock_body(request))


@routes.post("/__admin/clock/set")
async def set_clock(request: web.Request) -> web.Response:
    from .bodies import SetClockIn

    body = await read_body(request, SetClockIn, check_content_type=False)
    emulator = context.emulator(request)
    if body.now < emulator.clock.now_ms():
        raise ValidationFailed.single(
            "now", "invalid_range", "The clock only moves forward; now is before the current time."
        )
    await emulator.set_now(body.now)
    return json_response(clock_body(request))


@routes.get("/__admin/scheduler")
async def peek_scheduler(request: web.Request) -> web.Response:
    """When the next pending job is due, so a client can advance exactly to it (and see what it did)."""
    scheduler = context.emulator(request).scheduler
    due = await scheduler.next_due()
    return json_response(
        {
            "now": format_ms(scheduler.clock.now_ms()),
            "next_due_at": format_ms(due) if due is not None else None,
            "pending": len(scheduler),
        }
    )


@routes.post("/__admin/reset")
async def reset(request: web.Request) -> web.Response:
    workspace_id = request.query.get("workspace_id")
    if workspace_id is not None and not WORKSPACE_ID.match(workspace_id):
        raise ValidationFailed.single("workspace_id", "invalid_type", "workspace_id must look like wrks_….")
    everything = request.query.get("all", "").lower() in ("1", "true", "yes")
    context.emulator(request).reset(workspace_id, everything=everything)
    return json_response({"reset": workspace_id or "all", "all": everything})


@routes.post("/__admin/api-keys")
async def create_api_key(request: web.Request) -> web.Response:
    from .bodies import ApiKeyIn

    body = await read_body(request, ApiKeyIn, check_content_type=False)
    user = NewUser(**body.user.model_dump()) if body.user else None
    key = context.emulator(request).create_api_key(body.scopes, body.workspace_id, user)
    return json_response(
        {"key": key.token, "workspace_id": key.workspace_id, "user_id": key.user_id, "scopes": sorted(key.scopes)},
        status=201,
    )


@routes.post("/__admin/oauth-clients")
async def create_oauth_client(request: web.Request) -> web.Response:
    """→ 201 {client_id, client_secret, workspace_id, scopes}; workspace:admin or unknown scopes → 422."""
    from .bodies import OAuthClientIn

    body = await read_body(request, OAuthClientIn, check_content_type=False)
    client = context.emulator(request).create_oauth_client(body.scopes, body.workspace_id)
    return json_response(
        {
            "client_id": client.client_id,
            "client_secret": client.secret,
            "workspace_id": client.workspace_id,
            "scopes": sorted(client.scopes),
        },
        status=201,
    )


@routes.post("/__admin/oauth-clients/{client_id}/authorize")
async def authorize_oauth_client(request: web.Request) -> web.Response:
    """The authorization server's consent step, played for tests: the user approves, a single-use code comes back
    with the redirect a browser would follow (`location`). 404 unknown client; 422 unknown user or scope."""
    from .bodies import OAuthConsentIn

    body = await read_body(request, OAuthConsentIn, check_content_type=False)
    em = context.emulator(request)
    client = em.store.oauth_clients.get(request.match_info["client_id"])
    if client is None:
        raise NotFound("oauth client", request.match_info["client_id"])
    user_id = body.user_id or client.user_id
    if user_id not in em.store.workspace(client.workspace_id).users:
        raise ValidationFailed.single("user_id", "invalid_enum", f"{user_id} is not a user of {client.workspace_id}.")
    code = em.oauth.authorize(
        client.client_id, body.redirect_uri, user_id, body.scope, body.code_challenge, body.code_challenge_method
    )
    query = {"code": code.token, **({"state": body.state} if body.state is not None else {})}
    separator = "&" if urlsplit(body.redirect_uri).query else "?"
    return json_response(
        {
            "code": code.token,
            "expires_in": CODE_LIFETIME_S,
            "redirect_uri": body.redirect_uri,
            "location": body.redirect_uri + separator + urlencode(query),
            "user_id": user_id,
            "scope": " ".join(sorted(code.scopes)),
            "code_challenge_method": code.code_challenge_method,
        },
        status=201,
    )


@routes.get("/__admin/state")
async def dump_state(request: web.Request) -> web.Response:
    """Per workspace, the newest `limit` (default 100, at most 1000) of each collection, its count, and the cursor
    that continues it at /__admin/state/{workspace_id}/{collection}; ETag = the state's version (304 unchanged)."""
    once(request.query)
    errors = QueryErrors()
    limit = parse_int(request.query, "limit", errors, low=1, high=ADMIN_PAGE_MAX) or STATE_PAGE
    errors.raise_if_any()
    emulator = context.emulator(request)
    workspace_id = request.query.get("workspace_id") or None
    codec = codec_for(emulator.seed)

    def build() -> dict[str, Any]:
        state = emulator.state(limit, workspace_id)
        for ws in state["workspaces"]:
            after = ws.pop("after")
            ws["next_cursors"] = {
                name: codec.encode(f"|/__admin/state/{ws['id']}/{name}", (), position) if position else None
                for name, position in after.items()
            }
        return state

    return versioned_json(request, emulator.state_version(), build)


@routes.get("/__admin/state/{workspace_id}/{collection}")
async def state_collection(request: web.Request) -> web.Response:
    """One page of one collection of /__admin/state, newest first, with its `count`."""
    walk = ListWalk.start(request)
    errors = QueryErrors()
    limit = parse_int(walk.query, "limit", errors, low=1, high=ADMIN_PAGE_MAX) or STATE_PAGE
    errors.raise_if_any()
    emulator = context.emulator(request)
    collection = request.match_info["collection"]
    if collection not in STATE_COLLECTIONS:
        raise NotFound(f"No collection {collection!r} in the state; one of: {', '.join(STATE_COLLECTIONS)}.")
    ws = _workspace(request)

    def build() -> dict[str, Any]:
        page, count = emulator.state_page(ws, collection, limit, walk.after)
        token = walk.codec.encode(walk.scope, walk.bound, page.next_after) if page.next_after else None
        return {"object": "list", "data": page.items, "has_more": page.has_more, "next_cursor": token, "count": count}

    return versioned_json(request, emulator.state_version(), build)


EVENT_ORDERS = ("created_at:asc", "created_at:desc")


@routes.get("/__admin/events")
async def list_events(request: web.Request) -> web.Response:
    """The event log, paged: `order` created_at:asc (default, emission order) or created_at:desc (newest first),
    `limit` (default and at most 1000), `cursor`; filters type, workspace_id, engagement_id; `count` = events
    held. A page reads at most the log (bounded) and builds only its own envelopes."""
    walk = ListWalk.start(request)
    q = walk.query
    errors = QueryErrors()
    limit = parse_int(q, "limit", errors, low=1, high=ADMIN_PAGE_MAX) or ADMIN_PAGE_MAX
    order = q.get("order") or EVENT_ORDERS[0]
    if order not in EVENT_ORDERS:
        errors.add("order", "invalid_enum", f"order must be one of {', '.join(EVENT_ORDERS)}.")
    errors.raise_if_any()
    emulator = context.emulator(request)

    def build() -> dict[str, Any]:
        bus = emulator.bus
        page = bus.page(
            type_=q.get("type") or None,
            workspace_id=q.get("workspace_id") or None,
            resource_id=q.get("engagement_id") or None,
            newest_first=order == "created_at:desc",
            limit=limit,
            after_id=walk.after[1] if walk.after else None,
        )
        token = walk.codec.encode(walk.scope, walk.bound, page.next_after) if page.next_after else None
        return {
            "object": "list",
            "data": [e.envelope() for e in page.items],
            "has_more": page.has_more,
            "next_cursor": token,
            "count": len(bus.log),
        }

    return versioned_json(request, str(emulator.write_set.version), build)


@routes.post("/__admin/engagements/{engagement_id}/pipeline")
async def override_pipeline(request: web.Request) -> web.Response:
    from .bodies import PipelineOverridesIn

    body = await read_body(request, PipelineOverridesIn, check_content_type=False)
    emulator = context.emulator(request)
    engagement = _found(request, "engagement", emulator.store.find_engagement_by_id)
    emulator.pipeline.override(engagement.id, body.to_core())
    return json_response(emulator.pipeline.state(engagement.id))


@routes.get("/__admin/engagements/{engagement_id}/pipeline")
async def get_pipeline(request: web.Request) -> web.Response:
    emulator = context.emulator(request)
    engagement = _found(request, "engagement", emulator.store.find_engagement_by_id)
    return json_response(emulator.pipeline.state(engagement.id))


@routes.delete("/__admin/engagements/{engagement_id}")
async def delete_engagement(request: web.Request) -> web.Response:
    emulator = context.emulator(request)
    emulator.engagements.delete_engagement(_found(request, "engagement", emulator.store.find_engagement_by_id))
    return web.Response(status=204)


@routes.delete("/__admin/contacts/{contact_id}")
async def delete_contact(request: web.Request) -> web.Response:
    """Emits v1.contact.deleted; engagements linking it emit v1.engagement.updated."""
    emulator = context.emulator(request)
    emulator.contacts.delete_contact(_found(request, "contact", emulator.store.find_contact_by_id))
    return web.Response(status=204)


@routes.delete("/__admin/companies/{company_id}")
async def delete_company(request: web.Request) -> web.Response:
    """Emits v1.company.deleted; its contacts and engagements let go of it (updated events)."""
    emulator = context.emulator(request)
    emulator.companies.delete_company(_found(request, "company", emulator.store.find_company_by_id))
    return web.Response(status=204)


@routes.put("/__admin/engagements/{engagement_id}/crm_association")
async def set_engagement_crm_association(request: web.Request) -> web.Response:
    """The CRM record an engagement was matched to (the emulator has no CRM integration): shown on the engagement,
    and the deal (or company, contact) its CRM filter resolves to (issue 20 §5, §8). Emits v1.engagement.updated."""
    from ..schemas import CrmAssociationIn

    body = await read_body(request, CrmAssociationIn, check_content_type=False)
    emulator = context.emulator(request)
    engagement = _found(request, "engagement", emulator.store.find_engagement_by_id)
    emulator.engagements.set_crm_association(engagement, body.to_core())
    return json_response(views.engagement(engagement))


@routes.delete("/__admin/engagements/{engagement_id}/crm_association")
async def clear_engagement_crm_association(request: web.Request) -> web.Response:
    emulator = context.emulator(request)
    engagement = _found(request, "engagement", emulator.store.find_engagement_by_id)
    emulator.engagements.set_crm_association(engagement, None)
    return json_response(views.engagement(engagement))


@routes.get("/__admin/workspaces/{workspace_id}")
async def get_workspace_settings(request: web.Request) -> web.Response:
    return json_response(workspace_settings(_workspace(request)))


@routes.patch("/__admin/workspaces/{workspace_id}")
async def update_workspace_settings(request: web.Request) -> web.Response:
    """`{"is_private_default": true}`: engagements created without `is_private` are private (api.md §5)."""
    from .seed_data import WorkspaceSettingsIn

    body = await read_body(request, WorkspaceSettingsIn, check_content_type=False)
    ws = _workspace(request)
    apply_settings(context.emulator(request).store, ws, body.to_core())
    return json_response(workspace_settings(ws))


def _workspace(request: web.Request) -> Workspace:
    workspace_id = request.match_info["workspace_id"]
    ws = context.emulator(request).store.workspaces.get(workspace_id)
    if ws is None:
        raise NotFound("workspace", workspace_id)
    return ws


def workspace_settings(ws: Workspace) -> dict[str, Any]:
    return {"object": "workspace_settings", "workspace_id": ws.id, "is_private_default": ws.private_by_default}


def _found(request: web.Request, kind: str, find: Callable[[str], T | None]) -> T:
    """The record named by the path's `{kind}_id`, in whichever workspace holds it (admin lookups are not
    workspace-scoped), else 404."""
    record_id = request.match_info[f"{kind}_id"]
    record = find(record_id)
    if record is None:
        raise NotFound(kind, record_id)
    return record


@routes.post("/__admin/pipeline-rules")
async def create_pipeline_rule(request: web.Request) -> web.Response:
    from .bodies import PipelineRuleIn

    body = await read_body(request, PipelineRuleIn, check_content_type=False)
    overrides = body.pipeline.to_core()
    if overrides == PipelineOverrides() and body.media is None and body.duration_seconds is None:
        # `{}` matched every create and changed nothing but the media check: it silently switched --media-fetch off.
        raise ValidationFailed.single(
            "pipeline",
            "required",
            "A pipeline rule must change something: give pipeline, media or duration_seconds "
            '(media "ok" skips the media check and nothing else).',
        )
    emulator = context.emulator(request)
    rule = emulator.rules.arm(
        body.match.model_dump(exclude_none=True),
        overrides,
        count=body.count,
        media=body.media,
        duration_seconds=body.duration_seconds,
    )
    return json_response(rule_body(rule, request.app[context.settings_key].media_fetch), status=201)


@routes.get("/__admin/pipeline-rules")
async def list_pipeline_rules(request: web.Request) -> web.Response:
    once(request.query)
    fetching = request.app[context.settings_key].media_fetch
    return unpaged_list(rule_body(r, fetching) for r in context.emulator(request).rules.rules)


@routes.delete("/__admin/pipeline-rules")
async def clear_pipeline_rules(request: web.Request) -> web.Response:
    context.emulator(request).rules.clear()
    return web.Response(status=204)


def rule_body(rule: PipelineRule, media_fetch: bool = False) -> dict[str, Any]:
    """`skips_media_fetch`: with --media-fetch, the creates this rule matches are not fetched (it scripts them)."""
    return {
        "id": rule.id,
        "match": rule.match,
        "count": rule.count,
        "media": rule.media,
        "duration_seconds": rule.duration_seconds,
        "hits": rule.hits,
        "skips_media_fetch": media_fetch,
    }
