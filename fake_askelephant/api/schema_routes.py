"""The contract's JSON Schemas and OpenAPI document, served for tools (schemathesis, codegen, validators)."""

from __future__ import annotations

from aiohttp import web

from contract_tests.schemas import list_schemas, load_schema, openapi_document

from ..core.errors import NotFound
from .responses import json_response

routes = web.RouteTableDef()


@routes.get("/__admin/schemas")
async def index(request: web.Request) -> web.Response:
    base = f"{request.scheme}://{request.host}/__admin/schemas/"
    return json_response({"object": "list", "data": [{"name": n, "url": f"{base}{n}.json"} for n in list_schemas()]})


@routes.get("/__admin/schemas/{name}")
async def schema(request: web.Request) -> web.Response:
    name = request.match_info["name"].removesuffix(".json")
    if name not in list_schemas():
        raise NotFound("schema", name)
    # Served with $id pointing here, so relative $refs resolve to the served siblings.
    return json_response(load_schema(name, base_uri=f"{request.scheme}://{request.host}/__admin/schemas/"))


@routes.get("/__admin/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    doc = openapi_document()
    doc["servers"] = [{"url": f"{request.scheme}://{request.host}/api", "description": "this emulator"}]
    return json_response(doc)
