"""Company routes (api.md §10). Thin: parse, call the core, render."""

from __future__ import annotations

from aiohttp import web

from ..core import scopes, views
from ..core.directory import normalize_domain
from . import context
from .context import query_params, requires
from .cursors import ListWalk
from .queries import DIRECTORY_LIST_PARAMS, QueryErrors, parse_list_query
from .responses import conditional_json, json_response, read_body
from .schemas import CompanyCreateIn

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
