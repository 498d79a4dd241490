"""Raw-body fuzzing of every route that reads a body: whatever arrives, the answer is a 4xx problem (or a
success), never a 5xx. Non-JSON, invalid UTF-8, deep nesting, huge strings, wrong content types; the body
limit is 8 MiB (api.md §1), over it is 413."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fake_askelephant.app import MAX_BODY_BYTES
from tests.conftest import AUTH, OnAThread, seed_call, served_on_a_thread

ACCEPTED = {200, 201, 204, 400, 404, 409, 413, 415, 422}
TARGETS = [
    ("POST", "/api/v2/engagements"),
    ("POST", "/__admin/clock/advance"),
    ("POST", "/__admin/clock/set"),
    ("POST", "/__admin/api-keys"),
    ("POST", "/__admin/pipeline-rules"),
    ("POST", "/__admin/engagements/ngmt_00000000000000000000000000/pipeline"),
    ("POST", "/__admin/faults"),
    ("POST", "/__admin/snapshot"),
    ("POST", "/__admin/restore"),
    ("POST", "/__admin/webhook-endpoints"),
    ("PUT", "/__admin/sink/fuzz"),
]
CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    "application/problem+json",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz",
    "application/octet-stream",
    None,
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
# Objects shaped like real requests, with fields of the wrong type, to reach the field rules.
mutated_create = st.builds(
    lambda key, value: json.dumps({**seed_call(), key: value}).encode(),
    st.sampled_from(sorted(seed_call())),
    json_values,
)
deep = st.integers(min_value=1, max_value=5000).map(lambda n: b"[" * n + b"]" * n)
deep_objects = st.integers(min_value=1, max_value=3000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n)
bad_utf8 = st.binary(min_size=1, max_size=40).map(lambda b: b'{"title":"' + b"\xff\xfe" + b + b'"}')
huge_string = st.integers(min_value=100_000, max_value=2_000_000).map(
    lambda n: json.dumps({**seed_call(), "title": "x" * n, "transcript": "y" * n}).encode()
)
bodies = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(str.encode),
    json_values.map(lambda v: json.dumps(v).encode()),
    mutated_create,
    deep,
    deep_objects,
    bad_utf8,
    huge_string,
)


@pytest.fixture(scope="module")
def emulator() -> Iterator[OnAThread]:
    with served_on_a_thread() as running:
        yield running


def send(emulator: OnAThread, method: str, path: str, body: bytes, content_type: str | None) -> Any:
    headers = dict(AUTH)
    if content_type is not None:
        headers["Content-Type"] = content_type
    return requests.request(method, f"{emulator.origin}{path}", data=body, headers=headers, timeout=30)


def assert_handled(resp: Any) -> None:
    assert resp.status_code in ACCEPTED, (resp.status_code, resp.text[:500])
    assert resp.headers["X-Request-Id"].startswith("rid_")
    if resp.status_code >= 400:
        assert resp.headers["Content-Type"].startswith("application/problem+json")
        problem = resp.json()
        assert problem["status"] == resp.status_code and problem["request_id"] == resp.headers["X-Request-Id"]


@settings(max_examples=150, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck))
@given(target=st.sampled_from(TARGETS), body=bodies, content_type=st.sampled_from(CONTENT_TYPES))
def test_any_body_gets_a_4xx_never_a_5xx(
    emulator: OnAThread, target: tuple[str, str], body: bytes, content_type: str | None
) -> None:
    assert_handled(send(emulator, *target, body, content_type))


@pytest.mark.parametrize("target", TARGETS, ids=[f"{m} {p}" for m, p in TARGETS])
def test_over_8_mib_is_413(emulator: OnAThread, target: tuple[str, str]) -> None:
    resp = send(emulator, *target, b"[" + b" " * MAX_BODY_BYTES + b"]", "application/json")
    assert resp.status_code == 413 and resp.json()["type"].endswith("/payload_too_large")


def test_just_under_8_mib_is_read(emulator: OnAThread) -> None:
    body = json.dumps(seed_call(external_id="big")).encode()
    padded = body[:-1] + b" " * (MAX_BODY_BYTES - len(body)) + b"}"
    assert len(padded) == MAX_BODY_BYTES
    resp = send(emulator, "POST", "/api/v2/engagements", padded, "application/json")
    assert resp.status_code == 201


def test_no_bug_was_logged(emulator: OnAThread) -> None:
    """Runs after the fuzzing above (same module-scoped server): no job failed in the background."""
    assert emulator.emulator.scheduler.failures == []
