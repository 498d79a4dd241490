"""The SQLite state file: current rows, metadata and named snapshots, written in atomic transactions.

WAL journal with synchronous=NORMAL: a process killed at any point (kill -9, OOM) leaves the last committed
transaction readable and never a torn file; only an OS crash or power loss may drop the newest commits.
Every method runs on the one thread that owns the connection (see Persister).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

Key = tuple[str, str]
FORMAT_NAME = "fake-askelephant-state"
VERSION = 1
FORMAT = f"{FORMAT_NAME}/{VERSION}"
START_FRESH = "to start fresh, move the file away or pass another --state-file"
# Tables and their columns, as _SCHEMA creates them: a file that lacks one is refused, not silently recreated.
COLUMNS = {
    "meta": ("key", "value"),
    "records": ("kind", "key", "body"),
    "snapshots": ("name", "virtual_time", "wall_time", "seed"),
    "snapshot_records": ("name", "kind", "key", "body"),
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (kind TEXT NOT NULL, key TEXT NOT NULL, body BLOB NOT NULL,
                                    PRIMARY KEY (kind, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS snapshots (name TEXT PRIMARY KEY, virtual_time TEXT NOT NULL,
                                      wall_time TEXT NOT NULL, seed INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS snapshot_records (name TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL,
                                             body BLOB NOT NULL, PRIMARY KEY (name, kind, key)) WITHOUT ROWID;
"""


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

    def __init__(self, path: str) -> None:
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None)
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
                self._db.executescript(_SCHEMA)
                self._db.execute("INSERT INTO meta VALUES ('format', ?)", (FORMAT,))
                return
            self._check(tables)
            self._setup()
        except sqlite3.DatabaseError as exc:
            raise StateFileError(f"{self.path}: not a fake-askelephant state file ({exc}); {START_FRESH}") from exc

    def _setup(self) -> None:
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")

    def _check(self, tables: set[str]) -> None:
        """Refuse, with the reason, any file this version would misread or damage."""
        if "meta" not in tables:
            found = ", ".join(sorted(tables))
            raise StateFileError(
                f"{self.path}: not a fake-askelephant state file (an SQLite database with tables {found}); "
                f"{START_FRESH}"
            )
        row = self._db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
        name, _, version = (row[0] if row else "").partition("/")
        if name != FORMAT_NAME or not version.isdigit():
            seen = repr(row[0]) if row else "none"
            raise StateFileError(f"{self.path}: not a fake-askelephant state file (format {seen}); {START_FRESH}")
        if int(version) > VERSION:
            raise StateFileError(
                f"{self.path}: written by a newer fake-askelephant (state format {version}; this version reads up "
                f"to {VERSION}); upgrade fake-askelephant, or {START_FRESH}"
            )
        missing = sorted(set(COLUMNS) - tables)
        if missing:
            raise StateFileError(
                f"{self.path}: damaged state file: table(s) {', '.join(missing)} missing; {START_FRESH}"
            )
        for table, wanted in COLUMNS.items():
            have = tuple(r[1] for r in self._db.execute(f"PRAGMA table_info({table})"))
            if have != wanted:
                raise StateFileError(
                    f"{self.path}: damaged state file: table {table} has columns ({', '.join(have)}), expected "
                    f"({', '.join(wanted)}); {START_FRESH}"
                )

    def close(self) -> None:
        self._db.close()

    def meta(self) -> dict[str, str]:
        return dict(self._db.execute("SELECT key, value FROM meta").fetchall())

    def rows(self) -> dict[Key, bytes]:
        return {(k, key): bytes(b) for k, key, b in self._db.execute("SELECT kind, key, body FROM records")}

    def write(self, upserts: Mapping[Key, bytes], deletes: Iterable[Key], meta: Mapping[str, str]) -> None:
        """One transaction: all of it lands, or (killed midway) none of it."""
        with self._transaction():
            self._db.executemany("DELETE FROM records WHERE kind = ? AND key = ?", list(deletes))
            self._db.executemany(
                "INSERT OR REPLACE INTO records VALUES (?, ?, ?)", [(k, key, b) for (k, key), b in upserts.items()]
            )
            self._db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", list(meta.items()))

    def save_snapshot(self, info: SnapshotInfo) -> SnapshotInfo:
        """Copy the current rows (the caller flushed first) under `info.name`, replacing an older one."""
        with self._transaction():
            self._db.execute("DELETE FROM snapshot_records WHERE name = ?", (info.name,))
            self._db.execute("INSERT INTO snapshot_records SELECT ?, kind, key, body FROM records", (info.name,))
            count = self._db.execute("SELECT count(*) FROM snapshot_records WHERE name = ?", (info.name,)).fetchone()
            self._db.execute(
                "INSERT OR REPLACE INTO snapshots VALUES (?, ?, ?, ?)",
                (info.name, info.virtual_time, info.wall_time, info.seed),
            )
        return SnapshotInfo(info.name, info.virtual_time, info.wall_time, info.seed, count[0])

    def snapshot_rows(self, name: str) -> dict[Key, bytes] | None:
        if self._db.execute("SELECT 1 FROM snapshots WHERE name = ?", (name,)).fetchone() is None:
            return None
        found = self._db.execute("SELECT kind, key, body FROM snapshot_records WHERE name = ?", (name,))
        return {(k, key): bytes(b) for k, key, b in found}

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
