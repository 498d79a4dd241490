"""A workspace's engagements in (updated_at, id) order, kept on change, so a keyset page costs O(log n + limit).

Listing used to sort the whole workspace per request: 55–70 ms a page at 10,000 engagements (benchmarks/).
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterator, Mapping

from .models import Engagement
from .releaser import Dropped

Key = tuple[int, str]  # (updated_at, id): the order and the cursor of api.md §8


class EngagementOrder:
    """Sorted keys in a list: an insert or a move is a bisect and one C-level memmove (microseconds at 10^5).

    The store keeps it in step on insert and delete, the recorder whenever updated_at moves; records loaded
    around them (persistence) are caught by `sync`.
    """

    def __init__(self) -> None:
        self._keys: list[Key] = []
        self._key_of: dict[str, Key] = {}

    def __len__(self) -> int:
        return len(self._keys)

    def put(self, e: Engagement) -> None:
        new = (e.updated_at, e.id)
        old = self._key_of.get(e.id)
        if old == new:
            return
        if old is not None:
            del self._keys[bisect_left(self._keys, old)]
        self._key_of[e.id] = new
        insort(self._keys, new)

    def discard(self, engagement_id: str) -> None:
        old = self._key_of.pop(engagement_id, None)
        if old is not None:
            del self._keys[bisect_left(self._keys, old)]

    def sync(self, engagements: Mapping[str, Engagement]) -> None:
        """Rebuild when records were put into the dict directly (persistence loads into a fresh workspace,
        so a count that differs is the sign)."""
        if len(self._keys) != len(engagements):
            self._key_of = {e.id: (e.updated_at, e.id) for e in engagements.values()}
            self._keys = sorted(self._key_of.values())

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
        self._keys, self._key_of = keys, key_of

    def after(self, mark: Key | None, *, descending: bool) -> Iterator[str]:
        """Ids in page order, strictly after `mark` (a cursor's key), or from the first when None.
        Do not change the order while walking it."""
        keys = self._keys
        if descending:
            start = len(keys) if mark is None else bisect_left(keys, mark)
            return (keys[i][1] for i in range(start - 1, -1, -1))
        start = 0 if mark is None else bisect_right(keys, mark)
        return (keys[i][1] for i in range(start, len(keys)))

    def drop(self) -> list[Dropped]:
        """Empty this order in O(1); the old containers are returned for a Releaser (reset)."""
        dropped = [Dropped(self._keys), Dropped(self._key_of)]
        self._keys, self._key_of = [], {}
        return dropped
