"""A sorted collection of list positions, in chunks: add and remove cost O(log n + LOAD), not O(n).

One flat sorted list made every move of an engagement in the list order a memmove of the whole list behind it: at
100,000 engagements, four moves per pipeline cost ~20 µs each and most of a clock advance (issue 22). Chunks of at
most 2 × LOAD keys, found by bisecting the chunks' last keys, keep each insert and delete local (the layout of
`sortedcontainers.SortedList`, written out here because the core takes no third-party dependency for it).

Each key may carry a one-byte code, kept beside it in a bytearray per chunk (the list order codes each engagement's
status and type there), so a walk can pick the keys of some codes with C-speed scans of those bytes.

Each chunk has a note, any value a user of the chunks derives from them (the list order keeps its titles' search
text there, core/engagement_order.py); a change to the chunk clears it, and `touch` clears it for a change the keys
do not show.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from typing import Any

Key = str
"""An (updated_at, id) position of api.md §8's order as one string (`position_key`): `updated_at` offset into 20
decimal digits, then the id. Strings compare as the tuples would, in one C comparison that reads one object: a tuple
key read three (the tuple, its int, its str), and with a frozen clock every new key lands at a random place among
100,000 others, so each bisect step missed the cache on each of them (issue 22 §2: ~10 µs an add, three a create)."""

_OFFSET = 10**19  # every int64 (all a state file can hold) is 0 ≤ updated_at + _OFFSET < 10**20: 20 digits
_LOWEST, _HIGHEST = -_OFFSET, 10**20 - 1 - _OFFSET
ID_AT = 20  # where the id starts: key[ID_AT:] (slice inline where a loop reads many keys)


def position_key(updated_at: int, item_id: str) -> Key:
    """The key of a stored record (`updated_at` is an int64: the clock's range, or a state file's field)."""
    return f"{updated_at + _OFFSET:020d}{item_id}"


def bound(position: tuple[int, str]) -> Key:
    """A walk's bound from a position anyone may have written (a cursor, a time filter), ordered as the tuple:
    a time below every int64 is below every key (""), one above every int64 above every key ("~")."""
    updated_at, item_id = position
    if updated_at < _LOWEST:
        return ""
    if updated_at > _HIGHEST:
        return "~"
    return position_key(updated_at, item_id)


LOAD = 512


class SortedKeys:
    __slots__ = ("_codes", "_len", "_lists", "_maxes", "_notes")

    def __init__(self, keys: Iterable[Key] = ()) -> None:
        self._fill(sorted(keys), None)

    @classmethod
    def from_sorted(cls, ordered: list[Key], codes: bytes | None = None) -> SortedKeys:
        """From keys already in order (no sort), with a code for each when `codes` is given (then every later
        add should give one; 0 otherwise)."""
        made = cls.__new__(cls)
        made._fill(ordered, codes)
        return made

    def _fill(self, ordered: list[Key], codes: bytes | None) -> None:
        self._lists: list[list[Key]] = [ordered[i : i + LOAD] for i in range(0, len(ordered), LOAD)]
        self._maxes: list[Key] = [chunk[-1] for chunk in self._lists]
        self._notes: list[Any] = [None] * len(self._lists)
        self._codes: list[bytearray] = [
            bytearray(codes[i : i + LOAD]) if codes is not None else bytearray(len(chunk))
            for i, chunk in zip(range(0, len(ordered), LOAD), self._lists, strict=True)
        ]
        self._len = len(ordered)

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[Key]:
        for chunk in self._lists:
            yield from chunk

    def add(self, key: Key, code: int = 0) -> None:
        lists, maxes = self._lists, self._maxes
        self._len += 1
        if not lists:
            lists.append([key])
            maxes.append(key)
            self._notes.append(None)
            self._codes.append(bytearray((code,)))
            return
        i = bisect_left(maxes, key)
        if i == len(maxes):  # past the end: the common case, as updated_at only grows
            i -= 1
            lists[i].append(key)
            maxes[i] = key
            self._codes[i].append(code)
        else:
            j = bisect_right(lists[i], key)
            lists[i].insert(j, key)
            self._codes[i].insert(j, code)
        self._notes[i] = None
        chunk = lists[i]
        if len(chunk) > 2 * LOAD:
            lists.insert(i + 1, chunk[LOAD:])
            del chunk[LOAD:]
            maxes[i] = chunk[-1]
            maxes.insert(i + 1, lists[i + 1][-1])
            self._notes.insert(i + 1, None)
            codes = self._codes[i]
            self._codes.insert(i + 1, codes[LOAD:])
            del codes[LOAD:]

    def remove(self, key: Key) -> None:
        """Remove `key`; a key that is not there is a caller's bug (KeyError)."""
        if not self.discard(key):
            raise KeyError(key)

    def discard(self, key: Key) -> bool:
        """Remove `key` if it is there; whether it was."""
        lists, maxes = self._lists, self._maxes
        i = bisect_left(maxes, key)
        if i == len(maxes):
            return False
        chunk = lists[i]
        j = bisect_left(chunk, key)
        if j == len(chunk) or chunk[j] != key:
            return False
        del chunk[j]
        del self._codes[i][j]
        self._len -= 1
        if not chunk:
            del lists[i]
            del maxes[i]
            del self._notes[i]
            del self._codes[i]
        else:
            self._notes[i] = None
            if j == len(chunk):
                maxes[i] = chunk[-1]
        return True

    def set_code(self, key: Key, code: int) -> None:
        """Recode `key`, which must be there (KeyError otherwise)."""
        i = bisect_left(self._maxes, key)
        if i < len(self._maxes):
            chunk = self._lists[i]
            j = bisect_left(chunk, key)
            if j < len(chunk) and chunk[j] == key:
                self._codes[i][j] = code
                return
        raise KeyError(key)

    def coded_walk(self, lo: Key | None, hi: Key | None, table: bytes, *, descending: bool) -> Iterator[Key]:
        """Keys strictly between `lo` and `hi` whose code `table` (bytes.translate) maps to 1, in page order: per
        chunk one translate and a find per hit, in C."""
        span = self.chunk_span(lo, hi)
        for i in reversed(span) if descending else span:
            flags = self._codes[i].translate(table)
            places: list[int] = []
            j = flags.find(1)
            while j >= 0:
                places.append(j)
                j = flags.find(1, j + 1)
            chunk = self._lists[i]
            for j in reversed(places) if descending else places:
                key = chunk[j]
                if (lo is None or key > lo) and (hi is None or key < hi):
                    yield key

    def touch(self, key: Key) -> None:
        """Clear the note of the chunk that holds `key` (what the note was derived from changed, the key did not)."""
        i = bisect_left(self._maxes, key)
        if i < len(self._notes):
            self._notes[i] = None

    # Chunks and their notes ---------------------------------------------------------------------------

    def chunk_span(self, lo: Key | None, hi: Key | None) -> range:
        """Indexes of the chunks that may hold keys strictly between `lo` and `hi`, ascending."""
        maxes = self._maxes
        start = 0 if lo is None else bisect_right(maxes, lo)
        end = len(maxes) if hi is None else min(len(maxes), bisect_left(maxes, hi) + 1)
        return range(start, end)

    def chunk(self, i: int) -> list[Key]:
        """Chunk `i` itself, to read, not to change."""
        return self._lists[i]

    def note(self, i: int) -> Any:
        return self._notes[i]

    def set_note(self, i: int, value: Any) -> None:
        self._notes[i] = value

    def codes(self) -> list[bytearray]:
        """Every chunk's codes (benchmarks)."""
        return self._codes

    def chunks(self) -> list[list[Key]]:
        """Every chunk, for a Releaser to free after a reset."""
        return self._lists

    def walk(self, lo: Key | None, hi: Key | None, *, descending: bool) -> Iterator[Key]:
        """Keys strictly between `lo` and `hi` (None: unbounded), in ascending or descending order.
        Do not change the collection while walking it."""
        lists, maxes = self._lists, self._maxes
        if not lists:
            return
        if descending:
            if hi is None:
                i, j = len(lists) - 1, len(lists[-1])
            else:
                i = bisect_left(maxes, hi)
                if i == len(lists):
                    i, j = i - 1, len(lists[-1])
                else:
                    j = bisect_left(lists[i], hi)
            while i >= 0:
                for key in reversed(lists[i][:j]):
                    if lo is not None and key <= lo:
                        return
                    yield key
                i -= 1
                j = len(lists[i]) if i >= 0 else 0
        else:
            if lo is None:
                i, j = 0, 0
            else:
                i = bisect_right(maxes, lo)
                if i == len(lists):
                    return
                j = bisect_right(lists[i], lo)
            while i < len(lists):
                for key in lists[i][j:]:
                    if hi is not None and key >= hi:
                        return
                    yield key
                i += 1
                j = 0
