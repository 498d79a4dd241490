"""The dispatcher: fans events out to endpoints and retries on the virtual clock (webhooks.md §6).

Attempts run as scheduler jobs, so `clock/advance` runs a 27-hour retry ladder in milliseconds and
returns after due attempts finished. svix-id is stable per message; every attempt is signed afresh with
a wall-clock svix-timestamp (receivers compare it with their own clock).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from dataclasses import field
from typing import Any

from ..core import write_set as tables
from ..core.clock import ScheduledJob, Scheduler, VirtualClock
from ..core.errors import NotFound
from ..core.events import Event, EventBus
from ..core.ids import IdFactory
from ..core.records import dataclass
from ..core.releaser import Dropped
from ..core.seeded import RngState, SeededRandom, rng_restore, rng_snapshot
from ..core.timefmt import format_ms
from ..core.write_set import WriteSet
from .endpoints import HeaderStyle, WebhookEndpoint
from .hazards import OUT_OF_ORDER_HOLD_MS, Hazard, HazardDice, Hazards
from .signing import generate_secret
from .sink import TIMEOUT_S, Sinks, SinkSender, sink_name
from .transport import Sender

# Delay before each attempt after a failure: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
RETRY_LADDER_S = (0, 5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
DISABLE_AFTER_MS = 5 * 24 * 3600 * 1000


@dataclass
class Message:
    """One event on its way; svix-id is the same for every attempt and every endpoint."""

    id: str
    event: Event


@dataclass
class Delivery:
    message: Message
    endpoint: WebhookEndpoint
    state: str = "pending"  # pending | succeeded | failed
    attempts: int = 0  # all attempts ever, numbering the log
    cycle: int = 0  # attempts in the current retry cycle (recover starts a new one)
    job: ScheduledJob | None = None
    held_hazard: str | None = None


@dataclass
class AttemptRecord:
    seq: int
    delivery: Delivery
    attempt: int
    status: str
    response_status_code: int | None
    virtual_time: int
    wall_time: float
    duration_ms: float
    error: str | None
    hazard: str | None
    next_attempt_at: int | None
    kind: str = "scheduled"  # scheduled | resend | duplicate
    response_truncated: bool = False  # the receiver's answer was longer than the sender reads

    def view(self) -> dict[str, Any]:
        event = self.delivery.message.event
        return {
            "event_id": event.id,
            "svix_id": self.delivery.message.id,
            "type": event.type,
            "engagement_id": event.resource_id if event.type.startswith("v1.engagement.") else None,
            "endpoint_id": self.delivery.endpoint.id,
            "url": self.delivery.endpoint.url,
            "attempt": self.attempt,
            "status": self.status,
            "response_status_code": self.response_status_code,
            "virtual_time": format_ms(self.virtual_time),
            "wall_time": self.wall_time,
            "duration_ms": self.duration_ms,
            "error": self.error,
            "hazard": self.hazard,
            "next_attempt_at": format_ms(self.next_attempt_at) if self.next_attempt_at is not None else None,
            "kind": self.kind,
            "response_truncated": self.response_truncated,
        }


@dataclass
class _Outcome:
    status: int | None
    error: str | None
    duration_ms: float
    virtual_latency_ms: int = 0
    truncated: bool = False

    @property
    def ok(self) -> bool:
        """A 2xx the sender had nothing against (a 2xx whose body never ended is a timeout)."""
        return self.error is None and self.status is not None and 200 <= self.status < 300


@dataclass
class DispatcherSnapshot:
    """The dispatcher's private state that persistence saves: its seeded streams and attempt counter.

    The public tables (endpoints, messages, log, sinks) are saved as they are. A None field (absent from
    the saved state) leaves that part unchanged on restore.
    """

    secrets: RngState | None = None
    hazards: dict[str, RngState] = field(default_factory=dict)  # per endpoint id
    attempt_seq: int | None = None


@dataclass
class Dispatcher:
    seed: int
    clock: VirtualClock
    scheduler: Scheduler
    ids: IdFactory
    timeout_s: float = TIMEOUT_S
    log_limit: int = 10_000
    wall: Callable[[], float] = time.time
    endpoints: dict[str, WebhookEndpoint] = field(default_factory=dict)
    sinks: Sinks = field(default_factory=Sinks)
    # The write set (core/write_set.py): messages and attempts; endpoints and sinks are few and compared instead.
    write_set: WriteSet = field(default_factory=WriteSet)

    def __post_init__(self) -> None:
        self.sinks.write_set = self.write_set
        self._secret_rng = SeededRandom(f"{self.seed}:webhook-secrets")
        self._dice = HazardDice(self.seed)
        self._transport = SinkSender(self.sinks, self.sink_secrets, self.clock.now_ms, self.wall)
        self.log: deque[AttemptRecord] = deque(maxlen=self.log_limit)
        self.messages: OrderedDict[str, list[Delivery]] = OrderedDict()
        self._held: dict[str, list[Delivery]] = {}
        self._seq = 0

    @property
    def sender(self) -> Sender | None:
        """Delivers to every URL but the built-in sink: create_app's `sender=`, else aiohttp while serving."""
        return self._transport.network

    @sender.setter
    def sender(self, sender: Sender | None) -> None:
        self._transport.network = sender

    def attach(self, bus: EventBus) -> None:
        bus.subscribe(self.dispatch)

    def sink_secrets(self, name: str) -> list[str]:
        """What the built-in sink verifies with: every signing secret of the endpoints pointing at it."""
        now = self.clock.now_ms()
        return [s for e in self.endpoints.values() if sink_name(e.url) == name for s in e.signing_secrets(now)]

    # Saved state (persistence) ----------------------------------------------------------------

    def snapshot(self) -> DispatcherSnapshot:
        return DispatcherSnapshot(rng_snapshot(self._secret_rng), self._dice.snapshot(), self._seq)

    @property
    def attempt_seq(self) -> int:
        return self._seq

    def streams(self) -> Iterator[tuple[str, SeededRandom]]:
        """The seeded streams by name (`secrets`, `hazards.<endpoint id>`); persistence saves their positions."""
        yield "secrets", self._secret_rng
        for endpoint_id, rng in self._dice.rngs.items():
            yield f"hazards.{endpoint_id}", rng

    def stream(self, name: str) -> SeededRandom | None:
        """A stream by its `streams()` name (a hazard stream is made on first use); None for an unknown name."""
        if name == "secrets":
            return self._secret_rng
        endpoint_id = name.removeprefix("hazards.")
        return self._dice.rng(endpoint_id) if endpoint_id != name else None

    def restore(self, saved: DispatcherSnapshot) -> None:
        if saved.secrets is not None:
            rng_restore(self._secret_rng, saved.secrets)
        self._dice.restore(saved.hazards)
        if saved.attempt_seq is not None:
            self._seq = saved.attempt_seq

    def resume(self, delivery: Delivery, due_ms: int) -> None:
        """Schedule a pending delivery rebuilt from a saved state."""
        self._schedule(delivery, due_ms)

    # Endpoints --------------------------------------------------------------------------------

    def create_endpoint(
        self,
        workspace_id: str,
        url: str,
        *,
        secret: str | None = None,
        event_types: tuple[str, ...] | None = None,
        header_style: HeaderStyle = "svix",
        hazards: Hazards | None = None,
    ) -> WebhookEndpoint:
        endpoint = WebhookEndpoint(
            id=self.ids.new("ep"),
            workspace_id=workspace_id,
            url=url,
            secret=secret or generate_secret(self._secret_rng),
            created_at=self.clock.now_ms(),
            event_types=event_types,
            header_style=header_style,
            hazards=hazards or Hazards(),
        )
        self.endpoints[endpoint.id] = endpoint
        return endpoint

    def get_endpoint(self, endpoint_id: str) -> WebhookEndpoint:
        endpoint = self.endpoints.get(endpoint_id)
        if endpoint is None:
            raise NotFound("webhook endpoint", endpoint_id)
        return endpoint

    def delete_endpoint(self, endpoint_id: str) -> None:
        endpoint = self.get_endpoint(endpoint_id)
        for delivery in self._deliveries_of(endpoint):
            self._drop(delivery)
        del self.endpoints[endpoint_id]

    def rotate_secret(self, endpoint_id: str, new_secret: str | None = None) -> WebhookEndpoint:
        endpoint = self.get_endpoint(endpoint_id)
        endpoint.rotate(new_secret or generate_secret(self._secret_rng), self.clock.now_ms())
        return endpoint

    def disable(self, endpoint: WebhookEndpoint) -> None:
        """Pending attempts are dropped and new messages skipped until recovered."""
        endpoint.disabled = True
        for delivery in self._deliveries_of(endpoint):
            if delivery.state == "pending":
                self._drop(delivery)

    def recover(self, endpoint_id: str) -> int:
        """Re-enable and re-send every failed message for the endpoint, each on a fresh retry ladder."""
        endpoint = self.get_endpoint(endpoint_id)
        endpoint.disabled = False
        endpoint.failing_since = None
        resent = 0
        for delivery in self._deliveries_of(endpoint):
            if delivery.state == "failed":
                delivery.state, delivery.cycle = "pending", 0
                self._schedule(delivery, self.clock.now_ms())
                resent += 1
        return resent

    def _deliveries_of(self, endpoint: WebhookEndpoint) -> Iterator[Delivery]:
        for deliveries in self.messages.values():
            for delivery in deliveries:
                if delivery.endpoint is endpoint:
                    yield delivery

    # Dispatch ---------------------------------------------------------------------------------

    def dispatch(self, event: Event) -> None:
        targets = [
            ep for ep in self.endpoints.values() if ep.workspace_id == event.workspace_id and ep.wants(event.type)
        ]
        if not targets:
            return
        message = Message("msg_" + event.id.split("_", 1)[1], event)
        deliveries = [Delivery(message, ep) for ep in targets]
        self._remember(message.id, deliveries)
        now = self.clock.now_ms()
        for delivery in deliveries:
            ep = delivery.endpoint
            due = now + round(ep.hazards.delay_first_attempt_seconds * 1000)
            if ep.hazards.delay_first_attempt_seconds:
                delivery.held_hazard = "delay_first_attempt"
            held = self._held.pop(ep.id, [])
            if not held and self._draw(ep, "out_of_order"):
                # Hold this one back so the next message for the endpoint overtakes it.
                delivery.held_hazard = "out_of_order"
                self._held[ep.id] = [delivery]
                delivery.job = self.scheduler.call_at(
                    now + OUT_OF_ORDER_HOLD_MS,
                    functools.partial(self._release, delivery),
                    name="hold",
                    subject=message.id,
                )
                continue
            self._schedule(delivery, due)
            for earlier in held:
                if earlier.job:
                    earlier.job.cancel()
                self._schedule(earlier, due)  # same instant, enqueued after: arrives after the newer one

    def send_test(self, endpoint_id: str, event: Event) -> Message:
        """The portal's "send test event": one message to this endpoint only, through the normal path (signed,
        retried, logged, resendable), whatever event types it subscribes to; hazards apply as to any message."""
        endpoint = self.get_endpoint(endpoint_id)
        message = Message("msg_" + event.id.split("_", 1)[1], event)
        delivery = Delivery(message, endpoint)
        self._remember(message.id, [delivery])
        self._schedule(delivery, self.clock.now_ms())
        return message

    def _release(self, delivery: Delivery) -> None:
        held = self._held.get(delivery.endpoint.id, [])
        if any(d is delivery for d in held):
            held.remove(delivery)
            self._schedule(delivery, self.clock.now_ms())

    def _message_changed(self, msg_id: str) -> None:
        deliveries = self.messages.get(msg_id)
        if deliveries is not None:
            self.write_set.put(tables.WEBHOOK_MESSAGES, msg_id, deliveries)

    def _remember(self, msg_id: str, deliveries: list[Delivery]) -> None:
        self.messages[msg_id] = deliveries
        self._message_changed(msg_id)
        # Bounded: forget the oldest finished messages (they can no longer be resent or recovered).
        while len(self.messages) > self.log_limit:
            oldest_id, oldest = next(iter(self.messages.items()))
            if any(d.state == "pending" for d in oldest):
                break
            del self.messages[oldest_id]
            self.write_set.gone(tables.WEBHOOK_MESSAGES, oldest_id)

    def _schedule(self, delivery: Delivery, due_ms: int) -> None:
        delivery.job = self.scheduler.call_at(
            due_ms,
            lambda: self._attempt(delivery),
            name="webhook",
            subject=f"{delivery.message.id}:{delivery.endpoint.id}",
        )
        self._message_changed(delivery.message.id)

    def _drop(self, delivery: Delivery) -> None:
        if delivery.job:
            delivery.job.cancel()
        if delivery.state == "pending":
            delivery.state = "failed"
        self._message_changed(delivery.message.id)

    # Attempts ---------------------------------------------------------------------------------

    async def _attempt(self, delivery: Delivery, kind: str = "scheduled") -> None:
        endpoint = delivery.endpoint
        if kind == "scheduled" and (delivery.state != "pending" or endpoint.id not in self.endpoints):
            return
        if not self._live(delivery):
            return
        if endpoint.disabled:
            self._drop(delivery)
            return
        delivery.attempts += 1
        if kind == "scheduled":
            delivery.cycle += 1
        started = self.clock.now_ms()
        try:
            outcome, signing_hazard = await self._send(delivery)
        except asyncio.CancelledError:
            # Shutdown cancelled the attempt on the wire: record it and schedule the retry, so the state file
            # shows what happened and a restart tries again (issue #19).
            if self._live(delivery):
                self._cancelled(delivery, kind, started)
            raise
        if not self._live(delivery):
            return  # reset while on the wire: no log entry, no retry
        hazard = signing_hazard or (delivery.held_hazard if delivery.attempts == 1 else None)
        finished = started + outcome.virtual_latency_ms
        next_at: int | None = None
        if kind != "scheduled":
            status = "succeeded" if outcome.ok else "failed"
        elif outcome.ok:
            status = delivery.state = "succeeded"
            endpoint.failing_since = None
        else:
            status = "failed"
            endpoint.failing_since = endpoint.failing_since if endpoint.failing_since is not None else started
            if finished - endpoint.failing_since >= DISABLE_AFTER_MS:
                self._record(delivery, kind, started, outcome, hazard, None, status)
                delivery.state = "failed"
                self.disable(endpoint)
                return
            if delivery.cycle < len(RETRY_LADDER_S):
                next_at = finished + RETRY_LADDER_S[delivery.cycle] * 1000
                self._schedule(delivery, next_at)
            else:
                delivery.state = "failed"
        self._record(delivery, kind, started, outcome, hazard, next_at, status)
        if kind == "scheduled" and outcome.ok and self._draw(endpoint, "duplicate"):
            await self._attempt(delivery, "duplicate")

    async def _send(self, delivery: Delivery) -> tuple[_Outcome, Hazard | None]:
        endpoint, message = delivery.endpoint, delivery.message
        signed = self._dice.sign(
            endpoint.id,
            endpoint.hazards,
            endpoint.signing_secrets(self.clock.now_ms()),
            message.id,
            int(self.wall()),
            message.event.body,
        )
        prefix = "webhook" if endpoint.header_style == "webhook" else "svix"
        headers = {
            f"{prefix}-id": message.id,
            f"{prefix}-timestamp": str(signed.timestamp),
            f"{prefix}-signature": signed.signature,
        }
        sent = await self._transport.send(endpoint.url, headers, signed.body, self.timeout_s)
        outcome = _Outcome(sent.status, sent.error, sent.duration_ms, sent.virtual_latency_ms, sent.truncated)
        return outcome, signed.hazard

    def _cancelled(self, delivery: Delivery, kind: str, started: int) -> None:
        outcome = _Outcome(None, "cancelled in flight: the emulator shut down before the receiver answered", 0.0)
        next_at = None
        if kind == "scheduled" and delivery.cycle < len(RETRY_LADDER_S):
            next_at = started + RETRY_LADDER_S[delivery.cycle] * 1000
            self._schedule(delivery, next_at)
        self._record(delivery, kind, started, outcome, None, next_at, "failed")

    def _record(
        self,
        delivery: Delivery,
        kind: str,
        started: int,
        outcome: _Outcome,
        hazard: str | None,
        next_at: int | None,
        status: str,
    ) -> None:
        self._seq += 1
        if len(self.log) == self.log.maxlen:
            self.write_set.gone(tables.WEBHOOK_ATTEMPTS, str(self.log[0].seq))
        self.log.append(
            AttemptRecord(
                self._seq,
                delivery,
                delivery.attempts,
                status,
                outcome.status,
                started,
                self.wall(),
                outcome.duration_ms,
                outcome.error,
                hazard,
                next_at,
                kind,
                outcome.truncated,
            )
        )
        self.write_set.put(tables.WEBHOOK_ATTEMPTS, str(self._seq), self.log[-1])
        self._message_changed(delivery.message.id)

    def _draw(self, endpoint: WebhookEndpoint, hazard: Hazard) -> bool:
        return self._dice.draw(endpoint.id, endpoint.hazards, hazard)

    # Manual resend, reset ---------------------------------------------------------------------

    async def resend(self, msg_id: str) -> int:
        """One extra attempt per endpoint of the message, same svix-id, not retried."""
        deliveries = self.messages.get(msg_id)
        if deliveries is None:
            raise NotFound("message", msg_id)
        sent = 0
        for delivery in deliveries:
            if delivery.endpoint.id in self.endpoints and not delivery.endpoint.disabled:
                await self._attempt(delivery, "resend")
                sent += 1
        return sent

    def reset(self, workspace_id: str | None = None, *, everything: bool = False) -> list[Dropped]:
        """Forget messages, attempts and (full reset) sink requests; returns the dropped containers for a
        Releaser, which cancels their pending jobs. Until then such a job finds its message gone (`_live`)."""
        old_messages, old_log = self.messages, self.log
        if workspace_id is None:
            self.messages, self.log, self._held = OrderedDict(), deque(maxlen=self.log_limit), {}
            gone: OrderedDict[str, list[Delivery]] | list[list[Delivery]] = old_messages
            dropped = self.sinks.clear()
        else:
            self.messages = OrderedDict()
            gone = []
            for msg_id, deliveries in old_messages.items():
                if deliveries[0].message.event.workspace_id == workspace_id:
                    gone.append(deliveries)
                else:
                    self.messages[msg_id] = deliveries
            self.log = deque(
                (r for r in old_log if r.delivery.message.event.workspace_id != workspace_id), maxlen=self.log_limit
            )
            self._held = {k: v for k, v in self._held.items() if v and v[0].endpoint.workspace_id != workspace_id}
            dropped = []
        for endpoint in list(self.endpoints.values()):
            if workspace_id in (None, endpoint.workspace_id):
                endpoint.failing_since = None
                if everything:
                    del self.endpoints[endpoint.id]
        return [Dropped(gone, each=_cancel_jobs), Dropped(old_log), *dropped]

    def _live(self, delivery: Delivery) -> bool:
        """Whether the delivery's message is still known: a reset makes attempts of dropped ones no-ops."""
        return any(d is delivery for d in self.messages.get(delivery.message.id, ()))


def _cancel_jobs(deliveries: list[Delivery]) -> None:
    for delivery in deliveries:
        if delivery.job:
            delivery.job.cancel()
