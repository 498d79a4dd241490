"""Contact routes (api.md §10). Thin: parse, call the core, render."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from aiohttp import web

from ..core import scopes, views
from ..core.engagements import EngagementQuery
from ..core.models import Contact, Principal
from . import context
from .context import query_params, requires
from .cursors import ListWalk
from .engagements import engagement_list
from .queries import (
    DIRECTORY_LIST_PARAMS,
    SCOPED_ENGAGEMENT_FILTERS,
    SCOPED_ENGAGEMENT_PARAMS,
    QueryErrors,
    parse_list_query,
)
from .responses import conditional_json, json_response, read_body

# Handlers that read a body import its wire model (api/schemas.py) where they read it: pydantic loads with the
# first such request, not with the server (api/validation.py).
routes = web.RouteTableDef()
T = TypeVar("T")


@routes.get("/api/v2/contacts")
@requires(scopes.CONTACTS_READ)
@query_params(*DIRECTORY_LIST_PARAMS)
async def list_contacts(request: web.Request) -> web.Response:
    """search = name + email; filter[updated_at]; filter[crm_associations] of object_type contact only."""
    principal = context.principal(request)
    walk = ListWalk.start(request, workspace_id=principal.workspace_id)
    errors = QueryErrors()
    query, _ = parse_list_query(walk.query, errors, crm_types=("contact",), after=walk.after)
    errors.raise_if_any()
    page = context.emulator(request).contacts.list_contacts(principal, query)
    return walk.respond(page, views.contact)


@routes.post("/api/v2/contacts")
@requires(scopes.CONTACTS_WRITE)
async def create_contact(request: web.Request) -> web.Response:
    """body 400/415 → fields 422 → unknown company_id 422 → an email taken 409 → 201 + v1.contact.created."""
    from .schemas import ContactCreateIn

    body = await read_body(request, ContactCreateIn)
    contact = context.emulator(request).contacts.create_contact_for(context.principal(request), body.to_draft())
    return json_response(views.contact(contact), status=201)


@routes.get("/api/v2/contacts/{contact_id}")
@requires(scopes.CONTACTS_READ)
async def get_contact(request: web.Request) -> web.Response:
    contact = context.emulator(request).contacts.get_contact(
        context.principal(request), request.match_info["contact_id"]
    )
    return conditional_json(request, views.contact(contact))


@routes.patch("/api/v2/contacts/{contact_id}")
@requires(scopes.CONTACTS_WRITE)
async def update_contact(request: web.Request) -> web.Response:
    """body 400/415 → fields 422 → 404 → unknown company_id 422 → email taken 409 → 200."""
    from .schemas import ContactPatchIn

    body = await read_body(request, ContactPatchIn)
    return _changed(request, context.emulator(request).contacts.update_contact, body.changes())


@routes.put("/api/v2/contacts/{contact_id}/crm_association")
@requires(scopes.CONTACTS_WRITE)
async def set_contact_crm_association(request: web.Request) -> web.Response:
    """Replaces the contact's single CRM association (path: emulator choice)."""
    from .schemas import CrmAssociationIn

    body = await read_body(request, CrmAssociationIn)
    return _changed(request, context.emulator(request).contacts.set_crm_association, body.to_core())


@routes.delete("/api/v2/contacts/{contact_id}/crm_association")
@requires(scopes.CONTACTS_WRITE)
async def clear_contact_crm_association(request: web.Request) -> web.Response:
    """No body; 200 with the contact, which no longer carries a crm_association (clear-contact-crm-association)."""
    return _changed(request, context.emulator(request).contacts.set_crm_association, None)


@routes.delete("/api/v2/contacts/{contact_id}")
@requires(scopes.CONTACTS_WRITE)
async def delete_contact(request: web.Request) -> web.Response:
    """200 with the delete confirmation (as the tag's); engagements let go of it, then v1.contact.deleted."""
    contacts = context.emulator(request).contacts
    contact = contacts.get_contact(context.principal(request), request.match_info["contact_id"])
    contacts.delete_contact(contact)
    return json_response(views.deleted(contact.id, "contact"))


@routes.get("/api/v2/contacts/{contact_id}/engagements")
@requires(scopes.ENGAGEMENTS_READ)
@query_params(*SCOPED_ENGAGEMENT_PARAMS)
async def list_contact_engagements(request: web.Request) -> web.Response:
    """The engagements the contact took part in (scopes matrix: engagements:read, + the expand scopes)."""
    contact_id = request.match_info["contact_id"]

    def of_contact(principal: Principal, query: EngagementQuery) -> EngagementQuery:
        context.emulator(request).contacts.get_contact(principal, contact_id)  # 404 first
        return replace(query, contact_ids=frozenset({contact_id}))

    return engagement_list(request, filters=SCOPED_ENGAGEMENT_FILTERS, crm=False, scoped_to=of_contact)


def _changed(request: web.Request, change: Callable[[Principal, str, T], Contact], value: T) -> web.Response:
    """Apply a ContactService write to the contact in the path and render the result."""
    contact = change(context.principal(request), request.match_info["contact_id"], value)
    return json_response(views.contact(contact))
