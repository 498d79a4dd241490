"""De-duplication stores: claim-once semantics, 28 h minimum retention, durability of the SQLite store."""

from __future__ import annotations

import asyncio

import pytest

from reference_client import MIN_TTL_SECONDS, InMemoryDedupStore, SqliteDedupStore


class Seconds:
    """A settable time source for expiry tests."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.value = start

    def __call__(self) -> float:
        return self.value


async def test_memory_store_claims_once_and_expires_after_ttl():
    now = Seconds()
    store = InMemoryDedupStore(monotonic=now)

    assert await store.claim("msg_1") is True
    assert await store.claim("msg_1") is False
    now.value += MIN_TTL_SECONDS - 1  # a Svix retry 27 h 35 min later is still a duplicate
    assert await store.claim("msg_1") is False
    now.value += 2
    assert await store.claim("msg_2") is True
    assert len(store) == 1  # msg_1 was evicted
    assert await store.claim("msg_1") is True


def test_stores_refuse_a_ttl_shorter_than_the_retry_ladder(tmp_path):
    with pytest.raises(ValueError, match="retry ladder"):
        InMemoryDedupStore(ttl_seconds=3600)
    with pytest.raises(ValueError, match="retry ladder"):
        SqliteDedupStore(tmp_path / "seen.db", ttl_seconds=27 * 3600)


async def test_sqlite_store_survives_restarts_and_expires(tmp_path):
    path = tmp_path / "seen.db"
    now = Seconds()
    first = SqliteDedupStore(path, wall_time=now)
    assert await first.claim("msg_1") is True
    first.close()

    second = SqliteDedupStore(path, wall_time=now)
    assert await second.claim("msg_1") is False
    now.value += MIN_TTL_SECONDS + 1
    assert await second.claim("msg_1") is True
    assert await second.claim("msg_1") is False
    second.close()


async def test_sqlite_store_concurrent_claims_have_one_winner(tmp_path):
    store = SqliteDedupStore(tmp_path / "seen.db")

    results = await asyncio.gather(*(store.claim("msg_same") for _ in range(20)))

    assert sorted(results) == [False] * 19 + [True]
    store.close()
