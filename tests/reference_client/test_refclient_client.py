"""AskElephantClient against a scripted loopback server: wire format, errors, retries, paging."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pydantic
import pytest

from reference_client import (
    AskElephantClient,
    AskElephantError,
    Forbidden,
    NotFound,
    ProcessingStatus,
    RateLimited,
    RetryPolicy,
    ServerError,
    SyncAskElephantClient,
    TransportError,
    Unauthorized,
    ValidationFailed,
)
from tests.reference_client.refclient_stubs import API_KEY, SEED_REQUEST, Reply, StubApi, engagement_json, problem_json

REQUEST = SEED_REQUEST


async def test_create_sends_raw_key_and_documented_body(stub_api: StubApi, stub_client: AskElephantClient):
    stub_api.reply(Reply(201, engagement_json("ngmt_01NEW"), {"Location": "/api/v2/engagements/ngmt_01NEW"}))

    engagement, created = await stub_client.create_engagement(REQUEST)

    assert (engagement.id, created) == ("ngmt_01NEW", True)
    assert engagement.processing_status is ProcessingStatus.PENDING
    (seen,) = stub_api.requests
    assert (seen.method, seen.path) == ("POST", "/api/v2/engagements")
    assert seen.headers["Authorization"] == API_KEY  # raw key, no "Bearer "
    assert seen.headers["Content-Type"] == "application/json"
    assert json.loads(seen.body) == REQUEST


async def test_create_omits_unset_fields_instead_of_sending_null(stub_api, stub_client):
    stub_api.reply(Reply(201, engagement_json()))
    minimal = {k: REQUEST[k] for k in ("type", "title", "source_system", "external_id", "media_url")}
    minimal["start_at"] = datetime(2026, 3, 9, 13, 51, 40, 123456, tzinfo=UTC)

    await stub_client.create_engagement(minimal)

    sent = json.loads(stub_api.requests[0].body)
    assert None not in sent.values()
    assert set(sent) == {"type", "title", "source_system", "external_id", "media_url", "start_at"}
    assert sent["start_at"] == "2026-03-09T13:51:40.123Z"


async def test_create_replay_200_means_not_created(stub_api, stub_client):
    stub_api.reply(Reply(200, engagement_json("ngmt_01OLD", processing_status="COMPLETED")))

    engagement, created = await stub_client.create_engagement(REQUEST)

    assert (engagement.id, created) == ("ngmt_01OLD", False)


async def test_create_rejects_invalid_request_before_sending(stub_api, stub_client):
    without_media = {k: v for k, v in REQUEST.items() if k != "media_url"}
    two_owners = dict(REQUEST, participants=[{"name": "A", "is_owner": True}, {"name": "B", "is_owner": True}])
    naive_start = dict(REQUEST, start_at=datetime(2026, 3, 9, 12, 0))

    for bad in (without_media, two_owners, naive_start, dict(REQUEST, title="")):
        with pytest.raises(pydantic.ValidationError):
            await stub_client.create_engagement(bad)
    assert stub_api.requests == []


async def test_retries_5xx_with_capped_backoff_and_identical_bodies(stub_api, stub_client, recording_sleep):
    stub_api.reply(
        Reply(500, problem_json(500, "internal_error")),
        Reply(503, problem_json(503, "internal_error")),
        Reply(201, engagement_json("ngmt_01RETRY")),
    )

    engagement, created = await stub_client.create_engagement(REQUEST)

    assert (engagement.id, created) == ("ngmt_01RETRY", True)
    assert len(stub_api.requests) == 3
    assert len({r.body for r in stub_api.requests}) == 1
    assert recording_sleep.delays == [0.5, 1.0]


async def test_429_waits_exactly_retry_after(stub_api, stub_client, recording_sleep):
    stub_api.reply(
        Reply(429, problem_json(429, "rate_limited"), {"Retry-After": "3"}),
        Reply(201, engagement_json()),
    )

    _, created = await stub_client.create_engagement(REQUEST)

    assert created is True
    assert recording_sleep.delays == [3.0]


async def test_429_with_excessive_retry_after_is_raised_not_waited(stub_api, stub_client, recording_sleep):
    stub_api.reply(Reply(429, problem_json(429, "rate_limited"), {"Retry-After": "600"}))

    with pytest.raises(RateLimited) as caught:
        await stub_client.create_engagement(REQUEST)

    assert caught.value.retry_after == 600.0
    assert len(stub_api.requests) == 1
    assert recording_sleep.delays == []


async def test_persistent_5xx_raises_server_error_after_max_attempts(stub_api, stub_client, recording_sleep):
    stub_api.reply(Reply(500, problem_json(500, "internal_error")))

    with pytest.raises(ServerError) as caught:
        await stub_client.get_engagement("ngmt_01X")

    assert caught.value.attempts == 5
    assert caught.value.request_id == "rid_01TEST"
    assert len(stub_api.requests) == 5
    assert recording_sleep.delays == [0.5, 1.0, 2.0, 4.0]


async def test_backoff_is_capped_and_jittered():
    draws = iter([0.0, 1.0, 0.5])
    policy = RetryPolicy(initial_delay=10, max_delay=15, jitter=0.5, random=lambda: next(draws))

    assert [policy.backoff(n) for n in (1, 2, 3)] == [10.0, 7.5, 11.25]


async def test_validation_failed_is_typed_and_not_retried(stub_api, stub_client, recording_sleep):
    errors = [
        {"field": "external_url", "code": "unsafe_scheme", "message": "scheme not allowed"},
        {"field": "participants[1].email", "code": "invalid_type", "message": "not an email"},
    ]
    stub_api.reply(Reply(422, problem_json(422, "validation_failed", errors=errors)))

    with pytest.raises(ValidationFailed) as caught:
        await stub_client.create_engagement(REQUEST)

    assert [(e.field, e.code) for e in caught.value.errors] == [
        ("external_url", "unsafe_scheme"),
        ("participants[1].email", "invalid_type"),
    ]
    assert caught.value.status == 422
    assert len(stub_api.requests) == 1
    assert recording_sleep.delays == []


@pytest.mark.parametrize(
    ("status", "slug", "error_type"),
    [(401, "unauthorized", Unauthorized), (403, "forbidden", Forbidden), (404, "not_found", NotFound)],
)
async def test_client_errors_map_to_types_without_retry(stub_api, stub_client, status, slug, error_type):
    stub_api.reply(Reply(status, problem_json(status, slug, missing_scopes=["engagements:read"])))

    with pytest.raises(error_type) as caught:
        await stub_client.get_engagement("ngmt_01X")

    assert caught.value.problem.type == f"https://app.askelephant.ai/errors/{slug}"
    assert len(stub_api.requests) == 1
    if status == 403:
        assert caught.value.missing_scopes == ["engagements:read"]


async def test_non_json_gateway_error_still_maps_to_server_error(stub_api, recording_sleep):
    stub_api.reply(Reply(502, None))
    async with AskElephantClient(
        API_KEY, stub_api.base_url, retry=RetryPolicy(max_attempts=2, sleep=recording_sleep)
    ) as client:
        with pytest.raises(ServerError) as caught:
            await client.get_engagement("ngmt_01X")
    assert caught.value.status == 502
    assert len(stub_api.requests) == 2


@pytest.mark.parametrize("action", ["reset", "truncate"])
async def test_broken_connections_are_retried(stub_api, stub_client, recording_sleep, action):
    stub_api.reply(Reply(201, engagement_json(), action=action), Reply(201, engagement_json("ngmt_01OK")))

    engagement, _ = await stub_client.create_engagement(REQUEST)

    assert engagement.id == "ngmt_01OK"
    assert len(stub_api.requests) == 2
    assert recording_sleep.delays == [0.5]


async def test_timeout_is_retried(stub_api, recording_sleep):
    stub_api.reply(Reply(action="hang"), Reply(200, engagement_json("ngmt_01LATE")))
    policy = RetryPolicy(sleep=recording_sleep, random=lambda: 0.0)
    # Any timeout trips the retry; the value only bounds how long the hung attempt is waited on.
    async with AskElephantClient(API_KEY, stub_api.base_url, retry=policy, timeout=0.2) as client:
        engagement = await client.get_engagement("ngmt_01LATE")
    assert engagement.id == "ngmt_01LATE"
    assert len(stub_api.requests) == 2


async def test_transport_error_after_exhausted_retries(stub_api, recording_sleep):
    stub_api.reply(Reply(action="reset"))
    policy = RetryPolicy(max_attempts=3, sleep=recording_sleep, random=lambda: 0.0)
    async with AskElephantClient(API_KEY, stub_api.base_url, retry=policy) as client:
        with pytest.raises(TransportError) as caught:
            await client.get_engagement("ngmt_01X")
    assert caught.value.attempts == 3
    assert recording_sleep.delays == [0.5, 1.0]


async def test_key_and_url_come_from_environment(stub_api, monkeypatch):
    monkeypatch.setenv("ASKELEPHANT_API_KEY", "sk-apik_env.key")
    monkeypatch.setenv("ASKELEPHANT_BASE_URL", stub_api.base_url + "/")
    stub_api.reply(Reply(200, engagement_json()))

    async with AskElephantClient() as client:
        await client.get_engagement("ngmt_01TEST")

    assert stub_api.requests[0].headers["Authorization"] == "sk-apik_env.key"
    assert stub_api.requests[0].path == "/api/v2/engagements/ngmt_01TEST"


def test_missing_or_bearer_key_is_refused(monkeypatch):
    monkeypatch.delenv("ASKELEPHANT_API_KEY", raising=False)
    with pytest.raises(ValueError, match="ASKELEPHANT_API_KEY"):
        AskElephantClient()
    with pytest.raises(ValueError, match="Bearer"):
        AskElephantClient("Bearer sk-apik_a.b")


async def test_get_engagement_expands_and_types_insights(stub_api, stub_client):
    body = engagement_json(
        processing_status="COMPLETED",
        external_url="wavv://call/12345",
        action_items=[{"object": "action_item", "id": "actitm_1", "title": "Send pricing", "due_at": None}],
        signals=[{"object": "signal", "id": "sgnl_1", "type": "pricing", "confidence": 0.87, "quote": "cost?"}],
        brand_new_field={"added": "later"},
    )
    stub_api.reply(Reply(200, body))

    engagement = await stub_client.get_engagement("ngmt_01TEST", expand=["action_items", "signals", "signals"])

    assert stub_api.requests[0].query == {"expand": "action_items,signals"}
    assert engagement.action_items is not None and engagement.action_items[0].title == "Send pricing"
    assert engagement.signals is not None and engagement.signals[0].confidence == pytest.approx(0.87)
    assert engagement.external_url == "wavv://call/12345"
    assert engagement.model_extra == {"brand_new_field": {"added": "later"}}


async def test_unexpected_shape_is_a_clear_error(stub_api, stub_client):
    stub_api.reply(Reply(200, {"object": "engagement", "id": "ngmt_01X"}))

    with pytest.raises(AskElephantError, match="unexpected response shape"):
        await stub_client.get_engagement("ngmt_01X")


async def test_ids_are_checked_before_building_paths(stub_api, stub_client):
    for bad in ("", "../users", "ngmt_1?expand=x", "ngmt 1"):
        with pytest.raises(ValueError, match="not an AskElephant id"):
            await stub_client.get_engagement(bad)
    assert stub_api.requests == []


def _paged(request) -> Reply:
    pages = {
        None: (["ngmt_01A", "ngmt_01B"], "c1"),
        "c1": (["ngmt_01C", "ngmt_01D"], "c2"),
        "c2": (["ngmt_01E"], None),
    }
    ids, next_cursor = pages[request.query.get("cursor")]
    body = {
        "object": "list",
        "data": [engagement_json(i) for i in ids],
        "has_more": next_cursor is not None,
        "next_cursor": next_cursor,
    }
    return Reply(200, body)


async def test_list_engagements_walks_every_page(stub_api, stub_client):
    stub_api.route = _paged

    ids = [e.id async for e in stub_client.list_engagements(limit=2, search="Jane")]

    assert ids == ["ngmt_01A", "ngmt_01B", "ngmt_01C", "ngmt_01D", "ngmt_01E"]
    assert [r.query.get("cursor") for r in stub_api.requests] == [None, "c1", "c2"]
    assert all(r.query["limit"] == "2" and r.query["search"] == "Jane" for r in stub_api.requests)


async def test_list_engagements_filters_are_encoded(stub_api, stub_client):
    stub_api.route = _paged
    since = datetime(2026, 3, 9, 12, 0, 0, 250000, tzinfo=UTC)

    page = await stub_client.list_engagements_page(
        updated_after=since,
        order_by="updated_at:asc",
        filters={"filter[processing_status][eq]": "COMPLETED"},
    )

    assert page.has_more and page.next_cursor == "c1"
    assert stub_api.requests[0].query == {
        "filter[updated_at][gt]": "2026-03-09T12:00:00.250Z",
        "order_by": "updated_at:asc",
        "filter[processing_status][eq]": "COMPLETED",
    }


async def test_list_engagements_stops_on_a_cursor_loop(stub_api, stub_client):
    stub_api.reply(Reply(200, {"object": "list", "data": [], "has_more": True, "next_cursor": "same"}))

    with pytest.raises(AskElephantError, match="pagination loop"):
        _ = [e async for e in stub_client.list_engagements()]
    assert len(stub_api.requests) == 2


async def test_transcript_timeline_typed_and_404_until_ready(stub_api, stub_client):
    timeline = {
        "object": "transcript_timeline",
        "engagement_id": "ngmt_01X",
        "speakers": [{"speaker_index": 0, "name": "Alice", "email": None, "phone": None, "is_owner": True}],
        "entries": [{"speaker_index": 0, "start_seconds": 0.0, "end_seconds": 4.2, "text": "Hi", "sentiment": 0.5}],
        "overall_sentiment": 0.5,
    }
    stub_api.reply(Reply(404, problem_json(404, "not_found")), Reply(200, timeline))

    with pytest.raises(NotFound):
        await stub_client.get_transcript_timeline("ngmt_01X")
    result = await stub_client.get_transcript_timeline("ngmt_01X")

    assert stub_api.requests[-1].path == "/api/v2/engagements/ngmt_01X/transcript_timeline"
    assert result.entries[0].end_seconds == pytest.approx(4.2)
    assert result.speakers[0].is_owner is True


async def test_sync_facade_round_trip(stub_api):
    stub_api.route = lambda request: _paged(request) if request.method == "GET" else None
    stub_api.reply(Reply(201, engagement_json("ngmt_01SYNC")))

    def blocking() -> tuple[str, bool, list[str]]:
        with SyncAskElephantClient(API_KEY, stub_api.base_url) as client:
            engagement, created = client.create_engagement(REQUEST)
            ids = [e.id for e in client.list_engagements(limit=2)]
        return engagement.id, created, ids

    # The facade owns its own loop, so it runs in a worker thread while this loop serves the stub.
    engagement_id, created, ids = await asyncio.to_thread(blocking)

    assert (engagement_id, created) == ("ngmt_01SYNC", True)
    assert ids == ["ngmt_01A", "ngmt_01B", "ngmt_01C", "ngmt_01D", "ngmt_01E"]


def test_retry_policy_rejects_nonsense():
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="jitter"):
        RetryPolicy(jitter=2)
