"""The virtual clock and the scheduler of pending work on it (pipeline.md §1).

Every time-dependent behaviour reads `VirtualClock.now_ms()`; pending work is a priority queue on
(due time, enqueue order) rather than sleeping tasks, so advancing 27 virtual hours costs only the work due.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import inspect
import itertools
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from .records import dataclass
from .slicing import SLICE_S, Slices
from .timefmt import MAX_MS, MIN_MS, wall_ms

log = logging.getLogger("fake_askelephant.clock")

# The virtual clock's valid range (docs/reliability.md): the range of timestamps the API accepts. Every time the
# emulator derives from now (stage due times, retries, token expiry, end_at) stays formattable beyond it.
CLOCK_MIN_MS, CLOCK_MAX_MS = MIN_MS, MAX_MS

Job = Callable[[], Awaitable[Any] | None]


class VirtualClock:
    """`now = start + time_scale × wall_elapsed + advanced`, in integer epoch milliseconds.

    time_scale 1 runs at wall speed, 60 makes a virtual minute per real second, 0 freezes time so it
    moves only when told to (tests, scenarios). A running clock stops at CLOCK_MAX_MS; nothing moves it past.
    """

    def __init__(
        self,
        start_ms: int | None = None,
        time_scale: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if time_scale < 0:
            raise ValueError("time_scale must be >= 0")
        self._monotonic = monotonic
        self._base_ms = wall_ms() if start_ms is None else start_ms
        if not CLOCK_MIN_MS <= self._base_ms <= CLOCK_MAX_MS:
            raise ValueError(f"start {self._base_ms} ms is outside the virtual clock's range")
        self._base_mono = monotonic()
        self._scale = time_scale
        self.moves = 0  # explicit moves (advance, set, restore): persistence rolls those back with a failed write

    @property
    def time_scale(self) -> float:
        return self._scale

    def now_ms(self) -> int:
        if self._scale == 0:
            return self._base_ms
        return min(CLOCK_MAX_MS, self._base_ms + int((self._monotonic() - self._base_mono) * self._scale * 1000))

    def jump_to(self, ms: int) -> None:
        """Move forward to `ms`; never backward (a clock that runs back would reorder history)."""
        if ms > CLOCK_MAX_MS:
            raise ValueError(f"{ms} ms is past the end of the virtual clock's range")
        now = self.now_ms()
        if ms > now:
            self._base_ms += ms - now
        self.moves += 1

    def restore(self, ms: int) -> None:
        """Set now to `ms`, backwards too: only when a saved state replaces the whole history at once."""
        self._base_ms = min(max(ms, CLOCK_MIN_MS), CLOCK_MAX_MS)
        self._base_mono = self._monotonic()
        self.moves += 1

    def set_time_scale(self, time_scale: float) -> None:
        if time_scale < 0:
            raise ValueError("time_scale must be >= 0")
        self._base_ms = self.now_ms()
        self._base_mono = self._monotonic()
        self._scale = time_scale
        self.moves += 1

    def wall_seconds_until(self, ms: int) -> float | None:
        """Real seconds until virtual `ms` arrives by itself; None when the clock is frozen."""
        if self._scale == 0:
            return None
        return max(0.0, (ms - self.now_ms()) / 1000 / self._scale)


async def drain(tasks: set[asyncio.Task[Any]]) -> None:
    """Wait until `tasks` is empty, also for tasks added to it meanwhile.

    Finished tasks are taken out here rather than left to their done-callbacks: on Python 3.12+ awaiting
    already-finished tasks can complete without yielding to the loop, so the callbacks that empty the set
    never ran and a `while tasks: await gather(*tasks)` loop spun forever at 100 % CPU (issue 16).
    Every turn of this loop either removes a finished task or blocks in `asyncio.wait` on a pending one.
    """
    while tasks:
        done = {task for task in tasks if task.done()}
        if not done:
            done, _ = await asyncio.wait(set(tasks), return_when=asyncio.FIRST_COMPLETED)
        tasks.difference_update(done)
        for task in done:
            if not task.cancelled():
                task.exception()  # retrieved: the job's own guard already logged it


def _spent() -> None:
    """What a cancelled or finished job calls instead of its callback (which it no longer holds)."""


class _Tally:
    """How many cancelled jobs one heap still holds, so the pending count is O(1). A reset swaps the heap out
    with its tally; jobs cancelled later (a slice at a time) count against the old one."""

    __slots__ = ("cancelled",)

    def __init__(self) -> None:
        self.cancelled = 0


@dataclass(eq=False, slots=True, weakref_slot=True)
class ScheduledJob:
    due_ms: int
    seq: int
    fn: Job
    kind: str = ""  # what the job does ("processing", "webhook"), and
    subject: str = ""  # what it does it for (an engagement, a message): joined only when a failure is logged
    cancelled: bool = False
    tally: _Tally | None = None  # the heap's tally while the job is in it
    # A job queued at the earliest time it can be due: its actual due time, worked out when it comes up first in
    # the heap (`JobHeap.call_at(plan=)`).
    plan: Callable[[], int] | None = None

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.subject}" if self.subject else self.kind

    def cancel(self) -> None:
        # Letting go of the callback breaks the job <-> owner cycle (a run's or a delivery's job refers back to
        # it), so a dropped owner is freed by reference counting, not by a full garbage-collector pass.
        if self.cancelled:
            return
        self.cancelled = True
        self.fn = _spent
        self.plan = None
        if self.tally is not None:
            self.tally.cancelled += 1


# Heap entries are (due_ms, seq, job): tuples of ints compare in C, several times faster than dataclass
# ordering, and seq is unique so the job itself is never compared.
_Entry = tuple[int, int, ScheduledJob]


def cancel_entry(entry: _Entry) -> None:
    """For a Releaser freeing dropped heap entries (Dropped(each=)): the job never runs and lets go of its callback."""
    entry[2].cancel()


class JobHeap:
    """Jobs in (due time, enqueue order): the heap, the enqueue counter, and how many queued jobs were cancelled. The
    Scheduler runs its own; a StagedJobs is one built aside."""

    __slots__ = ("_heap", "_seq", "_tally")

    def __init__(self) -> None:
        self._heap: list[_Entry] = []
        self._tally = _Tally()
        self._seq = itertools.count()

    def __len__(self) -> int:
        """Pending jobs, in O(1) (an admin read: `GET /__admin/scheduler`)."""
        return len(self._heap) - self._tally.cancelled

    def reserve(self, n: int) -> int:
        """The first of `n` consecutive places in the enqueue order, for jobs queued later (`call_at(seq=)`) that
        must run, among jobs due at the same instant, where they would have if queued now."""
        first = next(self._seq)
        for _ in range(n - 1):
            next(self._seq)
        return first

    def call_at(
        self,
        due_ms: int,
        fn: Job,
        *,
        name: str = "",
        subject: str = "",
        seq: int | None = None,
        plan: Callable[[], int] | None = None,
    ) -> ScheduledJob:
        """Queue `fn` at `due_ms`. With `plan`, `due_ms` is only the earliest the job can be due: when nothing
        before it is left, `plan()` gives its actual due time (at or after `due_ms`), where it then takes its place
        with the same place in the enqueue order. Jobs run in exactly the order, and at the times, they would have
        if it had been queued there at once; the work of `plan()` is saved until the clock comes near (a create's
        pipeline jitter: a seeded stream per engagement, core/pipeline.py)."""
        job = ScheduledJob(due_ms, next(self._seq) if seq is None else seq, fn, name, subject, False, self._tally, plan)
        heapq.heappush(self._heap, (due_ms, job.seq, job))
        self._queued(job)
        return job

    def _queued(self, job: ScheduledJob) -> None:
        """`job` was just queued (the Scheduler wakes its ticker for it)."""

    def _planned(self) -> None:
        """The first job is one queued with `plan`: move it to its actual due time."""
        job = self._heap[0][2]
        plan, job.plan = job.plan, None
        assert plan is not None
        job.due_ms = due = plan()
        heapq.heapreplace(self._heap, (due, job.seq, job))

    def drop_all(self) -> list[_Entry]:
        """Take every pending job out in O(1) and return them (a full reset: all jobs belong to the state it
        clears; a staged schedule that was not adopted). The caller cancels them, a slice at a time
        (core/releaser.py); none of them runs again."""
        dropped, self._heap, self._tally = self._heap, [], _Tally()
        return dropped


class StagedJobs(JobHeap):
    """A schedule built aside while the live one stays in use (a restore builds the restored state's pending work
    while requests are still answered from the old state): jobs queued here take places in an enqueue order of its
    own; `Scheduler.adopt` then swaps the whole of it in at once. Nothing here runs until then."""

    __slots__ = ()


class Scheduler(JobHeap):
    """Runs jobs in (due time, enqueue order); jobs may be sync or return an awaitable.

    `advance` steps the clock to each due instant in turn, so work runs *at* its virtual time (event
    timestamps stay exact) and work scheduled by work is picked up in the same advance. Async jobs due at
    one instant run concurrently (one slow webhook endpoint does not hold back others), and the instant
    completes before the next one starts.
    """

    def __init__(self, clock: VirtualClock, slice_s: float = SLICE_S) -> None:
        super().__init__()
        self.clock = clock
        self.slice_s = slice_s  # run_until yields to the event loop after this much work (core/slicing.py)
        self._lock = asyncio.Lock()
        self._wakeup: asyncio.Event | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self.failures: list[tuple[str, BaseException]] = []
        # Awaited by the ticker before it runs due work: persistence holds it while changes cannot be stored.
        self.gate: Callable[[], Awaitable[None]] | None = None

    def _queued(self, job: ScheduledJob) -> None:
        if self._wakeup is not None and self._heap[0][2] is job:
            self._wakeup.set()  # the ticker sleeps until the earliest job: this one is earlier

    def call_later(self, delay_ms: int, fn: Job, *, name: str = "", subject: str = "") -> ScheduledJob:
        return self.call_at(self.clock.now_ms() + delay_ms, fn, name=name, subject=subject)

    def next_due_ms(self) -> int | None:
        """When the first pending job is due (placing every job queued at its earliest that comes before it, at
        once: `next_due` gives way to the event loop meanwhile)."""
        return self._first_due(math.inf)

    async def next_due(self) -> int | None:
        """`next_due_ms`, yielding to the event loop between placements: after a burst of creates on a frozen
        clock, every one of their first stages is queued at the same earliest time and each must be placed (~4 µs,
        its jitter drawn) before the first actual due time is known: 100,000 held the loop for ~0.4 s."""
        return await self._placed_first_due(math.inf, Slices(self.slice_s))

    def _first_due(self, until: float) -> int | None:
        """When the first pending job is due; a job queued at its earliest (`call_at(plan=)`) is placed at its
        actual time when that earliest is `until` or before, else its earliest is the answer: nothing is due
        before it, and the work of planning waits (the ticker of a frozen clock asks for nothing sooner)."""
        while self._settle_head(until):
            pass
        return self._heap[0][0] if self._heap else None

    async def _placed_first_due(self, until: float, slices: Slices) -> int | None:
        """`_first_due`, with a `slices.tick()` after each step."""
        while self._settle_head(until):
            await slices.tick()
        return self._heap[0][0] if self._heap else None

    def _settle_head(self, until: float) -> bool:
        """One step towards a first job that is due as it stands: drop a cancelled one, or place one queued at its
        earliest when that earliest is `until` or before. False when there is no step to take."""
        heap = self._heap
        if not heap:
            return False
        due, _, first = heap[0]
        if first.cancelled:
            self._taken(heapq.heappop(heap)[2])
            return True
        if first.plan is not None and due <= until:
            self._planned()
            return True
        return False

    def _taken(self, job: ScheduledJob) -> None:
        """`job` left the heap: it no longer counts as pending or as cancelled-but-queued."""
        if job.cancelled and job.tally is self._tally:
            self._tally.cancelled -= 1
        job.tally = None

    def discard_cancelled(self) -> None:
        """Drop cancelled jobs in one pass. Popping them one by one in `next_due_ms` after a reset of 10,000
        engagements (40,000 stage jobs) blocked the event loop for most of a second (benchmarks/)."""
        live = [entry for entry in self._heap if not entry[2].cancelled]
        if len(live) != len(self._heap):
            for _, _, job in self._heap:
                if job.cancelled:
                    job.tally = None
            heapq.heapify(live)
            self._heap[:] = live
        self._tally.cancelled = 0

    def clear(self) -> None:
        for _, _, job in self._heap:
            job.cancel()
            job.tally = None
        self._heap.clear()
        self._tally.cancelled = 0

    def adopt(self, staged: StagedJobs) -> list[_Entry]:
        """Make `staged` the schedule, in O(1), and go on with its enqueue order: the order among its jobs, and of
        jobs queued from now on after them, is the one they would have had queued here one by one after a
        `drop_all`. Returns the jobs pending until now, as `drop_all` (a restore adopts right after a full reset:
        none); `staged` is left empty."""
        dropped = self.drop_all()
        self._heap, self._tally, self._seq = staged._heap, staged._tally, staged._seq
        staged._heap, staged._tally, staged._seq = [], _Tally(), itertools.count()
        self.poke()
        return dropped

    @contextlib.asynccontextmanager
    async def paused(self) -> AsyncIterator[None]:
        """No job runs inside (an advance or a ticker turn under way finishes first), and async jobs the ticker
        started are done: a snapshot or a restore sees, and leaves, a still state."""
        async with self._lock:
            await self.drain_background()
            yield

    async def advance(self, seconds: float) -> None:
        """Run everything due within the next `seconds` of virtual time, then land exactly there."""
        target = self.clock.now_ms() + round(seconds * 1000)
        # Work the ticker already started (e.g. a webhook attempt due at create time) finishes first, so
        # the retries it schedules are part of this advance.
        await self.drain_background()
        await self.run_until(target, step_clock=True)
        self.clock.jump_to(target)

    async def run_until(self, target_ms: int, *, step_clock: bool, wait: bool = True, sliced: bool = True) -> int:
        """Run jobs due at or before `target_ms`; returns how many ran.

        step_clock: jump the clock to each job's due time first (advance); otherwise jobs run at the clock's
        current time (the background ticker, where the clock moves by itself).
        wait: await async jobs before moving to the next instant; the ticker passes False so a stalled
        receiver cannot stall the pipeline of everyone else.

        sliced: after `slice_s` of work, yield to the event loop (core/slicing.py), so requests keep being
        answered during a long advance. Jobs still run one at a time, in (due, enqueue) order; async jobs of an
        instant still start together at its end. A request answered in between sees the clock at the instant
        reached so far, with every job due before it done (pipeline.md §1).
        """
        ran = 0
        slices = Slices(self.slice_s if sliced else math.inf)
        async with self._lock:
            while (due := await self._placed_first_due(target_ms, slices)) is not None and due <= target_ms:
                if step_clock:
                    self.clock.jump_to(due)
                pending: list[Awaitable[Any]] = []
                # Same-instant work, including work that this work schedules for the same instant.
                while self._heap and self._heap[0][0] <= due:
                    if self._settle_head(due):  # a cancelled job dropped, or one queued at its earliest placed
                        await slices.tick()
                        continue
                    job = heapq.heappop(self._heap)[2]
                    self._taken(job)
                    ran += 1
                    result = self._run(job)
                    if result is not None:
                        pending.append(self._guard(job, result))
                    await slices.tick()
                if not pending:
                    continue
                if wait:
                    await asyncio.gather(*pending)
                else:
                    for aw in pending:
                        task = asyncio.ensure_future(aw)
                        self._background.add(task)
                        task.add_done_callback(self._background.discard)
        return ran

    def _run(self, job: ScheduledJob) -> Awaitable[Any] | None:
        fn, job.fn = job.fn, _spent  # a job runs once; holding its callback would only keep its owner alive
        try:
            result = fn()
        except Exception as exc:
            self._record_failure(job, exc)
            return None
        return result if inspect.isawaitable(result) else None

    async def _guard(self, job: ScheduledJob, aw: Awaitable[Any]) -> None:
        try:
            await aw
        except Exception as exc:
            self._record_failure(job, exc)

    def _record_failure(self, job: ScheduledJob, exc: BaseException) -> None:
        # A bug in one job must not stop the clock for every other engagement; tests assert this stays empty.
        log.error("scheduled job %r failed", job.name, exc_info=exc)
        self.failures.append((job.name, exc))
        del self.failures[:-100]

    async def drain_background(self) -> None:
        """Wait for async jobs the ticker started, including jobs they start meanwhile (shutdown, tests)."""
        await drain(self._background)

    async def cancel_background(self) -> None:
        """Cancel the async jobs still running (shutdown, after the drain's grace) and wait for them to end."""
        for task in list(self._background):
            task.cancel()
        await drain(self._background)

    def poke(self) -> None:
        """Wake the ticker because the clock's speed or position changed."""
        if self._wakeup is not None:
            self._wakeup.set()

    async def run_forever(self) -> None:
        """Background ticker: runs due work as the clock moves by itself (time_scale > 0)."""
        self._wakeup = asyncio.Event()
        try:
            while True:
                if self.gate is not None:
                    await self.gate()
                # On a frozen clock the ticker only runs work due at once (a create's first webhook attempts) and
                # does not yield: where those attempts start among the client's next requests stays independent of
                # machine speed, so a scenario replays byte for byte. A running clock's backlog is sliced.
                running = self.clock.time_scale > 0
                await self.run_until(self.clock.now_ms(), step_clock=False, wait=False, sliced=running)
                due = self._first_due(-math.inf)  # the earliest a job can be due: it wakes in time for all
                timeout = None if due is None else self.clock.wall_seconds_until(due)
                self._wakeup.clear()
                # Cap the nap so a clock moved by admin calls is noticed even without a poke.
                nap = min(timeout, 1.0) if timeout is not None else None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), timeout=nap)
        finally:
            self._wakeup = None
