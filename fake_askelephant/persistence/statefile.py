"""The SQLite state file: current rows, metadata and named snapshots, written in atomic transactions.

Durability (docs/reliability.md): WAL journal, `synchronous=NORMAL`. A commit has returned once its transaction
is in the WAL, so a process killed at any point (kill -9, OOM, a container stop) keeps every committed write and
never leaves a torn file; an OS crash or power loss may drop the newest commits (not yet checkpointed), never
corrupt the file. One caller at a time uses the connection, from any thread (Persister: small commits on
the event loop, the rest on its worker thread); checkpoints use a second connection (checkpoint()).

Format 2 (issue 18): one row per record, `records(seq, kind, key, body)`, upserted by (kind, key); `seq` keeps
first-insertion order, which is the order every table loads in. Format 1 (position-prefixed keys, the directory
inside the workspace row) is migrated in place, in one transaction, the first time it is opened. Format 3 adds
`meta.rng.drawn` rows (a seeded stream's words drawn since the base state in its `meta.rng` row, persistence/
state.py); a format 2 file reads as is (no such rows: nothing drawn since) and is marked format 3 when opened, so
a version that would ignore those rows, and hand out ids again, refuses it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

from ..core.records import dataclass
from . import migrate

Key = tuple[str, str]
Row = tuple[str, str, bytes]  # kind, key, JSON body
FORMAT_NAME = "fake-askelephant-state"
VERSION = 3
FORMAT = f"{FORMAT_NAME}/{VERSION}"
START_FRESH = "to start fresh, move the file away or pass another --state-file"
# Tables and their columns, as _SCHEMA creates them: a file that lacks one is refused, not silently recreated.
COLUMNS = {
    "meta": ("key", "value"),
    "records": ("seq", "kind", "key", "body"),
    "snapshots": ("name", "virtual_time", "wall_time", "seed"),
    "snapshot_records": ("name", "seq", "kind", "key", "body"),
}
V1_COLUMNS = {**COLUMNS, "records": ("kind", "key", "body"), "snapshot_records": ("name", "kind", "key", "body")}

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE records (seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, key TEXT NOT NULL, body BLOB NOT NULL,
                      UNIQUE (kind, key));
CREATE TABLE snapshots (name TEXT PRIMARY KEY, virtual_time TEXT NOT NULL, wall_time TEXT NOT NULL,
                        seed INTEGER NOT NULL);
CREATE TABLE snapshot_records (name TEXT NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL,
                               body BLOB NOT NULL, PRIMARY KEY (name, seq)) WITHOUT ROWID;
"""
_UPSERT = (
    "INSERT INTO records (kind, key, body) VALUES (?, ?, ?) ON CONFLICT (kind, key) DO UPDATE SET body = excluded.body"
)


class StateFileError(RuntimeError):
    """The file cannot be used: not SQLite, not a state file, damaged, or of a format this version does not read.

    Its message is one line naming the file and the problem (`serve` prints it and exits 2).
    """


@dataclass(frozen=True)
class SnapshotInfo:
    name: str
    virtual_time: str
    wall_time: str
    seed: int
    records: int


class StateFile:
    """`path` may be ":memory:" (snapshots without --state-file)."""

    def __init__(self, path: str, synchronous: str = "NORMAL") -> None:
        self.path = path
        self.synchronous = synchronous
        # Any thread may use it, one at a time (Persister: its lock, and its worker thread for what is not small).
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._checkpointer: sqlite3.Connection | None = None
        try:
            self._open()
        except BaseException:
            self._db.close()  # a refused file is not left open (Python 3.13 warns about it, rightly)
            raise

    def _open(self) -> None:
        try:
            tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not tables:  # a new (or empty) file
                self._setup()
                with self._transaction():
                    self._create()
                return
            version = self._check(tables)  # before any PRAGMA: a file that is refused is left as it was
            self._setup()
            if version == 1:
                self._migrate()
            elif version < VERSION:
                with self._transaction():
                    self._db.execute("UPDATE meta SET value = ? WHERE key = 'format'", (FORMAT,))
        except sqlite3.DatabaseError as exc:
            raise StateFileError(f"{self.path}: not a fake-askelephant state file ({exc}); {START_FRESH}") from exc
        except (ValueError, KeyError, TypeError) as exc:  # a format 1 row migration could not read
            problem = f"damaged state file (format 1 could not be migrated: {exc!r})"
            raise StateFileError(f"{self.path}: {problem}; {START_FRESH}") from exc

    def _setup(self) -> None:
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
            # No checkpoint inside a commit (it would fsync there): checkpoint() runs them, from a connection of its
            # own, while commits go on; closing the file checkpoints what is left.
            self._db.execute("PRAGMA wal_autocheckpoint=0")
        self._db.execute(f"PRAGMA synchronous={self.synchronous}")

    def _create(self) -> None:
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                self._db.execute(statement)
        self._db.execute("INSERT INTO meta VALUES ('format', ?)", (FORMAT,))

    def _check(self, tables: set[str]) -> int:
        """Refuse, with the reason, any file this version would misread or damage; returns its format version."""
        if "meta" not in tables:
            found = ", ".join(sorted(tables))
            raise StateFileError(
                f"{self.path}: not a fake-askelephant state file (an SQLite database with tables {found}); "
                f"{START_FRESH}"
            )
        row = self._db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
        name, _, version = (row[0] if row else "").partition("/")
        if name != FORMAT_NAME or not version.isdigit() or int(version) < 1:
            seen = repr(row[0]) if row else "none"
            raise StateFileError(f"{self.path}: not a fake-askelephant state file (format {seen}); {START_FRESH}")
        if int(version) > VERSION:
            raise StateFileError(
                f"{self.path}: written by a newer fake-askelephant (state format {version}; this version reads up "
                f"to {VERSION}); upgrade fake-askelephant, or {START_FRESH}"
            )
        wanted_columns = V1_COLUMNS if int(version) == 1 else COLUMNS
        missing = sorted(set(wanted_columns) - tables)
        if missing:
            problem = f"damaged state file: table(s) {', '.join(missing)} missing"
            raise StateFileError(f"{self.path}: {problem}; {START_FRESH}")
        for table, wanted in wanted_columns.items():
            have = tuple(r[1] for r in self._db.execute(f"PRAGMA table_info({table})"))
            if have != wanted:
                raise StateFileError(
                    f"{self.path}: damaged state file: table {table} has columns ({', '.join(have)}), expected "
                    f"({', '.join(wanted)}); {START_FRESH}"
                )
        return int(version)

    def _migrate(self) -> None:
        """Format 1 → 2 (→ 3: the same rows) in one transaction: a crash midway leaves the format 1 file as it was."""
        with self._transaction():
            current = {(k, key): _bytes(b) for k, key, b in self._db.execute("SELECT kind, key, body FROM records")}
            saved: dict[str, dict[Key, bytes]] = {}
            for name, k, key, b in self._db.execute("SELECT name, kind, key, body FROM snapshot_records"):
                saved.setdefault(name, {})[(k, key)] = _bytes(b)
            snapshots = self._db.execute("SELECT * FROM snapshots").fetchall()
            meta = self._db.execute("SELECT key, value FROM meta WHERE key != 'format'").fetchall()
            for table in COLUMNS:
                self._db.execute(f"DROP TABLE {table}")
            self._create()
            self._db.executemany("INSERT INTO meta VALUES (?, ?)", meta)
            self._db.executemany("INSERT INTO snapshots VALUES (?, ?, ?, ?)", snapshots)
            self._db.executemany("INSERT INTO records (kind, key, body) VALUES (?, ?, ?)", migrate.v1_to_v2(current))
            for name, rows in saved.items():
                self._db.executemany(
                    "INSERT INTO snapshot_records VALUES (?, ?, ?, ?, ?)",
                    [(name, i, *row) for i, row in enumerate(migrate.v1_to_v2(rows))],
                )

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.close()
            self._checkpointer = None
        self._db.close()  # the last connection: checkpoints the WAL into the file

    def checkpoint(self) -> None:
        """Copy committed WAL frames into the database file (PASSIVE: never waits for, nor blocks, a writer), from a
        second connection, so a commit on the main one never waits for the checkpoint's fsyncs."""
        if self.path == ":memory:":
            return
        if self._checkpointer is None:
            self._checkpointer = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def meta(self) -> dict[str, str]:
        return dict(self._db.execute("SELECT key, value FROM meta").fetchall())

    def rows(self) -> list[Row]:
        """Every record, in first-insertion order."""
        return [
            (k, key, _bytes(b)) for k, key, b in self._db.execute("SELECT kind, key, body FROM records ORDER BY seq")
        ]

    def rows_of(self, kinds: Sequence[str]) -> list[Row]:
        """The records of a few kinds (by the (kind, key) index), in first-insertion order."""
        marks = ", ".join("?" * len(kinds))  # placeholders only: the kinds are bound parameters
        query = f"SELECT kind, key, body FROM records WHERE kind IN ({marks}) ORDER BY seq"  # noqa: S608
        found = self._db.execute(query, kinds)
        return [(k, key, _bytes(b)) for k, key, b in found]

    def count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM records").fetchone()[0])

    def rows_after(self, seq: int, limit: int) -> tuple[int, list[Row]]:
        """Up to `limit` records after position `seq`, in order, and the position to read on from: the file is
        read in pieces while start-up decodes the previous one (Persister.load)."""
        found = self._db.execute(
            "SELECT seq, kind, key, body FROM records WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit)
        ).fetchall()
        return (found[-1][0] if found else seq), [(k, key, _bytes(b)) for _, k, key, b in found]

    def write(
        self, upserts: Sequence[Row], deletes: Iterable[Key], meta: Iterable[tuple[str, str]], *, replace: bool = False
    ) -> None:
        """One transaction: all of it lands, or (failed or killed midway) none of it. `replace`: the rows are the
        whole state (after a reset), in order."""
        with self._transaction():
            if replace:
                self._db.execute("DELETE FROM records")
            self._db.executemany("DELETE FROM records WHERE kind = ? AND key = ?", list(deletes))
            self._db.executemany(_UPSERT, upserts)
            self._db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", list(meta))

    def save_snapshot(self, info: SnapshotInfo, rows: Sequence[Row] | None = None) -> SnapshotInfo:
        """Copy the current rows (the caller committed first), or store `rows`, under `info.name`."""
        with self._transaction():
            self._db.execute("DELETE FROM snapshot_records WHERE name = ?", (info.name,))
            if rows is None:
                self._db.execute(
                    "INSERT INTO snapshot_records SELECT ?, seq, kind, key, body FROM records", (info.name,)
                )
            else:
                self._db.executemany(  # a generator: each row's parameters go as they are written, not all at the end
                    "INSERT INTO snapshot_records VALUES (?, ?, ?, ?, ?)",
                    ((info.name, i, *row) for i, row in enumerate(rows)),
                )
            count = self._db.execute("SELECT count(*) FROM snapshot_records WHERE name = ?", (info.name,)).fetchone()
            self._db.execute(
                "INSERT OR REPLACE INTO snapshots VALUES (?, ?, ?, ?)",
                (info.name, info.virtual_time, info.wall_time, info.seed),
            )
        return SnapshotInfo(info.name, info.virtual_time, info.wall_time, info.seed, count[0])

    def snapshot_rows(self, name: str) -> list[Row] | None:
        if self._db.execute("SELECT 1 FROM snapshots WHERE name = ?", (name,)).fetchone() is None:
            return None
        found = self._db.execute("SELECT kind, key, body FROM snapshot_records WHERE name = ? ORDER BY seq", (name,))
        return [(k, key, _bytes(b)) for k, key, b in found]

    def restore_snapshot(self, name: str, meta: Iterable[tuple[str, str]]) -> None:
        """Make snapshot `name` the current rows, in one transaction."""
        with self._transaction():
            self._db.execute("DELETE FROM records")
            self._db.execute(
                "INSERT INTO records (kind, key, body) SELECT kind, key, body FROM snapshot_records "
                "WHERE name = ? ORDER BY seq",
                (name,),
            )
            self._db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", list(meta))

    def snapshots(self) -> list[SnapshotInfo]:
        found = self._db.execute(
            "SELECT s.name, s.virtual_time, s.wall_time, s.seed, "
            "(SELECT count(*) FROM snapshot_records r WHERE r.name = s.name) FROM snapshots s ORDER BY s.name"
        )
        return [SnapshotInfo(*row) for row in found]

    def delete_snapshot(self, name: str) -> bool:
        with self._transaction():
            self._db.execute("DELETE FROM snapshot_records WHERE name = ?", (name,))
            deleted = self._db.execute("DELETE FROM snapshots WHERE name = ?", (name,)).rowcount
        return deleted > 0

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


def _bytes(body: object) -> bytes:
    """A body as written (BLOB), or as a hand edit with the sqlite3 shell leaves it (TEXT, a number): the decoder
    then names the row, instead of a TypeError here."""
    if isinstance(body, bytes):
        return body
    return (body if isinstance(body, str) else repr(body)).encode()


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is None:
            try:
                self._db.execute("COMMIT")
                return
            except sqlite3.Error:
                self._rollback()
                raise
        self._rollback()

    def _rollback(self) -> None:
        # After some errors (disk full, I/O) SQLite has rolled back already; a second ROLLBACK would raise
        # "no transaction is active" and hide the real error (issue 18).
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")
