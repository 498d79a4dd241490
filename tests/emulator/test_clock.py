"""The virtual clock and the scheduler: ordering, ties, work scheduling work, frozen and scaled time."""

from __future__ import annotations

import asyncio
import functools

import pytest

from fake_askelephant.core.clock import Scheduler, StagedJobs, VirtualClock


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_frozen_clock_moves_only_when_told() -> None:
    mono = FakeMonotonic()
    clock = VirtualClock(1_000_000, 0.0, monotonic=mono)
    mono.now += 3600
    assert clock.now_ms() == 1_000_000
    clock.jump_to(1_005_000)
    assert clock.now_ms() == 1_005_000


def test_scaled_clock_runs_faster_than_wall_time() -> None:
    mono = FakeMonotonic()
    clock = VirtualClock(0, 60.0, monotonic=mono)
    mono.now += 2.5
    assert clock.now_ms() == 150_000
    assert clock.wall_seconds_until(210_000) == pytest.approx(1.0)


def test_clock_never_runs_backwards() -> None:
    clock = VirtualClock(10_000, 0.0)
    clock.jump_to(5_000)
    assert clock.now_ms() == 10_000


def test_changing_time_scale_keeps_now() -> None:
    mono = FakeMonotonic()
    clock = VirtualClock(0, 1.0, monotonic=mono)
    mono.now += 10
    clock.set_time_scale(0)
    mono.now += 10
    assert clock.now_ms() == 10_000


def test_negative_time_scale_is_rejected() -> None:
    with pytest.raises(ValueError, match="time_scale"):
        VirtualClock(0, -1)


async def test_jobs_run_in_due_order_and_at_their_time() -> None:
    clock = VirtualClock(0, 0.0)
    scheduler = Scheduler(clock)
    seen: list[tuple[str, int]] = []
    for name, due in (("c", 3000), ("a", 1000), ("b", 2000)):
        scheduler.call_at(due, functools.partial(lambda n: seen.append((n, clock.now_ms())), name))
    await scheduler.advance(10)
    assert seen == [("a", 1000), ("b", 2000), ("c", 3000)]
    assert clock.now_ms() == 10_000


async def test_same_time_ties_run_in_enqueue_order() -> None:
    clock = VirtualClock(0, 0.0)
    scheduler = Scheduler(clock)
    seen: list[int] = []
    for i in range(20):
        scheduler.call_at(500, functools.partial(seen.append, i))
    await scheduler.advance(1)
    assert seen == list(range(20))


async def test_work_scheduled_by_work_runs_within_the_same_advance() -> None:
    clock = VirtualClock(0, 0.0)
    scheduler = Scheduler(clock)
    seen: list[int] = []

    def chain(n: int) -> None:
        seen.append(clock.now_ms())
        if n:
            scheduler.call_later(1000, lambda: chain(n - 1))

    scheduler.call_at(0, lambda: chain(4))
    await scheduler.advance(3.5)
    assert seen == [0, 1000, 2000, 3000]
    await scheduler.advance(1)
    assert seen[-1] == 4000


async def test_advance_stops_at_the_target_and_leaves_later_work() -> None:
    clock = VirtualClock(0, 0.0)
    scheduler = Scheduler(clock)
    seen: list[str] = []
    scheduler.call_at(5000, lambda: seen.append("late"))
    await scheduler.advance(4.999)
    assert seen == []
    assert len(scheduler) == 1
    await scheduler.advance(0.001)
    assert seen == ["late"]


async def test_cancelled_jobs_never_run() -> None:
    clock = VirtualClock(0, 0.0)
    scheduler = Scheduler(clock)
    seen: list[str] = []
    job = scheduler.call_at(10, lambda: seen.append("x"))
    job.cancel()
    await scheduler.advance(1)
    assert seen == []


async def test_async_jobs_at_one_instant_run_concurrently_and_finish_before_the_next() -> None:
    clock = VirtualClock(0, 0.0)
    scheduler = Scheduler(clock)
    order: list[str] = []
    gate = asyncio.Event()

    async def slow() -> None:
        order.append("slow-start")
        await gate.wait()
        order.append("slow-end")

    async def fast() -> None:
        order.append("fast")
        gate.set()

    scheduler.call_at(100, slow)
    scheduler.call_at(100, fast)
    scheduler.call_at(200, lambda: order.append("next"))
    await scheduler.advance(1)
    assert order == ["slow-start", "fast", "slow-end", "next"]


async def test_a_failing_job_is_recorded_and_does_not_stop_others() -> None:
    clock = VirtualClock(0, 0.0)
    scheduler = Scheduler(clock)
    seen: list[str] = []

    def boom() -> None:
        raise RuntimeError("bug")

    scheduler.call_at(1, boom, name="boom")
    scheduler.call_at(2, lambda: seen.append("after"))
    await scheduler.advance(1)
    assert seen == ["after"]
    assert [name for name, _ in scheduler.failures] == ["boom"]


async def test_advancing_27_hours_of_sparse_work_is_cheap() -> None:
    clock = VirtualClock(0, 0.0)
    scheduler = Scheduler(clock)
    count = 0

    def tick() -> None:
        nonlocal count
        count += 1
        if count < 1000:
            scheduler.call_later(97_000, tick)

    scheduler.call_at(0, tick)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await scheduler.advance(27 * 3600)
    assert count == 1000
    assert clock.now_ms() == 27 * 3600 * 1000
    # Not a benchmark: a guard that the queue is not sleeping through virtual time.
    assert loop.time() - started < 5


async def test_ticker_runs_due_work_when_the_clock_moves_by_itself() -> None:
    mono = FakeMonotonic()
    clock = VirtualClock(0, 1.0, monotonic=mono)
    scheduler = Scheduler(clock)
    fired = asyncio.Event()
    scheduler.call_at(60_000, fired.set)
    task = asyncio.create_task(scheduler.run_forever())
    try:
        await asyncio.sleep(0)
        assert not fired.is_set()
        mono.now += 61  # a minute of wall time passes
        scheduler.poke()
        await asyncio.wait_for(fired.wait(), timeout=5)
    finally:
        task.cancel()


async def test_an_adopted_staged_schedule_runs_as_if_queued_there_after_a_full_drop() -> None:
    """StagedJobs (a restore's schedule, built aside) then Scheduler.adopt: the same order, ties included, as the
    same jobs queued on the scheduler itself after drop_all; and jobs queued after the adoption come after them."""

    def queue(target: Scheduler | StagedJobs, ran: list[str]) -> None:
        first = target.reserve(3)
        target.call_at(5_000, functools.partial(ran.append, "c"), seq=first + 2)
        target.call_at(5_000, functools.partial(ran.append, "a"), seq=first)
        target.call_at(2_000, functools.partial(ran.append, "early"))
        target.call_at(5_000, functools.partial(ran.append, "d"))
        target.call_at(5_000, functools.partial(ran.append, "b"), seq=first + 1)

    outcomes = []
    for staged in (False, True):
        ran: list[str] = []
        scheduler = Scheduler(VirtualClock(0, 0.0))
        old = scheduler.call_at(5_000, functools.partial(ran.append, "old"))
        for _ in range(7):
            scheduler.reserve(1)  # the live enqueue order has moved on: the staged one starts afresh
        if staged:
            jobs = StagedJobs()
            queue(jobs, ran)
            assert len(jobs) == 5 and len(scheduler) == 1
            dropped = scheduler.adopt(jobs)
            assert len(jobs) == 0
        else:
            dropped = scheduler.drop_all()
            queue(scheduler, ran)
        assert [entry[2] for entry in dropped] == [old]
        old.cancel()
        scheduler.call_at(5_000, functools.partial(ran.append, "after"))
        assert len(scheduler) == 6
        await scheduler.advance(10)
        outcomes.append(ran)
    assert outcomes[0] == outcomes[1] == ["early", "a", "b", "c", "d", "after"]


@pytest.mark.parametrize("seed", range(6))
async def test_jobs_queued_at_their_earliest_run_as_if_queued_at_their_planned_time(seed: int) -> None:
    """JobHeap.call_at(plan=): the oracle is the same jobs queued at their actual due times. Jobs that queue more
    work, cancellations, advances that stop between a job's earliest and actual time, and ties all run alike."""
    import random

    async def play(planned: bool) -> tuple[list[tuple[str, int]], list[tuple[int | None, int]]]:
        rng = random.Random(seed)
        clock = VirtualClock(0, 0.0)
        scheduler = Scheduler(clock)
        ran: list[tuple[str, int]] = []
        seen: list[tuple[int | None, int]] = []
        plans = 0

        def job(name: str, depth: int) -> None:
            ran.append((name, clock.now_ms()))
            if depth < 2 and rng.random() < 0.5:
                queue(f"{name}>", depth + 1)

        def queue(name: str, depth: int) -> None:
            nonlocal plans
            due = clock.now_ms() + rng.choice([0, 0, 10, 40, 70])
            earliest = due - rng.choice([0, 5, 30, 60])
            coin = rng.random()  # drawn either way: both plays draw the same stream
            lazy = planned and earliest >= clock.now_ms() and coin < 0.7

            def plan(due: int = due) -> int:
                nonlocal plans
                plans += 1
                return due

            made = scheduler.call_at(
                earliest if lazy else due,
                functools.partial(job, name, depth),
                name=name,
                plan=plan if lazy else None,
            )
            if rng.random() < 0.1:
                made.cancel()

        for n in range(40):
            queue(f"j{n}", 0)
        while True:
            seen.append((scheduler.next_due_ms(), len(scheduler)))
            if seen[-1][0] is None:
                break
            await scheduler.advance(rng.choice([0.003, 0.02, 0.05]))
        assert not planned or plans > 10
        return ran, seen

    assert await play(planned=True) == await play(planned=False)


@pytest.mark.parametrize("how", ["advance", "peek"])
async def test_placing_jobs_queued_at_their_earliest_gives_way_to_the_event_loop(how: str) -> None:
    """After a burst of creates on a frozen clock every first stage waits at the same earliest time, and each must
    be placed (its jitter drawn, ~4 µs) before the first actual due time is known: 100,000 held the loop ~0.4 s.
    An advance and the scheduler peek (`next_due`) yield between placements, as between jobs."""
    clock = VirtualClock(0, 0.0)
    scheduler = Scheduler(clock, slice_s=0)  # yield at every tick
    log: list[str] = []

    def plan(n: int) -> int:
        log.append("plan")
        return 100 + n

    for n in range(20):
        scheduler.call_at(50, functools.partial(log.append, "run"), plan=functools.partial(plan, n))

    async def probe() -> None:
        while "run" not in log and log.count("plan") < 20:
            log.append("probe")
            await asyncio.sleep(0)

    watching = asyncio.create_task(probe())
    if how == "advance":
        await scheduler.advance(1)
        assert log.count("run") == 20
    else:
        assert await scheduler.next_due() == 100
        assert scheduler.next_due_ms() == 100  # all placed: the sync peek has nothing left to do
    await watching
    placing = log[log.index("plan") : len(log) - log[::-1].index("plan")]
    assert placing.count("plan") == 20
    assert placing.count("probe") >= 19  # the loop turned between every two placements
