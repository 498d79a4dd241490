"""What is persisted: the emulator's state as rows `(kind, key) -> JSON`, what one write holds, how rows load.

One row per record (state formats 2 and 3), so a write costs what changed, not what is stored (issue 18):

| kind | key | what | written when |
|---|---|---|---|
| `meta.clock` | `now` | virtual now and time scale | every write |
| `meta.rng`, `meta.rng.drawn` | stream name | each seeded stream's position (streams.py): no id repeats | it moved |
| `meta.media_key` | `hmac` | the random key signing /__media links (base64), so links survive a restart | it changed |
| `workspace` | workspace id | the workspace itself (its indexes are derived on load) | tracked |
| `workspace.users`, `workspace.engagements` | ws id/id | the records | tracked |
| `workspace.directory.<table>` | ws id/id | contacts, companies, tags, transcript comments | tracked |
| `store.keys`, `store.oauth_clients`, `store.oauth_tokens` | id | credentials | tracked |
| `events` | event id | the event log (bounded: the oldest row goes as an event falls out) | tracked |
| `rules`, `faults` | id | armed pipeline rules and HTTP faults (hits, remaining) | it changed |
| `pipeline.runs` | engagement id | stage times, jitter, overrides; unfinished runs are rescheduled on load | tracked |
| `webhooks.*` | see webhook_state.py | endpoints, messages with pending deliveries, attempt log, sinks | both |

"Tracked" rows are written when the core reports them in its write set (core/write_set.py); the few "ambient"
rows (clock, streams, rules, faults, webhook endpoints and sinks, counters: bounded by what the client
configured, not by traffic) are compared with what was last written. Order: every table loads in the order its
rows were first written (the file's `seq`), which is the order the dicts had.
Not persisted: the request journal, idempotency reservations of requests in flight, scheduler jobs (rebuilt from
pipeline runs and pending deliveries), derived indexes (external_id, list order, contact/company lookups),
caches (`_`-prefixed dataclass fields). A record's row is its dataclass (persistence/codec.py): a field that
later becomes derived (issue 22: generated transcripts) simply stops being written and old rows' copies are
ignored on load.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import orjson

from ..core import views
from ..core import write_set as tables
from ..core.clock import CLOCK_MAX_MS, CLOCK_MIN_MS
from ..core.events import Event
from ..core.faults import FaultRule
from ..core.models import (
    ApiKey,
    Company,
    Contact,
    Engagement,
    OAuthClient,
    OAuthToken,
    Tag,
    TranscriptComment,
    User,
)
from ..core.pipeline import MAX_DELAY_S, PipelineOverrides, PipelineRun, StagedRuns
from ..core.records import dataclass
from ..core.releaser import Dropped
from ..core.rules import PipelineRule
from ..core.seeded import SeededRandom
from ..core.store import Workspace
from ..core.timefmt import format_ms
from ..core.write_set import Key
from ..emulator import Emulator
from . import codec, streams, webhook_state

Row = tuple[str, str, Any]  # kind, key, value (a live record or JSON-ready data)
Decoded = list[tuple[Callable[[str, Any], None], str, Any]]  # Loader.decode: (insert, key, decoded value)


@dataclass(frozen=True)
class RngStream:
    name: str
    get: Callable[[Emulator], SeededRandom]


# Every seeded stream outside webhooks (webhook_state lists the dispatcher's), each saved as two rows (streams.py).
RNG_STREAMS = (
    RngStream("ids", lambda em: em.ids.rng),
    RngStream("request_ids", lambda em: em.request_ids.rng),
    RngStream("keys", lambda em: em.key_tokens.rng),
    RngStream("faults", lambda em: em.faults.rng),
    RngStream("oauth", lambda em: em.oauth.tokens.rng),
)

# Workspace record tables: the Workspace field (or Directory field) that holds each, and its record type.
WORKSPACE_TABLES: dict[str, tuple[str, type]] = {
    tables.USERS: ("users", User),
    tables.ENGAGEMENTS: ("engagements", Engagement),
}
DIRECTORY_TABLES: dict[str, tuple[str, type]] = {
    tables.CONTACTS: ("contacts", Contact),
    tables.COMPANIES: ("companies", Company),
    tables.TAGS: ("tags", Tag),
    tables.TRANSCRIPT_COMMENTS: ("transcript_comments", TranscriptComment),
}
# Store attributes holding `dict[id, record]`; "workspaces" is handled table by table above.
STORE_TABLES: dict[str, tuple[str, type]] = {
    tables.API_KEYS: ("keys", ApiKey),
    tables.OAUTH_CLIENTS: ("oauth_clients", OAuthClient),
    tables.OAUTH_TOKENS: ("oauth_tokens", OAuthToken),
}
STORE_STRUCTURE = frozenset({"workspaces", "write_set"})
# Workspace fields that are configuration, kept in the workspace's own row (plain JSON values).
WORKSPACE_SETTINGS = ("private_by_default",)


def _plain_run(run: PipelineRun, _key: str) -> Any:
    return codec.to_plain(run, skip=("jobs", "seq0"))


def _as_is(record: Any, _key: str) -> Any:
    return record


# How a tracked record (core/write_set.py) becomes its row's JSON-ready value.
ENCODERS: dict[str, Callable[[Any, str], Any]] = {
    # The workspace's own configuration; its records have tables of their own.
    tables.WORKSPACES: lambda ws, key: {"id": key, **{name: getattr(ws, name) for name in WORKSPACE_SETTINGS}},
    **dict.fromkeys([*WORKSPACE_TABLES, *DIRECTORY_TABLES, *STORE_TABLES, tables.EVENTS], _as_is),
    tables.PIPELINE_RUNS: _plain_run,
    tables.WEBHOOK_MESSAGES: lambda deliveries, key: webhook_state.message_row(key, deliveries),
    tables.WEBHOOK_ATTEMPTS: lambda record, key: webhook_state.attempt_row(record),
    tables.SINK_REQUESTS: _as_is,
}


def encode(kind: str, key: str, record: Any) -> bytes:
    return codec.dumps(ENCODERS[kind](record, key))


# Writing -------------------------------------------------------------------------------------------------------


def clock_body(em: Emulator) -> bytes:
    return codec.dumps({"now_ms": em.clock.now_ms(), "time_scale": em.clock.time_scale})


def ambient(em: Emulator, *, clock: bool = True) -> Iterator[Row]:
    """The rows compared at every write (few, bounded by configuration); streams as themselves (ambient_body)."""
    if clock:
        yield "meta.clock", "now", {"now_ms": em.clock.now_ms(), "time_scale": em.clock.time_scale}
    for stream in RNG_STREAMS:
        yield from streams.rows(stream.name, stream.get(em))
    yield "meta.media_key", "hmac", base64.b64encode(em.media_key).decode()
    for rule in em.rules.rules:
        yield "rules", rule.id, rule
    for fault in em.faults.rules:
        yield "faults", fault.id, fault
    yield from webhook_state.ambient(em.webhooks)


def records(em: Emulator) -> Iterator[Row]:
    """Every tracked record, in the order of its table (a full dump: new files, resets, in-memory snapshots)."""
    workspaces = list(em.store.workspaces.values())  # a read may add one between two slices (Persister.snapshot)
    for ws in workspaces:
        yield tables.WORKSPACES, ws.id, ws
    for ws in workspaces:
        for kind, (attr, _) in WORKSPACE_TABLES.items():
            for record_id, record in getattr(ws, attr).items():
                yield kind, f"{ws.id}/{record_id}", record
        for kind, (attr, _) in DIRECTORY_TABLES.items():
            for record_id, record in getattr(ws.directory, attr).items():
                yield kind, f"{ws.id}/{record_id}", record
    for kind, (attr, _) in STORE_TABLES.items():
        for record_id, record in getattr(em.store, attr).items():
            yield kind, record_id, record
    for event in em.bus.log:
        yield tables.EVENTS, event.id, event
    for engagement_id, run in em.pipeline.runs.items():
        yield tables.PIPELINE_RUNS, engagement_id, run
    yield from webhook_state.records(em.webhooks)


def ambient_body(value: Any) -> bytes:
    """An ambient value (a stream's base state, or plain data) as JSON."""
    if isinstance(value, streams.StreamBase):
        value = value.state
    return codec.dumps(value)


def dump(em: Emulator) -> list[tuple[str, str, bytes]]:
    """The whole state as encoded rows, in load order."""
    out = [(kind, key, ambient_body(value)) for kind, key, value in ambient(em)]
    out += [(kind, key, encode(kind, key, record)) for kind, key, record in records(em)]
    return out


# Loading -------------------------------------------------------------------------------------------------------

# Read before anything is served (Persister.open): the clock, the seeded streams (so a request id handed out while
# the rest loads, health answering `starting`, continues the saved sequence), the media key, and the workspaces
# (few; created in their saved order before their records arrive).
PRELUDE_KINDS = ("meta.clock", streams.BASE, streams.DRAWN, "meta.media_key", tables.WORKSPACES)


class RowError(ValueError):
    """A row that does not decode: names it (persister turns it into a one-line StateFileError)."""


def _decode(tp: Any, kind: str, key: str, body: bytes) -> Any:
    try:
        if kind == tables.TRANSCRIPT_COMMENTS:
            body = _comment_before_issue_20(body)
        return codec.loads(tp, body)
    except Exception as exc:
        raise RowError(f"row {kind} {key!r}: {exc}") from exc


def _comment_before_issue_20(body: bytes) -> bytes:
    """A comment saved before the documented shape (issue 20: `text`, `author_user_id`, no timeline id) reads as
    one of today's: text → body, author → created_by, the engagement's primary timeline."""
    data = orjson.loads(body)
    if "body" in data or "text" not in data:
        return body
    data["body"] = data.pop("text")
    data["created_by"] = data.pop("author_user_id", "")
    data["transcript_timeline_id"] = views.timeline_id(str(data.get("engagement_id", "")))
    data.pop("start_seconds", None)
    return orjson.dumps(data)


def saved_clock(rows: Iterable[tuple[str, str, bytes]]) -> tuple[int, float] | None:
    for kind, key, body in rows:
        if (kind, key) == ("meta.clock", "now"):
            data = _decode(dict[str, Any], kind, key, body)
            return int(data["now_ms"]), float(data["time_scale"])
    return None


class Loader:
    """Puts saved rows into a fresh (or fully reset) emulator: `prelude`, then `add` every other row in file order
    (as the file streams in, Persister.load), then `finish`.

    `add` is `decode` (typed decoding, which touches nothing) then `apply` (the inserts): a restore decodes every
    row while the old state is still served, then resets and applies (Persister.restore). Keys and users
    configured at start-up stay (configuration beats saved state); everything else, and the clock, becomes what
    was saved. Unfinished pipeline runs and pending deliveries are rescheduled at their saved virtual times. Each
    big table's row costs a typed decode and a dict insert (derived indexes are built once, in `finish`: inserting
    100,000 engagements one by one into the kept list order was O(n²)). `notes` collects what had to be clamped
    into range (a file written by an older version that let the clock or a pipeline delay run past the limits),
    one sentence each. A bad row raises RowError naming it.

    `aside` (a restore): the records go into workspaces of the loader's own and the pipeline runs into runs of its
    own (Pipeline.resume(into=)), and `staging` builds their derived indexes, all while the emulator keeps serving
    its old state untouched; then, once the emulator is reset and `prelude` has run, `adopting` swaps them in, in a
    few O(1) steps (an empty table takes the staged one whole; one that start-up configuration filled gets the
    staged records inserted in order, as record-by-record loading would, its lookups merged: Directory.merged).
    The result is the same, byte for byte.
    """

    def __init__(self, em: Emulator, *, aside: bool = False) -> None:
        self.em = em
        self.notes: list[str] = []
        self.rows = 0
        self._later: dict[str, dict[str, bytes]] = {}
        self._events: list[Event] = []
        self._workspaces: dict[str, Workspace] = {}
        self._aside = aside
        self._runs = StagedRuns() if aside else None
        self._store_tables: dict[str, dict[str, Any]] = {attr: {} for attr, _ in STORE_TABLES.values()}
        self._rules: list[PipelineRule] | None = None  # decoded by `staging`
        self._faults: list[FaultRule] | None = None
        self._webhooks: webhook_state.Decoded | None = None  # decoded by `staging`
        # kind -> (record type, insert(key, decoded record))
        self._kinds: dict[str, tuple[Any, Callable[[str, Any], None]]] = {
            tables.USERS: (User, self._user),
            tables.ENGAGEMENTS: (Engagement, self._engagement),
            **{kind: (tp, self._directory_record(attr)) for kind, (attr, tp) in DIRECTORY_TABLES.items()},
            **{kind: (tp, self._store_record(attr)) for kind, (attr, tp) in STORE_TABLES.items()},
            tables.EVENTS: (Event, self._event),
            tables.PIPELINE_RUNS: (PipelineRun, self._run),
        }

    def prelude(self, rows: Iterable[tuple[str, str, bytes]]) -> None:
        """The PRELUDE_KINDS rows."""
        rows = list(rows)
        em = self.em
        clock = saved_clock(rows)
        if clock is not None:
            if not CLOCK_MIN_MS <= clock[0] <= CLOCK_MAX_MS:
                self.notes.append(
                    f"the virtual clock ({clock[0]} ms) was outside its range and was set to "
                    f"{format_ms(min(max(clock[0], CLOCK_MIN_MS), CLOCK_MAX_MS))}"
                )
            em.clock.restore(clock[0])
        by_kind = _group(rows)
        if "hmac" in by_kind.get("meta.media_key", {}):
            body = by_kind["meta.media_key"]["hmac"]
            em.media_key = base64.b64decode(_decode(str, "meta.media_key", "hmac", body))
        rngs, drawn = by_kind.get(streams.BASE, {}), by_kind.get(streams.DRAWN, {})
        for stream in RNG_STREAMS:
            if stream.name in rngs:
                try:
                    streams.restore(stream.get(em), stream.name, rngs[stream.name], drawn.get(stream.name))
                except Exception as exc:
                    raise RowError(f"row {streams.BASE} {stream.name!r}: {exc}") from exc
        self._later[streams.BASE], self._later[streams.DRAWN] = rngs, drawn  # webhooks' streams load with them
        for ws_id, body in by_kind.get(tables.WORKSPACES, {}).items():
            saved = _decode(dict[str, Any], tables.WORKSPACES, ws_id, body)
            ws = em.store.workspace(ws_id) if self._aside else self._ws(ws_id)
            for name in WORKSPACE_SETTINGS:
                if name in saved:  # a file from before the setting existed keeps the default
                    setattr(ws, name, saved[name])

    def check_prelude(self, rows: Iterable[tuple[str, str, bytes]]) -> None:
        """Raise RowError where `prelude` (and the webhook streams it passes on) would, changing nothing: an aside
        load checks the rows its swap puts in before the served state is reset."""
        rows = list(rows)
        try:
            saved_clock(rows)
        except RowError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise RowError(f"row meta.clock 'now': {exc!r}") from exc
        by_kind = _group(rows)
        if "hmac" in by_kind.get("meta.media_key", {}):
            try:
                base64.b64decode(_decode(str, "meta.media_key", "hmac", by_kind["meta.media_key"]["hmac"]))
            except ValueError as exc:
                raise RowError(f"row meta.media_key 'hmac': {exc}") from exc
        drawn = by_kind.get(streams.DRAWN, {})
        used = {stream.name for stream in RNG_STREAMS}
        for name, body in by_kind.get(streams.BASE, {}).items():
            own = name.removeprefix("webhooks.")
            if name in used or (own != name and (own == "secrets" or own.startswith("hazards."))):
                try:
                    streams.check(name, body, drawn.get(name))
                except Exception as exc:
                    raise RowError(f"row {streams.BASE} {name!r}: {exc}") from exc
        for ws_id, body in by_kind.get(tables.WORKSPACES, {}).items():
            _decode(dict[str, Any], tables.WORKSPACES, ws_id, body)

    def add(self, rows: Sequence[tuple[str, str, bytes]]) -> None:
        """Rows in file order (prelude rows are skipped)."""
        self.apply(self.decode(rows), len(rows))

    def decode(self, rows: Sequence[tuple[str, str, bytes]]) -> Decoded:
        """Rows in file order, decoded; nothing is changed yet (prelude rows are skipped)."""
        kinds, later = self._kinds, self._later
        out: Decoded = []
        for kind, key, body in rows:
            found = kinds.get(kind)
            if found is not None:
                out.append((found[1], key, _decode(found[0], kind, key, body)))
            elif kind not in PRELUDE_KINDS:  # webhooks.*, rules, faults; unknown kinds are ignored, as always
                table = later.get(kind)
                if table is None:
                    table = later[kind] = {}
                out.append((table.__setitem__, key, body))
        return out

    def apply(self, decoded: Decoded, rows: int) -> None:
        """Insert what `decode` made of `rows` rows, in order."""
        for insert, key, value in decoded:
            insert(key, value)
        self.rows += rows

    def _ws(self, key: str) -> Workspace:
        ws_id = key.partition("/")[0]
        ws = self._workspaces.get(ws_id)
        if ws is None:
            ws = Workspace(ws_id) if self._aside else self.em.store.workspace(ws_id)
            self._workspaces[ws_id] = ws
        return ws

    def _user(self, key: str, user: User) -> None:
        self._ws(key).users[user.id] = user

    def _engagement(self, key: str, e: Engagement) -> None:
        ws = self._ws(key)
        ws.engagements[e.id] = e
        ws.by_external_id[e.external_id] = e.id

    def _directory_record(self, attr: str) -> Callable[[str, Any], None]:
        def add(key: str, record: Any) -> None:
            getattr(self._ws(key).directory, attr)[key.partition("/")[2]] = record

        return add

    def _store_record(self, attr: str) -> Callable[[str, Any], None]:
        def add(key: str, record: Any) -> None:
            table = self._store_tables[attr] if self._aside else getattr(self.em.store, attr)
            if key not in table:  # configured at start-up: the configuration wins
                table[key] = record

        return add

    def _event(self, key: str, event: Event) -> None:
        self._events.append(event)

    def _run(self, key: str, run: PipelineRun) -> None:
        run.overrides = _clamped(run.overrides, f"the pipeline of {run.engagement_id}", self.notes)
        self.em.pipeline.resume(run, self._runs)

    def finish(self) -> list[str]:
        """Derived indexes, then the bounded tables that refer to the rest. Returns the clamp notes."""
        for _ in self.finishing():
            pass
        return self.notes

    def finishing(self) -> Iterator[None]:
        """finish, pausing (yield) every few milliseconds' worth of work (Persister.load gives way to requests)."""
        assert not self._aside, "aside: staging, then adopting"
        for ws in self.em.store.workspaces.values():
            yield from ws.engagement_order.rebuilding(ws.engagements)
            yield from ws.directory.rebuilding_indexes()
        yield from self._finishing()

    def _finishing(self) -> Iterator[None]:
        em = self.em
        em.bus.log.extend(self._events)
        if self._rules is None:
            self._decode_rules()
        em.rules.rules, em.faults.rules = self._rules or [], self._faults or []
        yield
        try:
            if self._webhooks is None:
                yield from webhook_state.loading(em.webhooks, self._later, em.bus.log)
            else:
                yield from webhook_state.applying(em.webhooks, self._webhooks, self._later, em.bus.log)
        except (codec.CodecError, ValueError, KeyError, TypeError) as exc:
            raise RowError(f"webhook rows: {exc!r}") from exc

    def _decode_rules(self) -> None:
        later = self._later
        self._rules = [_decode(PipelineRule, "rules", k, b) for k, b in later.get("rules", {}).items()]
        for rule in self._rules:
            rule.pipeline = _clamped(rule.pipeline, f"pipeline rule {rule.id}", self.notes)
        self._faults = [_decode(FaultRule, "faults", k, b) for k, b in later.get("faults", {}).items()]

    def staging(self) -> Iterator[None]:
        """`aside`, after every row was added: the staged workspaces' derived indexes (list order, directory
        lookups), the rules and the webhook rows decoded, pausing (yield) every few milliseconds. Touches nothing
        the emulator serves; a row that does not decode raises RowError."""
        assert self._aside
        for ws in self._workspaces.values():
            yield from ws.engagement_order.rebuilding(ws.engagements)
            yield from ws.directory.rebuilding_indexes()
        self._decode_rules()
        try:
            self._webhooks = yield from webhook_state.decoding(self._later)
        except (codec.CodecError, ValueError, KeyError, TypeError) as exc:
            raise RowError(f"webhook rows: {exc!r}") from exc

    def adopting(self) -> Iterator[None]:
        """`aside`, after `staging`, on the emulator just reset (everything) with `prelude` done: the staged
        records, runs and schedule become the emulator's, then what finish does after the indexes. Yields where
        work that grows with the data remains: linking the decoded webhook rows and scheduling their pending
        deliveries (bounded: 10,000 messages and attempts)."""
        assert self._aside and self._runs is not None
        em = self.em
        store = em.store
        order_taken: set[str] = set()  # workspaces whose staged list order was taken whole
        for staged in self._workspaces.values():
            ws = store.workspace(staged.id)  # registered in the order loading record by record registers them
            ws.users = _inserted(ws.users, staged.users)
            if not ws.engagements and not ws.by_external_id:
                ws.engagements, ws.by_external_id = staged.engagements, staged.by_external_id
                ws.engagement_order = staged.engagement_order
                order_taken.add(ws.id)
            else:
                ws.engagements.update(staged.engagements)
                ws.by_external_id.update(staged.by_external_id)
            ws.directory = ws.directory.merged(staged.directory)  # start-up seed data's records first
        for attr, staged_table in self._store_tables.items():
            table = getattr(store, attr)
            if not table:
                setattr(store, attr, staged_table)
            else:
                for key, record in staged_table.items():
                    table.setdefault(key, record)
        merged = set(self._workspaces)  # every staged workspace's directory was merged, lookups included
        self._workspaces = {}
        em.releaser.release(em.pipeline.adopt(self._runs))
        for ws in store.workspaces.values():  # as `finishing`: the tables not taken whole
            if ws.id not in order_taken:
                yield from ws.engagement_order.rebuilding(ws.engagements)
            if ws.id not in merged:
                yield from ws.directory.rebuilding_indexes()
        yield from self._finishing()

    def discard(self) -> list[Dropped]:
        """`aside`, not adopted (the restore failed before the swap): what was staged, for a Releaser."""
        staged, self._workspaces = self._workspaces, {}
        dropped = self._runs.drop() if self._runs is not None else []
        return [*dropped, Dropped(staged), Dropped(self._events)]


def _inserted(live: dict[str, Any], staged: dict[str, Any]) -> dict[str, Any]:
    """`live` with `staged`'s entries inserted in order (what inserting them one by one gives); `staged` itself,
    in O(1), when `live` is empty."""
    if not live:
        return staged
    live.update(staged)
    return live


def _group(rows: Iterable[tuple[str, str, bytes]]) -> dict[str, dict[str, bytes]]:
    by_kind: dict[str, dict[str, bytes]] = {}
    for kind, key, body in rows:
        by_kind.setdefault(kind, {})[key] = body
    return by_kind


def load(em: Emulator, rows: Iterable[tuple[str, str, bytes]]) -> list[str]:
    """Replace the emulator's state with `rows` (in file order) at once (Loader); returns the clamp notes.
    Call on a fresh or fully reset emulator."""
    rows = list(rows)
    loader = Loader(em)
    loader.prelude(row for row in rows if row[0] in PRELUDE_KINDS)
    loader.add(rows)
    return loader.finish()


def _clamped(overrides: PipelineOverrides, owner: str, notes: list[str]) -> PipelineOverrides:
    """Delays beyond MAX_DELAY_S (accepted by versions before issue 18) made due times unformattable."""
    too_long = {stage: s for stage, s in overrides.delays.items() if not 0 <= s <= MAX_DELAY_S}
    if not too_long:
        return overrides
    notes.append(
        f"{owner}: delays {', '.join(f'{k}={v:g} s' for k, v in too_long.items())} were beyond "
        f"{MAX_DELAY_S} s and were clamped"
    )
    delays = {k: min(max(v, 0.0), float(MAX_DELAY_S)) for k, v in overrides.delays.items()}
    return dataclasses.replace(overrides, delays=delays)


def by_key(rows: Iterable[tuple[str, str, bytes]]) -> dict[Key, bytes]:
    """Rows as a mapping (tests compare the file with a fresh dump)."""
    return {(kind, key): body for kind, key, body in rows}


__all__ = ["Workspace", "by_key", "dump", "encode", "load"]
