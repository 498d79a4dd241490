"""A workspace's engagements in (updated_at, id) order, kept on change, so a keyset page costs O(log n + limit);
and, beside it, what a filtered page needs to skip the records that cannot match (issue 22 §4).

Listing used to sort the whole workspace per request (55–70 ms a page at 10,000). The order is a SortedKeys
(chunked), so keeping it costs O(log n) per change however big the workspace (a flat list paid a memmove of the
whole list behind each moved key: most of a clock advance at 100,000).

Filter indexes, derived like the order (never saved; rebuilt on load, dropped on reset):
- each key's code: the engagement's processing status and type in one byte beside its key (SortedKeys codes),
  moved with the key, so keeping it costs a change no extra search; a status or type filter scans a chunk's codes
  with bytes.translate and find (C speed). Postings per status and type, tried first, made a clock advance at
  30,000 +50 % slower (0.45 → 0.70 ms an engagement, measured twice): each pipeline stage moved the key in three
  sorted structures instead of one;
- postings, kept on every change: for each contact id, company id and CRM association (id, type), the keys of the
  engagements that have it, as a SortedKeys holding the order's own key strings. Only linked engagements pay;
- a search text per chunk of the order (a SortedKeys note), built when a search first needs it and dropped by any
  change to the chunk: its titles casefolded and joined, searched with str.find (no Python-level step per title).
  After a change a search rebuilds the chunks it touched (~0.2-1 ms each); after a bulk change (a clock advance
  that moved every engagement) a request builds at most a few (NoteBudget) and otherwise asks the titles' own text;
- the titles in the order they were given (TitleText), in segments with a casefolded text each: moving a key
  leaves them alone, so after a bulk change a search finds its candidates with a str.find per segment (~1-3 ms at
  100,000) where a pass over the records cost 20-40 ms.
A listing walks the smallest of these (core/engagements.py); a query whose matches are still sparse among them
finds them all at once and keeps the result until the workspace changes (`cached`/`remember`), so a paged walk of
it is O(n) in all.
"""

from __future__ import annotations

import heapq
import operator
import sys
from array import array
from bisect import bisect_right
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from itertools import accumulate

from .models import ENGAGEMENT_TYPES, PROCESSING_STATUSES, Engagement
from .records import dataclass
from .releaser import Dropped
from .sorted_keys import ID_AT, Key, SortedKeys, position_key

RESULTS_KEPT = 8  # whole-query results kept for paged walks of sparse filters
_SEP = "\n"  # between titles in a search text (a title may hold it too: title bounds come from lengths)

CrmKey = tuple[str, str]  # (crm_object_id, object_type casefolded): what a filter entry must equal (core/crm.py)
Links = tuple[tuple[str, ...], tuple[str, ...], CrmKey | None]  # contact ids, company ids, CRM association
# Each engagement's status and type, coded in one byte beside its key (SortedKeys codes): status × base + type.
_CODE_BASE = 16
_OTHER = _CODE_BASE - 1  # a value outside the vocabulary (none is stored: the API takes only these)
_STATUS_CODES = {value: n for n, value in enumerate(PROCESSING_STATUSES)}
_TYPE_CODES = {value: n for n, value in enumerate(ENGAGEMENT_TYPES)}
assert len(_STATUS_CODES) < _OTHER and len(_TYPE_CODES) < _OTHER and _OTHER * _CODE_BASE + _OTHER < 256


def _code(e: Engagement) -> int:
    return _STATUS_CODES.get(e.processing_status, _OTHER) * _CODE_BASE + _TYPE_CODES.get(e.engagement_type, _OTHER)


class NotesMissing(Exception):
    """A walk would build more chunk notes than its request may (after a bulk change): use a plain pass instead."""


@dataclass
class NoteBudget:
    """How many chunk notes one request may still build (each reads a chunk's records in key order, ~1 µs each on
    a busy machine: building all of them at 100,000 takes 0.1-0.3 s, where one pass over the records in their
    stored order takes 5-20 ms)."""

    left: int


class _Note:
    """A search text over some titles (one chunk of the order's, one TitleText segment's), built when first wanted."""

    __slots__ = ("starts", "text")

    def __init__(self) -> None:
        self.text: str | None = None  # titles casefolded, joined by _SEP
        self.starts: array[int] | None = None  # where each title starts in text (one more: the end + 1)

    def hits(self, needle: str, titles: Callable[[], list[str]]) -> list[int]:
        """Indexes of the titles that hold `needle`, ascending; the text is built from `titles()` if it is not."""
        if self.text is None or self.starts is None:
            self.text, self.starts = search_text(titles())
        return _hits(self.text, self.starts, needle)


_SEGMENT = 1024  # titles per TitleText segment: an arrival or a rename rebuilds one segment's text


class _Segment(_Note):
    __slots__ = ("ids", "titles")  # the text is dropped (None) after an append

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.titles: list[str] = []

    def own_titles(self) -> list[str]:
        return self.titles


class TitleText:
    """Titles in the order they were given (at creation, at a rename), for a search the chunk texts cannot answer.

    The chunk texts follow the (updated_at, id) order, so a change that moves every key (a clock advance completing
    every pipeline) leaves none of them built, and a request may build only a few. Here nothing moves: a title is
    appended when an engagement arrives or is renamed, so only the last segment's text is ever rebuilt. An entry
    whose engagement is gone or titled otherwise now is stale; a search skips it (it compares with the record), and
    once stale entries could outnumber live ones the next search packs them away. No per-id table: 16 bytes an
    engagement beside the text itself (a dict of slots measured 107 B at 100,000).
    """

    __slots__ = ("_segments", "_size")

    def __init__(self) -> None:
        self._segments: list[_Segment] = []
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def add(self, engagement_id: str, title: str) -> None:
        if not self._segments or len(self._segments[-1].ids) >= _SEGMENT:
            self._segments.append(_Segment())
        segment = self._segments[-1]
        segment.ids.append(engagement_id)
        segment.titles.append(title)
        segment.text = None
        self._size += 1

    def matching(self, needle: str, engagements: Mapping[str, Engagement]) -> list[str]:
        """Ids of the engagements whose casefolded title holds `needle` (casefolded), each once."""
        if self._size > 2 * len(engagements) + _SEGMENT:
            self._refill(engagements.values())
        found: dict[str, None] = {}
        for segment in self._segments:
            ids, titles = segment.ids, segment.titles
            for j in segment.hits(needle, segment.own_titles):
                e = engagements.get(ids[j])
                if e is not None and e.title == titles[j]:
                    found[ids[j]] = None
        return list(found)

    def _refill(self, engagements: Iterable[Engagement]) -> None:
        self._segments, self._size = [], 0
        for e in engagements:
            self.add(e.id, e.title)

    def containers(self) -> list[Dropped]:
        """What a reset hands to the Releaser."""
        return [Dropped(self._segments)]

    def size_bytes(self) -> int:
        parts = [self._segments, *(x for s in self._segments for x in (s.ids, s.titles, s.text, s.starts))]
        return sum(map(sys.getsizeof, parts))


class EngagementOrder:
    """The store keeps it in step on insert and delete, the change recorder on every change; records loaded around
    them (persistence) are caught by `sync`."""

    def __init__(self) -> None:
        self.all = SortedKeys()
        self._key_of: dict[str, Key] = {}
        self.revision = 0  # moves on every change: remembered results compare it
        self._results: dict[Hashable, tuple[int, list[Key]]] = {}
        self.titles = TitleText()
        self._clear_postings()

    def _clear_postings(self) -> None:
        self._by_contact: dict[Hashable, SortedKeys] = {}
        self._by_company: dict[Hashable, SortedKeys] = {}
        self._by_crm: dict[Hashable, SortedKeys] = {}
        # Only the engagements that have links: what they were filed under, to take them out again.
        self._links_of: dict[str, Links] = {}

    def __len__(self) -> int:
        return len(self.all)

    def put(self, e: Engagement, *, retitled: bool = False) -> None:
        """`e` is new or changed (any filtered field may have, its position too; its title when `retitled`)."""
        self.revision += 1
        key = position_key(e.updated_at, e.id)
        old = self._key_of.get(e.id)
        if old is None or retitled:
            self.titles.add(e.id, e.title)
        if old is None:
            self.all.add(key, _code(e))
        elif old == key:
            key = old  # one string, shared by the order and every posting
            self.all.set_code(key, _code(e))
            self.all.touch(key)  # its title may have changed: the chunk's search text is stale
        else:
            self.all.remove(old)
            self.all.add(key, _code(e))
        self._key_of[e.id] = key
        links = _links(e)
        filed = self._links_of.get(e.id) if old is not None else None
        if filed is None and links is None:
            return  # the common case: nothing linked, before or now
        if old is not None and filed is not None:
            if old is key and filed == links:
                return
            del self._links_of[e.id]
            self._unlink(old, filed)
        if links is not None:
            self._link(key, e.id, links)

    def discard(self, engagement_id: str) -> None:
        old = self._key_of.pop(engagement_id, None)
        if old is not None:
            self.all.remove(old)
            links = self._links_of.pop(engagement_id, None)
            if links is not None:
                self._unlink(old, links)
            self.revision += 1

    def _link(self, key: Key, engagement_id: str, links: Links) -> None:
        self._links_of[engagement_id] = links
        contacts, companies, crm = links
        for contact_id in contacts:
            _posting(self._by_contact, contact_id).add(key)
        for company_id in companies:
            _posting(self._by_company, company_id).add(key)
        if crm is not None:
            _posting(self._by_crm, crm).add(key)

    def _unlink(self, old: Key, links: Links) -> None:
        contacts, companies, crm = links
        for table, values in ((self._by_contact, contacts), (self._by_company, companies)):
            for value in values:
                _remove(table, value, old)
        if crm is not None:
            _remove(self._by_crm, crm, old)

    # Reads -------------------------------------------------------------------------------------------

    def walk(self, lo: Key | None, hi: Key | None, *, descending: bool) -> Iterator[Key]:
        """Positions strictly between lo and hi, in page order. Do not change the order while walking it."""
        return self.all.walk(lo, hi, descending=descending)

    def postings(self, field: str, values: Iterable[Hashable]) -> list[SortedKeys]:
        """The kept keys of each value of `field` (contact, company, crm: (id, object type)) that some engagement
        has. Read them, do not change them."""
        table = {"contact": self._by_contact, "company": self._by_company, "crm": self._by_crm}[field]
        return [table[v] for v in dict.fromkeys(values) if v in table]

    def value_table(self, statuses: Iterable[str] | None, types: Iterable[str] | None) -> bytes | None:
        """The bytes.translate table that maps the code of an engagement with one of `statuses` (None: any) and
        one of `types` (None: any) to 1; None when a value has no code of its own (then no code can tell)."""
        wanted_statuses = PROCESSING_STATUSES if statuses is None else tuple(statuses)
        wanted_types = ENGAGEMENT_TYPES if types is None else tuple(types)
        if not set(wanted_statuses) <= _STATUS_CODES.keys() or not set(wanted_types) <= _TYPE_CODES.keys():
            return None
        table = bytearray(256)
        for status in wanted_statuses:
            for kind in wanted_types:
                table[_STATUS_CODES[status] * _CODE_BASE + _TYPE_CODES[kind]] = 1
        return bytes(table)

    def value_walk(self, table: bytes, lo: Key | None, hi: Key | None, *, descending: bool) -> Iterator[Key]:
        """Positions strictly between lo and hi whose status and type `table` (value_table) admits, in page order."""
        return self.all.coded_walk(lo, hi, table, descending=descending)

    def title_walk(
        self,
        needle: str,
        engagements: Mapping[str, Engagement],
        lo: Key | None,
        hi: Key | None,
        *,
        descending: bool,
        budget: NoteBudget,
    ) -> Iterator[Key]:
        """Positions strictly between lo and hi whose casefolded title holds `needle` (casefolded), in page order.
        Each chunk's titles are one casefolded text: a str.find per hit, not a step per title."""
        span = self.all.chunk_span(lo, hi)
        for i in reversed(span) if descending else span:
            chunk = self.all.chunk(i)

            def titles(chunk: list[Key] = chunk) -> list[str]:
                _spend(budget)  # reads a chunk's records in key order: a request may do it only so often
                return [engagements[key[ID_AT:]].title for key in chunk]

            hits = [chunk[j] for j in self._note(i).hits(needle, titles)]
            for key in reversed(hits) if descending else hits:
                if (lo is None or key > lo) and (hi is None or key < hi):
                    yield key

    def _note(self, i: int) -> _Note:
        note: _Note | None = self.all.note(i)
        if note is None:
            note = _Note()
            self.all.set_note(i, note)
        return note

    def cached(self, query: Hashable) -> list[Key] | None:
        """Every match of `query`, in ascending order, as remembered, if nothing changed since."""
        hit = self._results.get(query)
        return hit[1] if hit is not None and hit[0] == self.revision else None

    def remember(self, query: Hashable, keys: list[Key]) -> None:
        if len(self._results) >= RESULTS_KEPT:
            del self._results[next(iter(self._results))]
        self._results[query] = (self.revision, keys)

    # Rebuilds -----------------------------------------------------------------------------------------

    def sync(self, engagements: Mapping[str, Engagement]) -> None:
        """Rebuild when records were put into the dict directly (persistence loads into a fresh workspace,
        so a count that differs is the sign)."""
        if len(self.all) != len(engagements):
            for _ in self.rebuilding(engagements):
                pass

    def rebuilding(self, engagements: Mapping[str, Engagement], piece: int = 2000) -> Iterator[None]:
        """Rebuild from `engagements`, pausing (yield) every `piece` keys: a state file's load gives way to
        requests (one sort of 100,000 keys whose ids are all that tell them apart takes ~0.1-0.2 s). Sorted runs
        of `piece` keys, then their merge; then the postings, filled in key order."""
        items = list(engagements.values())
        titles = TitleText()
        for n, e in enumerate(items, 1):
            titles.add(e.id, e.title)
            if n % piece == 0:
                yield
        runs: list[list[tuple[Key, str, int]]] = []
        for start in range(0, len(items), piece):
            run = [(position_key(e.updated_at, e.id), e.id, _code(e)) for e in items[start : start + piece]]
            run.sort()
            runs.append(run)
            yield
        keys: list[Key] = []
        ids: list[str] = []
        codes = bytearray()
        key_of: dict[str, Key] = {}
        for n, (key, engagement_id, code) in enumerate(heapq.merge(*runs), 1):
            keys.append(key)
            ids.append(engagement_id)
            codes.append(code)
            key_of[engagement_id] = key
            if n % piece == 0:
                yield
        lists: tuple[dict[Hashable, list[Key]], ...] = ({}, {}, {})
        by_contact, by_company, by_crm = lists
        links_of: dict[str, Links] = {}
        for n, (key, engagement_id) in enumerate(zip(keys, ids, strict=True), 1):
            links = _links(engagements[engagement_id])
            if links is not None:
                links_of[engagement_id] = links
                for contact_id in links[0]:
                    by_contact.setdefault(contact_id, []).append(key)
                for company_id in links[1]:
                    by_company.setdefault(company_id, []).append(key)
                if links[2] is not None:
                    by_crm.setdefault(links[2], []).append(key)
            if n % piece == 0:
                yield
        self.all, self._key_of = SortedKeys.from_sorted(keys, bytes(codes)), key_of
        self._by_contact, self._by_company, self._by_crm = (
            {value: SortedKeys.from_sorted(ordered) for value, ordered in table.items()} for table in lists
        )
        self._links_of = links_of
        self.titles = titles
        self.revision += 1

    def drop(self) -> list[Dropped]:
        """Empty this order in O(1); the old containers are returned for a Releaser (reset)."""
        tables = (self._by_contact, self._by_company, self._by_crm)
        chunks = [chunk for keys in (self.all, *(p for t in tables for p in t.values())) for chunk in keys.chunks()]
        dropped = [Dropped(chunks), Dropped(self._key_of), Dropped(self._links_of)]
        dropped += self.titles.containers()
        self.all, self._key_of, self._results, self.titles = SortedKeys(), {}, {}, TitleText()
        self._clear_postings()
        self.revision += 1
        return dropped

    def index_bytes(self) -> dict[str, int]:
        """What the filter indexes hold beyond the order itself, in bytes (sys.getsizeof: the containers, not the
        keys they share with the order), for benchmarks."""
        tables = {"contact": self._by_contact, "company": self._by_company, "crm": self._by_crm}
        out = {
            name: sum(sys.getsizeof(chunk) for p in table.values() for chunk in p.chunks()) + sys.getsizeof(table)
            for name, table in tables.items()
        }
        linked = self._links_of.values()
        out["links"] = sys.getsizeof(self._links_of) + sum(sum(map(sys.getsizeof, (x, *x[:2]))) for x in linked)
        notes: list[_Note] = [n for i in range(len(self.all.chunks())) if (n := self.all.note(i)) is not None]
        out["status_type_codes"] = sum(map(sys.getsizeof, self.all.codes()))
        out["search_notes"] = sum(sys.getsizeof(n.text) + sys.getsizeof(n.starts) for n in notes if n.text is not None)
        out["titles"] = self.titles.size_bytes()
        return out


def _spend(budget: NoteBudget) -> None:
    if budget.left <= 0:
        raise NotesMissing
    budget.left -= 1


def _links(e: Engagement) -> Links | None:
    a = e.crm_association
    if not e.contact_ids and not e.company_ids and a is None:
        return None
    crm = None if a is None else (a.crm_object_id, a.object_type.casefold())
    return tuple(dict.fromkeys(e.contact_ids)), tuple(dict.fromkeys(e.company_ids)), crm


def _posting(table: dict[Hashable, SortedKeys], value: Hashable) -> SortedKeys:
    posting = table.get(value)
    if posting is None:
        posting = table[value] = SortedKeys()
    return posting


def _remove(table: dict[Hashable, SortedKeys], value: Hashable, key: Key) -> None:
    posting = table[value]
    posting.remove(key)
    if not posting:
        del table[value]  # ids come and go: no empty posting stays behind


def search_text(titles: list[str]) -> tuple[str, array[int]]:
    """The titles casefolded and joined by _SEP (one C call each), and where each starts (one more: the end + 1)."""
    joined = _SEP.join(titles)
    text = joined.casefold()
    if len(text) != len(joined):  # some character folds to several (ß → ss): each title's own length
        titles = [t.casefold() for t in titles]
        text = _SEP.join(titles)
    # starts[j] = the lengths before title j, plus a separator after each
    lengths = accumulate(map(len, titles), initial=0)
    return text, array("I", map(operator.add, lengths, range(len(titles) + 1)))


def _hits(text: str, starts: array[int], needle: str) -> list[int]:
    """Indexes of the titles of a search text that hold `needle`, ascending. A find that runs past its title's end
    (the needle holds the separator) is no hit, and no later find inside that title could be one either."""
    out: list[int] = []
    size = len(needle)
    p = text.find(needle)
    while p >= 0:
        j = bisect_right(starts, p) - 1
        end = starts[j + 1]  # one past the separator after title j
        if p + size < end:
            out.append(j)
        p = text.find(needle, end)
    return out
