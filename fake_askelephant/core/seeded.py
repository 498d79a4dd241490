"""Seeded random streams, and their positions as JSON-ready data so a saved state continues them.

Persistence (`--state-file`, snapshots) saves every stream's position instead of reading the generators:
each owner offers `snapshot()`/`restore()` (IdFactory, TokenStream, the webhook Dispatcher), and the emulator's
own streams are SeededRandom, whose position is also a small (base, words drawn) pair, so a write that moved
them saves a number instead of a 625-word state (issue 18).
"""

from __future__ import annotations

import hashlib
import itertools
import random
import sys
from array import array
from collections.abc import Sequence
from typing import Any, TypeVar

T = TypeVar("T")
RngState = list[Any]  # [version, internal state, gauss_next] of random.Random.getstate()
# A stream this many words past its base moves its base forward (SeededRandom.position): replaying that many
# Mersenne Twister words on load costs ~3 ms; saving a new base costs one 6.7 KB row every ~87,000 ids.
REBASE_WORDS = 1 << 18
_REPLAY_CHUNK = 1 << 16  # words per replaying getrandbits call (a 256 KB int)
_BASE_IDS = itertools.count(1)  # every base this process set, numbered: one number, one state
_random_random, _random_getrandbits = random.Random.random, random.Random.getrandbits


class SeededRandom(random.Random):
    """random.Random that knows its position as (base, drawn): the state it was last seeded, restored or rebased
    to, and how many 32-bit Mersenne Twister words it has drawn since.

    Every draw takes whole words: random() two, getrandbits(k) ⌈k/32⌉, and the rest of random.Random (choices,
    randrange, shuffle, randbytes, lognormvariate, ...) is built on those two, so the count alone, replayed from
    the base (`restore_position`), lands on exactly the same state. gauss() keeps a spare value outside the
    words, so it is refused. Draws are the same as random.Random's for the same seed.
    """

    base_id: int
    drawn: int
    _base: RngState

    def seed(self, a: Any = None, version: int = 2) -> None:
        super().seed(a, version)
        self._rebase()

    def setstate(self, state: Any) -> None:
        super().setstate(state)
        self._rebase()

    # The generator's own draws called directly, not through super(): every id the emulator makes draws here.
    def random(self) -> float:
        value = _random_random(self)
        self.drawn += 2
        return value

    def getrandbits(self, k: int, /) -> int:
        bits = _random_getrandbits(self, k)
        self.drawn += (k + 31) >> 5
        return bits

    def gauss(self, mu: float = 0.0, sigma: float = 1.0) -> float:
        raise TypeError("SeededRandom.gauss: its spare value is not part of the saved position; use normalvariate")

    def position(self) -> tuple[int, int]:
        """(base id, words drawn since the base): equal positions, equal states. A stream REBASE_WORDS past its
        base takes its current state as the new base first, which bounds the replay on load."""
        if self.drawn >= REBASE_WORDS:
            self._rebase()
        return self.base_id, self.drawn

    def base_state(self) -> RngState:
        """The base's state, as rng_snapshot gives it (the saved row; do not modify)."""
        return self._base

    def restore_position(self, base: RngState, drawn: int) -> None:
        """Continue exactly where a stream at (base, drawn) would: set the base, then replay `drawn` words."""
        if drawn < 0:
            raise ValueError(f"words drawn must be >= 0, not {drawn}")
        rng_restore(self, base)
        left = drawn
        while left > 0:
            step = min(left, _REPLAY_CHUNK)
            super().getrandbits(32 * step)
            left -= step
        self.drawn = drawn

    def _rebase(self) -> None:
        self._base = rng_snapshot(self)
        self.base_id = next(_BASE_IDS)
        self.drawn = 0


def rng_snapshot(rng: random.Random) -> RngState:
    version, internal, gauss = rng.getstate()
    return [version, list(internal), gauss]


def rng_restore(rng: random.Random, state: RngState) -> None:
    rng.setstate((state[0], tuple(state[1]), state[2]))


class TokenStream:
    """Random tokens (API key ids and secrets, OAuth credentials) from one named seeded stream."""

    def __init__(self, seed: int, name: str) -> None:
        self.rng = SeededRandom(f"{seed}:{name}")

    def token(self, alphabet: str, length: int) -> str:
        return "".join(self.rng.choices(alphabet, k=length))

    def snapshot(self) -> RngState:
        return rng_snapshot(self.rng)

    def restore(self, state: RngState) -> None:
        rng_restore(self.rng, state)


class Draws:
    """A seeded stream of 32-bit words: SHAKE-128 over the parts' text, read as little-endian words (content v2).

    Seeding is one hash (~1 µs) where `random.Random(str)` fills a 624-word state (~10 µs), and a batch of words is
    one more call, so a transcript's few hundred draws cost microseconds. The stream is a prefix of the same XOF
    output however it is read (a word at a time or in batches), and the same on every Python and platform.
    """

    __slots__ = ("_key", "_next", "_words")

    def __init__(self, *parts: object) -> None:
        self._key = ":".join(str(p) for p in parts).encode()
        self._words = _NONE  # computed on first use, as many as that use wants (at least 16)
        self._next = 0

    def words(self, n: int) -> array[int]:
        """The next `n` words at once (the fast path for generators that know how many they need)."""
        end = self._next + n
        if end > len(self._words):
            self._words = _xof_words(self._key, max(end, 2 * len(self._words), 16))
        taken = self._words[self._next : end]
        self._next = end
        return taken

    def word(self) -> int:
        return self.words(1)[0]

    def random(self) -> float:
        """Uniform in [0, 1)."""
        return self.word() * _INV_2_32

    def uniform(self, lo: float, hi: float) -> float:
        return lo + (hi - lo) * self.random()

    def index(self, n: int) -> int:
        """Uniform in range(n) (modulo bias below 1e-8 for the short lists it picks from)."""
        return self.word() % n

    def pick(self, items: Sequence[T]) -> T:
        return items[self.word() % len(items)]


_INV_2_32 = 2.0**-32
_WORD = "I" if array("I").itemsize == 4 else "L"
_NONE = array(_WORD)


def _xof_words(key: bytes, n: int) -> array[int]:
    words = array(_WORD, hashlib.shake_128(key).digest(4 * n))
    if sys.byteorder == "big":
        words.byteswap()
    return words
