"""Where a commit runs (issue 18 pt 2): a small one on the event loop and without a checkpoint, anything big on the
worker thread, checkpoints apart.

The oracles: the thread StateFile.write is called on, and the database file itself (os.stat): with the WAL, a
committed page reaches the main file only when a checkpoint copies it there.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from fake_askelephant.core import scopes
from fake_askelephant.core.clock import VirtualClock
from fake_askelephant.core.models import EngagementDraft, Principal
from fake_askelephant.emulator import Emulator
from fake_askelephant.persistence.persister import Persister
from fake_askelephant.persistence.statefile import StateFile
from tests.conftest import T0

ADMIN = Principal("wrks_local", "usr_local", frozenset({scopes.ADMIN}), "apik_local")


@pytest.fixture
async def persisted(tmp_path: Path) -> AsyncIterator[tuple[Persister, Emulator, Path]]:
    """A persister without its background task (Persister.run): nothing checkpoints unless the test does."""
    path = tmp_path / "state.sqlite"
    persister = Persister(str(path))
    em = Emulator(seed=1, clock=VirtualClock(T0, 0.0))
    persister.attach(em)
    assert await persister.commit()
    yield persister, em, path
    persister.close_file()


async def create(em: Emulator, n: int) -> None:
    await em.engagements.create_engagement(ADMIN, EngagementDraft("CALL", f"Call {n}", "test", f"call-{n}"))


async def test_a_create_commits_on_the_event_loop_a_reset_on_the_worker_thread(
    persisted: tuple[Persister, Emulator, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    persister, em, path = persisted
    threads: list[tuple[bool, int]] = []  # (replace, thread)
    real = StateFile.write

    def recording(self: StateFile, *args: Any, replace: bool = False) -> None:
        threads.append((replace, threading.get_ident()))
        real(self, *args, replace=replace)

    monkeypatch.setattr(StateFile, "write", recording)
    loop_thread = threading.get_ident()
    for n in range(3):
        await create(em, n)
        assert await persister.commit()
    em.reset()
    assert await persister.commit()
    assert [replace for replace, _ in threads] == [False, False, False, True]
    assert {thread for replace, thread in threads if not replace} == {loop_thread}
    assert threads[-1][1] != loop_thread
    with contextlib.closing(sqlite3.connect(path)) as db:  # what the reset left: no engagement
        assert db.execute("SELECT count(*) FROM records WHERE kind = 'workspace.engagements'").fetchone() == (0,)


async def test_commits_never_checkpoint_the_background_checkpoint_does(
    persisted: tuple[Persister, Emulator, Path],
) -> None:
    """300 creates put ~1,900 pages in the WAL: SQLite's default would have checkpointed (and fsynced) inside the
    commits that crossed 1,000 pages; here the database file does not grow until checkpoint() runs."""
    persister, em, path = persisted
    before, _ = sizes(path)
    for n in range(300):
        await create(em, n)
        assert await persister.commit()
    database, wal = sizes(path)
    assert wal > 1000 * 4096 and database == before, (wal, database, before)
    commits = asyncio.ensure_future(_commits(persister, em))  # commits go on while it checkpoints
    await persister.checkpoint()
    assert await commits
    assert sizes(path)[0] > before
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("SELECT count(*) FROM records WHERE kind = 'workspace.engagements'").fetchone() == (310,)


def sizes(path: Path) -> tuple[int, int]:
    """The database file's size and its WAL's."""
    return path.stat().st_size, Path(f"{path}-wal").stat().st_size


async def _commits(persister: Persister, em: Emulator) -> bool:
    for n in range(300, 310):
        await create(em, n)
        if not await persister.commit():
            return False
    return True
