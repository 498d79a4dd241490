"""Resource ids: `<prefix>_` + a 26-char ULID built from virtual-clock ms and a seeded RNG (api.md §1)."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from .seeded import RngState, SeededRandom, rng_restore, rng_snapshot

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


PAIRS = tuple(a + b for a in _CROCKFORD for b in _CROCKFORD)  # every 10-bit value as two digits
_MS_BITS, _HALF_BITS = (1 << 48) - 1, (1 << 40) - 1


def ulid(ms: int, randomness: int) -> str:
    """Encode 48 bits of time and 80 bits of randomness as Crockford base32, most significant first.

    Two leading zero bits and the 48 time bits are the first 10 digits, the 80 random bits the last 16, so each
    part is encoded on its own: the time part once per millisecond (cached), the random part as two 40-bit halves
    (small ints), two digits per table lookup. Every id the emulator hands out goes through here."""
    randomness &= (1 << 80) - 1
    hi, lo = randomness >> 40, randomness & _HALF_BITS
    p = PAIRS
    return (
        f"{_time_digits(ms & _MS_BITS)}{p[hi >> 30]}{p[(hi >> 20) & 1023]}{p[(hi >> 10) & 1023]}{p[hi & 1023]}"
        f"{p[lo >> 30]}{p[(lo >> 20) & 1023]}{p[(lo >> 10) & 1023]}{p[lo & 1023]}"
    )


@lru_cache(maxsize=64)  # ids made in one millisecond share it (a frozen clock: all of them)
def _time_digits(ms: int) -> str:
    p = PAIRS
    return p[ms >> 40] + p[(ms >> 30) & 1023] + p[(ms >> 20) & 1023] + p[(ms >> 10) & 1023] + p[ms & 1023]


class IdFactory:
    """Makes ids that repeat exactly for one seed and one sequence of calls.

    Separate streams (resources, request ids) keep read-only traffic such as health polls from shifting
    the ids of resources created later.
    """

    def __init__(self, seed: int, now_ms: Callable[[], int], stream: str = "resources") -> None:
        self.rng = SeededRandom(f"{seed}:{stream}")  # its position is what persistence saves
        self._now_ms = now_ms

    def new(self, prefix: str) -> str:
        return f"{prefix}_{ulid(self._now_ms(), self.rng.getrandbits(80))}"

    def snapshot(self) -> RngState:
        """The stream's whole state (in memory: Persister._reload keeps request ids counting); `restore` continues
        from it."""
        return rng_snapshot(self.rng)

    def restore(self, state: RngState) -> None:
        rng_restore(self.rng, state)
