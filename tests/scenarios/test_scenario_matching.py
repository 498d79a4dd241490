"""Assertions on JSON (subset, JSONPath, schema, headers) and `${…}` references."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from fake_askelephant.scenarios import refs
from fake_askelephant.scenarios.matching import (
    header_mismatches,
    json_equal,
    jsonpath_mismatches,
    schema_mismatches,
    subset_mismatches,
    unified_diff,
)
from fake_askelephant.scenarios.model import JsonPathCheck

ITEMS_JSON = '[{"id":"a1","title":"Send pricing"},{"id":"a2","title":"Book demo"}]'
ENGAGEMENT = {
    "id": "ngmt_1",
    "processing_status": "COMPLETED",
    "is_private": False,
    "duration_seconds": 400,
    "action_items": [{"id": "a1", "title": "Send pricing"}, {"id": "a2", "title": "Book demo"}],
    "signals": [],
    "external_url": None,
}


def messages(found: Sequence[object]) -> list[str]:
    return [str(m) for m in found]


def test_json_equality_is_json_not_python() -> None:
    assert json_equal(1, 1.0)
    assert not json_equal(True, 1) and not json_equal(0, False)
    assert not json_equal(None, False)
    assert json_equal({"a": [1, {"b": None}]}, {"a": [1.0, {"b": None}]})
    assert not json_equal({"a": 1}, {"a": 1, "b": 2})


def test_subset_allows_extra_keys_but_not_missing_or_different_ones() -> None:
    assert subset_mismatches({"id": "ngmt_1", "signals": []}, ENGAGEMENT) == []
    assert messages(
        subset_mismatches(
            {"processing_status": "PENDING", "owner": "usr_1", "is_private": 0, "external_url": None}, ENGAGEMENT
        )
    ) == [
        '$.processing_status: expected "PENDING", got "COMPLETED"',
        '$.owner: missing; expected "usr_1"',
        "$.is_private: expected 0, got false",
    ]


def test_subset_arrays_match_item_by_item_with_equal_length() -> None:
    assert subset_mismatches({"action_items": [{"title": "Send pricing"}, {}]}, ENGAGEMENT) == []
    assert messages(subset_mismatches({"action_items": [{"title": "Send pricing"}]}, ENGAGEMENT)) == [
        f"$.action_items: expected 1 item(s), got 2: {ITEMS_JSON}"
    ]
    assert messages(subset_mismatches({"action_items": [{}, {"title": "Call"}]}, ENGAGEMENT)) == [
        '$.action_items[1].title: expected "Call", got "Book demo"'
    ]


def test_unified_diff_shows_only_the_expected_shape() -> None:
    diff = unified_diff({"processing_status": "PENDING"}, ENGAGEMENT)
    assert '-  "processing_status": "PENDING"' in diff
    assert '+  "processing_status": "COMPLETED"' in diff
    assert not any("action_items" in line for line in diff)


def check(**fields: object) -> JsonPathCheck:
    return JsonPathCheck.model_validate(fields)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"path": "$.processing_status", "equals": "COMPLETED"}, []),
        ({"path": "$.action_items[*].id", "equals": ["a1", "a2"]}, []),
        ({"path": "$.action_items[0].id", "equals": ["a1"]}, []),
        ({"path": "$.action_items[*].id", "count": 2}, []),
        ({"path": "$.signals[*]", "exists": False}, []),
        ({"path": "$.action_items", "length": 2}, []),
        ({"path": "$.action_items[*].title", "matches": "^(Send|Book) "}, []),
        ({"path": "$.duration_seconds", "gte": 60, "lte": 1200}, []),
        ({"path": "$.processing_status", "one_of": ["COMPLETED", "FAILED"]}, []),
        ({"path": "$.action_items", "contains": {"title": "Book demo"}}, []),
        ({"path": "$.action_items[?(@.title == 'Book demo')].id", "equals": "a2"}, []),
        (
            {"path": "$.processing_status", "equals": "FAILED"},
            ['$.processing_status: expected "FAILED", got "COMPLETED"'],
        ),
        ({"path": "$.nothing", "equals": 1}, ["$.nothing: no value matched the path"]),
        ({"path": "$.signals[*]", "exists": True}, ["$.signals[*]: expected a match, found none"]),
        (
            {"path": "$.action_items", "length": 0},
            [f"$.action_items: expected length 0, got 2: {ITEMS_JSON}"],
        ),
        ({"path": "$.duration_seconds", "lte": 60}, ["$.duration_seconds: expected a number <= 60, got 400"]),
        ({"path": "$.is_private", "gte": 0}, ["$.is_private: expected a number >= 0, got false"]),
        (
            {"path": "$.processing_status", "not_equals": "COMPLETED"},
            ['$.processing_status: expected anything but "COMPLETED"'],
        ),
        (
            {"path": "$.action_items[*].title", "matches": "^Send"},
            ['$.action_items[*].title: expected a string matching /^Send/, got "Book demo"'],
        ),
    ],
)
def test_jsonpath_checks(fields: dict[str, object], expected: list[str]) -> None:
    assert messages(jsonpath_mismatches(check(**fields), ENGAGEMENT)) == expected


def test_a_jsonpath_check_must_check_something() -> None:
    with pytest.raises(ValueError, match="a jsonpath check needs one of"):
        check(path="$.a")


def test_schema_mismatches_name_the_failing_location() -> None:
    schema = {"type": "object", "properties": {"action_items": {"items": {"required": ["due_at"]}}}}
    assert messages(schema_mismatches(schema, ENGAGEMENT)) == [
        "$.action_items[0]: schema: 'due_at' is a required property",
        "$.action_items[1]: schema: 'due_at' is a required property",
    ]


def test_headers_are_case_insensitive_and_null_means_absent() -> None:
    headers = {"Content-Type": "application/json", "Location": "/api/v2/engagements/ngmt_1"}
    assert header_mismatches({"content-type": "application/json", "Retry-After": None}, headers) == []
    assert messages(header_mismatches({"Location": None, "Retry-After": "2"}, headers)) == [
        'headers.Location: expected no such header, got "/api/v2/engagements/ngmt_1"',
        'headers.Retry-After: expected "2", got (absent)',
    ]


ROOTS = {
    "submit": {"status": 201, "headers": {"Location": "/x/1"}, "body": {"id": "ngmt_1", "items": [{"n": 2}]}},
    "keys": {"default": "sk-apik_local.fakeaskelephant"},
}


def test_a_whole_string_reference_keeps_its_json_type() -> None:
    assert refs.interpolate("${submit.status}", ROOTS) == 201
    assert refs.interpolate("${submit.body.items}", ROOTS) == [{"n": 2}]
    assert refs.interpolate({"ids": ["${submit.body.id}"]}, ROOTS) == {"ids": ["ngmt_1"]}


def test_references_inside_text_are_spliced_and_dollar_dollar_escapes() -> None:
    assert refs.interpolate("/api/v2/engagements/${submit.body.id}?x=${submit.body.items[0].n}", ROOTS) == (
        "/api/v2/engagements/ngmt_1?x=2"
    )
    assert refs.interpolate("${submit.headers.location} and $${literal}", ROOTS) == "/x/1 and ${literal}"
    assert refs.interpolate("n=${submit.body.items}", ROOTS) == 'n=[{"n":2}]'


def test_escape_round_trips_through_interpolate() -> None:
    text = "a ${b} c $${d}"
    assert refs.interpolate(refs.escape(text), {}) == text


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("${missing.x}", "no step or root named 'missing'"),
        ("${submit.body.nope}", "submit.body has no 'nope' (it has id, items)"),
        ("${submit.body.items.3}", "submit.body.items is a list of 1; '3' is not an index in it"),
        ("${submit.status.x}", "submit.status is a number, so it has no 'x'"),
        ("${submit..body}", "malformed reference"),
    ],
)
def test_unresolvable_references_say_why(expr: str, message: str) -> None:
    with pytest.raises(refs.UnresolvedReference, match=message.replace("(", r"\(").replace(")", r"\)")):
        refs.interpolate(expr, ROOTS)
