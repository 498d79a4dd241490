"""gc_policy.CollectorPolicy: a freeze each time the store has grown or been rewritten by a good part (never on
every check), and young passes of its own while the store is written."""

from __future__ import annotations

import asyncio
import contextlib
import gc

import pytest

from fake_askelephant.gc_policy import BULK_FREEZE, MIDDLE_THRESHOLD, YOUNG_THRESHOLD, CollectorPolicy, collector_paused
from tests.conftest import Api, seed_call


def test_freezes_after_growth_only(monkeypatch: pytest.MonkeyPatch) -> None:
    frozen: list[int] = []
    size = [10_000]
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(size[0]))
    policy = CollectorPolicy(lambda: size[0], grow=0.25, at_least=2_000)
    for n in (10_000, 11_000, 12_400, 12_600, 13_000, 15_000, 16_000, 19_000, 4_000, 5_000, 6_500):
        size[0] = n
        policy.check()
    # 12,600 is a quarter over 10,000, 16,000 a quarter over 12,600, 19,000 not over 16,000; after the drop to
    # 4,000 growth counts from there, at least 2,000.
    assert frozen == [12_600, 16_000, 6_500]
    assert policy.freezes == 3
    assert gc.isenabled()


def test_freezes_after_a_rewrite_of_a_quarter_of_the_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """A clock advance completes every pipeline: the store is rewritten, not grown."""
    frozen: list[int] = []
    writes = [0]
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(writes[0]))
    policy = CollectorPolicy(lambda: 100_000, lambda: writes[0], grow=0.25, at_least=2_000)
    for w in (10_000, 24_999, 25_000, 40_000, 50_001):
        writes[0] = w
        policy.check()
    assert frozen == [25_000, 50_001]


def test_young_passes_only_while_the_store_is_written(monkeypatch: pytest.MonkeyPatch) -> None:
    passes: list[int] = []
    writes = [0]

    def collect(generation: int = 2) -> int:
        passes.append(generation)
        return 0

    monkeypatch.setattr(gc, "collect", collect)
    policy = CollectorPolicy(lambda: 0, lambda: writes[0], young_passes=lambda: 0)  # CPython runs none of its own
    assert not policy.young()  # idle: nothing to walk, nothing done
    for _ in range(20):
        writes[0] += 3
        assert policy.young()
    assert not policy.young()
    # Every tenth also walks the middle generation (a rewrite: CPython's own threshold never comes into play).
    assert passes == [0] * 9 + [1] + [0] * 9 + [1]


def test_no_young_pass_of_its_own_when_cpython_ran_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """Creates count up CPython's allocations: its own young passes come, and one more from the policy would walk
    the requests in flight again for nothing."""
    passes: list[int] = []
    writes, automatic = [0], [0]

    def collect(generation: int = 2) -> int:
        passes.append(generation)
        automatic[0] += 1  # an explicit pass counts among the collector's passes too
        return 0

    monkeypatch.setattr(gc, "collect", collect)
    policy = CollectorPolicy(lambda: 0, lambda: writes[0], young_passes=lambda: automatic[0])
    writes[0] += 1
    automatic[0] += 1  # CPython walked the young generation since the policy last looked
    assert policy.young()  # written (the freeze check follows)
    assert passes == []
    writes[0] += 1
    assert policy.young()
    assert passes == [0]  # none since: the policy's own
    writes[0] += 1
    assert policy.young()
    assert passes == [0, 0]  # its own pass is not mistaken for CPython's


def test_a_young_pass_walks_what_replacing_stored_records_left_behind() -> None:
    """Why the policy runs young passes itself: CPython decides on allocations minus deallocations of any
    generation, so replacing long-lived records leaves the count standing while the young generation grows."""
    store = [[i] for i in range(20_000)]
    gc.collect()
    gc.freeze()  # the store, as `serve` keeps it
    writes = [0]
    policy = CollectorPolicy(lambda: len(store), lambda: writes[0])
    try:
        for i in range(len(store)):
            store[i] = [i]  # a pipeline stage or a PATCH: a new record, the old one freed
            writes[0] += 1
        assert len(gc.get_objects(0)) >= 15_000  # no automatic pass came: all of them wait for the next one
        assert policy.young()
        assert len(gc.get_objects(0)) < 1_000
    finally:
        gc.unfreeze()


async def test_the_emulator_counts_what_grows(api: Api) -> None:
    before = api.emulator.record_count()
    await api.create(seed_call(external_id="counted"))
    assert api.emulator.record_count() > before


def test_bulk_work_pauses_the_collector_and_the_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    """A restore decodes with automatic passes off; a policy pass then would walk everything decoded since (274 ms
    of CPU at 100,000 engagements), so the policy waits too; a big restore's records are frozen when it ends."""
    frozen: list[bool] = []
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(True))
    writes = [0]
    policy = CollectorPolicy(lambda: 0, lambda: writes[0])
    was_enabled = gc.isenabled()
    writes[0] = 1
    with collector_paused() as made:
        assert not gc.isenabled()
        assert not policy.young()
        made(BULK_FREEZE)  # not above the threshold: nothing frozen
    assert gc.isenabled() == was_enabled and frozen == []
    assert policy.young()  # once the work is done
    with collector_paused() as made:
        made(BULK_FREEZE + 1)
    assert frozen == [True] and gc.isenabled() == was_enabled


async def test_the_young_threshold_is_raised_and_the_middle_one_lowered_while_the_policy_governs() -> None:
    shipped = gc.get_threshold()
    task = asyncio.create_task(CollectorPolicy(lambda: 0).run(every_s=3600))
    await asyncio.sleep(0)
    try:
        assert gc.get_threshold() == (YOUNG_THRESHOLD, MIDDLE_THRESHOLD, shipped[2])
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert gc.get_threshold() == shipped
