"""SortedKeys against a plain sorted list: every add, remove and bounded walk in both directions."""

from __future__ import annotations

import random
from typing import Any

import pytest

from fake_askelephant.core import sorted_keys
from fake_askelephant.core.sorted_keys import Key, SortedKeys


@pytest.mark.parametrize("load", [1, 3, 512])
def test_sorted_keys_behave_like_a_sorted_list(monkeypatch: pytest.MonkeyPatch, load: int) -> None:
    monkeypatch.setattr(sorted_keys, "LOAD", load)  # small chunks: splits and empty chunks all the time
    rng = random.Random(load)
    model: list[Key] = []
    keys = SortedKeys((rng.randrange(50), f"id{n}") for n in range(20))
    model = sorted(keys)
    for step in range(3000):
        if rng.random() < 0.55 or not model:
            key = (rng.randrange(60), f"id{rng.randrange(10_000)}")
            if key not in model:
                keys.add(key)
                model.append(key)
                model.sort()
        else:
            key = model.pop(rng.randrange(len(model)))
            keys.remove(key)
        assert len(keys) == len(model)
        if step % 50 == 0:
            assert list(keys) == model
            for _ in range(5):
                lo = (rng.randrange(-1, 62), rng.choice(["", "id5", "~"])) if rng.random() < 0.6 else None
                hi = (rng.randrange(-1, 62), rng.choice(["", "id5", "~"])) if rng.random() < 0.6 else None
                inside = [k for k in model if (lo is None or k > lo) and (hi is None or k < hi)]
                assert list(keys.walk(lo, hi, descending=False)) == inside
                assert list(keys.walk(lo, hi, descending=True)) == inside[::-1]
    with pytest.raises(KeyError):
        keys.remove((999, "absent"))


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
    assert list(rebuilt.all) == list(synced.all) == sorted((e.updated_at, e.id) for e in records.values())
    assert list(rebuilt.walk(None, (50, ""), descending=True)) == list(synced.walk(None, (50, ""), descending=True))
    # The codes too (status and type beside each key), and the postings: each contact's keys, in order.
    completed = sorted((e.updated_at, e.id) for e in records.values() if e.processing_status == "COMPLETED")
    table = rebuilt.value_table(["COMPLETED"], None)
    assert table is not None and len(completed) > 2_000
    assert list(rebuilt.value_walk(table, None, None, descending=False)) == completed
    linked = sorted((e.updated_at, e.id) for e in records.values() if e.contact_ids == ["cnt_3"])
    assert [list(p) for p in rebuilt.postings("contact", ["cnt_3"])] == [linked]
    assert len(linked) > 50
    # And the titles' own text (what a search after a bulk change reads): every title, found by its words.
    wanted = {e.id for e in records.values() if "call 12" in e.title.casefold()}
    assert set(rebuilt.titles.matching("call 12", records)) == wanted and len(wanted) == 111
