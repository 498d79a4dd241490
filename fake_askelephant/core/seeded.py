"""Seeded random streams, and their positions as JSON-ready data so a saved state continues them.

Persistence (`--state-file`, snapshots) saves every stream's position instead of reading the generators:
each owner offers `snapshot()`/`restore()` (IdFactory, TokenStream, the webhook Dispatcher).
"""

from __future__ import annotations

import hashlib
import random
import sys
from array import array
from collections.abc import Sequence
from typing import Any, TypeVar

T = TypeVar("T")
RngState = list[Any]  # [version, internal state, gauss_next] of random.Random.getstate()


def rng_snapshot(rng: random.Random) -> RngState:
    version, internal, gauss = rng.getstate()
    return [version, list(internal), gauss]


def rng_restore(rng: random.Random, state: RngState) -> None:
    rng.setstate((state[0], tuple(state[1]), state[2]))


class TokenStream:
    """Random tokens (API key ids and secrets, OAuth credentials) from one named seeded stream."""

    def __init__(self, seed: int, name: str) -> None:
        self._rng = random.Random(f"{seed}:{name}")

    def token(self, alphabet: str, length: int) -> str:
        return "".join(self._rng.choices(alphabet, k=length))

    def snapshot(self) -> RngState:
        return rng_snapshot(self._rng)

    def restore(self, state: RngState) -> None:
        rng_restore(self._rng, state)


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
