"""Webhook state as rows: endpoints, messages with their deliveries, the attempt log, sinks, RNGs.

| kind | key | what |
|---|---|---|
| `webhooks.endpoints` | endpoint id | WebhookEndpoint (secrets, hazards, disable state) |
| `webhooks.messages` | msg id | the event and, per endpoint, state, attempt counts and the next due time |
| `webhooks.attempts` | seq | one attempt record (append-only) |
| `webhooks.sinks` | name | scripted statuses and how many answers were served |
| `webhooks.sink_requests` | name/seq | what a sink received (append-only) |
| `webhooks.counters` | `seq` | attempt and sink sequence numbers |
| `meta.rng`, `meta.rng.drawn` | `webhooks.*` | secret and per-endpoint hazard streams (streams.py) |

Deliveries point at endpoints and messages by id here and are re-linked on load; a pending delivery is
rescheduled at its saved due time (one that was in flight when the state was saved goes again at once:
at-least-once, as webhooks.md §6 allows). Seeded streams are saved by position (Dispatcher.streams, streams.py);
counters come from the sinks' own snapshot()/restore().
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Iterator, Mapping
from dataclasses import field
from typing import Any

from ..core.events import Event
from ..core.records import dataclass
from ..webhooks.delivery import AttemptRecord, Delivery, Dispatcher, DispatcherSnapshot, Message
from ..webhooks.endpoints import WebhookEndpoint
from ..webhooks.sink import SinkConfig, SinkRequest, SinksSnapshot
from . import codec, streams


def ambient(d: Dispatcher) -> Iterator[tuple[str, str, Any]]:
    """The few rows compared at every write: seeded streams, endpoints, sink scripts, counters."""
    for name, rng in d.streams():
        yield from streams.rows(f"webhooks.{name}", rng)
    for endpoint in d.endpoints.values():
        yield "webhooks.endpoints", endpoint.id, endpoint
    sinks, counters = d.sinks, d.sinks.snapshot()
    for name in sinks.configs.keys() | counters.served.keys() | counters.dropped.keys():
        row = {"config": sinks.configs.get(name), "served": counters.served.get(name, 0)}
        yield "webhooks.sinks", name, {**row, "dropped": counters.dropped.get(name, 0)}
    yield "webhooks.counters", "seq", {"attempts": d.attempt_seq, "sink_requests": counters.seq}


def records(d: Dispatcher) -> Iterator[tuple[str, str, Any]]:
    """The tracked rows (core/changes.py), all of them: messages, attempts, what sinks received."""
    for msg_id, deliveries in d.messages.items():
        yield "webhooks.messages", msg_id, deliveries
    for record in d.log:
        yield "webhooks.attempts", str(record.seq), record
    for name, requests in d.sinks.received.items():
        for request in requests:
            yield "webhooks.sink_requests", f"{name}/{request.seq}", request


def message_row(msg_id: str, deliveries: list[Delivery]) -> dict[str, Any]:
    return {"id": msg_id, "event": deliveries[0].message.event, "deliveries": [_delivery(x) for x in deliveries]}


def _delivery(x: Delivery) -> dict[str, Any]:
    pending = x.state == "pending" and x.job is not None and not x.job.cancelled
    due = x.job.due_ms if pending and x.job is not None else None  # a finished delivery's last job is history
    return {
        "endpoint_id": x.endpoint.id,
        "endpoint_url": x.endpoint.url,
        "workspace_id": x.endpoint.workspace_id,
        "state": x.state,
        "attempts": x.attempts,
        "cycle": x.cycle,
        "held_hazard": x.held_hazard,
        "due_ms": due,
    }


def attempt_row(record: AttemptRecord) -> dict[str, Any]:
    event = record.delivery.message.event
    plain = codec.to_plain(record, skip=("delivery",))
    return {
        **plain,
        "msg_id": record.delivery.message.id,
        "endpoint_id": record.delivery.endpoint.id,
        "endpoint_url": record.delivery.endpoint.url,
        "event": {
            "id": event.id,
            "type": event.type,
            "workspace_id": event.workspace_id,
            "object_id": event.resource_id,
        },
    }


def load(d: Dispatcher, by_kind: Mapping[str, Mapping[str, bytes]], events: Iterable[Event]) -> None:
    for _ in loading(d, by_kind, events):
        pass


PIECE = 200  # rows between pauses of `loading` (a message row with its deliveries decodes in ~10-20 µs)

# A saved delivery, as its row has it: endpoint id, url and workspace (a stand-in endpoint is made from them if it
# is gone), state, attempts, cycle, held hazard, due time (None: it was in flight).
_SavedDelivery = tuple[Any, ...]


@dataclass
class Decoded:
    """The webhook rows decoded, linked to nothing yet: `decoding` makes it without touching the dispatcher (a
    restore does it while the old state is served), `applying` puts it in (object links and schedule only)."""

    endpoints: list[WebhookEndpoint] = field(default_factory=list)
    messages: list[tuple[Message, list[_SavedDelivery]]] = field(default_factory=list)
    # Each attempt with its message id, endpoint id and url, and event (id, type, workspace, object id); its
    # `delivery` is linked by `applying`.
    attempts: list[tuple[AttemptRecord, Any, Any, Any, tuple[Any, ...]]] = field(default_factory=list)
    sinks: list[tuple[str, SinkConfig | None, Any, Any]] = field(default_factory=list)
    sink_requests: list[tuple[str, SinkRequest]] = field(default_factory=list)
    counters: dict[str, int] | None = None


def loading(d: Dispatcher, by_kind: Mapping[str, Mapping[str, bytes]], events: Iterable[Event]) -> Iterator[None]:
    """load, pausing (yield) every PIECE rows: a state file's load gives way to requests (up to 10,000 messages
    and 10,000 attempts are kept)."""
    decoded = yield from decoding(by_kind)
    yield from applying(d, decoded, by_kind, events)


def decoding(by_kind: Mapping[str, Mapping[str, bytes]]) -> Generator[None, None, Decoded]:
    """The webhook rows of `by_kind`, decoded (pausing every PIECE rows); raises for a row that does not fit."""
    out = Decoded()
    for body in by_kind.get("webhooks.endpoints", {}).values():
        out.endpoints.append(codec.loads(WebhookEndpoint, body))
    for n, body in enumerate(by_kind.get("webhooks.messages", {}).values(), 1):
        row = codec.loads(dict[str, Any], body)
        message = Message(row["id"], codec.decode(Event, row["event"]))
        saved: list[_SavedDelivery] = [
            (
                x["endpoint_id"],
                x["endpoint_url"],
                x["workspace_id"],
                x["state"],
                x["attempts"],
                x["cycle"],
                x["held_hazard"],
                x["due_ms"],
            )
            for x in row["deliveries"]
        ]
        out.messages.append((message, saved))
        if n % PIECE == 0:
            yield
    yield
    for n, body in enumerate(by_kind.get("webhooks.attempts", {}).values(), 1):
        row = codec.loads(dict[str, Any], body)
        ev = row["event"]
        event = (ev["id"], ev["type"], ev["workspace_id"], ev["object_id"])
        fields = {k: v for k, v in row.items() if k not in ("msg_id", "endpoint_id", "endpoint_url", "event")}
        record = codec.build(AttemptRecord, fields, delivery=None)  # linked by `applying`
        out.attempts.append((record, row["msg_id"], row["endpoint_id"], row["endpoint_url"], event))
        if n % PIECE == 0:
            yield
    for name, body in by_kind.get("webhooks.sinks", {}).items():
        row = codec.loads(dict[str, Any], body)
        config = codec.decode(SinkConfig, row["config"]) if row["config"] is not None else None
        # `dropped` is absent from files written before issue #19
        out.sinks.append((name, config, row["served"], row.get("dropped", 0)))
    for n, (key, body) in enumerate(by_kind.get("webhooks.sink_requests", {}).items(), 1):
        out.sink_requests.append((key.rpartition("/")[0], codec.loads(SinkRequest, body)))
        if n % PIECE == 0:
            yield
    counters = by_kind.get("webhooks.counters", {}).get("seq")
    if counters is not None:
        seq = codec.loads(dict[str, int], counters)
        out.counters = {"attempts": seq["attempts"], "sink_requests": seq["sink_requests"]}
    return out


def applying(
    d: Dispatcher, decoded: Decoded, by_kind: Mapping[str, Mapping[str, bytes]], events: Iterable[Event]
) -> Iterator[None]:
    """Put `decoded` (and the dispatcher's seeded streams, from `by_kind`) into the dispatcher: endpoints, messages
    with their pending deliveries rescheduled at their saved due times, the attempt log, sinks, counters."""
    drawn = by_kind.get(streams.DRAWN, {})
    for name, body in by_kind.get(streams.BASE, {}).items():
        rng = d.stream(name.removeprefix("webhooks.")) if name.startswith("webhooks.") else None
        if rng is not None:
            streams.restore(rng, name, body, drawn.get(name))
    saved = DispatcherSnapshot()
    for endpoint in decoded.endpoints:
        d.endpoints[endpoint.id] = endpoint
    now = d.clock.now_ms()
    for message, rows in decoded.messages:
        deliveries = []
        for endpoint_id, url, workspace_id, state, attempts, cycle, held_hazard, due_ms in rows:
            endpoint = d.endpoints.get(endpoint_id) or _stub_endpoint(endpoint_id, url, workspace_id)
            delivery = Delivery(message, endpoint, state, attempts, cycle, None, held_hazard)
            deliveries.append(delivery)
            if delivery.state == "pending":
                d.resume(delivery, due_ms if due_ms is not None else now)
        d.messages[message.id] = deliveries
        if len(d.messages) % PIECE == 0:
            yield
    known_events = {e.id: e for e in events}
    yield
    for n, (record, msg_id, endpoint_id, url, event) in enumerate(decoded.attempts, 1):
        record.delivery = _attempted(d, msg_id, endpoint_id, url, event, known_events)
        d.log.append(record)
        if n % PIECE == 0:
            yield
    sinks, sink_counters = d.sinks, SinksSnapshot()
    sinks.configs.clear()  # a reset keeps sink scripts; a loaded state brings its own
    for name, config, served, dropped in decoded.sinks:
        if config is not None:
            sinks.configs[name] = config
        sink_counters.served[name] = served
        sink_counters.dropped[name] = dropped
    for n, (name, request) in enumerate(decoded.sink_requests, 1):
        sinks.restore_request(name, request)
        if n % PIECE == 0:
            yield
    if decoded.counters is not None:
        saved.attempt_seq, sink_counters.seq = decoded.counters["attempts"], decoded.counters["sink_requests"]
    d.restore(saved)
    sinks.restore(sink_counters)


def _stub_endpoint(endpoint_id: str, url: str = "", workspace_id: str = "") -> WebhookEndpoint:
    """Stands in for a deleted endpoint that old deliveries and attempts still name."""
    return WebhookEndpoint(endpoint_id, workspace_id, url, secret="", created_at=0)


def _attempted(
    d: Dispatcher,
    msg_id: Any,
    endpoint_id: Any,
    url: Any,
    event: tuple[Any, ...],
    events: Mapping[str, Event],
) -> Delivery:
    """The delivery an attempt record belongs to."""
    delivery = next((x for x in d.messages.get(msg_id, ()) if x.endpoint.id == endpoint_id), None)
    if delivery is None:  # its message was forgotten (bounded) before the save; keep the record readable
        event_id, event_type, workspace_id, object_id = event
        found = events.get(event_id) or Event(event_id, event_type, 0, workspace_id, {"id": object_id}, {})
        endpoint = d.endpoints.get(endpoint_id) or _stub_endpoint(endpoint_id, url)
        delivery = Delivery(Message(msg_id, found), endpoint, "failed")
    return delivery
