"""The reference client against the in-process emulator (``emulator_server``: frozen virtual clock).

The client only speaks HTTP to the server's loopback port; the emulator's clock is driven through
``/__admin`` exactly as ``reference_client.emulator.EmulatorClock`` does in demos.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, given, settings

from reference_client import (
    TRANSCRIPT_COMPLETED,
    AskElephantClient,
    Forbidden,
    InsightsOutcome,
    NotFound,
    ProcessingStatus,
    SyncAskElephantClient,
    Unauthorized,
    ValidationFailed,
    WavvCall,
    engagement_from_wavv,
)
from reference_client.emulator import EmulatorAdmin, EmulatorAdminError, EmulatorClock, admin_base_url
from tests.reference_client.refclient_strategies import utc_ms, wavv_calls
from tests.reference_client.refclient_stubs import EMULATOR_KEY, SEED_REQUEST

# Every poll time the documented policy can produce, in seconds after the transcript event.
POLL_SCHEDULE = [45, 60, 82.5, 116.25, 166.875, 226.875, 286.875, 300]


@pytest.fixture
def base_url(emulator_server: TestServer) -> str:
    return str(emulator_server.make_url("/api"))


@pytest.fixture
async def admin(base_url: str) -> AsyncIterator[EmulatorAdmin]:
    async with EmulatorAdmin(admin_base_url(base_url)) as instance:
        yield instance


@pytest.fixture
async def client(base_url: str, admin: EmulatorAdmin) -> AsyncIterator[AskElephantClient]:
    async with AskElephantClient(EMULATOR_KEY, base_url, clock=EmulatorClock(admin)) as instance:
        yield instance


async def admin_call(admin: EmulatorAdmin, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    url = f"{admin.admin_url}/__admin{path}"
    async with aiohttp.ClientSession() as session, session.request(method, url, json=body) as response:
        assert response.status < 300, await response.text()
        return await response.json(content_type=None)


async def transcript_event_time(admin: EmulatorAdmin, engagement_id: str) -> datetime:
    """When the transcript webhook was emitted, from the emulator's event log (stands in for receiving it)."""
    events = await admin_call(admin, "GET", f"/events?type={TRANSCRIPT_COMPLETED}&engagement_id={engagement_id}")
    (event,) = events["data"]
    return datetime.fromisoformat(event["created_at"])


async def test_create_then_replay_returns_the_same_engagement(client):
    first, created = await client.create_engagement(SEED_REQUEST)
    replay, created_again = await client.create_engagement(dict(SEED_REQUEST, title="Changed title"))

    assert (created, created_again) == (True, False)
    assert replay.id == first.id and replay.title == "Sales call with Jane Doe"
    assert replay.updated_at == first.updated_at
    assert first.external_url == SEED_REQUEST["external_url"]
    assert first.processing_status is ProcessingStatus.PENDING


async def test_expanded_insights_are_empty_lists_while_pending(client):
    engagement, _ = await client.create_engagement(SEED_REQUEST)

    fetched = await client.get_engagement(engagement.id, expand=["action_items", "signals", "transcript"])

    assert (fetched.action_items, fetched.signals, fetched.transcript) == ([], [], None)


async def test_list_walks_every_page(client):
    created = []
    for i in range(7):
        engagement, _ = await client.create_engagement(dict(SEED_REQUEST, external_id=f"list-{i}", title=f"List {i}"))
        created.append(engagement.id)
    await client.create_engagement(dict(SEED_REQUEST, external_id="other", title="Not matched"))

    # The clock stays frozen while walking, so no record moves between pages (api.md §8).
    listed = [e async for e in client.list_engagements(limit=3, order_by="updated_at:asc", search="List")]

    assert sorted(e.id for e in listed) == sorted(created)
    assert [e.updated_at for e in listed] == sorted(e.updated_at for e in listed)


async def test_transcript_timeline_is_404_until_the_transcript_stage(client, admin):
    engagement, _ = await client.create_engagement(SEED_REQUEST)
    with pytest.raises(NotFound):
        await client.get_transcript_timeline(engagement.id)

    await admin.advance(120)  # the transcript stage is due by t0 + 120 s (pipeline.md §2)
    timeline = await client.get_transcript_timeline(engagement.id)

    assert timeline.engagement_id == engagement.id
    assert timeline.speakers and timeline.entries
    assert all(0 <= e.start_seconds <= e.end_seconds for e in timeline.entries)


async def test_wait_for_insights_on_the_virtual_clock(client, admin):
    engagement, _ = await client.create_engagement(SEED_REQUEST)
    await admin.advance(120)
    since = await transcript_event_time(admin, engagement.id)

    result = await client.wait_for_insights(engagement.id, since=since)

    assert result.outcome is InsightsOutcome.READY
    assert result.action_items and result.signals
    assert all(item.engagement_id == engagement.id for item in result.action_items)
    waited = ((await admin.clock()).now - since).total_seconds()
    assert waited == POLL_SCHEDULE[result.polls - 1]
    assert waited <= 226.875  # signals are due by T + 180 s, so the sixth poll at the latest


@pytest.mark.parametrize(
    ("overrides", "outcome", "status", "waited"),
    [
        ({"signals": []}, InsightsOutcome.FINAL, "COMPLETED", None),
        ({"signals": "failed"}, InsightsOutcome.FINAL, "FAILED", None),
        ({"delays": {"signals": 900}}, InsightsOutcome.TIMED_OUT, "PROCESSING", 300),
    ],
)
async def test_wait_for_insights_stops_per_policy_on_scripted_pipelines(
    client, admin, overrides, outcome, status, waited
):
    engagement, _ = await client.create_engagement(SEED_REQUEST)
    await admin_call(admin, "POST", f"/engagements/{engagement.id}/pipeline", overrides)
    await admin.advance(120)
    since = await transcript_event_time(admin, engagement.id)

    result = await client.wait_for_insights(engagement.id, since=since)

    assert (result.outcome, result.engagement.processing_status) == (outcome, status)
    assert result.signals == []
    if waited is not None:
        assert ((await admin.clock()).now - since).total_seconds() == waited
        assert result.action_items  # partial results are returned, not dropped


async def test_server_side_validation_is_typed(client):
    bad = dict(SEED_REQUEST, external_url="JavaScript:alert(1)", media_url="https://127.0.0.1/a.mp3")

    with pytest.raises(ValidationFailed) as caught:
        await client.create_engagement(bad)

    assert [(e.field, e.code) for e in caught.value.errors] == [("external_url", "unsafe_scheme")]
    assert caught.value.request_id and caught.value.request_id.startswith("rid_")
    with pytest.raises(ValidationFailed) as media:
        await client.create_engagement(dict(SEED_REQUEST, media_url="https://127.0.0.1/a.mp3"))
    assert [(e.field, e.code) for e in media.value.errors] == [("media_url", "private_address")]


async def test_auth_errors_are_typed(base_url, admin):
    narrow = (await admin_call(admin, "POST", "/api-keys", {"scopes": ["engagements:read"]}))["key"]
    async with AskElephantClient("sk-apik_nobody.wrong", base_url) as stranger:
        with pytest.raises(Unauthorized):
            await stranger.get_engagement("ngmt_01X")
    async with AskElephantClient(narrow, base_url) as reader:
        with pytest.raises(Forbidden) as caught:
            await reader.create_engagement(SEED_REQUEST)
        with pytest.raises(NotFound):
            await reader.get_engagement("ngmt_01KK97DZX0JD0E5QKV2N8R4T6W")
    assert "engagements:write" in caught.value.missing_scopes


async def test_sync_facade_against_the_emulator(base_url):
    def blocking() -> tuple[bool, bool, str]:
        with SyncAskElephantClient(EMULATOR_KEY, base_url) as sync_client:
            first, created = sync_client.create_engagement(SEED_REQUEST)
            _, again = sync_client.create_engagement(SEED_REQUEST)
            return created, again, sync_client.get_engagement(first.id).title

    assert await asyncio.to_thread(blocking) == (True, False, "Sales call with Jane Doe")


async def test_emulator_clock_reads_and_moves_virtual_time(admin):
    clock = EmulatorClock(admin)
    before = await clock.now()

    await clock.sleep(90)

    assert (await clock.now() - before).total_seconds() == 90
    with pytest.raises(EmulatorAdminError, match="frozen"):
        await EmulatorClock(admin, mode="follow").sleep(1)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(call=wavv_calls())
async def test_every_valid_wavv_call_is_accepted_by_the_emulator(client, admin, call: WavvCall):
    await admin_call(admin, "POST", "/reset")  # one emulator, fresh state per example
    request = engagement_from_wavv(call)

    engagement, created = await client.create_engagement(request)
    replay, created_again = await client.create_engagement(request)

    assert (created, created_again) == (True, False) and replay.id == engagement.id
    assert engagement.title == request.title
    assert engagement.external_url == f"wavv://call/{call.call_id}"
    assert engagement.start_at == utc_ms(call.started_at)
    assert engagement.engagement_type == "CALL"
