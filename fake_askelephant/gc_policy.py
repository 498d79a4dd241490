"""Keep the cyclic garbage collector's full passes off a growing store (issue 22 §2).

A full collection traverses every tracked object: with 100,000 stored engagements that is millions of objects and
a pause of hundreds of milliseconds on whatever request triggered it. Stored records hold no reference cycles
(tests/emulator/test_reset_deferred.py drops a whole store with the collector off), so reference counting frees them
when they are deleted or reset; the collector has nothing to find among them. `FreezeAfterGrowth` therefore moves
everything alive into the permanent generation (`gc.freeze()`, O(1)) each time the store has grown by a good part
since the last freeze: later full passes scan only what is newer. What a freeze catches mid-flight (a request's
objects that form a cycle) is never collected: bounded by what is in flight at a freeze, and freezes are rare
(each needs the store to grow by `grow` since the last).

Only `serve` runs it (cli.py): test processes keep the collector as Python ships it.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable

CHECK_EVERY_S = 1.0
GROW = 0.25  # like CPython's own rule for full passes: a quarter more than at the last freeze
AT_LEAST = 2_000  # records; below this a full pass is cheap anyway


class FreezeAfterGrowth:
    def __init__(self, size: Callable[[], int], *, grow: float = GROW, at_least: int = AT_LEAST) -> None:
        self._size = size
        self._grow = grow
        self._at_least = at_least
        self._frozen_at = size()
        self.freezes = 0

    def check(self) -> bool:
        """Freeze if the store grew enough since the last freeze; True when it did."""
        n = self._size()
        if n < self._frozen_at:  # deletes or a reset: measure growth from here
            self._frozen_at = n
        if n - self._frozen_at < max(self._at_least, self._grow * self._frozen_at):
            return False
        gc.freeze()
        self._frozen_at = n
        self.freezes += 1
        return True

    async def run(self, every_s: float = CHECK_EVERY_S) -> None:
        while True:
            await asyncio.sleep(every_s)
            self.check()
