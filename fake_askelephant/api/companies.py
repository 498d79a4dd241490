"""Company routes (api.md §10). Thin: parse, call the core, render."""

from __future__ import annotations

from dataclasses import replace

from aiohttp import web

from ..core import scopes, views
from ..core.directory import normalize_domain
from ..core.engagements import EngagementQuery
from ..core.models import Principal
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


@routes.get("/api/v2/companies")
@requires(scopes.COMPANIES_READ)
@query_params(*DIRECTORY_LIST_PARAMS)
async def list_companies(request: web.Request) -> web.Response:
    """search = name; filter[domain][eq] normalised like created domains; CRM entries of type company only."""
    principal = context.principal(request)
    walk = ListWalk.start(request, workspace_id=principal.workspace_id)
    errors = QueryErrors()
    query, filters = parse_list_query(
        walk.query, errors, filters={"domain": ("eq",)}, crm_types=("company",), after=walk.after
    )
    domain = None
    if "eq" in filters.get("domain", {}):
        try:
            domain = normalize_domain(filters["domain"]["eq"])
        except ValueError:
            errors.add(
                "filter[domain][eq]", "invalid_type", "filter[domain][eq] must be a domain name such as acme.com."
            )
    errors.raise_if_any()
    page = context.emulator(request).companies.list_companies(principal, query, domain)
    return walk.respond(page, views.company)


@routes.post("/api/v2/companies")
@requires(scopes.COMPANIES_WRITE)
async def create_company(request: web.Request) -> web.Response:
    """body 400/415 → fields 422 → a domain already taken 409 → 201 (emulator choice)."""
    from .schemas import CompanyCreateIn

    body = await read_body(request, CompanyCreateIn)
    principal = context.principal(request)
    company = context.emulator(request).companies.create_company(principal.workspace_id, body.to_draft())
    return json_response(views.company(company), status=201)


@routes.get("/api/v2/companies/{company_id}")
@requires(scopes.COMPANIES_READ)
async def get_company(request: web.Request) -> web.Response:
    company = context.emulator(request).companies.get_company(
        context.principal(request), request.match_info["company_id"]
    )
    return conditional_json(request, views.company(company))


@routes.patch("/api/v2/companies/{company_id}")
@requires(scopes.COMPANIES_WRITE)
async def update_company(request: web.Request) -> web.Response:
    """body 400/415 → fields 422 → 404 → a domain another company holds 409 → 200 + v1.company.updated."""
    from .schemas import CompanyPatchIn

    body = await read_body(request, CompanyPatchIn)
    company = context.emulator(request).companies.patch_company(
        context.principal(request), request.match_info["company_id"], body.changes()
    )
    return json_response(views.company(company))


@routes.delete("/api/v2/companies/{company_id}")
@requires(scopes.COMPANIES_WRITE)
async def delete_company(request: web.Request) -> web.Response:
    """200 with the delete confirmation (as the tag's); contacts and engagements let go of it."""
    companies = context.emulator(request).companies
    company = companies.get_company(context.principal(request), request.match_info["company_id"])
    companies.delete_company(company)
    return json_response(views.deleted(company.id, "company"))


@routes.put("/api/v2/companies/{company_id}/crm_association")
@requires(scopes.COMPANIES_WRITE)
async def set_company_crm_association(request: web.Request) -> web.Response:
    """Replaces the company's single CRM association (set-company-crm-association)."""
    from .schemas import CrmAssociationIn

    body = await read_body(request, CrmAssociationIn)
    company = context.emulator(request).companies.set_crm_association(
        context.principal(request), request.match_info["company_id"], body.to_core()
    )
    return json_response(views.company(company))


@routes.delete("/api/v2/companies/{company_id}/crm_association")
@requires(scopes.COMPANIES_WRITE)
async def clear_company_crm_association(request: web.Request) -> web.Response:
    """No body; 200 with the company without its crm_association (as the contact's clear)."""
    company = context.emulator(request).companies.set_crm_association(
        context.principal(request), request.match_info["company_id"], None
    )
    return json_response(views.company(company))


@routes.get("/api/v2/companies/{company_id}/engagements")
@requires(scopes.ENGAGEMENTS_READ)
@query_params(*SCOPED_ENGAGEMENT_PARAMS)
async def list_company_engagements(request: web.Request) -> web.Response:
    """The engagements related to the company (scopes matrix: engagements:read, + the expand scopes)."""
    company_id = request.match_info["company_id"]

    def of_company(principal: Principal, query: EngagementQuery) -> EngagementQuery:
        context.emulator(request).companies.get_company(principal, company_id)  # 404 first
        return replace(query, company_ids=frozenset({company_id}))

    return engagement_list(request, filters=SCOPED_ENGAGEMENT_FILTERS, crm=False, scoped_to=of_company)
