"""Reset swaps in empty state at once and frees the old a slice per loop turn (issue #10: < 10 ms at 10,000)."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Callable
from typing import Any

from fake_askelephant.core import scopes
from fake_askelephant.core.clock import Scheduler, VirtualClock
from fake_askelephant.core.models import EngagementDraft, Principal
from fake_askelephant.core.releaser import Dropped, Releaser
from fake_askelephant.emulator import Emulator
from fake_askelephant.webhooks.transport import SendResult
from tests.conftest import Api

DAY = 86_400
OTHER = "wrks_other"


def principal(emulator: Emulator, workspace_id: str = "wrks_local") -> Principal:
    key = emulator.create_api_key([scopes.ADMIN], workspace_id)
    found = emulator.store.authenticate_key(key.token)
    assert found is not None
    return found


async def fill(emulator: Emulator, count: int, workspace_id: str = "wrks_local") -> list[str]:
    """`count` engagements through the core (10,000 over HTTP would take the test most of a minute)."""
    who = principal(emulator, workspace_id)
    ids = []
    for n in range(count):
        draft = EngagementDraft(
            "CALL", f"Call {n}", "dialer", f"{workspace_id}-call-{n}", "https://r.example.com/a.mp3"
        )
        engagement, created, _ = await emulator.engagements.create_engagement(who, draft)
        assert created
        ids.append(engagement.id)
    return ids


async def add_sink_endpoint(api: Api, sink: str, workspace_id: str = "wrks_local", **extra: Any) -> None:
    url = str(api.client.make_url(f"/__admin/sink/{sink}"))
    resp = await api.client.post("/__admin/webhook-endpoints", json={"url": url, "workspace_id": workspace_id, **extra})
    assert resp.status == 201, await resp.text()


async def listed(api: Api, path: str, **params: str) -> list[Any]:
    resp = await api.call("GET", path, params={"limit": "100", **params})
    assert resp.status == 200, await resp.text()
    data: list[Any] = (await resp.json())["data"]
    return data


async def test_reset_of_10000_engagements_hides_them_at_once_and_nothing_from_before_fires(api: Api) -> None:
    em = api.emulator
    # First attempts 30 s out, so 10,000 deliveries are pending next to 10,000 stage jobs.
    await add_sink_endpoint(api, "old", hazards={"delay_first_attempt_seconds": 30})
    ids = await fill(em, 10_000)
    assert len(em.scheduler) == 20_000

    resp = await api.client.post("/__admin/reset")

    assert resp.status == 200, await resp.text()
    # The old state was handed to the releaser, not freed inside the call.
    assert em.releaser.pending > 10_000
    assert await listed(api, "/api/v2/engagements") == []
    assert (await api.get(ids[0])).status == 404
    assert await listed(api, "/__admin/events") == []
    assert len(em.scheduler) == 0 and em.pipeline.runs == {} and em.webhooks.messages == {}
    await api.advance(2 * DAY)
    assert await listed(api, "/__admin/events") == []
    assert await listed(api, "/__admin/deliveries") == []
    assert await listed(api, "/__admin/sink/old/requests") == []
    assert em.scheduler.failures == []
    await em.releaser.idle()
    assert em.scheduler._heap == []


async def test_the_releaser_frees_the_old_state_without_the_garbage_collector(api: Api) -> None:
    em = api.emulator
    await add_sink_endpoint(api, "gone")
    ids = await fill(em, 200)
    await api.advance(60)  # transcripts made, deliveries sent; insight stages still pending
    assert em.webhooks.log and em.scheduler.next_due_ms() is not None
    watched: list[weakref.ref[Any]] = [
        weakref.ref(em.store.workspace("wrks_local").engagements[ids[0]]),
        weakref.ref(em.pipeline.runs[ids[0]]),
        weakref.ref(em.bus.log[0]),
        weakref.ref(next(iter(em.webhooks.messages.values()))[0]),
        weakref.ref(em.webhooks.log[0]),
    ]
    gc.disable()
    try:
        em.reset()
        assert em.releaser.pending
        await em.releaser.idle()
        assert [ref() for ref in watched] == [None] * len(watched)
    finally:
        gc.enable()


async def test_health_answers_while_a_release_is_under_way(api: Api) -> None:
    em = api.emulator
    em.releaser = Releaser(slice_s=0.0)  # the smallest slice per turn, so the release spans many turns
    await fill(em, 1_000)
    em.reset()

    resp = await api.client.get("/__admin/health")

    assert resp.status == 200
    assert em.releaser.pending, "health waited for the whole release"
    await em.releaser.idle()


async def test_reset_of_one_workspace_drops_its_work_and_keeps_the_others(api: Api) -> None:
    em = api.emulator
    await add_sink_endpoint(api, "mine", hazards={"delay_first_attempt_seconds": 30})
    await add_sink_endpoint(api, "theirs", OTHER, hazards={"delay_first_attempt_seconds": 30})
    kept = await fill(em, 50)
    await fill(em, 50, OTHER)

    em.reset(OTHER)
    assert em.releaser.pending  # their jobs are still queued, not yet cancelled...
    await em.advance(DAY)  # ...and come due before the releaser's next turn: they must do nothing

    events = [e for e in em.bus.log]
    assert events and {e.workspace_id for e in events} == {"wrks_local"}
    assert await listed(api, "/__admin/sink/theirs/requests") == []
    assert len(em.webhooks.sinks.requests("mine")) == len(events)
    assert set(em.pipeline.runs) == set(kept)
    assert all(run.finished for run in em.pipeline.runs.values())
    assert em.scheduler.failures == []
    await em.releaser.idle()
    assert len(em.scheduler._heap) == len(em.scheduler)  # cancelled jobs compacted away once released


async def test_an_attempt_in_flight_during_a_reset_leaves_no_trace(api: Api) -> None:
    """Regression (issue #10): an attempt on the wire when the reset came was logged and retried afterwards."""

    class GatedSender:
        def __init__(self) -> None:
            self.calls = 0
            self.entered = asyncio.Event()
            self.go = asyncio.Event()

        async def send(self, url: str, headers: dict[str, str], body: bytes, timeout_s: float) -> SendResult:
            self.calls += 1
            self.entered.set()
            await self.go.wait()
            return SendResult(500, None, 1.0)

    em = api.emulator
    sender = GatedSender()
    em.webhooks.sender = sender
    resp = await api.client.post(
        "/__admin/webhook-endpoints", json={"url": "http://127.0.0.1:9/hook", "event_types": ["v1.engagement.created"]}
    )
    assert resp.status == 201
    assert (await api.create()).status == 201
    advancing = asyncio.create_task(em.advance(1))
    await sender.entered.wait()

    em.reset()
    sender.go.set()
    await advancing

    assert list(em.webhooks.log) == [] and len(em.scheduler) == 0
    await api.advance(DAY)
    assert sender.calls == 1


# Releaser and scheduler pieces ------------------------------------------------------------------------------


class Thing:
    pass


def test_outside_an_event_loop_a_release_happens_at_once() -> None:
    thing = Thing()
    ref = weakref.ref(thing)
    container = {"a": thing}
    del thing
    Releaser().release([Dropped(container)])
    assert ref() is None and container == {}


async def test_each_runs_on_every_item_and_calls_wait_for_what_was_queued_before_them() -> None:
    seen: list[object] = []
    releaser = Releaser(slice_s=0.0)
    releaser.release([Dropped(list(range(20)), each=seen.append), lambda: seen.append("done"), Dropped({"k": "v"})])
    await asyncio.sleep(0)
    assert 0 < releaser.pending < 22  # a slice per turn, not all at once
    await releaser.idle()
    assert sorted(seen[:-1], key=str) == sorted(range(20), key=str) and seen[-1] == "done"


def holding(thing: Thing) -> Callable[[], None]:
    """A callback whose closure keeps `thing` alive for as long as the callback is."""

    def callback() -> None:
        assert thing is not None

    return callback


async def test_a_job_lets_go_of_its_callback_once_it_ran_or_was_cancelled() -> None:
    scheduler = Scheduler(VirtualClock(0, 0.0))
    ran, dropped = Thing(), Thing()
    refs = weakref.ref(ran), weakref.ref(dropped)
    scheduler.call_at(10, holding(ran))
    scheduler.call_at(20, holding(dropped)).cancel()
    del ran, dropped
    await scheduler.advance(1)
    assert [r() for r in refs] == [None, None]


async def test_a_held_releaser_frees_nothing_until_the_hold_ends() -> None:
    """A restore holds the releaser while requests wait for it (persistence/persister.py): the old state it dropped
    is freed afterwards, between requests, not during their wait."""
    releaser = Releaser(slice_s=0.0)
    items = {i: object() for i in range(50)}
    with releaser.held():
        releaser.release([Dropped(items)])
        for _ in range(20):
            await asyncio.sleep(0)
        assert len(items) == 50
    await asyncio.wait_for(releaser.idle(), 10)
    assert items == {}
