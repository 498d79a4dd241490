"""The shipped JSON Schemas and OpenAPI document: well-formed, resolvable, and true to the spec's examples."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from contract_tests.schemas import (
    EMULATOR_CHOICE,
    SCHEMA_BASE_URI,
    Profile,
    list_schemas,
    load_schema,
    openapi_document,
    registry,
    validator,
)
from tests.contract import spec_examples as ex

REQUIRED = {
    "engagement",
    "engagement_list",
    "list_page",
    "problem",
    "transcript_timeline",
    "action_item",
    "signal",
    "webhook_envelope",
    "event_engagement_created",
    "event_engagement_updated",
    "event_engagement_deleted",
    "event_engagement_transcript_timeline_completed",
    "event_contact_created",
    "event_company_updated",
    "event_tag_deleted",
    "engagement_create",
}


def _walk(node: Any):
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from _walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v)


def _errors(name: str, value: Any, profile: Profile = "emulator") -> list[str]:
    return [e.message for e in validator(name, profile).iter_errors(value)]


def test_every_required_schema_ships() -> None:
    assert set(list_schemas()) >= REQUIRED


@pytest.mark.parametrize("profile", ["emulator", "docs"])
@pytest.mark.parametrize("name", list_schemas())
def test_schema_is_valid_draft_2020_12_and_refs_resolve(name: str, profile: Profile) -> None:
    schema = load_schema(name, profile)
    Draft202012Validator.check_schema(schema)
    resolver = registry(profile).resolver(base_uri=SCHEMA_BASE_URI + f"{name}.json")
    for node in _walk(schema):
        if isinstance(node.get("$ref"), str):
            resolver.lookup(node["$ref"])


def test_docs_profile_drops_every_emulator_choice() -> None:
    for name in list_schemas():
        assert not any(n.get(EMULATOR_CHOICE) is True for n in _walk(load_schema(name, "docs"))), name
    assert any(n.get(EMULATOR_CHOICE) is True for n in _walk(load_schema("engagement")))


def test_unknown_schema_is_a_key_error() -> None:
    with pytest.raises(KeyError, match="no_such"):
        load_schema("no_such")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("engagement", ex.ENGAGEMENT_201),
        ("problem", ex.PROBLEM_422),
        ("action_item", ex.ACTION_ITEM),
        ("signal", ex.SIGNAL),
    ],
)
def test_spec_examples_validate_in_both_profiles(name: str, value: dict[str, Any]) -> None:
    assert _errors(name, value) == []
    assert _errors(name, value, "docs") == []


def test_worked_webhook_body_is_a_valid_transcript_event() -> None:
    event = json.loads(ex.WORKED_BODY)
    assert _errors("webhook_envelope", event) == []
    assert _errors("event_engagement_transcript_timeline_completed", event) == []
    assert _errors("event_engagement_created", event) != [], "a transcript event must not pass as engagement.created"


def test_emulator_choices_are_enforced_only_in_the_emulator_profile() -> None:
    not_from_the_api = {**ex.ENGAGEMENT_201, "data_source": "CRM"}
    assert _errors("engagement", not_from_the_api) != []
    assert _errors("engagement", not_from_the_api, "docs") == []
    seconds_only = {**ex.ENGAGEMENT_201, "created_at": "2026-03-09T11:59:00Z"}
    assert _errors("engagement", seconds_only) != []
    assert _errors("engagement", seconds_only, "docs") == []


@pytest.mark.parametrize(
    "broken",
    [
        {"processing_status": "DONE"},
        {"engagement_type": "VIDEO"},
        {"id": "eng_123"},
        {"object": "meeting"},
        {"created_at": "2026-03-09 11:59"},
        {"created_at": "2026-03-09T11:59:00.000+02:00"},
        {"is_private": "false"},
        {"end_at": None},  # documented non-null (issue 20 §3)
        {"duration_seconds": None},
    ],
)
def test_documented_engagement_facts_are_strict_in_both_profiles(broken: dict[str, Any]) -> None:
    value = {**ex.ENGAGEMENT_201, **broken}
    assert _errors("engagement", value) != []
    assert _errors("engagement", value, "docs") != []


@pytest.mark.parametrize("field", ["type", "title", "status", "detail", "request_id"])
def test_problem_requires_its_documented_members(field: str) -> None:
    assert _errors("problem", {k: v for k, v in ex.PROBLEM_422.items() if k != field}, "docs") != []


def test_list_page_cursor_is_null_iff_no_more() -> None:
    assert _errors("list_page", {"object": "list", "data": [], "has_more": True, "next_cursor": None}) != []
    assert _errors("list_page", {"object": "list", "data": [], "has_more": False, "next_cursor": "abc"}) != []
    assert (
        _errors(
            "engagement_list",
            {"object": "list", "data": [ex.ENGAGEMENT_201], "has_more": True, "next_cursor": "c"},
        )
        == []
    )


def test_openapi_document_is_valid_openapi_3_1() -> None:
    doc = openapi_document()
    assert doc["openapi"].startswith("3.1")
    validate_openapi(doc)


def test_bundled_openapi_refs_all_resolve_inside_the_document() -> None:
    doc = openapi_document()
    refs = [ref for node in _walk(doc) if isinstance(ref := node.get("$ref"), str)]
    assert refs
    for ref in refs:
        assert ref.startswith("#/"), ref
        target: Any = doc
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]


def test_openapi_document_is_self_contained() -> None:
    """The document is generated (tests/emulator/test_openapi_document.py): every schema a component of its own."""
    doc = openapi_document()
    refs = {n["$ref"] for n in _walk(doc) if isinstance(n.get("$ref"), str)}
    assert refs and all(r.startswith(("#/components/schemas/", "#/components/headers/")) for r in refs)
    # One webhook per event type the contract has a schema for (event_<resource>_<rest> ↔ v1.<resource>.<rest>).
    names = {"event_" + t.removeprefix("v1.").replace(".", "_") for t in doc["webhooks"]}
    assert names == {n for n in list_schemas() if n.startswith("event_")}


def test_v2_routes_are_in_the_openapi_document() -> None:
    paths = openapi_document()["paths"]
    for route in (
        "/v2/engagements",
        "/v2/engagements/{engagement_id}",
        "/v2/engagements/{engagement_id}/transcript_timeline",
    ):
        assert route in paths
    assert set(paths["/v2/engagements"]) == {"get", "post"}


def test_served_schemas_resolve_refs_against_their_served_folder() -> None:
    served = "http://127.0.0.1:8787/__admin/schemas/"
    schema = load_schema("engagement", base_uri=served)
    assert schema["$id"] == served + "engagement.json"
    resources = {served + f"{n}.json": load_schema(n, base_uri=served) for n in list_schemas()}
    registry_ = Registry().with_resources((uri, DRAFT202012.create_resource(doc)) for uri, doc in resources.items())
    assert list(Draft202012Validator(schema, registry=registry_).iter_errors(ex.ENGAGEMENT_201)) == []
