"""Stores that remember webhook message ids, so a redelivered message is processed once.

Svix retries one message for up to 27 h 35 min (webhooks.md §6), so ids are kept at least
28 hours. ``claim`` is check-and-mark in one step: two concurrent deliveries of one message
cannot both win.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, runtime_checkable

MIN_TTL_SECONDS = 28 * 3600
"""Longer than Svix's whole retry ladder (27 h 35 min 5 s)."""


@runtime_checkable
class DedupStore(Protocol):
    async def claim(self, message_id: str) -> bool:
        """Mark ``message_id`` as seen; True if it was not seen (or has expired) before."""
        ...


def _check_ttl(ttl_seconds: float) -> float:
    if ttl_seconds < MIN_TTL_SECONDS:
        raise ValueError(
            f"ttl_seconds={ttl_seconds} is shorter than the webhook retry ladder; use >= {MIN_TTL_SECONDS}"
        )
    return ttl_seconds


class InMemoryDedupStore:
    """Process-local store; fine for one receiver process, forgotten on restart.

    ``InMemoryDedupStore()``                        # 28 h
    ``InMemoryDedupStore(monotonic=fake_seconds)``  # tests: drive expiry without waiting
    """

    def __init__(
        self, ttl_seconds: float = MIN_TTL_SECONDS, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl = _check_ttl(ttl_seconds)
        self._monotonic = monotonic
        # Insertion order == claim time order, so expired ids are always at the front.
        self._seen: dict[str, float] = {}

    async def claim(self, message_id: str) -> bool:
        now = self._monotonic()
        self._evict(now)
        if message_id in self._seen:
            return False
        self._seen[message_id] = now
        return True

    def _evict(self, now: float) -> None:
        cutoff = now - self._ttl
        while self._seen:
            oldest_id, seen_at = next(iter(self._seen.items()))
            if seen_at > cutoff:
                return
            del self._seen[oldest_id]

    def __len__(self) -> int:
        return len(self._seen)


class SqliteDedupStore:
    """Durable store in a SQLite file (stdlib ``sqlite3``), shared by restarts and processes.

    Queries run in a worker thread (``asyncio.to_thread``) so disk I/O never blocks the event
    loop that must acknowledge webhooks within 15 s.
    """

    def __init__(
        self,
        path: str | Path,
        ttl_seconds: float = MIN_TTL_SECONDS,
        *,
        wall_time: Callable[[], float] = time.time,
    ) -> None:
        self._ttl = _check_ttl(ttl_seconds)
        self._wall_time = wall_time
        self._lock = threading.Lock()
        # Wall time, not monotonic: the rows outlive this process.
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS webhook_messages (message_id TEXT PRIMARY KEY, seen_at REAL NOT NULL)"
            )
            self._db.execute("CREATE INDEX IF NOT EXISTS webhook_messages_seen_at ON webhook_messages (seen_at)")

    async def claim(self, message_id: str) -> bool:
        return await asyncio.to_thread(self._claim, message_id, self._wall_time())

    def _claim(self, message_id: str, now: float) -> bool:
        cutoff = now - self._ttl
        with self._lock:
            self._db.execute("DELETE FROM webhook_messages WHERE seen_at <= ?", (cutoff,))
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO webhook_messages (message_id, seen_at) VALUES (?, ?)",
                (message_id, now),
            )
            return cursor.rowcount == 1

    def close(self) -> None:
        with self._lock:
            self._db.close()
