"""Cooperative time slicing: long work on the event loop gives way to requests every few milliseconds (issue 23).

A clock advance over 100,000 engagements, a big seed-data load or a state file being read is CPU work with no I/O
to wait on, so without help it holds the event loop until it is done: health checks time out and containers get
restarted. Such work calls `await slices.tick()` between items; once a slice (`SLICE_S`) has been used, `tick`
yields to the loop (`asyncio.sleep(0)`: every ready callback, i.e. every waiting request, runs once) and starts the
next slice. Between ticks nothing else runs, so each item still happens as one step.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

SLICE_S = 0.005  # what a request waits at most behind long work, plus its own time


class Slices:
    """One piece of long work's slices. `slice_s=0` yields at every tick (tests use it to interleave for sure)."""

    __slots__ = ("_deadline", "_slice_s", "_timer", "yields")

    def __init__(self, slice_s: float = SLICE_S, timer: Callable[[], float] = time.perf_counter) -> None:
        self._slice_s = slice_s
        self._timer = timer
        self._deadline = timer() + slice_s
        self.yields = 0  # how often the work gave way (benchmarks and tests read it)

    async def tick(self) -> None:
        """Between two items of the work: yield to the event loop if this slice is used up."""
        if self._timer() >= self._deadline:
            await self.pause()

    async def pause(self) -> None:
        """Yield to the event loop now and start a new slice."""
        self.yields += 1
        await asyncio.sleep(0)
        self._deadline = self._timer() + self._slice_s
