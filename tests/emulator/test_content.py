"""Generated content is derived, never stored, and cheap by construction (issues 22 and 23).

Timing is the benchmarks' job (benchmarks/bench_growth.py); these tests guard the structure that makes it cheap and
flat: the content is a pure function of the seed and the engagement, nothing of it stays in memory once the cache
lets go, the random stream is the documented XOF, and a content change cannot slip in without a version bump.
"""

from __future__ import annotations

import gc
import hashlib
import random
import weakref
from collections.abc import Callable
from typing import Any

import pytest

from fake_askelephant.core import content
from fake_askelephant.core.clock import VirtualClock
from fake_askelephant.core.content import COMMITMENT, CONTENT_VERSION, SIGNAL_RULES
from fake_askelephant.core.ids import ulid
from fake_askelephant.core.models import ActionItem, Signal
from fake_askelephant.core.seeded import Draws
from fake_askelephant.core.vocabulary import vocabulary
from fake_askelephant.emulator import Emulator
from tests.conftest import T0, Api, frozen_settings, seed_call

# sha256 of what `content_digest` renders, per content version. A change to generated content must bump
# CONTENT_VERSION (and say why in docs/emulator-choices.md), then add its digest here.
PINNED = {
    2: "024fba61bb13fd1fb38e23abc8c5610c82a91d1857ea0d1f6484fe6e44fbffd3",
    3: "50671a33eaa4396732ee11a6d293fd85a3b714ca633e15ab9d8d3a34e519af1a",
}


def test_draws_are_shake128_read_as_little_endian_words() -> None:
    """Independent oracle: the stream is SHAKE-128 over "part:part:…", so any platform can reproduce it."""
    raw = hashlib.shake_128(b"7:wrks_local:call-1:timeline:2").digest(4 * 40)
    expected = [int.from_bytes(raw[i : i + 4], "little") for i in range(0, len(raw), 4)]
    batched = Draws(7, "wrks_local", "call-1", "timeline", 2)
    one_by_one = Draws(7, "wrks_local", "call-1", "timeline", 2)
    assert list(batched.words(3)) + list(batched.words(37)) == expected
    assert [one_by_one.word() for _ in range(40)] == expected
    mixed = Draws(7, "wrks_local", "call-1", "timeline", 2)
    assert 0 <= mixed.random() < 1 and 0.6 <= mixed.uniform(0.6, 0.97) < 0.97
    assert mixed.index(5) == expected[2] % 5 and mixed.pick("abc") == "abc"[expected[3] % 3]


def test_ulid_is_crockford_base32_of_time_then_randomness() -> None:
    # The ULID spec's seed-time example: ulid(1469918176385) starts 01ARYZ6S41.
    assert ulid(1469918176385, 0) == "01ARYZ6S41" + "0" * 16
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    rng = random.Random(3)
    for _ in range(2000):
        ms, randomness = rng.getrandbits(48), rng.getrandbits(80)
        value = (ms << 80) | randomness
        assert ulid(ms, randomness) == "".join(alphabet[(value >> (5 * i)) & 31] for i in reversed(range(26)))
    # Wider inputs keep their low 48 and 80 bits.
    for _ in range(200):
        ms, randomness = rng.getrandbits(52), rng.getrandbits(84)
        assert ulid(ms, randomness) == ulid(ms & (2**48 - 1), randomness & (2**80 - 1))


@pytest.mark.parametrize("seed", [1, 2, 42, 1830323367])
def test_small_talk_never_triggers_an_insight(seed: int) -> None:
    """Filler lines carry no signal word and no commitment, so insights come from the script lines: every
    generated call gets all six signal types and its one commitment, whatever small talk was drawn."""
    vocab = vocabulary(seed)
    lines = {line for kinds in (vocab.owner_lines, vocab.prospect_lines) for variants in kinds for line in variants}
    assert len(lines) > 1500
    for line in lines:
        assert not any(pattern.search(line) for _, _, pattern in SIGNAL_RULES), line
        assert COMMITMENT.search(line) is None, line


def test_the_script_length_constant_matches_the_script() -> None:
    assert len(content._script("A", "B", "C", "D", "e", "Monday", 10)) == content.SCRIPT_LINES


async def content_digest(make_api: Callable[..., Any]) -> str:
    """Everything generated for a few calls of seed 5: transcripts, timelines, insights with their ids."""
    api: Api = await make_api(frozen_settings(seed=5))
    bodies = [
        seed_call(external_id="pin-1"),
        seed_call(external_id="pin-2", participants=[], media_url="https://recordings.example.com/long.mp3"),
        seed_call(external_id="pin-3", transcript="Jane Doe: What would it cost?\nAlice Smith: I'll send a quote."),
    ]
    ids = [(await (await api.create(body)).json())["id"] for body in bodies]
    await api.advance(600)
    rendered = []
    for eid in ids:
        full = await (await api.get(eid, expand="transcript,action_items,signals")).json()
        timeline = await (await api.call("GET", f"/api/v2/engagements/{eid}/transcript_timeline")).json()
        # The timeline's id is the engagement's, re-prefixed (issue 20): an id, not generated content.
        assert timeline.pop("id") == "tt_" + eid.removeprefix("ngmt_")
        rendered.append([full["transcript"], full["action_items"], full["signals"], timeline])
    return hashlib.sha256(repr(rendered).encode()).hexdigest()


async def test_generated_content_is_pinned_per_content_version(make_api: Callable[..., Any]) -> None:
    api: Api = await make_api()
    health = await (await api.client.get("/__admin/health")).json()
    assert health["content_version"] == CONTENT_VERSION
    assert CONTENT_VERSION in PINNED, "a new content version needs its digest in PINNED"
    assert await content_digest(make_api) == PINNED[CONTENT_VERSION]


def _items_of(kind: type, engagement_ids: set[str]) -> int:
    """Live action items or signals of these engagements. Other tests' apps may still be alive (aiohttp caches the
    last apps), so callers use a seed of their own: same seed and clock, same engagement ids."""
    return sum(1 for o in gc.get_objects() if type(o) is kind and getattr(o, "engagement_id", None) in engagement_ids)


async def test_generated_content_is_not_stored(make_api: Callable[..., Any]) -> None:
    """The store and the pipeline hold no transcript, action item or signal: once the read cache lets go, none is
    alive (freed by reference counting, no collector pass needed), and reading again derives the same."""
    api: Api = await make_api(frozen_settings(seed=2201))  # ids no other test's emulator has
    ids = [(await (await api.create(external_id=f"mem-{i}")).json())["id"] for i in range(30)]
    await api.advance(600)
    first = {eid: await (await api.get(eid, expand="transcript,action_items,signals")).json() for eid in ids}
    engagements = [api.emulator.store.find_engagement("wrks_local", eid) for eid in ids]
    timelines = [weakref.ref(api.emulator.content.timeline(e)) for e in engagements]  # type: ignore[arg-type]
    assert all(ref() is not None for ref in timelines)  # the cache holds them
    assert _items_of(ActionItem, set(ids)) >= 30 and _items_of(Signal, set(ids)) >= 30
    api.emulator.content.clear()
    assert [ref() for ref in timelines] == [None] * len(ids)
    assert (_items_of(ActionItem, set(ids)), _items_of(Signal, set(ids))) == (0, 0)
    again = {eid: await (await api.get(eid, expand="transcript,action_items,signals")).json() for eid in ids}
    assert again == first


async def test_the_read_cache_is_bounded(make_api: Callable[..., Any]) -> None:
    api: Api = await make_api(frozen_settings(seed=2202))
    api.emulator.content._cache_size = 5
    ids = [(await (await api.create(external_id=f"lru-{i}")).json())["id"] for i in range(12)]
    await api.advance(600)
    for eid in ids:
        assert (await api.get(eid, expand="transcript,signals")).status == 200
    assert list(api.emulator.content._cache) == ids[-5:]
    assert _items_of(Signal, set(ids)) == 5 * len((await (await api.get(ids[-1], expand="signals")).json())["signals"])


async def test_content_reads_the_same_at_every_stage_and_in_any_order(make_api: Callable[..., Any]) -> None:
    """Read while the pipeline runs, or only at the end, or in another order: the same transcript and insights."""
    early: Api = await make_api()
    late: Api = await make_api()
    for api in (early, late):
        for i in range(3):
            await api.create(external_id=f"order-{i}")
    eids = list(early.emulator.store.workspace("wrks_local").engagements)
    seen: dict[str, Any] = {}
    for _ in range(60):  # ten virtual minutes in 10 s steps, reading everything as it appears
        await early.advance(10)
        for eid in eids:
            body = await (await early.get(eid, expand="transcript,action_items,signals")).json()
            for name in ("transcript", "action_items", "signals"):
                if body[name]:
                    assert seen.setdefault((eid, name), body[name]) == body[name]  # type: ignore[call-overload]
    await late.advance(600)
    for eid in reversed(eids):
        body = await (await late.get(eid, expand="signals,action_items,transcript")).json()
        for name in ("transcript", "action_items", "signals"):
            assert body[name] == seen[(eid, name)]  # type: ignore[index]


async def test_insight_ids_do_not_depend_on_what_else_ran() -> None:
    """Derived ids hash (seed, engagement, kind, position): an emulator that ran other calls first shows the same
    items, with the same ids, for the same engagement."""

    def emulator() -> Emulator:
        return Emulator(seed=9, clock=VirtualClock(T0, 0))

    async def items_of(em: Emulator, eid: str) -> tuple[list[str], list[str]]:
        e = em.store.find_engagement("wrks_local", eid)
        assert e is not None
        return [a.id for a in em.content.action_items(e)], [s.id for s in em.content.signals(e)]

    from fake_askelephant.core import scopes
    from fake_askelephant.core.models import EngagementDraft, Principal

    principal = Principal("wrks_local", "usr_local", frozenset({scopes.ADMIN}), "test")
    draft = EngagementDraft("CALL", "Call", "dialer", "same", media_url="https://r.example.com/a.mp3")
    alone, busy = emulator(), emulator()
    e1 = (await alone.engagements.create_engagement(principal, draft)).engagement
    e2 = (await busy.engagements.create_engagement(principal, draft)).engagement
    assert e1.id == e2.id
    for i in range(5):
        await busy.engagements.create_engagement(
            principal, EngagementDraft("CALL", "Other", "dialer", f"other-{i}", media_url="https://r.example.com/b.mp3")
        )
    await alone.advance(600)
    await busy.advance(600)
    assert await items_of(alone, e1.id) == await items_of(busy, e2.id)
    action_ids, signal_ids = await items_of(alone, e1.id)
    assert all(i.startswith("actitm_") for i in action_ids) and all(i.startswith("sgnl_") for i in signal_ids)
    assert len(set(action_ids + signal_ids)) == len(action_ids) + len(signal_ids)


@pytest.mark.parametrize("low", [0, 1017, 1023])
def test_derived_id_runs_are_the_ulids_of_consecutive_randomness(low: int) -> None:
    """Derived ids encode only their last two digits per position while the lowest 10 bits do not carry; a run that
    crosses a carry (low 1017 or 1023 with 7 items) takes the full encoding. Either way: ulid(ms, base + i)."""
    derived = Emulator(seed=3, clock=VirtualClock(T0, 0)).content
    e = type("E", (), {"id": "ngmt_x"})()
    for attempt in range(50_000):  # an engagement id whose hash has the wanted lowest 10 bits
        e.id = f"ngmt_{attempt}"
        digest = hashlib.blake2b(f"3:{e.id}:sgnl".encode(), digest_size=10).digest()
        base = int.from_bytes(digest, "big") & ((1 << 79) - 1)
        if base & 1023 == low:
            break
    else:
        raise AssertionError("no engagement id in range hashes to that")
    ms = T0 + 123_456
    assert derived._ids("sgnl", e, ms, 7) == [f"sgnl_{ulid(ms, base + i)}" for i in range(7)]
