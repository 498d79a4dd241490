"""SortedKeys against a plain sorted list: every add, remove and bounded walk in both directions."""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fake_askelephant.core import sorted_keys
from fake_askelephant.core.sorted_keys import SortedKeys, bound, position_key

INT64 = st.integers(-(2**63), 2**63 - 1)  # what a stored updated_at can be (a state file's int field)
IDS = st.text(max_size=6)


@given(a=st.tuples(INT64, IDS), b=st.tuples(INT64, IDS))
def test_position_keys_order_as_their_tuples(a: tuple[int, str], b: tuple[int, str]) -> None:
    ka, kb = sorted_keys.position_key(*a), sorted_keys.position_key(*b)
    assert (ka < kb, ka == kb) == (a < b, a == b)
    assert ka[sorted_keys.ID_AT :] == a[1]


@given(p=st.tuples(st.integers(-(2**70), 2**70), IDS), q=st.tuples(INT64, IDS))
def test_a_bound_orders_as_its_position_against_every_key(p: tuple[int, str], q: tuple[int, str]) -> None:
    """Any position a cursor or time filter may name, far outside int64 too, sits where its tuple would."""
    b, k = sorted_keys.bound(p), sorted_keys.position_key(*q)
    assert (b < k, b > k) == (p < q, p > q)


@pytest.mark.parametrize("load", [1, 3, 512])
def test_sorted_keys_behave_like_a_sorted_list(monkeypatch: pytest.MonkeyPatch, load: int) -> None:
    """The oracle is a sorted list of (updated_at, id) tuples; SortedKeys holds their position keys."""
    monkeypatch.setattr(sorted_keys, "LOAD", load)  # small chunks: splits and empty chunks all the time
    key = sorted_keys.position_key
    rng = random.Random(load)
    times = [-(2**63), -1, 0, 1, 2, 9, 10, 11, 99, 100, 2**40, 2**63 - 1]  # digit-count edges and int64's ends
    model: list[tuple[int, str]] = sorted({(rng.choice(times), f"id{n}") for n in range(20)})
    keys = SortedKeys(key(*t) for t in model)
    for step in range(3000):
        if rng.random() < 0.55 or not model:
            t = (rng.choice(times), f"id{rng.randrange(10_000)}")
            if t not in model:
                keys.add(key(*t))
                model.append(t)
                model.sort()
        else:
            t = model.pop(rng.randrange(len(model)))
            keys.remove(key(*t))
        assert len(keys) == len(model)
        if step % 50 == 0:
            assert list(keys) == [key(*t) for t in model]
            for _ in range(5):
                edges = [*times, -(2**64), 2**64, 5]
                lo = (rng.choice(edges), rng.choice(["", "id5", "~"])) if rng.random() < 0.6 else None
                hi = (rng.choice(edges), rng.choice(["", "id5", "~"])) if rng.random() < 0.6 else None
                inside = [key(*t) for t in model if (lo is None or t > lo) and (hi is None or t < hi)]
                walk_lo = None if lo is None else sorted_keys.bound(lo)
                walk_hi = None if hi is None else sorted_keys.bound(hi)
                assert list(keys.walk(walk_lo, walk_hi, descending=False)) == inside
                assert list(keys.walk(walk_lo, walk_hi, descending=True)) == inside[::-1]
    with pytest.raises(KeyError):
        keys.remove(key(999, "absent"))


def by_position(records: Iterable[Any]) -> list[str]:
    """Position keys in the order of their (updated_at, id) tuples."""
    return [position_key(*t) for t in sorted((e.updated_at, e.id) for e in records)]


def test_a_sliced_rebuild_equals_a_sorted_one() -> None:
    """EngagementOrder.rebuilding (a state file's sliced load) lands on the order `sync` would build."""
    from fake_askelephant.core.engagement_order import EngagementOrder
    from fake_askelephant.core.models import Engagement

    rng = random.Random(3)
    records: dict[str, Any] = {}
    for n in range(5_000):
        e = object.__new__(Engagement)
        object.__setattr__(e, "id", f"ngmt_{rng.randrange(10**9):09d}{n}")
        object.__setattr__(e, "updated_at", rng.randrange(100))
        object.__setattr__(e, "processing_status", rng.choice(["PENDING", "COMPLETED"]))
        object.__setattr__(e, "engagement_type", "CALL")
        object.__setattr__(e, "title", f"Call {n}")
        object.__setattr__(e, "contact_ids", [f"cnt_{rng.randrange(9)}"] if n % 7 == 0 else [])
        object.__setattr__(e, "company_ids", [])
        object.__setattr__(e, "crm_association", None)
        records[e.id] = e
    rebuilt, synced = EngagementOrder(), EngagementOrder()
    pauses = sum(1 for _ in rebuilt.rebuilding(records, piece=700))
    synced.sync(records)
    assert pauses > 5
    assert list(rebuilt.all) == list(synced.all) == sorted(position_key(e.updated_at, e.id) for e in records.values())
    assert list(rebuilt.walk(None, bound((50, "")), descending=True)) == list(
        synced.walk(None, bound((50, "")), descending=True)
    )
    # The codes too (status and type beside each key), and the postings: each contact's keys, in order.
    completed = by_position(e for e in records.values() if e.processing_status == "COMPLETED")
    table = rebuilt.value_table(["COMPLETED"], None)
    assert table is not None and len(completed) > 2_000
    assert list(rebuilt.value_walk(table, None, None, descending=False)) == completed
    linked = by_position(e for e in records.values() if e.contact_ids == ["cnt_3"])
    assert [list(p) for p in rebuilt.postings("contact", ["cnt_3"])] == [linked]
    assert len(linked) > 50
    # And the titles' own text (what a search after a bulk change reads): every title, found by its words.
    wanted = {e.id for e in records.values() if "call 12" in e.title.casefold()}
    assert set(rebuilt.titles.matching("call 12", records)) == wanted and len(wanted) == 111
