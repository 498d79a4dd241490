"""The control plane's basics (pipeline.md §5, §7): health, the clock and scheduler, reset, credentials (API keys,
OAuth clients), the state dump and event log, pipeline overrides and rules, and deletes with no public route.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar

from aiohttp import web
from pydantic import Field, field_validator

from ... import __version__
from ...config import Settings
from ...core import views
from ...core.directory import Directory
from ...core.errors import NotFound, ValidationFailed
from ...core.models import USER_ROLES, Company, Contact
from ...core.pipeline import MAX_DELAY_S, STAGES, PipelineOverrides
from ...core.rules import PipelineRule
from ...core.store import DEFAULT_WORKSPACE, WORKSPACE_ID, Workspace
from ...core.timefmt import format_ms
from ...emulator import Emulator, NewUser
from .. import context
from ..responses import json_response, read_body, unpaged_list
from ..schemas import Timestamp, WireModel, reject_null
from .snapshots import persister_key

R = TypeVar("R", Contact, Company)


class UserIn(WireModel):
    email: str = Field(min_length=3, max_length=320)
    first_name: str | None = Field(None, max_length=255)
    last_name: str | None = Field(None, max_length=255)
    role: Literal[USER_ROLES] = "MEMBER"  # type: ignore[valid-type]
    phone: str | None = Field(None, min_length=1, max_length=50)


class ApiKeyIn(WireModel):
    scopes: list[str] = Field(min_length=1)
    workspace_id: str = Field("wrks_local", pattern=WORKSPACE_ID.pattern)
    user: UserIn | None = None


class AdvanceIn(WireModel):
    seconds: float = Field(ge=0, le=MAX_DELAY_S)


class SetClockIn(WireModel):
    now: Timestamp


class CannedActionItemIn(WireModel):
    title: str = Field(min_length=1, max_length=500)
    description: str | None = Field(None, max_length=2000)
    assignee_user_id: str | None = None
    due_at: Timestamp | None = None


class CannedSignalIn(WireModel):
    type: Literal["next_step", "objection", "pricing", "competitor", "buying_intent", "risk"] = "next_step"
    label: str | None = Field(None, min_length=1, max_length=200)
    quote: str | None = Field(None, min_length=1, max_length=2000)
    speaker_index: int | None = Field(None, ge=0)
    start_seconds: float | None = Field(None, ge=0)
    confidence: float | None = Field(None, ge=0, le=1)


class DelaysIn(WireModel):
    processing: float | None = Field(None, ge=0, le=MAX_DELAY_S)
    transcript: float | None = Field(None, ge=0, le=MAX_DELAY_S)
    action_items: float | None = Field(None, ge=0, le=MAX_DELAY_S)
    signals: float | None = Field(None, ge=0, le=MAX_DELAY_S)


class PipelineOverridesIn(WireModel):
    transcription: Literal["ok", "failed"] | None = None
    action_items: Literal["auto", "failed"] | list[CannedActionItemIn] | None = None
    signals: Literal["auto", "failed"] | list[CannedSignalIn] | None = None
    webhook: Literal["send", "suppress"] | None = None
    delays: DelaysIn | None = None

    _no_null = field_validator("transcription", "action_items", "signals", "webhook", "delays", mode="before")(
        reject_null
    )

    def to_core(self) -> PipelineOverrides:
        def insights(value: Any) -> Any:
            if isinstance(value, list):
                return [item.model_dump(exclude_none=True) for item in value]
            return value

        delays = {k: v for k, v in (self.delays.model_dump() if self.delays else {}).items() if v is not None}
        assert set(delays) <= set(STAGES)
        return PipelineOverrides(
            transcription=self.transcription,
            action_items=insights(self.action_items),
            signals=insights(self.signals),
            webhook=self.webhook,
            delays=delays,
        )


class RuleMatchIn(WireModel):
    external_id: str | None = None
    media_url: str | None = None
    workspace_id: str | None = None


class PipelineRuleIn(WireModel):
    match: RuleMatchIn = Field(default_factory=RuleMatchIn)
    count: int | None = Field(None, ge=1)
    pipeline: PipelineOverridesIn = Field(default_factory=PipelineOverridesIn)
    media: Literal["ok", "unreachable", "unsupported_media_type"] | None = None
    duration_seconds: int | None = Field(None, ge=1, le=86_400)


class OAuthClientIn(WireModel):
    scopes: list[str] = Field(min_length=1)
    workspace_id: str = Field(DEFAULT_WORKSPACE, pattern=WORKSPACE_ID.pattern)


routes = web.RouteTableDef()


def clock_body(request: web.Request) -> dict[str, Any]:
    clock = context.emulator(request).clock
    return {"now": format_ms(clock.now_ms()), "time_scale": clock.time_scale}


@routes.get("/__admin/health")
async def health(request: web.Request) -> web.Response:
    """`degraded` with the `reason` while the state file cannot be written (state-changing requests get 503)."""
    emulator = context.emulator(request)
    body: dict[str, Any] = {"status": "ok", "version": __version__, **clock_body(request), "seed": emulator.seed}
    unavailable = request.app[persister_key].unavailable if persister_key in request.app else None
    if unavailable is not None:
        body.update(status="degraded", reason=unavailable)
    return json_response(body)


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


@routes.get("/__admin/scheduler")
async def peek_scheduler(request: web.Request) -> web.Response:
    """When the next pending job is due, so a client can advance exactly to it (and see what it did)."""
    scheduler = context.emulator(request).scheduler
    due = scheduler.next_due_ms()
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


@routes.delete("/__admin/contacts/{contact_id}")
async def delete_contact(request: web.Request) -> web.Response:
    """Emits v1.contact.deleted; engagements linking it emit v1.engagement.updated."""
    emulator = context.emulator(request)
    contact = _held_anywhere(emulator, lambda d: d.contacts, "contact", request.match_info["contact_id"])
    emulator.contacts.delete_contact(contact)
    return web.Response(status=204)


@routes.delete("/__admin/companies/{company_id}")
async def delete_company(request: web.Request) -> web.Response:
    """Emits v1.company.deleted; its contacts and engagements let go of it (updated events)."""
    emulator = context.emulator(request)
    company = _held_anywhere(emulator, lambda d: d.companies, "company", request.match_info["company_id"])
    emulator.companies.delete_company(company)
    return web.Response(status=204)


def _held_anywhere(emulator: Emulator, table: Callable[[Directory], Mapping[str, R]], kind: str, record_id: str) -> R:
    """Admin lookups are not workspace-scoped: the record from the first workspace holding the id, else 404."""
    for ws in emulator.store.workspaces.values():
        record = table(ws.directory).get(record_id)
        if record is not None:
            return record
    raise NotFound(kind, record_id)


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


def directory_state(emulator: Emulator, ws: Workspace) -> dict[str, Any]:
    """The §10 part of `GET /__admin/state` for one workspace (OAuth client secrets never shown)."""
    d = ws.directory
    return {
        "contacts": [views.contact(c) for c in d.contacts.values()],
        "companies": [views.company(c) for c in d.companies.values()],
        "tags": [views.tag(t) for t in d.tags.values()],
        "transcript_comments": [views.transcript_comment(c) for c in d.transcript_comments.values()],
        "oauth_clients": [
            {"client_id": c.client_id, "user_id": c.user_id, "scopes": sorted(c.scopes)}
            for c in emulator.store.oauth_clients.values()
            if c.workspace_id == ws.id
        ],
    }


def setup(app: web.Application, settings: Settings) -> None:
    app.add_routes(routes)
