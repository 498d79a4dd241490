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

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ..core.events import Event
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


def loading(d: Dispatcher, by_kind: Mapping[str, Mapping[str, bytes]], events: Iterable[Event]) -> Iterator[None]:
    """load, pausing (yield) every PIECE rows: a state file's load gives way to requests (up to 10,000 messages
    and 10,000 attempts are kept)."""
    drawn = by_kind.get(streams.DRAWN, {})
    for name, body in by_kind.get(streams.BASE, {}).items():
        rng = d.stream(name.removeprefix("webhooks.")) if name.startswith("webhooks.") else None
        if rng is not None:
            streams.restore(rng, name, body, drawn.get(name))
    saved = DispatcherSnapshot()
    for body in by_kind.get("webhooks.endpoints", {}).values():
        endpoint = codec.loads(WebhookEndpoint, body)
        d.endpoints[endpoint.id] = endpoint
    now = d.clock.now_ms()
    for body in by_kind.get("webhooks.messages", {}).values():
        row = codec.loads(dict[str, Any], body)
        message = Message(row["id"], codec.decode(Event, row["event"]))
        deliveries = []
        for x in row["deliveries"]:
            endpoint = d.endpoints.get(x["endpoint_id"]) or _stub_endpoint(
                x["endpoint_id"], x["endpoint_url"], x["workspace_id"]
            )
            delivery = Delivery(message, endpoint, x["state"], x["attempts"], x["cycle"], None, x["held_hazard"])
            deliveries.append(delivery)
            if delivery.state == "pending":
                d.resume(delivery, x["due_ms"] if x["due_ms"] is not None else now)
        d.messages[message.id] = deliveries
        if len(d.messages) % PIECE == 0:
            yield
    known_events = {e.id: e for e in events}
    yield
    for n, body in enumerate(by_kind.get("webhooks.attempts", {}).values(), 1):
        d.log.append(_load_attempt(d, codec.loads(dict[str, Any], body), known_events))
        if n % PIECE == 0:
            yield
    sinks, sink_counters = d.sinks, SinksSnapshot()
    sinks.configs.clear()  # a reset keeps sink scripts; a loaded state brings its own
    for name, body in by_kind.get("webhooks.sinks", {}).items():
        row = codec.loads(dict[str, Any], body)
        if row["config"] is not None:
            sinks.configs[name] = codec.decode(SinkConfig, row["config"])
        sink_counters.served[name] = row["served"]
        sink_counters.dropped[name] = row.get("dropped", 0)  # absent from files written before issue #19
    for n, (key, body) in enumerate(by_kind.get("webhooks.sink_requests", {}).items(), 1):
        sinks.restore_request(key.rpartition("/")[0], codec.loads(SinkRequest, body))
        if n % PIECE == 0:
            yield
    counters = by_kind.get("webhooks.counters", {}).get("seq")
    if counters is not None:
        seq = codec.loads(dict[str, int], counters)
        saved.attempt_seq, sink_counters.seq = seq["attempts"], seq["sink_requests"]
    d.restore(saved)
    sinks.restore(sink_counters)


def _stub_endpoint(endpoint_id: str, url: str = "", workspace_id: str = "") -> WebhookEndpoint:
    """Stands in for a deleted endpoint that old deliveries and attempts still name."""
    return WebhookEndpoint(endpoint_id, workspace_id, url, secret="", created_at=0)


def _load_attempt(d: Dispatcher, row: dict[str, Any], events: Mapping[str, Event]) -> AttemptRecord:
    delivery = next(
        (x for x in d.messages.get(row["msg_id"], ()) if x.endpoint.id == row["endpoint_id"]),
        None,
    )
    if delivery is None:  # its message was forgotten (bounded) before the save; keep the record readable
        ev = row["event"]
        event = events.get(ev["id"]) or Event(ev["id"], ev["type"], 0, ev["workspace_id"], {"id": ev["object_id"]}, {})
        endpoint = d.endpoints.get(row["endpoint_id"]) or _stub_endpoint(row["endpoint_id"], row["endpoint_url"])
        delivery = Delivery(Message(row["msg_id"], event), endpoint, "failed")
    fields = {k: v for k, v in row.items() if k not in ("msg_id", "endpoint_id", "endpoint_url", "event")}
    return codec.build(AttemptRecord, fields, delivery=delivery)
