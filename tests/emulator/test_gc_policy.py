"""gc_policy.FreezeAfterGrowth: a freeze each time the store has grown by a good part, never on every check."""

from __future__ import annotations

import gc

import pytest

from fake_askelephant.gc_policy import FreezeAfterGrowth
from tests.conftest import Api, seed_call


def test_freezes_after_growth_only(monkeypatch: pytest.MonkeyPatch) -> None:
    frozen: list[int] = []
    size = [10_000]
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(size[0]))
    governor = FreezeAfterGrowth(lambda: size[0], grow=0.25, at_least=2_000)
    for n in (10_000, 11_000, 12_400, 12_600, 13_000, 15_000, 16_000, 19_000, 4_000, 5_000, 6_500):
        size[0] = n
        governor.check()
    # 12,600 is a quarter over 10,000, 16,000 a quarter over 12,600, 19,000 not over 16,000; after the drop to
    # 4,000 growth counts from there, at least 2,000.
    assert frozen == [12_600, 16_000, 6_500]
    assert governor.freezes == 3
    assert gc.isenabled()


async def test_the_emulator_counts_what_grows(api: Api) -> None:
    before = api.emulator.record_count()
    await api.create(seed_call(external_id="counted"))
    assert api.emulator.record_count() > before
