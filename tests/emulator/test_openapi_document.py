"""The served OpenAPI document: generated from the server's own models and routes, current, exact where a
generator looks, and its examples true to the contract's independent JSON Schemas."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from contract_tests.schemas import validator as contract_validator
from fake_askelephant.api import context
from fake_askelephant.api.openapi import generate
from fake_askelephant.api.openapi.__main__ import TARGET, render
from fake_askelephant.api.openapi.build import public_routes
from fake_askelephant.api.openapi.operations import OPERATIONS
from fake_askelephant.app import create_app
from fake_askelephant.core.events import EVENT_TYPES
from tests.conftest import DEFAULT_KEY, Api, frozen_settings
from wire_schemas import openapi_document

METHODS = ("get", "post", "put", "patch", "delete")


@cache
def generated() -> dict[str, Any]:
    return generate()


def walk(node: Any, path: str = "#") -> Iterator[tuple[str, Any]]:
    yield path, node
    if isinstance(node, dict):
        for k, v in node.items():
            yield from walk(v, f"{path}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk(v, f"{path}/{i}")


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def test_the_committed_document_is_what_the_code_generates() -> None:
    """wire_schemas/openapi.json is what /__admin/openapi.json serves and the contract suites read."""
    assert TARGET.read_text(encoding="utf-8") == render(generated()), (
        "wire_schemas/openapi.json is stale: run `python -m fake_askelephant.api.openapi` and commit it"
    )


def test_every_public_route_is_documented_and_every_declaration_is_served() -> None:
    app = create_app(frozen_settings())
    served = {(method.lower(), path): handler.__name__ for path, method, handler in public_routes(app)}
    documented = {(m, p): op["operationId"] for p, m, op in operations(openapi_document())}
    assert documented == served
    assert set(OPERATIONS) == set(served.values()), "operations.py declares a route the app does not serve"


def test_documented_query_parameters_are_the_ones_each_route_reads() -> None:
    """operations.py against the routes' own @query_params declarations (what --strict enforces)."""
    app = create_app(frozen_settings())
    documented = {(m, p): op for p, m, op in operations(openapi_document())}
    for path, method, handler in public_routes(app):
        accepted = context.accepted_query_params(handler)
        op = documented[(method.lower(), path)]
        names = [p["name"] for p in op.get("parameters", []) if p["in"] == "query"]
        reads = [n for n in names if n in accepted or any(a.endswith("[") and n.startswith(a) for a in accepted)]
        assert reads == names, f"{method} {path} documents parameters it does not read"
        plain = {a for a in accepted if not a.endswith("[")}
        assert plain <= set(names), f"{method} {path} reads undocumented parameters {plain - set(names)}"


def test_document_is_valid_openapi_3_1_and_self_contained() -> None:
    doc = openapi_document()
    validate_openapi(doc)
    for where, node in walk(doc):
        if isinstance(node, dict):
            assert "allOf" not in node, where
            assert "$defs" not in node, where
            ref = node.get("$ref")
            if isinstance(ref, str):
                assert ref.startswith(("#/components/schemas/", "#/components/headers/")), where
            if node.get("type") == "array":
                assert "items" in node, f"{where}: array without items"


def test_timestamps_are_date_time_and_closed_sets_are_enums() -> None:
    schemas = openapi_document()["components"]["schemas"]
    engagement = schemas["Engagement"]["properties"]
    for name in ("created_at", "updated_at", "start_at", "engagement_at", "end_at"):
        assert engagement[name] == {"type": "string", "format": "date-time"}
    due_at = schemas["ActionItem"]["properties"]["due_at"]["anyOf"]  # a nullable timestamp
    assert due_at == [{"type": "string", "format": "date-time"}, {"type": "null"}]
    assert engagement["processing_status"]["enum"] == ["PENDING", "PROCESSING", "COMPLETED", "FAILED"]
    params = openapi_document()["paths"]["/v2/engagements/{engagement_id}"]["get"]["parameters"]
    expand = next(p for p in params if p["name"] == "expand")
    assert expand["schema"]["items"]["enum"][0] == "companies"
    assert expand["style"] == "form" and expand["explode"] is False


def test_optional_body_fields_are_nullable_only_where_the_server_takes_null() -> None:
    schemas = openapi_document()["components"]["schemas"]
    create = schemas["EngagementCreateIn"]["properties"]
    assert create["media_url"]["type"] == "string" and "anyOf" not in create["media_url"]  # null → 422
    patch = schemas["ContactPatchIn"]["properties"]
    assert {"type": "null"} in patch["first_name"]["anyOf"]  # null clears it
    assert all(
        "default" not in p or p["default"] is not None
        for s in schemas.values()
        for p in s.get("properties", {}).values()
    )


def test_request_defaults_are_words_so_generators_keep_those_fields_optional() -> None:
    """openapi-typescript 7 makes a property with `default` required: a create body without run_workflows, or a
    participant without is_owner, did not compile (tests/clients/test_typescript_client.py)."""
    doc = openapi_document()
    bodies = {
        op["requestBody"]["content"][m]["schema"]["$ref"]
        for _, _, op in operations(doc)
        if "requestBody" in op
        for m in op["requestBody"]["content"]
    }
    schemas = doc["components"]["schemas"]
    seen, stack = set(), [ref.rsplit("/", 1)[1] for ref in bodies]
    while stack:
        name = stack.pop()
        if name not in seen:
            seen.add(name)
            stack += re.findall(r'"#/components/schemas/(\w+)"', json.dumps(schemas[name]))
    assert {"EngagementCreateIn", "ParticipantIn", "SpeakerIn"} <= seen
    assert [(n, p) for n in seen for p, s in schemas[n].get("properties", {}).items() if "default" in s] == []
    create = schemas["EngagementCreateIn"]
    assert create["properties"]["run_workflows"]["description"] == "Default: true."
    assert "run_workflows" not in create["required"]


def test_every_status_has_its_schema_and_every_response_its_headers() -> None:
    doc = openapi_document()
    for path, method, op in operations(doc):
        statuses = set(op["responses"])
        assert "500" in statuses, (method, path)
        if op.get("security") != []:
            assert {"401", "403", "429"} <= statuses, (method, path)
        if "requestBody" in op:
            assert {"400", "413", "422"} <= statuses, (method, path)
        for status, response in op["responses"].items():
            assert "X-Request-Id" in response["headers"] and "X-Api-Version" in response["headers"], (path, status)
            if status.startswith(("4", "5")):
                assert response["content"]["application/problem+json"]["schema"] == {
                    "$ref": "#/components/schemas/Problem"
                }
        assert "Retry-After" in op["responses"].get("429", {"headers": {"Retry-After": 1}})["headers"]
    create = doc["paths"]["/v2/engagements"]["post"]["responses"]
    assert "Location" in create["201"]["headers"] and "Location" not in create["200"]["headers"]
    assert "ETag" in doc["paths"]["/v2/contacts/{contact_id}"]["get"]["responses"]["304"]["headers"]


def test_every_body_and_success_has_an_example_that_its_schema_accepts() -> None:
    doc = openapi_document()
    registry: Registry[Any] = Registry().with_resource("urn:doc", DRAFT202012.create_resource(doc))

    def check(schema: dict[str, Any], example: Any, where: str) -> None:
        ref = schema["$ref"].removeprefix("#")
        errors = list(Draft202012Validator({"$ref": f"urn:doc#{ref}"}, registry=registry).iter_errors(example))
        assert not errors, f"{where}: {errors[0].message}"

    for path, method, op in operations(doc):
        if "requestBody" in op:
            (content,) = op["requestBody"]["content"].values()
            check(content["schema"], content["example"], f"{method} {path} body")
        for status, response in op["responses"].items():
            for content in response.get("content", {}).values():
                if status.startswith("2"):
                    assert "example" in content, f"{method} {path} {status} has no example"
                if "example" in content:
                    check(content["schema"], content["example"], f"{method} {path} {status}")
    for event_type, item in doc["webhooks"].items():
        content = item["post"]["requestBody"]["content"]["application/json"]
        check(content["schema"], content["example"], event_type)


@pytest.mark.parametrize(
    ("path", "status", "contract_schema"),
    [
        ("/v2/engagements", "201", "engagement"),
        ("/v2/engagements/{engagement_id}", "200", "engagement"),
        ("/v2/engagements/{engagement_id}/transcript_timeline", "200", "transcript_timeline"),
        ("/v2/contacts/{contact_id}", "200", "contact"),
        ("/v2/companies/{company_id}", "200", "company"),
        ("/v2/users/{user_id}", "200", "user"),
        ("/v2/engagements", "422", "problem"),
    ],
)
def test_examples_pass_the_contract_suites_independent_schemas(path: str, status: str, contract_schema: str) -> None:
    """The examples are real responses; the contract's hand-written schemas (emulator profile) judge them."""
    item = openapi_document()["paths"][path]
    op = item["post"] if status in ("201", "422") else item["get"]
    (content,) = op["responses"][status]["content"].values()
    errors = [e.message for e in contract_validator(contract_schema).iter_errors(content["example"])]
    assert errors == []


def test_webhooks_carry_operation_ids_svix_headers_and_a_payload_per_event_type() -> None:
    webhooks = openapi_document()["webhooks"]
    assert list(webhooks) == list(EVENT_TYPES)
    ids = [w["post"]["operationId"] for w in webhooks.values()]
    assert len(set(ids)) == len(ids)
    for event_type, item in webhooks.items():
        post = item["post"]
        assert [p["name"] for p in post["parameters"]] == ["svix-id", "svix-timestamp", "svix-signature"]
        assert all(p["in"] == "header" and p["required"] for p in post["parameters"])
        schema = post["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
        assert openapi_document()["components"]["schemas"][schema]["properties"]["type"]["const"] == event_type


async def test_security_schemes_say_what_the_server_does(api: Api) -> None:
    schemes = openapi_document()["components"]["securitySchemes"]
    # Relative, so it resolves against whichever server the document is served from.
    assert schemes["oauth2"]["flows"]["clientCredentials"]["tokenUrl"] == "/api/v1/oauth/token"
    # The description says the raw key works, and Bearer + key too unless --strict: so it does.
    description = schemes["apiKey"]["description"]
    assert "sk-apik_<id>.<secret>" in description and "`Bearer sk-apik_…` unless started with --strict" in description
    for header in (DEFAULT_KEY, f"Bearer {DEFAULT_KEY}"):
        resp = await api.call("GET", "/api/v2/engagements", key=header)
        assert resp.status == 200
    create = openapi_document()["paths"]["/v2/engagements"]["post"]
    assert create["security"] == [{"apiKey": []}, {"oauth2": ["engagements:write"]}]
    assert openapi_document()["paths"]["/v1/oauth/token"]["post"]["security"] == []


async def test_served_document_names_the_server_it_is_served_from(api: Api) -> None:
    resp = await api.client.get("/__admin/openapi.json")
    doc = await resp.json()
    assert doc["servers"] == [{"url": str(api.client.make_url("/api")), "description": "this emulator"}]
    doc["servers"] = openapi_document()["servers"]
    assert doc == json.loads(TARGET.read_text(encoding="utf-8"))
