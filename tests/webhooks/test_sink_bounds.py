"""The built-in sink is bounded by bytes as well as by count (issue #19): the oldest requests go first, across
sinks, and each sink's listing counts what it let go."""

from __future__ import annotations

from fake_askelephant.webhooks.sink import BYTE_LIMIT, Sinks
from tests.conftest import Api

MIB = 1024 * 1024


async def test_big_posts_to_many_sinks_stay_within_the_byte_bound(api: Api) -> None:
    body = b"x" * (7 * MIB)
    names = ["a", "b", "c"]
    for i in range(12):
        resp = await api.client.post(f"/__admin/sink/{names[i % 3]}", data=body, headers={"Content-Type": "text/plain"})
        assert resp.status == 200, await resp.text()
    sinks = api.emulator.webhooks.sinks
    kept = {name: sinks.requests(name) for name in names}
    assert sum(len(r.body) for rs in kept.values() for r in rs) <= BYTE_LIMIT
    listings = {name: await (await api.client.get(f"/__admin/sink/{name}/requests")).json() for name in names}
    assert sum(len(listing["data"]) for listing in listings.values()) == 9  # 9 × 7 MiB fit in 64 MiB
    assert sum(listing["dropped"] for listing in listings.values()) == 3
    # The oldest went first: what is left is the last nine, whichever sink they went to.
    assert sorted(r["seq"] for listing in listings.values() for r in listing["data"]) == list(range(4, 13))


def test_the_count_bound_and_the_byte_bound_drop_the_oldest_and_count_them() -> None:
    sinks = Sinks(limit=3, byte_limit=10_000)
    for i in range(5):
        sinks.receive("few", {}, b"%d" % i, [], virtual_ms=0, wall_s=0.0)
    assert [r.body for r in sinks.requests("few")] == [b"2", b"3", b"4"] and sinks.dropped["few"] == 2
    sinks.receive("big", {}, b"y" * 9_600, [], virtual_ms=0, wall_s=0.0)
    # 9,600 bytes (and 256 of bookkeeping per request) need room: the oldest requests, of any sink, go first.
    assert sinks.requests("few") == [] and sinks.dropped["few"] == 5
    assert [len(r.body) for r in sinks.requests("big")] == [9_600]


def test_bookkeeping_stays_bounded_when_only_the_count_bound_drops() -> None:
    sinks = Sinks(limit=10, byte_limit=10**9)
    for i in range(20_000):
        sinks.receive("busy", {}, b"%d" % i, [], virtual_ms=0, wall_s=0.0)
    assert len(sinks.requests("busy")) == 10 and sinks.dropped["busy"] == 19_990
    assert len(sinks._order) <= 2 * 10 + 64
