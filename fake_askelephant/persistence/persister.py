"""Keeps the state file in step with the emulator: write-through commits, honest failures, snapshots, restore.

The promise (docs/reliability.md): with a state file, a state-changing request is answered 2xx only after its
change is committed. `commit()` takes the core's write set (core/write_set.py), encodes those records on the event
loop (a consistent view: nothing else runs meanwhile), and writes them in one transaction; cost grows with what
changed, not with what is stored. Requests that finish while a commit runs are covered by the next one (group
commit). A small transaction (a create: ~8 rows, ~2.5 KB) is committed right there on the event loop: in WAL mode
with synchronous=NORMAL that is a write() into the WAL and no fsync, ~0.1 ms, where a trip to the worker thread
and back cost more than the write (issue 18). Anything bigger (a reset's full dump, snapshots, reading the file
back) runs on the worker thread, and so do checkpoints (their fsyncs; every ~1,000 pages written, as SQLite would),
from a connection of their own while commits go on: the event loop never waits for the disk to sync.

When a commit fails (disk full, read-only, I/O error) nothing of it is on disk, so memory is put back to match the
file: everything is reloaded from it (the rare, O(state) path; built aside in slices, then swapped in), `epoch`
moves so every request that was in flight answers 503 instead of 2xx, and `unavailable` names the cause (health:
`degraded`) until a write succeeds again.
Meanwhile scheduled work waits (Scheduler.gate): what it would change could not be stored; it runs once writes
succeed, from the restored schedule, so it is retried, never dropped. Writes resume without a restart.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from ..core import write_set as tables
from ..core.admission import Admission
from ..core.clock import CLOCK_MAX_MS, CLOCK_MIN_MS
from ..core.errors import NotFound
from ..core.releaser import Dropped
from ..core.slicing import SLICE_S, Slices
from ..core.timefmt import format_ms, wall_ms
from ..emulator import Emulator
from ..gc_policy import collector_paused
from . import state, streams
from .statefile import START_FRESH, Key, Row, SnapshotInfo, StateFile, StateFileError

log = logging.getLogger("fake_askelephant.persistence")
FLUSH_INTERVAL_S = 0.2  # background work (stages, deliveries) is written within this long
PROBE_INTERVAL_S = 1.0  # while degraded, how often the background loop tries to write again
LOAD_PIECE_ROWS = 2000  # rows read from the file at a time while start-up loads it (~2 MB of engagements)
LOAD_STEP_ROWS = 32  # rows loaded between two looks at the clock (each ~5-20 µs: a slice overruns by < 1 ms)
DUMP_STEP_ROWS = 64  # rows encoded between two looks at the clock (a snapshot)
RESTORE_STEP_ROWS = 64  # rows decoded, then inserted, between two looks at the clock (a restore)
SMALL_WRITE_BYTES = 64 * 1024  # a transaction up to this size commits on the event loop (module docstring)
# The background task checkpoints once about this many pages were committed since the last checkpoint: SQLite's
# own autocheckpoint threshold, which the connection no longer applies inside commits. A commit counts 4 pages (its
# rows' leaf and index pages) plus its bodies' size in 4 KiB pages (a create: ~4; the WAL holds ~3.5 per create).
CHECKPOINT_PAGES = 1000
R = TypeVar("R")


class StorageUnavailable(Exception):
    """A change could not be made durable; nothing of it was kept (the HTTP edge answers 503)."""


class Persister:
    """One per app. `path` None: snapshots only, kept in an in-memory database."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self._executor: ThreadPoolExecutor | None = None
        self._file: StateFile | None = None
        self._prelude: list[Row] = []  # read at once; the other rows stream in at load
        self._total = 0  # records in the file when it was opened
        self._meta: dict[str, str] = {}
        if path is not None:  # in-memory mode opens its database on the first snapshot
            file = self._open()
            try:
                self._meta = self._pool().submit(file.meta).result()
                self._prelude = self._pool().submit(file.rows_of, state.PRELUDE_KINDS).result()
                self._total = self._pool().submit(file.count).result()
            except sqlite3.DatabaseError as exc:  # a damaged page shows only when it is read
                self.close_file()
                raise StateFileError(f"{path}: damaged state file ({exc}); {START_FRESH}") from exc
        self._lock = asyncio.Lock()
        self._emulator: Emulator | None = None
        self._loader: state.Loader | None = None  # saved rows still to load (attach(defer=True), then load())
        self._loaded: asyncio.Event | None = None
        self._load_failed: str | None = None
        self._ambient: dict[Key, Any] = {}  # what each ambient row was when last written (_fingerprint)
        self._moves = 0  # clock.moves at the last commit
        self._unchecked = 0  # pages committed since the last checkpoint (estimated: CHECKPOINT_PAGES)
        self._checkpoint_failed = False
        self.unavailable: str | None = None
        self.epoch = 0  # moves when memory was put back to the file: in-flight requests must not answer 2xx
        self._writable: asyncio.Event | None = None
        self.admission = Admission()  # snapshots and restores hold requests back while they need a still state
        self.slice_s = SLICE_S  # snapshots and restores yield to the event loop this often (tests: 0)

    @property
    def durable(self) -> bool:
        return self.path is not None

    # Start-up ---------------------------------------------------------------------------------------

    def saved_seed(self) -> int | None:
        seed = self._meta.get("seed")
        if seed is None or not self._total:
            return None
        if not seed.isdigit():
            raise StateFileError(f"{self.path}: damaged state file (seed {seed!r} is not a number); {START_FRESH}")
        return int(seed)

    def saved_now_ms(self) -> int | None:
        """The saved virtual now, clamped into the clock's range (load reports a clamp)."""
        try:
            clock = state.saved_clock(self._prelude)
        except Exception as exc:
            problem = f"damaged state file (clock row: {_one_line(exc)})"
            raise StateFileError(f"{self.path}: {problem}; {START_FRESH}") from exc
        return min(max(clock[0], CLOCK_MIN_MS), CLOCK_MAX_MS) if clock else None

    def attach(self, emulator: Emulator, *, defer: bool = False) -> int:
        """Load the saved rows (if any) into a freshly built emulator; returns how many rows the file holds.

        `defer`: only the prelude (clock, seeded streams, media key, workspaces) now; the records stream in with
        `await load()` while the server answers health with `starting` (issue 23: `serve` with 100,000 stored
        engagements answers at once). A row that cannot be read is a StateFileError naming the file (never a
        traceback, never an empty start); values that had to be clamped into range are logged as warnings. From
        then on the emulator reports its changes (core/write_set.py); the first commit writes what start-up
        configuration added.
        """
        self._emulator = emulator
        loader = state.Loader(emulator)
        self._loading(loader.prelude, self._prelude)
        self._prelude = []
        if not self._total:
            self._loading(loader.finish)
            self._loaded_now(loader)
        elif defer:
            self._loader = loader
        else:
            self._loading(loader.add, self._pool().submit(self._open().rows).result())
            self._loading(loader.finish)
            self._loaded_now(loader)
        return self._total

    async def load(self, slices: Slices | None = None) -> None:
        """The deferred part of attach(defer=True): read the file in pieces on the worker thread (the next piece
        is read while this one is decoded) and load row by row, yielding to the event loop every few
        milliseconds (core/slicing.py), so health and waiting requests are answered meanwhile. Raises
        StateFileError for a row that does not decode (requests waiting for the load then get 503)."""
        loader = self._loader
        if loader is None:
            return
        slices = slices or Slices()
        file = self._open()
        try:
            reading = asyncio.ensure_future(self._run(file.rows_after, 0, LOAD_PIECE_ROWS))
            while True:
                seq, rows = await reading
                if not rows:
                    break
                reading = asyncio.ensure_future(self._run(file.rows_after, seq, LOAD_PIECE_ROWS))
                for start in range(0, len(rows), LOAD_STEP_ROWS):
                    self._loading(loader.add, rows[start : start + LOAD_STEP_ROWS])
                    await slices.tick()
            for _ in self._checked(loader.finishing()):
                await slices.tick()
            self._loaded_now(loader)
        except StateFileError as exc:
            self._failed_to_load(str(exc))
            raise
        except sqlite3.DatabaseError as exc:  # a damaged page shows only when it is read
            self._failed_to_load(f"{self.path}: damaged state file ({exc}); {START_FRESH}")
            raise StateFileError(self._load_failed) from exc
        except Exception as exc:
            failure = self._damaged(exc)
            self._failed_to_load(str(failure))
            raise failure from exc

    def _failed_to_load(self, reason: str) -> None:
        self._load_failed = reason
        self._loaded_event().set()

    @property
    def starting(self) -> str | None:
        """While the saved rows load (attach(defer=True) until load() is done): how far it got, for health."""
        if self._loader is None or self._load_failed is not None:
            return None
        return f"loading the state file {self.path}: {self._loader.rows:,} of {self._total:,} records"

    def _loading(self, step: Callable[..., object], *args: Any) -> None:
        try:
            step(*args)
        except StateFileError:
            raise
        except Exception as exc:
            raise self._damaged(exc) from exc

    def _checked(self, steps: Iterator[None]) -> Iterator[None]:
        try:
            yield from steps
        except StateFileError:
            raise
        except Exception as exc:
            raise self._damaged(exc) from exc

    def _damaged(self, exc: Exception) -> StateFileError:
        """Anything in the rows that does not fit: the file, not the server, is bad."""
        return StateFileError(
            f"{self.path}: damaged state file (cannot load its records: {_one_line(exc)}); {START_FRESH}"
        )

    def _loaded_now(self, loader: state.Loader) -> None:
        """The load is complete (`loader` finished)."""
        emulator = self.emulator
        for note in loader.notes:
            log.warning("state file %s: %s", self.path, note)
        if self.durable:
            changes = emulator.write_set
            changes.on = True
            if self._total:
                self._note_configuration(emulator)
            else:
                changes.everything()
        self._loader = None
        self._moves = emulator.clock.moves
        self._loaded_event().set()
        emulator.scheduler.poke()

    @property
    def load_failed(self) -> str | None:
        """Why the deferred load failed (`serve` is exiting with it)."""
        return self._load_failed

    @property
    def loaded(self) -> bool:
        return self._loader is None and self._emulator is not None and self._load_failed is None

    def _loaded_event(self) -> asyncio.Event:
        if self._loaded is None:
            self._loaded = asyncio.Event()
            if self._loader is None:
                self._loaded.set()
        return self._loaded

    async def until_loaded(self) -> None:
        """Requests sent while the saved rows load wait here; StorageUnavailable if the load failed."""
        if self._loader is not None or self._load_failed is not None:
            await self._loaded_event().wait()
        if self._load_failed is not None:
            raise StorageUnavailable(self._load_failed)

    @staticmethod
    def _note_configuration(em: Emulator) -> None:
        """Keys, users and seed data made at start-up may be missing from (or newer than) the file."""
        for key in em.store.keys.values():
            em.write_set.put(tables.API_KEYS, key.key_id, key)
        for ws in em.store.workspaces.values():
            em.write_set.put(tables.WORKSPACES, ws.id, ws)
            for user in ws.users.values():
                em.store.user_changed(user)
        for loaded in em.startup_loaded:
            d = em.store.workspace(loaded.workspace_id).directory
            for kind, ids, table in (
                (tables.CONTACTS, loaded.contacts, d.contacts),
                (tables.COMPANIES, loaded.companies, d.companies),
                (tables.TAGS, loaded.tags, d.tags),
            ):
                for record_id in ids:
                    if record_id in table:
                        em.write_set.put(kind, f"{loaded.workspace_id}/{record_id}", table[record_id])

    @property
    def emulator(self) -> Emulator:
        assert self._emulator is not None, "attach() an emulator first"
        return self._emulator

    # Writing ----------------------------------------------------------------------------------------

    async def commit(self) -> bool:
        """Write everything changed so far. False: it could not be stored and memory was put back to the file."""
        async with self._lock:
            return await self._commit_locked()

    async def _commit_locked(self) -> bool:
        if not self.durable:
            return True
        em = self.emulator
        records, reset = em.write_set.take()
        if reset:
            upserts = state.dump(em)
            deletes: list[Key] = []
            ambient: dict[Key, Any] = {}
            for kind, key, value in state.ambient(em):
                ambient[(kind, key)] = _fingerprint(value)
        else:
            upserts, ambient = self._ambient_rows(em)
            if not records and not ambient and em.clock.moves == self._moves:
                return True  # only a running clock moved: written with the next real change
            upserts.append(("meta.clock", "now", state.clock_body(em)))
            deletes = [k for k, record in records.items() if record is None]
            deletes += [k for k, now in ambient.items() if now is None]
            upserts += [(k, key, state.encode(k, key, r)) for (k, key), r in records.items() if r is not None]
        meta = [("seed", str(em.seed)), ("saved_at", format_ms(wall_ms()))]
        try:
            await self._write(upserts, deletes, meta, replace=reset)
        except (sqlite3.Error, OSError) as exc:
            await self._fail(exc)
            return False
        if reset:
            self._ambient = ambient
        for k, now in ambient.items():
            if now is None:
                self._ambient.pop(k, None)
            else:
                self._ambient[k] = now
        self._moves = em.clock.moves
        self._recovered()
        return True

    async def _write(
        self, upserts: list[Row], deletes: list[Key], meta: list[tuple[str, str]], *, replace: bool
    ) -> None:
        """One transaction: a small one right here (the caller holds the lock, so nothing else uses the connection;
        no fsync happens in it, see the module docstring), anything else on the worker thread."""
        file = self._open()
        size = _size(upserts)
        self._unchecked += 4 + size // 4096
        if not replace and self._loader is None and size <= SMALL_WRITE_BYTES:
            file.write(upserts, deletes, meta)
        else:
            await self._run(file.write, upserts, deletes, meta, replace=replace)

    async def checkpoint(self) -> None:
        """Fold the WAL into the file (StateFile.checkpoint, on the worker thread, without the lock: commits go on).
        A failure loses nothing (the commits are in the WAL); the next one tries again."""
        self._unchecked = 0
        try:
            await self._run(self._open().checkpoint)
        except (sqlite3.Error, OSError) as exc:
            if not self._checkpoint_failed:
                log.warning("could not checkpoint the state file %s (%s); will retry", self.path, _one_line(exc))
            self._checkpoint_failed = True
            return
        self._checkpoint_failed = False

    def _ambient_rows(self, em: Emulator) -> tuple[list[Row], dict[Key, Any]]:
        """The ambient rows that differ from what was last written (their fingerprints; None: the row is gone)."""
        rows: list[Row] = []
        seen: dict[Key, Any] = {}
        present: set[Key] = set()
        for kind, key, value in state.ambient(em, clock=False):
            present.add((kind, key))
            now = _fingerprint(value)
            if self._ambient.get((kind, key)) != now:
                seen[(kind, key)] = now
                rows.append((kind, key, state.ambient_body(value)))
        for gone in self._ambient.keys() - present:
            if gone[0] != "meta.clock":
                seen[gone] = None
        return rows, seen

    async def _fail(self, exc: BaseException) -> None:
        """Nothing of the failed transaction is on disk: put memory back to the file, and say so until it heals."""
        reason = f"the state file {self.path} could not be written ({_one_line(exc)})"
        if self.unavailable is None:
            log.error("%s; answering 503 to state-changing requests until a write succeeds", reason)
        self.unavailable = reason
        self.epoch += 1
        self._gate().clear()
        em = self.emulator
        try:
            rows = await self._run(self._open().rows)
        except (sqlite3.Error, OSError) as read_error:  # cannot even read it back: keep memory, report both
            log.error("could not read the state file back either (%s)", _one_line(read_error))
            return
        await self._reload(em, rows)

    async def _reload(self, em: Emulator, rows: list[Row]) -> None:
        """Replace memory with `rows`, the clock staying where it runs unless the failed changes moved it.

        Built aside in slices (state.Loader(aside=True), as a restore): meanwhile reads are answered from memory as
        it was (the failed change included, as while it was being committed), requests already in flight will
        answer 503 (`epoch` moved) and new state-changing requests wait at their probe for the lock this commit
        holds. Then swapped in in one piece, without yielding (O(1) steps plus the webhook rows: the swap a
        restore makes with reads held). A row that does not load leaves memory as it was and raises."""
        loader = state.Loader(em, aside=True)
        with collector_paused() as made:
            try:
                prelude = await self._stage(loader, rows, Slices(self.slice_s))
            except BaseException:
                em.releaser.release(loader.discard())
                raise
            now, moved = em.clock.now_ms(), em.clock.moves != self._moves
            request_ids = em.request_ids.snapshot()  # answered request ids are never handed out twice
            em.write_set.on = False
            try:
                em.reset(everything=True)
                loader.prelude(prelude)
                for _ in loader.adopting():
                    pass
            finally:
                em.write_set.take()
                em.write_set.on = True
            made(len(rows))
        em.request_ids.restore(request_ids)
        if not moved:
            em.clock.restore(now)
        self._moves = em.clock.moves
        em.scheduler.poke()
        em.releaser.release([Dropped(rows)])

    def _recovered(self) -> None:
        if self.unavailable is not None:
            log.warning("the state file %s is writable again; writes resumed", self.path)
        self.unavailable = None
        self._gate().set()

    async def probe(self, *, heal: bool = True) -> bool:
        """While degraded: try a write (what is pending, else a heartbeat). True once writes succeed again.

        `heal=False` (a request about to change something): a heartbeat that fits does not end `degraded`; the
        request's own commit does, if it fits too. On a nearly full disk a tiny write can succeed where a real
        change cannot: each retried request would otherwise log "writable again" and reopen scheduled work."""
        async with self._lock:
            if self.unavailable is None:
                return True
            if self.emulator.write_set:
                return await self._commit_locked()
            try:
                await self._run(self._open().write, [], [], [("probed_at", format_ms(wall_ms()))])
            except (sqlite3.Error, OSError):
                return False
            if heal:
                self._recovered()
            return True

    def _gate(self) -> asyncio.Event:
        if self._writable is None:
            self._writable = asyncio.Event()
            if self.unavailable is None:
                self._writable.set()
        return self._writable

    async def wait_writable(self) -> None:
        """Scheduler.gate: scheduled work waits while the saved rows load, and while its changes could not be
        stored."""
        if self._loader is not None:
            await self._loaded_event().wait()
        if self.unavailable is not None:
            await self._gate().wait()

    async def run(self) -> None:
        """Background: write what scheduled work changed; while degraded, try again every PROBE_INTERVAL_S."""
        await self._loaded_event().wait()
        if self._load_failed is not None:
            return
        while True:
            if self.unavailable is not None:
                await asyncio.sleep(PROBE_INTERVAL_S)
                await self.probe()
                continue
            await asyncio.sleep(FLUSH_INTERVAL_S)
            if self.emulator.write_set:
                await self.commit()
            if self._unchecked >= CHECKPOINT_PAGES:
                await self.checkpoint()

    async def close(self) -> None:
        if self.durable and self.loaded:  # stopped while loading: nothing changed, nothing to write
            await self.commit()
        self.close_file()

    # Snapshots ------------------------------------------------------------------------------------

    async def snapshot(self, name: str) -> SnapshotInfo:
        """Save the whole state under `name`. Taken while the state holds still (Admission.holding: state-changing
        requests wait, reads go on; no scheduled job runs), in slices: health and reads are answered meanwhile."""
        em = self.emulator
        doing = f"taking snapshot {name}"
        if self.durable:  # commit, then SQLite copies the file's rows on the worker thread
            async with self.admission.holding(doing), em.scheduler.paused(), self._lock:
                if not await self._commit_locked():
                    raise StorageUnavailable(self.unavailable or "the state file could not be written")
                return await self._save_snapshot(self._info(name), None)
        with collector_paused():  # no pass over the rows: on the worker thread too it would hold the GIL that long
            async with self.admission.holding(doing), em.scheduler.paused():
                info = self._info(name)
                rows = await self._dump(em, Slices(self.slice_s), doing)
            # The image is complete: changes go on while it is stored.
            async with self._lock:
                saved = await self._save_snapshot(info, rows)
            # Freed in slices (at once, 210,000 rows took ~40 ms), before the collector is back (its first pass
            # would visit every row).
            em.releaser.release([Dropped(rows)])
            await em.releaser.idle()
        return saved

    def _info(self, name: str) -> SnapshotInfo:
        em = self.emulator
        return SnapshotInfo(name, format_ms(em.clock.now_ms()), format_ms(wall_ms()), em.seed, 0)

    async def _dump(self, em: Emulator, slices: Slices, doing: str) -> list[Row]:
        """state.dump in slices (the caller keeps the state still)."""
        admission = self.admission
        out = [(kind, key, state.ambient_body(value)) for kind, key, value in state.ambient(em)]
        total = em.record_count() + len(em.bus.log)
        encode = state.encode
        for kind, key, record in state.records(em):
            out.append((kind, key, encode(kind, key, record)))
            if len(out) % DUMP_STEP_ROWS == 0:
                admission.busy = f"{doing}: {len(out):,} of about {total:,} records"
                await slices.tick()
        return out

    async def _save_snapshot(self, info: SnapshotInfo, rows: list[Row] | None) -> SnapshotInfo:
        try:
            return await self._run(self._open().save_snapshot, info, rows)
        except (sqlite3.Error, OSError) as exc:  # nothing in memory changed: only the snapshot is missing
            raise StorageUnavailable(f"the snapshot could not be written ({_one_line(exc)})") from exc

    async def restore(self, name: str) -> int:
        """Replace the whole state (clock included) with snapshot `name`; returns its row count.

        In slices (issue 23), in two parts. First, while state-changing requests wait (Admission.holding) and no
        scheduled job runs, every row is decoded and the restored state is built aside (state.Loader(aside=True):
        its workspaces, list orders, lookups, pipeline runs and their schedule), in slices; reads are answered
        from the old state all along, and nothing of it changes. Then reads wait too, for the swap: the emulator
        is reset and takes the staged state whole (a few O(1) steps, plus the bounded webhook rows), so no read
        ever sees a mix. Everything that waited then runs on the restored state. The result is the same as
        loading the rows in one piece (state.load).
        """
        em = self.emulator
        doing = f"restoring snapshot {name}"
        async with self.admission.holding(doing), em.scheduler.paused(), self._lock:
            with collector_paused() as made:
                count = await self._restore_locked(em, name, doing)
                made(count)
        em.scheduler.poke()
        return count

    async def _restore_locked(self, em: Emulator, name: str, doing: str) -> int:
        slices = Slices(self.slice_s)
        rows = await self._run(self._open().snapshot_rows, name)
        if rows is None:
            raise NotFound("snapshot", name)
        loader = state.Loader(em, aside=True)
        try:
            try:
                prelude = await self._stage(loader, rows, slices, doing)
            except state.RowError as exc:
                raise StorageUnavailable(f"snapshot {name} cannot be read ({_one_line(exc)})") from exc
            if self.durable:
                if not await self._commit_locked():
                    raise StorageUnavailable(self.unavailable or "the state file could not be written")
                meta = [("seed", str(em.seed)), ("saved_at", format_ms(wall_ms()))]
                try:
                    await self._run(self._open().restore_snapshot, name, meta)
                except (sqlite3.Error, OSError) as exc:
                    await self._fail(exc)
                    raise StorageUnavailable(self.unavailable or "the state file could not be written") from exc
        except BaseException:
            em.releaser.release(loader.discard())  # nothing was swapped in: the old state stays, whole
            raise
        await self.admission.hold_readers()
        await self._swap(em, loader, prelude, slices, f"{doing}: swapping it in")
        if self.durable:
            self._ambient = {}  # the next commit writes every ambient row (request ids kept counting)
        self._moves = em.clock.moves
        em.releaser.release([Dropped(rows)])  # in slices: at once, ~40 ms at 100,000 engagements
        return len(rows)

    async def _stage(
        self, loader: state.Loader, rows: list[Row], slices: Slices, doing: str | None = None
    ) -> list[Row]:
        """Decode every row and build the state aside (`loader`), in slices; returns the prelude rows. A row that
        does not decode raises RowError before anything served changed. `doing`: what health's `busy` says (a
        restore; a disk-full reload says nothing there, health says `degraded`)."""
        admission = self.admission
        prelude: list[Row] = []
        prelude_kinds = state.PRELUDE_KINDS
        for start in range(0, len(rows), RESTORE_STEP_ROWS):
            chunk = rows[start : start + RESTORE_STEP_ROWS]
            prelude += [row for row in chunk if row[0] in prelude_kinds]
            loader.add(chunk)
            if doing is not None:
                admission.busy = f"{doing}: building it aside, {start:,} of {len(rows):,} records"
            await slices.tick()
        if doing is not None:
            admission.busy = f"{doing}: building its indexes aside"
        for _ in loader.staging():
            await slices.tick()
        loader.check_prelude(prelude)
        return prelude

    async def _swap(self, em: Emulator, loader: state.Loader, prelude: list[Row], slices: Slices, doing: str) -> None:
        """Reset, then take the staged state (nothing reads or writes meanwhile: the caller holds everyone). With a
        state file, as _reload: changes are not tracked (the file holds them already) and request ids keep
        counting (an answered request id is never handed out twice); the clock is the snapshot's."""
        self.admission.busy = doing
        request_ids = em.request_ids.snapshot() if self.durable else None
        if self.durable:
            em.write_set.on = False
        try:
            with em.releaser.held():  # the old state is freed once requests run again, not while they wait
                em.reset(everything=True)
                loader.prelude(prelude)
                for _ in loader.adopting():
                    await slices.tick()
        finally:
            if self.durable:
                em.write_set.take()
                em.write_set.on = True
        if request_ids is not None:
            em.request_ids.restore(request_ids)

    async def snapshots(self) -> list[SnapshotInfo]:
        async with self._lock:  # a commit may be using the connection on the event loop
            return await self._run(self._open().snapshots)

    async def delete_snapshot(self, name: str) -> None:
        async with self._lock:
            deleted = await self._run(self._open().delete_snapshot, name)
        if not deleted:
            raise NotFound("snapshot", name)

    def close_file(self) -> None:
        """Close the file and its thread (shutdown, or a start-up that failed after the file was opened)."""
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
        """The state file, opened on the worker thread (opening may migrate: not on the event loop)."""
        if self._file is None:
            self._file = self._pool().submit(StateFile, self.path or ":memory:").result()
        return self._file

    async def _run(self, fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool(), lambda: fn(*args, **kwargs))


def _fingerprint(value: Any) -> Any:
    """Cheap to compare: a stream's base by its number, a count as is, anything else as its encoded bytes."""
    if isinstance(value, streams.StreamBase):
        return ("base", value.base_id)
    if type(value) is int:
        return value
    return state.ambient_body(value)


def _size(rows: list[Row]) -> int:
    return sum(len(body) for _, _, body in rows)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:199] + "…"
