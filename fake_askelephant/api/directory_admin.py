"""Control plane for api.md §10: OAuth clients, seed data, and deletes that have no public route."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict
from typing import Any, TypeVar

from aiohttp import web
from pydantic import Field

from ..core import views
from ..core.directory import Directory
from ..core.errors import NotFound
from ..core.models import Company, Contact
from ..core.store import DEFAULT_WORKSPACE, WORKSPACE_ID, Workspace
from ..emulator import Emulator
from . import context
from .fixture_schemas import parse_fixtures
from .problems import Problem
from .responses import json_response, read_body, read_json_object
from .schemas import WireModel

YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
routes = web.RouteTableDef()
R = TypeVar("R", Contact, Company)


class OAuthClientIn(WireModel):
    scopes: list[str] = Field(min_length=1)
    workspace_id: str = Field(DEFAULT_WORKSPACE, pattern=WORKSPACE_ID.pattern)


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


@routes.post("/__admin/fixtures")
async def load_fixtures(request: web.Request) -> web.Response:
    """JSON, or YAML with a YAML Content-Type. Upsert; emits created/updated events; all or nothing."""
    if request.content_type in YAML_TYPES:
        import yaml  # only YAML bodies need it: ~0.015 s off start-up

        try:
            data = yaml.safe_load(await request.text())
        except yaml.YAMLError as exc:
            raise Problem(400, f"Request body is not valid YAML: {exc}") from exc
    else:
        data = await read_json_object(request, check_content_type=False)
    emulator = context.emulator(request)
    loaded = emulator.load_fixtures(parse_fixtures(data))
    return json_response({"object": "list", "data": [asdict(item) for item in loaded]})


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
