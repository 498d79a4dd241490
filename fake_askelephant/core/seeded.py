"""Seeded random streams, and their positions as JSON-ready data so a saved state continues them.

Persistence (`--state-file`, snapshots) saves every stream's position instead of reading the generators:
each owner offers `snapshot()`/`restore()` (IdFactory, TokenStream, the webhook Dispatcher).
"""

from __future__ import annotations

import random
from typing import Any

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
