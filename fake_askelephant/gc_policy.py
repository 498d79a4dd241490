"""Keep the cyclic garbage collector's long passes off a big store (issue 22 §2, issue 23 §1).

Two kinds of pause were measured with 100,000 stored engagements (`benchmarks/bench_growth.py` times every
pass from `gc.callbacks`):

- **Full passes** traverse every tracked object not frozen: millions of objects, hundreds of milliseconds. Stored
  records hold no reference cycles (tests/emulator/test_reset_deferred.py drops a whole store with the collector
  off), so reference counting frees them when they are deleted or replaced; the collector has nothing to find
  among them. The policy moves everything alive into the permanent generation (`gc.freeze()`, O(1)) each time the
  store has grown, or been rewritten, by a tenth since the last freeze: later full passes scan only what is
  newer. A clock advance that completes every pipeline rewrites every engagement without adding one, so counting
  records alone (the first version of this policy) left 100,000 rewritten records for the next full pass (317 ms).
- **Young passes of 100–300 ms.** CPython counts allocations minus deallocations to decide when to collect the
  young generation, whichever generation a freed object was in. Replacing a stored record (a pipeline stage, a
  PATCH) or appending to the bounded event log allocates a new object and frees an old one: the count stands still
  while the young generation's list grows with every new record, until something else triggers a pass that then
  walks 100,000–200,000 objects (measured: 311 ms over 220,930). So while the store is written, the policy runs a
  young pass every `YOUNG_EVERY_S` (20 ms) itself, each walking only those 20 ms' objects, and every tenth of them
  also the middle generation (`REWRITE_MIDDLE_EVERY`: CPython starts a middle pass only from one of its automatic
  passes, and a rewrite starts none).
  When CPython ran a young pass of its own in those 20 ms (new records count up: creates), the young generation
  was walked already and the policy's pass is skipped.
- **Young passes per request** (issue 22 §2). Every young pass walks each request in flight (its coroutines,
  futures, headers: ~1,200 objects at 32 connections) besides what is new; at CPython's threshold of 700 that was
  a pass every ~25 creates, ~25 µs of collector CPU per create. While the policy governs, the young threshold is
  `YOUNG_THRESHOLD` (2,000): a third of the passes, each ~0.5 ms, and the middle generation's ~3 ms (measured in
  benchmarks/RESULTS.md); and the policy's own passes only where CPython runs none (above).
- **Middle-generation passes** walk what the young passes kept since the last one: the records stored meanwhile
  (~22 tracked objects per create; each visit of a referent is a cache miss on a big store) and the requests in
  flight. At CPython's 10 young passes per middle one, a middle pass took ~8.5 ms of CPU with 100,000 stored
  (benchmarks/profile_create.py); every request in flight waits it out, ~3 % of the requests at 32 connections:
  the p99. While the policy governs CPython's is `MIDDLE_THRESHOLD` (5): each pass about half as long, and the
  collector's CPU per create lower (14 → 12 µs). At 2 or 1, objects in flight were promoted often enough to start
  full passes (~40 ms each). The policy's own passes (a rewrite: an advance) keep a middle pass every tenth: there
  records are replaced within seconds, and walking them twice as often doubled the middle passes' CPU over an
  advance completing 100,000 pipelines (1.2 → 2.3 s, benchmarks/bench_growth.py).

What a freeze catches mid-flight (a request's objects that form a cycle) is never collected: bounded by what is in
flight at a freeze, and freezes are rare (each needs a tenth of the store to be new since the last).

Only `serve` runs it (cli.py): test processes keep the collector as Python ships it.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Callable, Iterator

YOUNG_EVERY_S = 0.02
YOUNG_THRESHOLD = 2_000  # CPython's generation-0 threshold while the policy governs (Python ships 700)
MIDDLE_THRESHOLD = 5  # CPython's young passes per middle-generation pass while the policy governs (Python ships 10)
REWRITE_MIDDLE_EVERY = 10  # the policy's own young passes (stored records rewritten) per middle-generation pass
BULK_FREEZE = 20_000  # records made by one piece of sliced work above which they are frozen when it ends
_paused = 0  # pieces of bulk work running with the collector paused (collector_paused)
GROW = 0.1  # a tenth of the store new since the last freeze: about what a full pass walks at most
AT_LEAST = 2_000  # records (or writes); below this a full pass is cheap anyway


def _collector_passes() -> int:
    return sum(generation["collections"] for generation in gc.get_stats())


class CollectorPolicy:
    """`size()` counts stored records, `writes()` only ever grows, by one per stored write."""

    def __init__(
        self,
        size: Callable[[], int],
        writes: Callable[[], int] = lambda: 0,
        *,
        grow: float = GROW,
        at_least: int = AT_LEAST,
        young_passes: Callable[[], int] | None = None,
    ) -> None:
        """`young_passes()` counts the collector's passes, each of which walks the young generation (automatic or
        explicit, of any generation)."""
        self._size = size
        self._writes = writes
        self._young_passes = young_passes or _collector_passes
        self._passes_seen = self._young_passes()
        self._grow = grow
        self._at_least = at_least
        self._frozen_at = size()
        self._written_at = writes()
        self._young_at = self._written_at
        self.freezes = 0
        self.young_passes = 0  # passes over generation 0, every tenth over 1 as well

    def check(self) -> bool:
        """Freeze if the store grew, or was rewritten, enough since the last freeze; True when it did."""
        n, written = self._size(), self._writes()
        if n < self._frozen_at:  # deletes or a reset: measure growth from here
            self._frozen_at = n
        enough = max(self._at_least, self._grow * self._frozen_at)
        if n - self._frozen_at < enough and written - self._written_at < max(enough, self._grow * n):
            return False
        gc.freeze()
        self._frozen_at, self._written_at = n, written
        self.freezes += 1
        return True

    def young(self) -> bool:
        """A young pass if anything was stored since the last look (an idle server does no work) and CPython ran none
        meanwhile; True when anything was stored. Nothing while bulk work has the collector paused
        (collector_paused)."""
        written = self._writes()
        if written == self._young_at or _paused:
            return False
        self._young_at = written
        passes = self._young_passes()
        if passes == self._passes_seen:  # else CPython walked the young generation (and drives the middle one)
            self.young_passes += 1
            gc.collect(1 if self.young_passes % REWRITE_MIDDLE_EVERY == 0 else 0)
            passes = self._young_passes()
        self._passes_seen = passes
        return True

    async def run(
        self,
        every_s: float = YOUNG_EVERY_S,
        young_threshold: int = YOUNG_THRESHOLD,
        middle_threshold: int = MIDDLE_THRESHOLD,
    ) -> None:
        shipped = gc.get_threshold()
        gc.set_threshold(young_threshold, middle_threshold, *shipped[2:])
        try:
            while True:
                await asyncio.sleep(every_s)
                if self.young():
                    self.check()  # a few dict lengths: cheap enough to keep the unfrozen part within a tenth
        finally:
            gc.set_threshold(*shipped)


@contextlib.contextmanager
def collector_paused(*, policy: bool = True) -> Iterator[Callable[[int], None]]:
    """No automatic pass, and no CollectorPolicy pass, while sliced bulk work runs (a snapshot's encoding, a
    restore's decoding: issue 23).

    Such work allocates hundreds of thousands of objects that live on (a restore's records) or die by reference
    counting (a snapshot's rows); between two of its slices CPython's thresholds would start full passes over all
    of them (measured at 10,000 engagements: 140–230 ms each, several per restore), far longer than a slice. With
    automatic passes off the young generation holds everything made since, so a policy pass would walk all of it
    (274 ms of CPU at 100,000): the policy waits too. The yielded function is told how many records the work made
    that stay: above BULK_FREEZE they are moved into the permanent generation when it ends (O(1), as `serve` does
    after a state file's load), or the next young pass would walk them all. Below it (tests, small stores) nothing
    is frozen: the collector stays as Python ships it.

    `policy=False` keeps CollectorPolicy's young passes going: for work that writes all along (a fixture load), they
    stay short and keep the young generation small; only CPython's own (full) passes are held back.
    """
    kept = 0

    def made(records: int) -> None:
        nonlocal kept
        kept = records

    global _paused
    was_enabled = gc.isenabled()
    gc.disable()
    _paused += policy
    try:
        yield made
    finally:
        _paused -= policy
        if kept > BULK_FREEZE:
            gc.freeze()
        if was_enabled:
            gc.enable()
