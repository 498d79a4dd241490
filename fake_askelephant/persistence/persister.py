"""Keeps the state file in step with the emulator: diffed writes off the event loop, snapshots, restore.

Rows are encoded on the event loop (a consistent view: nothing else runs meanwhile) and compared with what
was last written; only changed rows go to SQLite, on one worker thread that owns the connection.
Writes happen after every request that may change state (before its response is sent, so an answered
request is on disk), when scheduled work ran (checked every FLUSH_INTERVAL_S), and at shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from ..core.clock import CLOCK_MAX_MS, CLOCK_MIN_MS
from ..core.errors import NotFound
from ..core.timefmt import format_ms, wall_ms
from ..emulator import Emulator
from . import state
from .statefile import START_FRESH, Key, SnapshotInfo, StateFile, StateFileError

log = logging.getLogger("fake_askelephant.persistence")
FLUSH_INTERVAL_S = 0.5
R = TypeVar("R")


class Persister:
    """One per app. `path` None: snapshots only, kept in an in-memory database."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self._executor: ThreadPoolExecutor | None = None
        self._file: StateFile | None = None
        self._saved: dict[Key, bytes] = {}
        self._meta: dict[str, str] = {}
        if path is not None:  # in-memory mode opens its database on the first snapshot
            file = self._open()
            try:
                self._saved = self._pool().submit(file.rows).result()
                self._meta = self._pool().submit(file.meta).result()
            except sqlite3.DatabaseError as exc:  # a damaged page shows only when it is read
                self._pool().submit(file.close).result()
                raise StateFileError(f"{path}: damaged state file ({exc}); {START_FRESH}") from exc
        self._written: dict[Key, bytes] = {}
        self._lock = asyncio.Lock()
        self._emulator: Emulator | None = None

    @property
    def durable(self) -> bool:
        return self.path is not None

    # Start-up ---------------------------------------------------------------------------------------

    def saved_seed(self) -> int | None:
        seed = self._meta.get("seed")
        if seed is None or not self._saved:
            return None
        if not seed.isdigit():
            raise StateFileError(f"{self.path}: damaged state file (seed {seed!r} is not a number); {START_FRESH}")
        return int(seed)

    def saved_now_ms(self) -> int | None:
        """The saved virtual now, clamped into the clock's range (load reports a clamp)."""
        try:
            clock = state.saved_clock(self._saved)
        except Exception as exc:
            raise StateFileError(
                f"{self.path}: damaged state file (clock row: {_one_line(exc)}); {START_FRESH}"
            ) from exc
        return min(max(clock[0], CLOCK_MIN_MS), CLOCK_MAX_MS) if clock else None

    def attach(self, emulator: Emulator) -> int:
        """Load the saved rows (if any) into a freshly built emulator; returns how many rows were loaded.

        A row that cannot be read is a StateFileError naming the file (never a traceback, never an empty start);
        values that had to be clamped into range are logged as warnings.
        """
        self._emulator = emulator
        loaded = len(self._saved)
        if self._saved:
            try:
                notes = state.load(emulator, self._saved)
            except Exception as exc:  # anything in the rows that does not fit: the file, not the server, is bad
                raise StateFileError(
                    f"{self.path}: damaged state file (cannot load its records: {_one_line(exc)}); {START_FRESH}"
                ) from exc
            for note in notes:
                log.warning("state file %s: %s", self.path, note)
            self._written = self._saved
        self._saved = {}
        return loaded

    @property
    def emulator(self) -> Emulator:
        assert self._emulator is not None, "attach() an emulator first"
        return self._emulator

    # Writing ----------------------------------------------------------------------------------------

    async def flush(self) -> None:
        async with self._lock:
            await self._flush_locked()

    async def flush_quietly(self) -> None:
        """Flush, logging a failure instead of raising: the in-memory state stays right and the next
        flush retries every row not yet written."""
        try:
            await self.flush()
        except Exception:
            log.exception("could not write the state file %s", self.path)

    async def _flush_locked(self) -> None:
        rows = self._collect()
        upserts = {k: v for k, v in rows.items() if self._written.get(k) != v}
        deletes = [k for k in self._written if k not in rows]
        if upserts or deletes:
            meta = {"seed": str(self.emulator.seed), "saved_at": format_ms(wall_ms())}
            await self._run(self._open().write, upserts, deletes, meta)
        self._written = rows

    def _collect(self) -> dict[Key, bytes]:
        rows: dict[Key, bytes] = {}
        for kind, key, value in state.dump(self.emulator):
            k = (kind, key)
            if kind in state.IMMUTABLE_KINDS and k in self._written:
                rows[k] = self._written[k]
            else:
                rows[k] = state.encode(value)
        return rows

    def activity(self) -> tuple[Any, ...]:
        """Cheap fingerprint that moves when scheduled work ran (stages emit events, attempts are logged)."""
        em = self.emulator
        last_event = em.bus.log[-1].id if em.bus.log else None
        return (
            len(em.bus.log),
            last_event,
            len(em.webhooks.log),
            em.webhooks.log[-1].seq if em.webhooks.log else 0,
            em.scheduler.next_due_ms(),
            sum(f.hits for f in em.faults.rules),
        )

    async def run(self) -> None:
        """Background: flush when scheduled work changed the state (time_scale > 0, webhook retries)."""
        seen = self.activity()
        while True:
            await asyncio.sleep(FLUSH_INTERVAL_S)
            now = self.activity()
            if now != seen:
                seen = now
                await self.flush_quietly()

    async def close(self) -> None:
        if self.durable:
            await self.flush_quietly()
        if self._file is not None:
            await self._run(self._open().close)
        if self._executor is not None:
            self._executor.shutdown(wait=True)

    # Snapshots ------------------------------------------------------------------------------------

    async def snapshot(self, name: str) -> SnapshotInfo:
        em = self.emulator
        async with self._lock:
            await self._flush_locked()
            info = SnapshotInfo(name, format_ms(em.clock.now_ms()), format_ms(wall_ms()), em.seed, 0)
            return await self._run(self._open().save_snapshot, info)

    async def restore(self, name: str) -> int:
        """Replace the whole state (clock included) with snapshot `name`; returns its row count."""
        em = self.emulator
        async with self._lock:
            rows = await self._run(self._open().snapshot_rows, name)
            if rows is None:
                raise NotFound("snapshot", name)
            em.reset(everything=True)
            em.scheduler.clear()
            state.load(em, rows)
            await self._flush_locked()
            return len(rows)

    async def snapshots(self) -> list[SnapshotInfo]:
        return await self._run(self._open().snapshots)

    async def delete_snapshot(self, name: str) -> None:
        if not await self._run(self._open().delete_snapshot, name):
            raise NotFound("snapshot", name)

    def close_file(self) -> None:
        """Close a file that will not be served (start-up failed after it was opened)."""
        if self._file is not None:
            self._pool().submit(self._file.close).result()
            self._file = None
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="fake-askelephant-state")
        return self._executor

    def _open(self) -> StateFile:
        """The connection, created on the worker thread that will use it (sqlite3 objects are per thread)."""
        if self._file is None:
            self._file = self._pool().submit(StateFile, self.path or ":memory:").result()
        return self._file

    async def _run(self, fn: Callable[..., R], *args: Any) -> R:
        return await asyncio.get_running_loop().run_in_executor(self._pool(), fn, *args)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:199] + "…"
