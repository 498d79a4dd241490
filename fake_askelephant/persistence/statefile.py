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
FORMAT = "fake-askelephant-state/1"

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
    """The file is not a state file of this format (or not SQLite at all)."""


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
            if self.path != ":memory:":
                self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            found = self._db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
        except sqlite3.DatabaseError as exc:
            raise StateFileError(f"{self.path}: not a fake-askelephant state file ({exc})") from exc
        if found is None:
            self._db.execute("INSERT INTO meta VALUES ('format', ?)", (FORMAT,))
        elif found[0] != FORMAT:
            raise StateFileError(f"{self.path}: state format {found[0]!r}, this version reads {FORMAT!r}")

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
        self._db.execute("ROLLBACK" if exc_type else "COMMIT")
