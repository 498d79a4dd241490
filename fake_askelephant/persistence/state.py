"""What is persisted: the emulator's state as rows `(kind, key) -> JSON`, and how rows load back.

Persisted (one row per record, so a write touches only what changed):

| kind | key | what |
|---|---|---|
| `meta.clock` | `now` | virtual now and time scale |
| `meta.rng` | stream name | every seeded RNG, so ids and draws continue instead of repeating |
| `workspace` | pos/workspace id | the Workspace's plain fields (indexes such as `by_external_id`) |
| `workspace.<field>` | workspace id/pos/id | each record of every `dict[str, <dataclass>]` field of Workspace |
| `store.<attr>` | pos/id | each record of the Store-level tables in STORE_TABLES (API keys) |
| `events` | time.n/id | the event log (n orders events of one virtual ms; the clock never runs back) |
| `rules`, `faults` | pos | armed pipeline rules and HTTP faults |
| `pipeline.runs` | pos/engagement id | stage times, jitter, overrides; unfinished runs are rescheduled on load |
| `webhooks.*` | see webhook_state.py | endpoints, messages with pending deliveries, attempt log, sinks |

Keys carry the record's position (`pos`, zero-padded) so every dict and list loads in its original order:
insertion order decides listing ties and the order same-instant work is rescheduled in.
Not persisted: the request journal, idempotency reservations of requests in flight, scheduler jobs (they are
rebuilt from pipeline runs and pending deliveries), caches (`_`-prefixed dataclass fields).
Workspace fields are found from the dataclass, so a model that gains a `dict[str, Contact]` is persisted
with no change here; a new Store-level table needs one STORE_TABLES entry (tests/reliability checks that
every Store attribute is listed).
"""

from __future__ import annotations

import dataclasses
import random
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ..core.clock import CLOCK_MAX_MS, CLOCK_MIN_MS
from ..core.events import Event
from ..core.faults import FaultRule
from ..core.models import ApiKey, OAuthClient, OAuthToken
from ..core.pipeline import MAX_DELAY_S, PipelineOverrides, PipelineRun
from ..core.rules import PipelineRule
from ..core.seeded import RngState, rng_restore, rng_snapshot
from ..core.store import Workspace
from ..core.timefmt import format_ms
from ..emulator import Emulator
from . import codec, webhook_state

Key = tuple[str, str]
Row = tuple[str, str, Any]  # kind, key, JSON-ready value

# Store attributes holding `dict[id, record]`; "workspaces" is handled field by field below.
STORE_TABLES: dict[str, type] = {"keys": ApiKey, "oauth_clients": OAuthClient, "oauth_tokens": OAuthToken}
STORE_STRUCTURE = frozenset({"workspaces"})


class SavesPosition(Protocol):
    """A seeded stream that hands out and takes back its position (core/seeded.py)."""

    def snapshot(self) -> RngState: ...

    def restore(self, state: RngState, /) -> None: ...


@dataclass(frozen=True)
class _PublicRandom:
    """The fault rules' generator is a public field; this gives it the same snapshot/restore."""

    rng: random.Random

    def snapshot(self) -> RngState:
        return rng_snapshot(self.rng)

    def restore(self, state: RngState, /) -> None:
        rng_restore(self.rng, state)


@dataclass(frozen=True)
class RngStream:
    name: str
    get: Callable[[Emulator], SavesPosition]


# Every seeded stream outside webhooks (webhook_state lists the dispatcher's).
RNG_STREAMS = (
    RngStream("ids", lambda em: em.ids),
    RngStream("request_ids", lambda em: em.request_ids),
    RngStream("keys", lambda em: em.key_tokens),
    RngStream("faults", lambda em: _PublicRandom(em.faults.rng)),
    RngStream("oauth", lambda em: em.oauth.tokens),
)
# Rows whose body never changes once written (append-only logs): flushing skips re-encoding known keys.
IMMUTABLE_KINDS = frozenset({"events", *webhook_state.IMMUTABLE_KINDS})


def _record_fields(cls: type) -> dict[str, type]:
    """Fields typed `dict[str, <dataclass>]`: each value becomes its own row."""
    out: dict[str, type] = {}
    for name, tp in typing.get_type_hints(cls).items():
        args = typing.get_args(tp)
        if typing.get_origin(tp) is dict and len(args) == 2 and dataclasses.is_dataclass(args[1]):
            out[name] = typing.cast(type, args[1])
    return out


WORKSPACE_TABLES = _record_fields(Workspace)


def positioned(i: int, key: str = "") -> str:
    return f"{i:09d}/{key}" if key else f"{i:09d}"


def unpositioned(key: str) -> str:
    return key.partition("/")[2]


def dump(em: Emulator) -> Iterator[Row]:
    """Every row of the current state; values are encoded by the caller (lazily for immutable kinds)."""
    yield "meta.clock", "now", {"now_ms": em.clock.now_ms(), "time_scale": em.clock.time_scale}
    for stream in RNG_STREAMS:
        yield "meta.rng", stream.name, _Lazy(stream.get(em).snapshot)
    for w, ws in enumerate(em.store.workspaces.values()):
        plain = {f.name: getattr(ws, f.name) for f in dataclasses.fields(ws) if f.name not in WORKSPACE_TABLES}
        yield "workspace", positioned(w, ws.id), plain
        for field_name in WORKSPACE_TABLES:
            for i, (record_id, record) in enumerate(getattr(ws, field_name).items()):
                yield f"workspace.{field_name}", f"{ws.id}/{positioned(i, record_id)}", record
    for attr in STORE_TABLES:
        for i, (record_id, record) in enumerate(getattr(em.store, attr).items()):
            yield f"store.{attr}", positioned(i, record_id), record
    yield from _event_rows(em.bus.log)
    for i, rule in enumerate(em.rules.rules):
        yield "rules", positioned(i), rule
    for i, fault in enumerate(em.faults.rules):
        yield "faults", positioned(i), fault
    for i, (engagement_id, run) in enumerate(em.pipeline.runs.items()):
        yield "pipeline.runs", positioned(i, engagement_id), codec.to_plain(run, skip=("jobs",))
    yield from webhook_state.dump(em.webhooks)


def _event_rows(log: Iterable[Event]) -> Iterator[Row]:
    """Keys stay put as the bounded log drops its oldest entries, so known events are never re-encoded."""
    previous, n = None, 0
    for event in log:
        n = n + 1 if event.created_at == previous else 0
        previous = event.created_at
        yield "events", f"{event.created_at:015d}.{n:06d}/{event.id}", event


@dataclass(frozen=True)
class _Lazy:
    """A value computed only when its row is encoded."""

    make: Callable[[], Any]


def encode(value: Any) -> bytes:
    return codec.dumps(value.make() if isinstance(value, _Lazy) else value)


def saved_clock(rows: Mapping[Key, bytes]) -> tuple[int, float] | None:
    raw = rows.get(("meta.clock", "now"))
    if raw is None:
        return None
    data = codec.loads(dict[str, Any], raw)
    return int(data["now_ms"]), float(data["time_scale"])


def load(em: Emulator, rows: Mapping[Key, bytes]) -> list[str]:
    """Replace the emulator's state with `rows`. Call on a fresh or fully reset emulator.

    Keys and users configured at start-up stay (configuration beats saved state); everything else, and the
    clock, becomes what was saved. Unfinished pipeline runs and pending deliveries are rescheduled at their
    saved virtual times. Returns what had to be clamped into range (a file written by an older version that let
    the clock or a pipeline delay run past the limits), one sentence each.
    """
    by_kind: dict[str, dict[str, bytes]] = {}
    for (kind, key), body in sorted(rows.items()):
        by_kind.setdefault(kind, {})[key] = body
    notes: list[str] = []
    clock = saved_clock(rows)
    if clock is not None:
        if not CLOCK_MIN_MS <= clock[0] <= CLOCK_MAX_MS:
            notes.append(
                f"the virtual clock ({clock[0]} ms) was outside its range and was set to "
                f"{format_ms(min(max(clock[0], CLOCK_MIN_MS), CLOCK_MAX_MS))}"
            )
        em.clock.restore(clock[0])
    for stream in RNG_STREAMS:
        if stream.name in by_kind.get("meta.rng", {}):
            stream.get(em).restore(codec.loads(list[Any], by_kind["meta.rng"][stream.name]))
    for key, body in by_kind.get("workspace", {}).items():
        loaded = codec.loads(Workspace, body)
        ws = em.store.workspace(unpositioned(key))
        for f in dataclasses.fields(Workspace):
            if f.name not in WORKSPACE_TABLES:
                setattr(ws, f.name, getattr(loaded, f.name))
    for field_name, record_type in WORKSPACE_TABLES.items():
        for key, body in by_kind.get(f"workspace.{field_name}", {}).items():
            ws_id, _, rest = key.partition("/")
            getattr(em.store.workspace(ws_id), field_name)[unpositioned(rest)] = codec.loads(record_type, body)
    for attr, record_type in STORE_TABLES.items():
        table = getattr(em.store, attr)
        for key, body in by_kind.get(f"store.{attr}", {}).items():
            table.setdefault(unpositioned(key), codec.loads(record_type, body))
    em.bus.log.extend(codec.loads(Event, body) for body in by_kind.get("events", {}).values())
    em.rules.rules = [codec.loads(PipelineRule, body) for body in by_kind.get("rules", {}).values()]
    for rule in em.rules.rules:
        rule.pipeline = _clamped(rule.pipeline, f"pipeline rule {rule.id}", notes)
    em.faults.rules = [codec.loads(FaultRule, body) for body in by_kind.get("faults", {}).values()]
    for body in by_kind.get("pipeline.runs", {}).values():
        run = codec.loads(PipelineRun, body)
        run.overrides = _clamped(run.overrides, f"the pipeline of {run.engagement_id}", notes)
        em.pipeline.resume(run)
    webhook_state.load(em.webhooks, by_kind, em.bus.log)
    return notes


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
