"""Time as a seam: the insights policy and retry backoff sleep through a ``Clock``.

Production uses ``SystemClock``. Tests and demos against the emulator pass
``reference_client.emulator.EmulatorClock`` instead, so a five-minute wait costs milliseconds.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """What the waiting code needs from time.

    ``now`` is async because an emulator-backed clock reads the time over HTTP.
    """

    async def now(self) -> datetime:
        """Current time, timezone-aware UTC."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Let ``seconds`` pass (on this clock's timeline)."""
        ...


class SystemClock:
    """Wall-clock time and ``asyncio.sleep``: the production clock."""

    async def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))
