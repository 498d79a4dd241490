"""Issue 16: waiting on background tasks never spins (the Python 3.12+ `clock/advance` hang).

On 3.12 and 3.13 `while tasks: await asyncio.gather(*tasks)` could complete without yielding once every task
had finished, so the done-callbacks that empty the set never ran: 100 % CPU, no health answers, SIGTERM ignored.
pytest-timeout's signal-based timeout interrupts such a spin and fails the test instead of hanging CI.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from fake_askelephant.core.clock import Scheduler, VirtualClock, drain
from tests.conftest import Api, seed_call

pytestmark = pytest.mark.timeout(20)


async def _finished() -> None:
    return None


async def test_drain_returns_when_finished_tasks_are_still_in_the_set() -> None:
    # Finished tasks whose done-callbacks have not emptied the set: the state a 3.12 `gather` over finished
    # tasks left behind, since it returned without running the loop. Drain must not depend on those callbacks.
    finished = [asyncio.ensure_future(_finished()) for _ in range(5)]
    await asyncio.wait(finished)
    tasks: set[asyncio.Task[Any]] = set(finished)

    await asyncio.wait_for(drain(tasks), 5)

    assert tasks == set()


async def test_drain_waits_for_tasks_added_while_it_waits() -> None:
    tasks: set[asyncio.Task[Any]] = set()
    order: list[str] = []

    async def second() -> None:
        order.append("second")

    async def first() -> None:
        await asyncio.sleep(0)
        tasks.add(asyncio.ensure_future(second()))
        order.append("first")

    tasks.add(asyncio.ensure_future(first()))
    await asyncio.wait_for(drain(tasks), 5)

    assert order == ["first", "second"] and tasks == set()


async def test_scheduler_drain_of_already_finished_jobs_returns() -> None:
    scheduler = Scheduler(VirtualClock(0, 0.0))
    for n in range(10):
        scheduler.call_at(0, _finished, name=f"job {n}")
    # The ticker's way: start the jobs in the background, do not wait.
    assert await scheduler.run_until(0, step_clock=False, wait=False) == 10
    await asyncio.sleep(0)  # the jobs finish; their done-callbacks are only scheduled

    await asyncio.wait_for(scheduler.drain_background(), 5)

    assert scheduler._background == set()


async def test_forty_concurrent_creates_racing_one_advance_finish(api: Api) -> None:
    # Deliveries to the built-in sink are the background work the ticker starts as creates land.
    url = str(api.client.make_url("/__admin/sink/race"))
    resp = await api.client.post("/__admin/webhook-endpoints", json={"url": url})
    assert resp.status == 201, await resp.text()

    creates = [api.create(seed_call(external_id=f"race-{n}")) for n in range(40)]
    advance = api.client.post("/__admin/clock/advance", json={"seconds": 600})
    *created, advanced = await asyncio.wait_for(asyncio.gather(*creates, advance), 15)

    assert [r.status for r in created] == [201] * 40
    assert advanced.status == 200, await advanced.text()
    health = await api.client.get("/__admin/health")
    assert health.status == 200
