"""Frees what a reset dropped a slice per event-loop turn, so a reset of a big store answers at once.

Freeing 10,000 engagements with their events, pipeline runs and stage jobs means deallocating ~400,000
objects: ~0.3 s in one call. A reset instead swaps in empty containers (O(1)) and hands the old ones here;
each loop turn pops items for at most SLICE_S, then yields to requests. Dropped items are unreachable from
the live state, so nothing but memory depends on when they go.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, MutableMapping, MutableSequence
from typing import Any

from .records import dataclass

SLICE_S = 0.002  # freeing per loop turn; a request waits at most about this long behind a release
_CHECK_EVERY = 8  # items freed between timer reads (one engagement with a transcript takes ~50 µs)


@dataclass(frozen=True)
class Dropped:
    """A container a reset took out of use; `each` runs on every item before it is let go (e.g. to cancel
    a job, so it never runs and lets go of its callback)."""

    items: MutableMapping[Any, Any] | MutableSequence[Any] | deque[Any]
    each: Callable[[Any], object] | None = None


Step = Dropped | Callable[[], object]
"""A container to empty, or a call to make once everything queued before it has been freed."""


class Releaser:
    """Empties dropped containers in the background: a slice per loop turn, oldest container first.

    Outside a running event loop (scripts, the CLI's set-up) a release happens at once.
    """

    def __init__(self, slice_s: float = SLICE_S, timer: Callable[[], float] = time.perf_counter) -> None:
        self._slice_s = slice_s
        self._timer = timer
        self._queue: deque[Step] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None  # where the next slice is scheduled, if any
        self._waiters: list[asyncio.Future[None]] = []
        self._held = False

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Free nothing inside (a restore putting records in while requests wait for it: its old state is freed
        afterwards, between requests, instead of lengthening their wait)."""
        self._held = True
        try:
            yield
        finally:
            self._held = False
            if self._queue and self._loop is None:
                with contextlib.suppress(RuntimeError):  # no running loop: nothing was held back
                    self._loop = asyncio.get_running_loop()
                    self._loop.call_soon(self._turn)

    @property
    def pending(self) -> int:
        """Items (and calls) not yet released."""
        return sum(len(s.items) if isinstance(s, Dropped) else 1 for s in self._queue)

    def release(self, steps: Iterable[Step]) -> None:
        self._queue.extend(steps)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.drain()
            return
        if self._loop is not loop or loop.is_closed():
            self._loop = loop
            loop.call_soon(self._turn)

    def drain(self) -> None:
        """Release everything now."""
        while self._queue:
            self.free(None)
        self._wake()

    async def idle(self) -> None:
        """Wait until everything released so far has been freed."""
        if self._queue:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            await waiter

    def free(self, budget_s: float | None) -> None:
        """One slice: release items until `budget_s` has passed (None: no limit) or nothing is left."""
        deadline = None if budget_s is None else self._timer() + budget_s
        while self._queue:
            step = self._queue[0]
            if not isinstance(step, Dropped):
                self._queue.popleft()
                step()
                continue
            items, each = step.items, step.each
            pop: Callable[[], Any] = items.popitem if isinstance(items, MutableMapping) else items.pop
            mapping = isinstance(items, MutableMapping)
            while items:
                for _ in range(min(_CHECK_EVERY, len(items))):
                    item = pop()[1] if mapping else pop()
                    if each is not None:
                        each(item)
                    del item
                if deadline is not None and self._timer() >= deadline:
                    return
            self._queue.popleft()

    def _turn(self) -> None:
        if self._held:
            self._loop = None  # held(): the next slice is scheduled when the hold ends
            return
        try:
            self.free(self._slice_s)
        finally:
            loop, self._loop = self._loop, None
            if self._queue and loop is not None and not loop.is_closed():
                self._loop = loop
                loop.call_soon(self._turn)
            elif not self._queue:
                self._wake()

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
