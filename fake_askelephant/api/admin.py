"""Control plane under /__admin/ (pipeline.md §7): health, state, reset, clock, keys, events, pipeline."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .. import __version__
from ..core import views
from ..core.errors import NotFound, ValidationFailed
from ..core.rules import PipelineRule
from ..core.store import WORKSPACE_ID
from ..core.timefmt import format_ms
from ..emulator import NewUser
from . import context
from .admin_schemas import AdvanceIn, ApiKeyIn, PipelineOverridesIn, PipelineRuleIn, SetClockIn
from .directory_admin import directory_state
from .responses import json_response, read_body, unpaged_list

routes = web.RouteTableDef()


def clock_body(request: web.Request) -> dict[str, Any]:
    clock = context.emulator(request).clock
    return {"now": format_ms(clock.now_ms()), "time_scale": clock.time_scale}


@routes.get("/__admin/health")
async def health(request: web.Request) -> web.Response:
    emulator = context.emulator(request)
    return json_response({"status": "ok", "version": __version__, **clock_body(request), "seed": emulator.seed})


@routes.get("/__admin/clock")
async def get_clock(request: web.Request) -> web.Response:
    return json_response(clock_body(request))


@routes.post("/__admin/clock/advance")
async def advance_clock(request: web.Request) -> web.Response:
    """Runs everything due within `seconds`, in order, and returns once that work (webhooks too) is done."""
    body = await read_body(request, AdvanceIn, check_content_type=False)
    await context.emulator(request).advance(body.seconds)
    return json_response(clock_body(request))


@routes.post("/__admin/clock/set")
async def set_clock(request: web.Request) -> web.Response:
    body = await read_body(request, SetClockIn, check_content_type=False)
    emulator = context.emulator(request)
    if body.now < emulator.clock.now_ms():
        raise ValidationFailed.single(
            "now", "invalid_range", "The clock only moves forward; now is before the current time."
        )
    await emulator.set_now(body.now)
    return json_response(clock_body(request))


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
    body = await read_body(request, ApiKeyIn, check_content_type=False)
    user = NewUser(**body.user.model_dump()) if body.user else None
    key = context.emulator(request).create_api_key(body.scopes, body.workspace_id, user)
    return json_response(
        {"key": key.token, "workspace_id": key.workspace_id, "user_id": key.user_id, "scopes": sorted(key.scopes)},
        status=201,
    )


@routes.get("/__admin/state")
async def dump_state(request: web.Request) -> web.Response:
    emulator = context.emulator(request)
    workspaces = []
    for ws in emulator.store.workspaces.values():
        workspaces.append(
            {
                "id": ws.id,
                "users": [views.user(u) for u in ws.users.values()],
                "api_keys": [
                    {"key_id": k.key_id, "user_id": k.user_id, "scopes": sorted(k.scopes)}
                    for k in emulator.store.keys.values()
                    if k.workspace_id == ws.id
                ],
                "engagements": [
                    {
                        **views.engagement(e),
                        "external_id": e.external_id,
                        "source_system": e.source_system,
                        "contact_ids": e.contact_ids,
                        "company_ids": e.company_ids,
                        "tag_ids": e.tag_ids,
                        "pipeline": pipeline_state(request, e.id),
                    }
                    for e in ws.engagements.values()
                ],
                **directory_state(emulator, ws),
            }
        )
    return json_response({**clock_body(request), "seed": emulator.seed, "workspaces": workspaces})


@routes.get("/__admin/events")
async def list_events(request: web.Request) -> web.Response:
    emulator = context.emulator(request)
    found = emulator.bus.find(
        type_=request.query.get("type") or None,
        workspace_id=request.query.get("workspace_id") or None,
        resource_id=request.query.get("engagement_id") or None,
    )
    return unpaged_list(e.envelope() for e in found)


@routes.post("/__admin/engagements/{engagement_id}/pipeline")
async def override_pipeline(request: web.Request) -> web.Response:
    body = await read_body(request, PipelineOverridesIn, check_content_type=False)
    emulator = context.emulator(request)
    engagement_id = request.match_info["engagement_id"]
    if emulator.store.find_engagement_by_id(engagement_id) is None:
        raise NotFound("engagement", engagement_id)
    emulator.pipeline.override(engagement_id, body.to_core())
    return json_response(pipeline_state(request, engagement_id))


@routes.get("/__admin/engagements/{engagement_id}/pipeline")
async def get_pipeline(request: web.Request) -> web.Response:
    engagement_id = request.match_info["engagement_id"]
    if context.emulator(request).store.find_engagement_by_id(engagement_id) is None:
        raise NotFound("engagement", engagement_id)
    return json_response(pipeline_state(request, engagement_id))


@routes.delete("/__admin/engagements/{engagement_id}")
async def delete_engagement(request: web.Request) -> web.Response:
    emulator = context.emulator(request)
    engagement = emulator.store.find_engagement_by_id(request.match_info["engagement_id"])
    if engagement is None:
        raise NotFound("engagement", request.match_info["engagement_id"])
    emulator.engagements.delete_engagement(engagement)
    return web.Response(status=204)


@routes.post("/__admin/pipeline-rules")
async def create_pipeline_rule(request: web.Request) -> web.Response:
    body = await read_body(request, PipelineRuleIn, check_content_type=False)
    emulator = context.emulator(request)
    rule = emulator.rules.add(
        PipelineRule(
            id=emulator.ids.new("prl"),
            match=body.match.model_dump(exclude_none=True),
            pipeline=body.pipeline.to_core(),
            count=body.count,
            media=body.media,
            duration_seconds=body.duration_seconds,
        )
    )
    return json_response(rule_body(rule), status=201)


@routes.get("/__admin/pipeline-rules")
async def list_pipeline_rules(request: web.Request) -> web.Response:
    return unpaged_list(rule_body(r) for r in context.emulator(request).rules.rules)


@routes.delete("/__admin/pipeline-rules")
async def clear_pipeline_rules(request: web.Request) -> web.Response:
    context.emulator(request).rules.clear()
    return web.Response(status=204)


def rule_body(rule: PipelineRule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "match": rule.match,
        "count": rule.count,
        "media": rule.media,
        "duration_seconds": rule.duration_seconds,
        "hits": rule.hits,
    }


def pipeline_state(request: web.Request, engagement_id: str) -> dict[str, Any]:
    """Each stage's due (or actual) virtual time and state: pending, done, or skipped after a failure."""
    run = context.emulator(request).pipeline.runs.get(engagement_id)
    if run is None:
        return {"engagement_id": engagement_id, "finished": True, "stages": {}}
    return {
        "engagement_id": engagement_id,
        "finished": run.finished,
        "duration_seconds": run.duration,
        "stages": {stage: {"at": format_ms(at), "state": run.stage_state(stage)} for stage, at in run.plan().items()},
    }
