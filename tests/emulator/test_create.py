"""POST /v2/engagements: validation, idempotency, policies, owner matching (api.md §5)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fake_askelephant.core.errors import ValidationFailed
from fake_askelephant.core.events import ENGAGEMENT_CREATED
from fake_askelephant.core.timefmt import parse_iso
from tests.conftest import Api, problem, seed_call


async def stored_count(api: Api) -> int:
    return sum(len(ws.engagements) for ws in api.emulator.store.workspaces.values())


async def test_seed_example_201_then_200_unchanged(api: Api) -> None:
    first = await api.create()
    assert first.status == 201
    created = await first.json()
    assert first.headers["Location"] == f"/api/v2/engagements/{created['id']}"
    assert created["processing_status"] == "PENDING"
    assert created["external_url"] == "https://my-dialer.example.com/calls/call-20260513-001"
    assert created["owner_user_id"] == "usr_local"  # alice@example.com is not a user (api.md §5.1)
    # Documented non-null (issue 20 §3): the media's duration is known at create, so the 201 carries both.
    assert 60 <= created["duration_seconds"] <= 1200
    assert parse_iso(created["end_at"]) - parse_iso(created["start_at"]) == created["duration_seconds"] * 1000
    for hidden in ("source_system", "external_id", "participants", "run_workflows", "media_url", "transcript"):
        assert hidden not in created

    replay = await api.create(seed_call(title="Something else", external_url="wavv://call/9"))
    assert replay.status == 200
    assert "Location" not in replay.headers
    assert await replay.json() == created
    assert await stored_count(api) == 1
    # Alice and Jane became contacts on the 201; the replay emitted nothing (pipeline.md §3).
    assert [e.type for e in api.emulator.bus.log] == ["v1.contact.created", "v1.contact.created", ENGAGEMENT_CREATED]


async def test_replay_returns_current_state_after_the_pipeline_moved(api: Api) -> None:
    created = await (await api.create()).json()
    await api.advance(600)
    replay = await api.create()
    assert replay.status == 200
    body = await replay.json()
    assert body["id"] == created["id"]
    assert body["processing_status"] == "COMPLETED"
    events_before = len(api.emulator.bus.log)
    await api.create()
    assert len(api.emulator.bus.log) == events_before


async def test_concurrent_creates_with_one_external_id_make_one_engagement(api: Api) -> None:
    responses = await asyncio.gather(*(api.create() for _ in range(25)))
    statuses = sorted(r.status for r in responses)
    assert statuses == [200] * 24 + [201]
    ids = {(await r.json())["id"] for r in responses}
    assert len(ids) == 1
    assert await stored_count(api) == 1


async def test_concurrent_creates_wait_for_a_slow_first_create(api: Api) -> None:
    """With media probing (network I/O) in the way, duplicates must wait, not create twice."""
    gate = asyncio.Event()

    async def slow_probe(url: str) -> int:
        await gate.wait()
        return 321

    api.emulator.engagements._media_probe = slow_probe
    tasks = [asyncio.ensure_future(api.create()) for _ in range(5)]
    await asyncio.sleep(0.05)  # let every request reach the reservation; correctness does not depend on it
    gate.set()
    responses = await asyncio.gather(*tasks)
    assert sorted(r.status for r in responses) == [200, 200, 200, 200, 201]
    assert await stored_count(api) == 1


async def test_duplicates_of_a_create_whose_media_fetch_hangs_share_its_outcome(api: Api) -> None:
    """Issue #19: 4 duplicates of a create whose fetch hangs were answered one after another (15, 30, 45, 60 s),
    each fetching again. They wait for the first one's outcome instead: one fetch, the same 422 for all."""
    gate = asyncio.Event()
    fetches = 0

    async def hanging_probe(url: str) -> int:
        nonlocal fetches
        fetches += 1
        await gate.wait()  # the fetch that hangs until its deadline
        raise ValidationFailed.single("media_url", "media_unreachable", "media_url could not be fetched: timeout.")

    service = api.emulator.engagements
    service._media_probe = hanging_probe
    entered = 0
    original = service.create_engagement

    async def counted(*args: Any) -> Any:
        nonlocal entered
        entered += 1
        return await original(*args)

    service.create_engagement = counted  # type: ignore[method-assign,assignment]
    tasks = [asyncio.ensure_future(api.create()) for _ in range(4)]
    for _ in range(1000):  # until every request is inside the service: the first fetching, three waiting
        if entered == 4:
            break
        await asyncio.sleep(0)
    assert entered == 4
    gate.set()
    responses = await asyncio.gather(*tasks)
    for resp in responses:
        body = await problem(resp, 422, "validation_failed")
        assert body["errors"][0]["code"] == "media_unreachable"
    assert fetches == 1
    assert await stored_count(api) == 0
    gate.clear()
    service._media_probe = None  # the next create tries again for itself
    assert (await api.create()).status == 201


async def test_rejected_create_reserves_nothing(api: Api) -> None:
    bad = await api.create(media_url="http://recordings.example.com/a.mp3")
    body = await problem(bad, 422, "validation_failed")
    assert body["errors"] == [{"field": "media_url", "code": "insecure_scheme", "message": "media_url must use https."}]
    assert await stored_count(api) == 0
    good = await api.create()
    assert good.status == 201


async def test_replay_skips_media_policy_but_not_field_rules(api: Api) -> None:
    await api.create()
    # Lookup comes before the media policy (api.md §5.1)...
    assert (await api.create(media_url="https://127.0.0.1/a.mp3")).status == 200
    # ...but field rules run first.
    body = await problem(await api.create(title=""), 422, "validation_failed")
    assert [e["field"] for e in body["errors"]] == ["title"]


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("type", "FAX", "invalid_enum"),
        ("type", None, "invalid_type"),
        ("title", "", "too_short"),
        ("title", "x" * 501, "too_long"),
        ("title", 5, "invalid_type"),
        ("source_system", "x" * 101, "too_long"),
        ("external_id", "", "too_short"),
        ("external_id", "x" * 501, "too_long"),
        ("media_url", "ftp//nope", "invalid_url"),
        ("media_url", "https://a.example/" + "x" * 2048, "too_long"),
        ("media_url", None, "invalid_type"),
        ("external_url", "javascript:alert(1)", "unsafe_scheme"),
        ("external_url", "dialer.example.com/x", "invalid_url"),
        ("external_url", None, "invalid_type"),
        ("run_workflows", "true", "invalid_type"),
        ("is_private", 1, "invalid_type"),
        ("transcript", "x" * 900_001, "too_long"),
        ("transcript", "é" * 475_001, "too_long"),  # 950,002 UTF-8 bytes, under the char limit
        ("start_at", "2026-03-09T11:51:40", "invalid_type"),
        ("start_at", "yesterday", "invalid_type"),
        ("start_at", 1773057100, "invalid_type"),
        # Regression: these once overflowed datetime arithmetic (500) or later broke end_at formatting.
        ("start_at", "0001-01-01T00:00:00+01:00", "invalid_range"),
        ("start_at", "9999-12-31T23:59:59Z", "invalid_range"),
        ("start_at", "1969-12-31T23:59:59Z", "invalid_range"),
        ("participants", "alice", "invalid_type"),
        ("participants", [{"name": "x"}] * 101, "too_long"),
    ],
)
async def test_field_rules(api: Api, field: str, value: Any, code: str) -> None:
    body = await problem(await api.create(**{field: value}), 422, "validation_failed")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [(field, code)]
    assert body["errors"][0]["message"]
    assert await stored_count(api) == 0


@pytest.mark.parametrize("field", ["type", "title", "source_system", "external_id"])
async def test_required_fields(api: Api, field: str) -> None:
    payload = seed_call()
    del payload[field]
    body = await problem(await api.create(payload), 422, "validation_failed")
    assert body["errors"] == [{"field": field, "code": "required", "message": f"{field} is required."}]


async def test_media_url_or_timeline_is_required(api: Api) -> None:
    payload = seed_call()
    del payload["media_url"]
    body = await problem(await api.create(payload), 422, "validation_failed")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("media_url", "required")]


async def test_every_failing_field_is_listed_in_request_order(api: Api) -> None:
    payload = {
        "external_url": "data:text/html,x",
        "title": "",
        "type": "FAX",
        "source_system": "s",
        "external_id": "e",
        "media_url": "https://a.example/x.mp3",
        "participants": [{"name": "A", "is_owner": True}, {"email": "no-at-sign"}, {"name": "B", "is_owner": True}],
    }
    body = await problem(await api.create(payload), 422, "validation_failed")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [
        ("external_url", "unsafe_scheme"),
        ("title", "too_short"),
        ("type", "invalid_enum"),
        ("participants[1].email", "invalid_type"),
        ("participants", "multiple_owners"),
    ]


@pytest.mark.parametrize(
    ("participant", "field", "code"),
    [
        ({}, "participants[0]", "required"),
        ({"name": ""}, "participants[0].name", "too_short"),
        ({"name": "x" * 256}, "participants[0].name", "too_long"),
        ({"email": "a@b@c"}, "participants[0].email", "invalid_type"),
        ({"email": "@b"}, "participants[0].email", "invalid_type"),
        ({"email": "a@" + "b" * 320}, "participants[0].email", "too_long"),
        ({"phone": ""}, "participants[0].phone", "too_short"),
        ({"phone": "1" * 51}, "participants[0].phone", "too_long"),
        ({"name": "x", "is_owner": "yes"}, "participants[0].is_owner", "invalid_type"),
        ({"name": None}, "participants[0].name", "invalid_type"),
    ],
)
async def test_participant_rules(api: Api, participant: dict[str, Any], field: str, code: str) -> None:
    body = await problem(await api.create(participants=[participant]), 422, "validation_failed")
    assert (field, code) in [(e["field"], e["code"]) for e in body["errors"]]


@pytest.mark.parametrize(
    ("timeline", "field", "code"),
    [
        (
            {"speakers": [], "entries": [{"speaker_index": 0, "start_seconds": 0, "end_seconds": 1, "text": "x"}]},
            "transcript_timeline.speakers",
            "too_short",
        ),
        ({"speakers": [{"name": "A"}], "entries": []}, "transcript_timeline.entries", "too_short"),
        (
            {
                "speakers": [{"name": "A"}],
                "entries": [{"speaker_index": 1, "start_seconds": 0, "end_seconds": 1, "text": "x"}],
            },
            "transcript_timeline.entries[0].speaker_index",
            "invalid_range",
        ),
        (
            {
                "speakers": [{"name": "A"}],
                "entries": [{"speaker_index": 0, "start_seconds": 5, "end_seconds": 1, "text": "x"}],
            },
            "transcript_timeline.entries[0].end_seconds",
            "invalid_range",
        ),
        (
            {
                "speakers": [{"name": "A"}],
                "entries": [{"speaker_index": 0, "start_seconds": -1, "end_seconds": 1, "text": "x"}],
            },
            "transcript_timeline.entries[0].start_seconds",
            "invalid_range",
        ),
        (
            {
                "speakers": [{"name": "A"}],
                "entries": [{"speaker_index": 0, "start_seconds": 0, "end_seconds": 1, "text": ""}],
            },
            "transcript_timeline.entries[0].text",
            "too_short",
        ),
        (
            {
                "speakers": [{"name": "A"}],
                "entries": [{"speaker_index": 0, "start_seconds": 0, "end_seconds": 1, "text": "x", "sentiment": 2}],
            },
            "transcript_timeline.entries[0].sentiment",
            "invalid_range",
        ),
        (
            {
                "speakers": [{"name": "A"}],
                "entries": [{"speaker_index": 0, "start_seconds": 0, "end_seconds": 1e18, "text": "x"}],
            },
            "transcript_timeline.entries[0].end_seconds",
            "invalid_range",
        ),
        (
            {"speakers": [{}], "entries": [{"speaker_index": 0, "start_seconds": 0, "end_seconds": 1, "text": "x"}]},
            "transcript_timeline.speakers[0].name",
            "required",
        ),
    ],
)
async def test_transcript_timeline_rules(api: Api, timeline: dict[str, Any], field: str, code: str) -> None:
    payload = seed_call(transcript_timeline=timeline)
    del payload["media_url"]
    body = await problem(await api.create(payload), 422, "validation_failed")
    assert (field, code) in [(e["field"], e["code"]) for e in body["errors"]], body["errors"]


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/a.mp3",
        "https://[::1]/a.mp3",
        "https://localhost/a.mp3",
        "https://10.0.0.8/a.mp3",
        "https://169.254.169.254/latest",
        "https://0x7f.1/a.mp3",
    ],
)
async def test_private_media_hosts_are_rejected(api: Api, url: str) -> None:
    body = await problem(await api.create(media_url=url), 422, "validation_failed")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("media_url", "private_address")]


@pytest.mark.parametrize(
    "url", ["wavv://call/12345", "tel:+14155550100", "salesforce://Task/00T1", " https://x.example/a "]
)
async def test_deep_links_are_echoed_byte_for_byte(api: Api, url: str) -> None:
    body = await (await api.create(external_id=url, external_url=url)).json()
    assert body["external_url"] == url


async def test_external_url_is_omitted_when_not_given(api: Api) -> None:
    payload = seed_call()
    del payload["external_url"]
    body = await (await api.create(payload)).json()
    assert "external_url" not in body


async def test_owner_resolves_by_email_then_phone_and_skips_inactive_users(api: Api) -> None:
    emulator = api.emulator
    from fake_askelephant.core.users import NewUser

    agent = emulator.users.ensure_user("wrks_local", NewUser("agent@example.com", "Agent", "A", "MEMBER", "+15550001"))
    gone = emulator.users.ensure_user("wrks_local", NewUser("gone@example.com", "Gone", "G", "INACTIVE", "+15550002"))
    by_email = await (
        await api.create(
            external_id="1", participants=[{"name": "Agent", "email": "AGENT@example.com", "is_owner": True}]
        )
    ).json()
    assert by_email["owner_user_id"] == agent.id and by_email["host_user_id"] == agent.id
    by_phone = await (
        await api.create(
            external_id="2",
            participants=[{"name": "Agent", "email": "unknown@example.com", "phone": "+15550001", "is_owner": True}],
        )
    ).json()
    assert by_phone["owner_user_id"] == agent.id
    inactive = await (await api.create(external_id="3", participants=[{"email": gone.email, "is_owner": True}])).json()
    assert inactive["owner_user_id"] == "usr_local"


async def test_is_internal_only_when_every_participant_is_a_user(api: Api) -> None:
    internal = await (
        await api.create(external_id="i", participants=[{"email": "owner@example.com", "is_owner": True}])
    ).json()
    assert internal["is_internal"] is True
    external = await (await api.create(external_id="e")).json()
    assert external["is_internal"] is False
    nobody = await (await api.create(external_id="n", participants=[])).json()
    assert nobody["is_internal"] is False


@pytest.mark.parametrize(
    ("body", "headers", "status", "slug"),
    [
        (b"{not json", {"Content-Type": "application/json"}, 400, "invalid_request"),
        (b"[1, 2]", {"Content-Type": "application/json"}, 400, "invalid_request"),
        (b"", {"Content-Type": "application/json"}, 400, "invalid_request"),
        (b"\xff\xfe{}", {"Content-Type": "application/json"}, 400, "invalid_request"),
        (b"type=CALL", {"Content-Type": "application/x-www-form-urlencoded"}, 415, "unsupported_content_type"),
        (b"[" * 5000 + b"]" * 5000, {"Content-Type": "application/json"}, 400, "invalid_request"),
    ],
)
async def test_malformed_bodies(api: Api, body: bytes, headers: dict[str, str], status: int, slug: str) -> None:
    resp = await api.call("POST", "/api/v2/engagements", data=body, headers=headers)
    await problem(resp, status, slug)


async def test_body_over_8_mib_is_413(api: Api) -> None:
    big = b'{"title": "' + b"x" * (8 * 1024 * 1024) + b'"}'
    resp = await api.call("POST", "/api/v2/engagements", data=big, headers={"Content-Type": "application/json"})
    await problem(resp, 413, "payload_too_large")


async def test_unknown_fields_are_ignored(api: Api) -> None:
    assert (await api.create(seed_call(color="blue", nested={"a": 1}))).status == 201


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)
create_fields = st.sampled_from(
    [
        "type",
        "title",
        "source_system",
        "external_id",
        "media_url",
        "external_url",
        "run_workflows",
        "is_private",
        "transcript",
        "participants",
        "start_at",
        "transcript_timeline",
    ]
)


@given(st.dictionaries(create_fields, json_values, max_size=8))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
async def test_random_bodies_get_4xx_never_5xx(api: Api, payload: dict[str, Any]) -> None:
    resp = await api.create(payload)
    assert resp.status in (200, 201, 400, 422), await resp.text()
    if resp.status == 422:
        body = await resp.json()
        assert body["errors"] and all(e["field"] and e["code"] and e["message"] for e in body["errors"])


async def test_an_integral_number_is_an_integer_speaker_index(api: Api) -> None:
    """JSON Schema's integer (the served document) includes 0.0; 0.5 stays invalid_type (regression: 0.0 was 422)."""
    entry: dict[str, Any] = {"speaker_index": 0.0, "start_seconds": 0, "end_seconds": 1, "text": "x"}
    timeline = {"speakers": [{"name": "A"}], "entries": [entry]}
    assert (await api.create(external_id="t-int", transcript_timeline=timeline)).status == 201
    entry["speaker_index"] = 0.5
    body = await problem(await api.create(external_id="t-half", transcript_timeline=timeline), 422, "validation_failed")
    assert body["errors"][0]["field"] == "transcript_timeline.entries[0].speaker_index"
