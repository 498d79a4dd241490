"""Seeded streams are saved by position (issue 18 pt 2): a write stores a count, a restart continues exactly.

Before, every create re-serialised two whole Mersenne Twister states (ids and request ids, 6.7 KB each) into the
state file. The oracles: the bytes handed to SQLite (StateFile.write) for the size, and an emulator that never
restarted for the ids (a frozen clock makes an id's time part repeat, so equal ids mean the random part
continued exactly, and a repeat would show).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fake_askelephant.core import seeded
from fake_askelephant.core.clock import VirtualClock
from fake_askelephant.core.seeded import rng_snapshot
from fake_askelephant.emulator import Emulator
from fake_askelephant.persistence import codec, state, streams
from fake_askelephant.persistence.persister import Persister
from fake_askelephant.persistence.statefile import StateFile, StateFileError
from tests.conftest import T0, Api, frozen_settings

Written = list[tuple[str, str, bytes]]


async def test_a_create_writes_counts_not_generator_states(
    make_api: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes: list[Written] = []
    real = StateFile.write

    def recording(self: StateFile, upserts: Any, deletes: Any, meta: Any, **kwargs: Any) -> None:
        writes.append(list(upserts))
        real(self, upserts, deletes, meta, **kwargs)

    monkeypatch.setattr(StateFile, "write", recording)
    api: Api = await make_api(frozen_settings(state_file=str(tmp_path / "s.sqlite")))
    per_create: list[Written] = []
    for n in range(200):
        writes.clear()
        assert (await api.create(external_id=f"call-{n}")).status == 201
        per_create.append([row for written in writes for row in written])
    for rows in per_create[1:]:
        kinds = {(kind, key) for kind, key, _ in rows}
        assert {("meta.rng.drawn", "ids"), ("meta.rng.drawn", "request_ids")} <= kinds
        assert not any(kind == "meta.rng" for kind, _ in kinds), sorted(kinds)
        # The engagement, its pipeline run, an event, two counts, the clock: ~2.3 KB (16 KB with the states).
        assert sum(len(body) for _, _, body in rows) < 4096, [(k, key, len(b)) for k, key, b in rows]


async def create_and_configure(api: Api, first: int, count: int) -> list[str]:
    """Ids from every persisted stream the API reaches: engagements (ids), API keys (keys), OAuth clients (oauth),
    webhook endpoint secrets (the dispatcher's)."""
    made = []

    async def created(resp: Any, field: str) -> None:
        assert resp.status == 201, await resp.text()
        made.append((await resp.json())[field])

    for n in range(first, first + count):
        await created(await api.create(external_id=f"call-{n}"), "id")
        if n % 5 == 0:
            scopes = {"scopes": ["engagements:read"]}
            await created(await api.client.post("/__admin/api-keys", json=scopes), "key")
            await created(await api.client.post("/__admin/oauth-clients", json=scopes), "client_secret")
            hook = {"url": f"http://hooks.test/{n}"}
            await created(await api.client.post("/__admin/webhook-endpoints", json=hook), "secret")
    return made


async def test_after_a_crash_every_stream_continues_where_the_last_acknowledged_write_left_it(
    make_api: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bases move every few draws here (REBASE_WORDS 64), so the run crosses rebases and replays."""
    monkeypatch.setattr(seeded, "REBASE_WORDS", 64)
    path = tmp_path / "state.sqlite"
    crashed: Api = await make_api(frozen_settings(state_file=str(path)))
    before = await create_and_configure(crashed, 0, 30)
    # No shutdown: the file is read as the last acknowledged commit left it, as after kill -9.
    restarted: Api = await make_api(frozen_settings(state_file=str(path)))
    after = await create_and_configure(restarted, 30, 30)

    uninterrupted: Api = await make_api(frozen_settings())
    assert before + after == await create_and_configure(uninterrupted, 0, 60)
    assert len(set(before + after)) == len(before + after)


def format_2_file(em: Emulator, path: Path) -> None:
    """What format 2 wrote for `em`: every stream's whole current state as its meta.rng row, no counts."""
    rngs = {stream.name: stream.get(em) for stream in state.RNG_STREAMS}
    rngs.update({f"webhooks.{name}": rng for name, rng in em.webhooks.streams()})
    rows = []
    for kind, key, body in state.dump(em):
        if kind == streams.BASE:
            rows.append((kind, key, codec.dumps(rng_snapshot(rngs[key]))))
        elif kind != streams.DRAWN:
            rows.append((kind, key, body))
    file = StateFile(str(path))
    file.write(rows, [], [("seed", "1")], replace=True)
    file.close()
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE meta SET value = 'fake-askelephant-state/2' WHERE key = 'format'")


async def test_a_format_2_file_continues_its_streams_and_is_marked_format_3(tmp_path: Path) -> None:
    path = tmp_path / "v2.sqlite"
    old = Emulator(seed=1, clock=VirtualClock(T0, 0.0))
    for _ in range(20):
        old.ids.new("eng")
        old.request_ids.new("req")
        old.key_tokens.token("abc", 8)
    old.webhooks.create_endpoint("wrks_local", "http://a.test/hooks")
    format_2_file(old, path)

    persister = Persister(str(path))
    loaded = Emulator(seed=1, clock=VirtualClock(T0, 0.0))
    persister.attach(loaded)
    try:
        assert loaded.ids.new("eng") == old.ids.new("eng")
        assert loaded.request_ids.new("req") == old.request_ids.new("req")
        assert loaded.key_tokens.token("abc", 8) == old.key_tokens.token("abc", 8)
        assert (
            loaded.webhooks.create_endpoint("wrks_local", "http://b.test/hooks").secret
            == old.webhooks.create_endpoint("wrks_local", "http://b.test/hooks").secret
        )
    finally:
        persister.close_file()
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone() == ("fake-askelephant-state/3",)


@pytest.mark.parametrize("count", [b"-1", b"1099511627776", b'"12"'])
async def test_a_count_that_cannot_be_replayed_is_a_damaged_file(tmp_path: Path, count: bytes) -> None:
    """A hand-edited count is one clear error, never a negative replay or hours of one."""
    path = tmp_path / "state.sqlite"
    em = Emulator(seed=1, clock=VirtualClock(T0, 0.0))
    em.ids.new("eng")
    file = StateFile(str(path))
    file.write(state.dump(em), [], [("seed", "1")], replace=True)
    file.close()
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE records SET body = ? WHERE kind = 'meta.rng.drawn' AND key = 'ids'", (count,))
    persister = Persister(str(path))
    try:
        with pytest.raises(StateFileError, match=r"damaged state file .*meta\.rng"):
            persister.attach(Emulator(seed=1, clock=VirtualClock(T0, 0.0)))
    finally:
        persister.close_file()
