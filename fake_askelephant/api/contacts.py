"""Contact routes (api.md §10). Thin: parse, call the core, render."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from aiohttp import web

from ..core import scopes, views
from ..core.models import Contact, Principal
from . import context
from .context import query_params, requires
from .cursors import ListWalk
from .queries import DIRECTORY_LIST_PARAMS, QueryErrors, parse_list_query
from .responses import conditional_json, json_response, read_body
from .schemas import ContactPatchIn, CrmAssociationIn

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
    body = await read_body(request, ContactPatchIn)
    return _changed(request, context.emulator(request).contacts.update_contact, body.changes())


@routes.put("/api/v2/contacts/{contact_id}/crm_association")
@requires(scopes.CONTACTS_WRITE)
async def set_contact_crm_association(request: web.Request) -> web.Response:
    """Replaces the contact's single CRM association (path: emulator choice)."""
    body = await read_body(request, CrmAssociationIn)
    return _changed(request, context.emulator(request).contacts.set_crm_association, body.to_core())


def _changed(request: web.Request, change: Callable[[Principal, str, T], Contact], value: T) -> web.Response:
    """Apply a ContactService write to the contact in the path and render the result."""
    contact = change(context.principal(request), request.match_info["contact_id"], value)
    return json_response(views.contact(contact))
