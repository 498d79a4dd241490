"""A workspace's engagements in (updated_at, id) order, kept on change, so a keyset page costs O(log n + limit).

Listing used to sort the whole workspace per request (55–70 ms a page at 10,000). The order is a SortedKeys
(chunked), so keeping it costs O(log n) per change however big the workspace (a flat list paid a memmove of the
whole list behind each moved key: most of a clock advance at 100,000). Filters are checked per record while the
order is walked; a query whose matches are sparse finds them all at once and keeps the result until the workspace
changes (`cached`/`remember`), so a paged walk of it is O(n) in all (core/engagements.py, issue 22).
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Iterator, Mapping

from .models import Engagement
from .releaser import Dropped
from .sorted_keys import Key, SortedKeys

RESULTS_KEPT = 8  # whole-query results kept for paged walks of sparse filters


class EngagementOrder:
    """The store keeps it in step on insert and delete, the change recorder on every change; records loaded around
    them (persistence) are caught by `sync`."""

    def __init__(self) -> None:
        self.all = SortedKeys()
        self._key_of: dict[str, Key] = {}
        self.revision = 0  # moves on every change: remembered results compare it
        self._results: dict[Hashable, tuple[int, list[Key]]] = {}

    def __len__(self) -> int:
        return len(self.all)

    def put(self, e: Engagement) -> None:
        self.revision += 1  # a filtered field may have changed even when the position did not
        new = (e.updated_at, e.id)
        old = self._key_of.get(e.id)
        if old == new:
            return
        if old is not None:
            self.all.remove(old)
        self._key_of[e.id] = new
        self.all.add(new)

    def discard(self, engagement_id: str) -> None:
        old = self._key_of.pop(engagement_id, None)
        if old is not None:
            self.all.remove(old)
            self.revision += 1

    def sync(self, engagements: Mapping[str, Engagement]) -> None:
        """Rebuild when records were put into the dict directly (persistence loads into a fresh workspace,
        so a count that differs is the sign)."""
        if len(self.all) != len(engagements):
            self._key_of = {e.id: (e.updated_at, e.id) for e in engagements.values()}
            self.all = SortedKeys(self._key_of.values())
            self.revision += 1

    def walk(self, lo: Key | None, hi: Key | None, *, descending: bool) -> Iterator[Key]:
        """Positions strictly between lo and hi, in page order. Do not change the order while walking it."""
        return self.all.walk(lo, hi, descending=descending)

    def cached(self, query: Hashable) -> list[Key] | None:
        """Every match of `query`, in ascending order, as remembered, if nothing changed since."""
        hit = self._results.get(query)
        return hit[1] if hit is not None and hit[0] == self.revision else None

    def remember(self, query: Hashable, keys: list[Key]) -> None:
        if len(self._results) >= RESULTS_KEPT:
            del self._results[next(iter(self._results))]
        self._results[query] = (self.revision, keys)

    def rebuilding(self, engagements: Mapping[str, Engagement], piece: int = 2000) -> Iterator[None]:
        """Rebuild from `engagements`, pausing (yield) every `piece` keys: a state file's load gives way to
        requests (one sort of 100,000 keys whose ids are all that tell them apart takes ~0.1-0.2 s). Sorted runs
        of `piece` keys, then their merge."""
        items = list(engagements.values())
        key_of: dict[str, Key] = {}
        runs: list[list[Key]] = []
        for start in range(0, len(items), piece):
            run = [(e.updated_at, e.id) for e in items[start : start + piece]]
            key_of.update((key[1], key) for key in run)
            run.sort()
            runs.append(run)
            yield
        keys: list[Key] = []
        for n, key in enumerate(heapq.merge(*runs), 1):
            keys.append(key)
            if n % piece == 0:
                yield
        self.all, self._key_of = SortedKeys.from_sorted(keys), key_of
        self.revision += 1

    def drop(self) -> list[Dropped]:
        """Empty this order in O(1); the old containers are returned for a Releaser (reset)."""
        dropped = [Dropped(self._key_of)]
        self.all, self._key_of, self._results = SortedKeys(), {}, {}
        self.revision += 1
        return dropped
