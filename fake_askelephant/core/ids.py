"""Resource ids: `<prefix>_` + a 26-char ULID built from virtual-clock ms and a seeded RNG (api.md §1)."""

from __future__ import annotations

from collections.abc import Callable

from .seeded import RngState, SeededRandom, rng_restore, rng_snapshot

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


PAIRS = tuple(a + b for a in _CROCKFORD for b in _CROCKFORD)  # every 10-bit value as two digits
_SHIFTS = tuple(range(120, -1, -10))


def ulid(ms: int, randomness: int) -> str:
    """Encode 48 bits of time and 80 bits of randomness as Crockford base32, most significant first."""
    value = ((ms & ((1 << 48) - 1)) << 80) | (randomness & ((1 << 80) - 1))
    # 13 two-digit table lookups instead of 26 digit steps: every id the emulator hands out goes through here.
    return "".join([PAIRS[(value >> shift) & 1023] for shift in _SHIFTS])


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
