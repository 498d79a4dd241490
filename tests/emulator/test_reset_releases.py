"""Reset releases what it drops at once: no queue of cancelled jobs, no garbage cycles (each stalled the loop)."""

from __future__ import annotations

import gc
import weakref

from fake_askelephant.core.clock import Scheduler, VirtualClock
from tests.conftest import Api


async def test_discard_cancelled_keeps_live_jobs_in_due_order() -> None:
    scheduler = Scheduler(VirtualClock(0, 0.0))
    seen: list[str] = []
    scheduler.call_at(30, lambda: seen.append("c"))
    dropped = scheduler.call_at(10, lambda: seen.append("a"))
    scheduler.call_at(20, lambda: seen.append("b"))
    scheduler.call_at(20, lambda: seen.append("b2"))
    dropped.cancel()

    scheduler.discard_cancelled()

    assert len(scheduler._heap) == 3 and len(scheduler) == 3
    await scheduler.advance(1)
    assert seen == ["b", "b2", "c"]


# Regression (benchmarks/, issue #10): reset of 10,000 engagements left 40,000 cancelled stage jobs that the
# ticker then popped one heap operation at a time, blocking every request for most of a second.
async def test_reset_leaves_no_cancelled_stage_jobs_queued(api: Api) -> None:
    for n in range(3):
        assert (await api.create(external_id=f"call-{n}")).status == 201
    assert len(api.emulator.scheduler) == 3  # each call's first stage (the next is queued when it has run)

    assert (await api.client.post("/__admin/reset")).status == 200

    assert api.emulator.scheduler._heap == []
    assert api.emulator.scheduler.next_due_ms() is None


# Regression (benchmarks/, issue #10): each stage job's callback refers to its pipeline run, so forgotten runs
# were only freed by a full garbage-collector pass: ~200,000 objects after a 10,000-engagement reset.
async def test_reset_frees_pipeline_runs_without_the_garbage_collector(api: Api) -> None:
    assert (await api.create()).status == 201
    run = weakref.ref(next(iter(api.emulator.pipeline.runs.values())))
    gc.disable()
    try:
        assert (await api.client.post("/__admin/reset")).status == 200
        await api.emulator.releaser.idle()  # freed a slice per loop turn (test_reset_deferred.py)
        assert run() is None
    finally:
        gc.enable()
