"""A seeded stream (core/seeded.py SeededRandom) as two rows, so a write that moved it saves a number (issue 18).

| kind | key | body | written when |
|---|---|---|---|
| `meta.rng` | stream name | its base state (`random.Random.getstate()`, a list: 625 words, 6.7 KB) | its base moved |
| `meta.rng.drawn` | stream name | the 32-bit words drawn since that base (format 3; no row: 0) | it drew |

The base moves when the stream is restored and, every REBASE_WORDS words (core/seeded.py), at a write: loading replays
at most that many words plus what one write drew (~3 ms). Both rows go in the same transaction as the records made
with those draws, so after a crash (kill -9 included) a stream continues exactly where the last acknowledged write
left it: no id is handed out twice, even on a frozen clock where ids differ only by their random part.
A format 2 `meta.rng` row is the whole state at that write, which is a base with nothing drawn since.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..core.records import dataclass
from ..core.seeded import RngState, SeededRandom
from . import codec

BASE = "meta.rng"
DRAWN = "meta.rng.drawn"
# A saved count beyond this is refused as damaged instead of replayed (~13 ns a word: 2**30 words is ~14 s); a
# count the emulator wrote stays near REBASE_WORDS plus what one write drew.
MAX_DRAWN = 1 << 30


@dataclass(frozen=True, eq=False)
class StreamBase:
    """A stream's `meta.rng` row as an ambient value: compared by its base's number, encoded only to be written."""

    base_id: int
    state: RngState


def rows(name: str, rng: SeededRandom) -> Iterator[tuple[str, str, Any]]:
    """The stream's two ambient rows (Persister compares them with what it last wrote)."""
    base_id, drawn = rng.position()
    yield BASE, name, StreamBase(base_id, rng.base_state())
    yield DRAWN, name, drawn


def restore(rng: SeededRandom, name: str, base: bytes, drawn: bytes | None) -> None:
    """Put `rng` where the saved rows say. ValueError (naming the row) for a body that does not fit."""
    state = codec.loads(list[Any], base)
    rng.restore_position(state, 0 if drawn is None else _words(name, drawn))


def check(name: str, base: bytes, drawn: bytes | None) -> None:
    """Raise where `restore` would, without touching any stream of the emulator (a restore checks the rows it puts
    in at its swap before it changes anything)."""
    restore(SeededRandom(0), name, base, None)  # the base alone: nothing is replayed
    if drawn is not None:
        _words(name, drawn)


def _words(name: str, drawn: bytes) -> int:
    words = codec.loads(int, drawn)
    if not 0 <= words <= MAX_DRAWN:
        raise ValueError(f"row {DRAWN} {name!r}: {words} words is not in 0..{MAX_DRAWN}")
    return words
