"""Long work yields to the event loop and changes nothing else (issue 23): a clock advance runs in slices, health
answers meanwhile, and the history it writes is byte for byte the one an unsliced advance writes.

`slice_s = 0` makes the scheduler yield after every job: the most interleaving there can be, and no timing in the
test (how long a slice is on a real store is the benchmarks' job: benchmarks/bench_growth.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from fake_askelephant.core import jsonutil
from fake_askelephant.core.clock import Scheduler, VirtualClock
from fake_askelephant.core.slicing import Slices
from tests.conftest import T0, Api, frozen_settings, seed_call
from tests.emulator.test_reset_deferred import add_sink_endpoint, fill, listed

CALLS = 60


async def run_story(api: Api, *, poll: bool) -> dict[str, Any]:
    """Creates, a flaky sink with hazards, scripted pipelines and two advances; `poll` reads the API all along."""
    await add_sink_endpoint(api, "ci", hazards={"duplicate": 0.2, "out_of_order": 0.2, "stale_timestamp": 0.1})
    assert (await api.client.put("/__admin/sink/ci", json={"statuses": [500, 200, 503]})).status == 200
    ids = []
    for n in range(CALLS):
        body = seed_call(external_id=f"story-{n}")
        if n % 3:
            body["participants"] = []  # the generated prospect
        resp = await api.create(body)
        ids.append((await resp.json())["id"])
    await api.client.post(f"/__admin/engagements/{ids[1]}/pipeline", json={"transcription": "failed"})
    await api.client.post(f"/__admin/engagements/{ids[2]}/pipeline", json={"signals": [{"type": "risk"}]})
    answered: list[int] = []
    stop = asyncio.Event()

    async def poller() -> None:
        while not stop.is_set():
            for path in ("/__admin/health", f"/api/v2/engagements/{ids[0]}?expand=transcript,signals"):
                answered.append((await api.call("GET", path)).status)

    task = asyncio.create_task(poller()) if poll else None
    await api.advance(400)
    await api.advance(86_400)  # the retry ladder
    stop.set()
    if task is not None:
        await task
        assert answered and set(answered) == {200}
    events = await (await api.client.get("/__admin/events")).read()
    deliveries = [
        {k: v for k, v in d.items() if k not in ("wall_time", "duration_ms", "url")}  # wall clock, port
        for d in await listed(api, "/__admin/deliveries")
    ]
    received = [r["body"] for r in await listed(api, "/__admin/sink/ci/requests")]
    pages = []
    for eid in ids:
        pages.append(await (await api.get(eid, expand="transcript,action_items,signals")).read())
    return {"events": events, "deliveries": deliveries, "received": received, "engagements": pages}


async def test_a_sliced_advance_writes_the_same_history_byte_for_byte(make_api: Callable[..., Any]) -> None:
    whole: Api = await make_api(frozen_settings(seed=23))
    sliced: Api = await make_api(frozen_settings(seed=23))
    whole.emulator.scheduler.slice_s = float("inf")  # never yields: the behaviour before slicing
    sliced.emulator.scheduler.slice_s = 0.0
    expected = await run_story(whole, poll=False)
    got = await run_story(sliced, poll=True)
    assert len(jsonutil.loads(expected["events"])["data"]) > CALLS * 5
    assert got["events"] == expected["events"]
    assert got["deliveries"] == expected["deliveries"]
    assert got["received"] == expected["received"]
    assert got["engagements"] == expected["engagements"]


async def test_health_answers_while_an_advance_over_a_large_store_runs(make_api: Callable[..., Any]) -> None:
    api: Api = await make_api()
    api.emulator.scheduler.slice_s = 0.0
    await fill(api.emulator, 2_000)
    under_way = asyncio.Event()
    api.emulator.bus.subscribe(lambda _: under_way.set())  # the first stage's event
    advance = asyncio.create_task(api.advance(600))
    await under_way.wait()
    health = await api.client.get("/__admin/health")
    assert health.status == 200 and (await health.json())["status"] == "ok"
    listing = await api.call("GET", "/api/v2/engagements", params={"limit": "5"})
    assert listing.status == 200
    assert not advance.done(), "health and a list page were answered while the advance was still running"
    await advance
    statuses = {e.processing_status for e in api.emulator.store.workspace("wrks_local").engagements.values()}
    assert statuses == {"COMPLETED"}  # the advance still returns only once everything due has run


async def test_slices_yield_once_their_time_is_used() -> None:
    now = [0.0]
    slices = Slices(0.005, timer=lambda: now[0])
    await slices.tick()
    assert slices.yields == 0
    now[0] = 0.0049
    await slices.tick()
    assert slices.yields == 0
    now[0] = 0.005
    await slices.tick()
    assert slices.yields == 1
    await slices.tick()  # a new slice started at 0.005
    assert slices.yields == 1


async def test_pending_count_is_kept_through_cancels_runs_and_resets() -> None:
    scheduler = Scheduler(VirtualClock(T0, 0))
    jobs = [scheduler.call_at(T0 + n * 1000, lambda: None) for n in range(10)]
    assert len(scheduler) == 10
    jobs[3].cancel()
    jobs[3].cancel()  # twice counts once
    assert len(scheduler) == 9
    await scheduler.advance(2.5)  # runs jobs 0, 1, 2
    assert len(scheduler) == 6
    jobs[1].cancel()  # already ran: nothing pending changes
    assert len(scheduler) == 6
    scheduler.discard_cancelled()
    assert len(scheduler) == 6
    dropped = scheduler.drop_all()
    assert len(scheduler) == 0
    for _, _, job in dropped:
        job.cancel()  # a reset's releaser cancelling the old jobs later
    assert len(scheduler) == 0
    scheduler.call_at(T0 + 99_000, lambda: None)
    assert len(scheduler) == 1
