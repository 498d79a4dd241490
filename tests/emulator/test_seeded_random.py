"""SeededRandom: the same draws as random.Random, and a position (base, words drawn) that replays exactly.

The oracle is random.Random itself: a plain generator seeded the same way, drawn from the same way.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from fake_askelephant.core import seeded
from fake_askelephant.core.seeded import SeededRandom


def draws(rng: random.Random) -> list[Any]:
    """One of every kind of draw the emulator's streams make (ids, tokens, secrets, faults, hazards) and a few more."""
    items = list(range(20))
    rng.shuffle(items)
    return [
        rng.getrandbits(80),  # ids
        rng.choices("abcdefghijklmnop", k=7),  # key and OAuth tokens
        rng.randbytes(24),  # webhook secrets
        rng.random(),  # fault and hazard probabilities
        rng.lognormvariate(3.0, 0.5),  # fault latency
        rng.getrandbits(0),
        rng.getrandbits(32),
        rng.getrandbits(33),
        rng.randrange(1000),
        rng.randint(1, 2**40),
        rng.uniform(1.0, 2.0),
        rng.sample(range(100), 5),
        rng.choice("xyz"),
        items,
    ]


def test_draws_are_random_randoms_and_the_count_replays_to_the_same_state() -> None:
    mine, oracle = SeededRandom("1:ids"), random.Random("1:ids")
    for _ in range(100):
        assert draws(mine) == draws(oracle)
    assert mine.getstate() == oracle.getstate()

    _, drawn = mine.position()
    assert drawn > 624  # past a refill of the Mersenne Twister's 624 words
    replayed = SeededRandom("another seed")
    replayed.restore_position(mine.base_state(), drawn)
    assert replayed.getstate() == oracle.getstate()
    assert draws(replayed) == draws(oracle)


def test_a_restored_state_is_a_new_base_with_nothing_drawn() -> None:
    rng = SeededRandom("1:keys")
    draws(rng)
    before = rng.position()
    state = rng.getstate()
    rng.setstate(state)
    after = rng.position()
    assert after[1] == 0 and after[0] != before[0]
    assert rng.base_state() == [state[0], list(state[1]), state[2]]


def test_a_stream_far_from_its_base_moves_its_base_when_asked_its_position(monkeypatch: pytest.MonkeyPatch) -> None:
    """The replay on load stays bounded: REBASE_WORDS past its base, the current state becomes the base."""
    monkeypatch.setattr(seeded, "REBASE_WORDS", 100)
    rng, oracle = SeededRandom("1:requests"), random.Random("1:requests")
    first_base, _ = rng.position()
    for _ in range(40):  # 3 words each
        assert rng.getrandbits(80) == oracle.getrandbits(80)
    base_id, drawn = rng.position()
    assert (base_id, drawn) != (first_base, 0) and drawn == 0
    replayed = SeededRandom("x")
    replayed.restore_position(rng.base_state(), drawn)
    assert replayed.getrandbits(80) == oracle.getrandbits(80)


def test_gauss_and_a_negative_count_are_refused() -> None:
    """gauss() keeps a spare value outside the words drawn: a position could not restore it."""
    rng = SeededRandom("1:faults")
    with pytest.raises(TypeError, match="normalvariate"):
        rng.gauss()
    with pytest.raises(ValueError, match=">= 0"):
        rng.restore_position(rng.base_state(), -1)
