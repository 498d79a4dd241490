"""Which requests may start while long work needs the state to hold still (issue 23: snapshots and restores).

A snapshot encodes the whole state and a restore replaces it, both in slices (core/slicing.py) so health and
reads are answered in between. Between two slices nothing may change what the snapshot is copying, and nothing
may read, or change, a half-restored state. Requests count themselves in (`enter`/`leave`, the HTTP edge's
admission middleware) as readers (GET, HEAD, OPTIONS) or writers (everything else); long work calls `holding`:

- `holding()`: writers that arrive wait, writers in flight are waited for; readers go on. A snapshot is taken
  under it: what readers see is the state being copied.
- `hold_readers()` (inside `holding`): readers wait too, and readers in flight are waited for. A restore swaps the
  state it built aside in under it (a few ms): nothing is answered from half a swap.

When the hold ends every waiting request runs, on the state the long work left. One long work holds at a time;
others queue (FIFO). The core knows nothing of HTTP: the edge decides which requests are readers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable


class Admission:
    __slots__ = ("_changed", "_lock", "busy", "readers", "reads_held", "waiting", "writers", "writes_held")

    def __init__(self) -> None:
        self.readers = 0  # requests in flight, by kind
        self.writers = 0
        self.waiting = 0  # requests waiting for a hold to end
        self.writes_held = False
        self.reads_held = False
        self.busy: str | None = None  # what the long work is doing, and how far it got (health shows it)
        self._changed: asyncio.Event | None = None  # a hold ended, or a count dropped
        self._lock: asyncio.Lock | None = None

    def held(self, writer: bool) -> bool:
        return self.reads_held or (writer and self.writes_held)

    def try_enter(self, writer: bool) -> bool:
        """A request starts now, unless a hold keeps its kind out (then `enter` waits for it): the usual case
        without a coroutine."""
        if self.held(writer):
            return False
        if writer:
            self.writers += 1
        else:
            self.readers += 1
        return True

    async def enter(self, writer: bool) -> None:
        """A request starts (it waits while a hold keeps its kind out)."""
        self.waiting += 1
        try:
            while not self.try_enter(writer):
                await self._event().wait()
        finally:
            self.waiting -= 1

    def leave(self, writer: bool) -> None:
        if writer:
            self.writers -= 1
        else:
            self.readers -= 1
        if self._changed is not None and (self.writes_held or self.reads_held):
            self._wake()  # a hold may be waiting for the last of them

    @contextlib.asynccontextmanager
    async def holding(self, busy: str) -> AsyncIterator[None]:
        """Writers wait from now on; returns once the writers in flight are done. Readers wait too after
        `hold_readers()`. Everyone waiting goes on when the block ends."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            self.writes_held, self.busy = True, busy
            try:
                await self._until(lambda: self.writers == 0)
                yield
            finally:
                self.writes_held = self.reads_held = False
                self.busy = None
                self._wake()

    async def hold_readers(self) -> None:
        """Readers wait from now on (inside `holding`); returns once the readers in flight are done."""
        assert self.writes_held, "hold_readers() inside holding()"
        self.reads_held = True
        await self._until(lambda: self.readers == 0)

    async def _until(self, done: Callable[[], bool]) -> None:
        while not done():
            await self._event().wait()

    def _event(self) -> asyncio.Event:
        if self._changed is None:
            self._changed = asyncio.Event()
        return self._changed

    def _wake(self) -> None:
        """Every waiter looks again (a fresh event for the next wait)."""
        if self._changed is not None:
            self._changed.set()
            self._changed = None
