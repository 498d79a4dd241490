"""The wire format's JSON Schemas and OpenAPI document, served for tools (schemathesis, codegen, validators)."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ...core.errors import NotFound
from ..responses import json_response


def _wire_schemas() -> ModuleType:
    """The installed copy (setup.py ships wire_schemas/ inside fake_askelephant), else a source checkout's.

    The files are the neutral home of the wire format, shared with the contract suites: the emulator never
    imports its judge (tests/test_architecture.py)."""
    try:
        return importlib.import_module("fake_askelephant.wire_schemas")
    except ModuleNotFoundError:
        return importlib.import_module("wire_schemas")


if TYPE_CHECKING:
    import wire_schemas as wire
else:
    wire = _wire_schemas()

routes = web.RouteTableDef()


def event_example(event_type: str) -> dict[str, Any]:
    """The `data` of an event type's example envelope in the served document (a copy)."""
    webhook = wire.openapi_document()["webhooks"][event_type]["post"]
    data: dict[str, Any] = webhook["requestBody"]["content"]["application/json"]["example"]["data"]
    return data


@routes.get("/__admin/schemas")
async def index(request: web.Request) -> web.Response:
    base = f"{request.scheme}://{request.host}/__admin/schemas/"
    return json_response(
        {"object": "list", "data": [{"name": n, "url": f"{base}{n}.json"} for n in wire.list_schemas()]}
    )


@routes.get("/__admin/schemas/{name}")
async def schema(request: web.Request) -> web.Response:
    name = request.match_info["name"].removesuffix(".json")
    if name not in wire.list_schemas():
        raise NotFound("schema", name)
    # Served with $id pointing here, so relative $refs resolve to the served siblings.
    return json_response(wire.load_schema(name, base_uri=f"{request.scheme}://{request.host}/__admin/schemas/"))


@routes.get("/__admin/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    """The generated document (api/openapi/), naming this server: the tokenUrl is relative to it."""
    doc = wire.openapi_document()
    doc["servers"] = [{"url": f"{request.scheme}://{request.host}/api", "description": "this emulator"}]
    return json_response(doc)
