"""Contact routes (api.md §10). Thin: parse, call the core, render."""

from __future__ import annotations

from aiohttp import web

from ..core import scopes, views
from . import context
from .directory_schemas import ContactPatchIn, CrmAssociationIn
from .listing import parse_list_query
from .queries import QueryErrors
from .responses import conditional_json, json_response, list_response, read_json_object
from .routing import requires
from .validation import validate

routes = web.RouteTableDef()


@routes.get("/api/v2/contacts")
@requires(scopes.CONTACTS_READ)
async def list_contacts(request: web.Request) -> web.Response:
    """search = name + email; filter[updated_at]; filter[crm_associations] of object_type contact only."""
    errors = QueryErrors()
    query, _ = parse_list_query(request.query, errors, crm_types=("contact",))
    errors.raise_if_any()
    page = context.emulator(request).contacts.list_contacts(context.principal(request), query)
    return list_response(page, views.contact)


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
    body = validate(ContactPatchIn, await read_json_object(request))
    contact = context.emulator(request).contacts.update_contact(
        context.principal(request), request.match_info["contact_id"], body.changes()
    )
    return json_response(views.contact(contact))


@routes.put("/api/v2/contacts/{contact_id}/crm_association")
@requires(scopes.CONTACTS_WRITE)
async def set_contact_crm_association(request: web.Request) -> web.Response:
    """Replaces the contact's single CRM association (path: emulator choice)."""
    body = validate(CrmAssociationIn, await read_json_object(request))
    contact = context.emulator(request).contacts.set_crm_association(
        context.principal(request), request.match_info["contact_id"], body.to_core()
    )
    return json_response(views.contact(contact))
