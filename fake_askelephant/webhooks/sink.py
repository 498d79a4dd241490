"""The built-in receiver at /__admin/sink/{name}: records, verifies, answers with a scripted status sequence.

Deliveries from this emulator reach it in-process through SinkSender; other processes POST to the route.
"""

from __future__ import annotations

import base64
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import field
from typing import Any
from urllib.parse import urlsplit

from ..core import write_set as tables
from ..core.records import dataclass
from ..core.releaser import Dropped
from ..core.timefmt import format_ms
from ..core.write_set import WriteSet
from .signing import Verification, verify
from .transport import Sender, SendResult

SINK_PATH = "/__admin/sink/"
TIMEOUT_S = 15.0
REQUEST_LIMIT = 10_000  # requests kept per sink
BYTE_LIMIT = 64 * 1024 * 1024  # bodies and headers kept across all sinks; the oldest go first (issue #19)


def sink_name(url: str) -> str | None:
    """The sink a URL points at, by path (any host: inside compose the emulator is not 127.0.0.1)."""
    path = urlsplit(url).path
    if path.startswith(SINK_PATH):
        name = path[len(SINK_PATH) :].strip("/")
        return name if name and "/" not in name else None
    return None


@dataclass
class SinkConfig:
    statuses: list[int] = field(default_factory=lambda: [200])
    delay_seconds: float = 0.0


@dataclass
class SinkRequest:
    seq: int
    virtual_time: int
    wall_time: float
    headers: dict[str, str]
    body: bytes
    verification: Verification
    response_status: int
    delay_seconds: float

    def view(self) -> dict[str, Any]:
        try:
            text: str | None = self.body.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        return {
            "seq": self.seq,
            "virtual_time": format_ms(self.virtual_time),
            "wall_time": self.wall_time,
            "headers": self.headers,
            "body": text,
            "body_base64": None if text is not None else base64.b64encode(self.body).decode(),
            "verified": self.verification.ok,
            "verification": self.verification.reason,
            "response_status": self.response_status,
            "delay_seconds": self.delay_seconds,
        }


@dataclass
class SinkOutcome:
    status: int | None  # None: timed out, no answer
    latency_ms: int
    verification: Verification


@dataclass
class SinksSnapshot:
    """The sinks' private counters that persistence saves (configs and received requests are public).

    `served` counts answers per sink (the next scripted status); `seq` None leaves the counter unchanged.
    """

    served: dict[str, int] = field(default_factory=dict)
    seq: int | None = None
    dropped: dict[str, int] = field(default_factory=dict)  # requests let go per sink (count and byte limits)


def _size(request: SinkRequest) -> int:
    return len(request.body) + sum(len(k) + len(v) for k, v in request.headers.items()) + 256


class Sinks:
    """Named sinks; each keeps at most `limit` requests, and all of them together at most `byte_limit` bytes.

    Over either bound the oldest requests go first (the byte bound across sinks, in arrival order); each sink's
    listing counts what it let go (`dropped`).
    """

    def __init__(self, limit: int = REQUEST_LIMIT, byte_limit: int = BYTE_LIMIT) -> None:
        self.write_set = WriteSet()  # received requests (configs and counters are compared instead); the dispatcher's
        self._limit = limit
        self._byte_limit = byte_limit
        self.configs: dict[str, SinkConfig] = {}
        self.received: dict[str, deque[SinkRequest]] = {}
        self.dropped: dict[str, int] = {}
        self._served: dict[str, int] = {}
        self._seq = 0
        self._bytes = 0
        self._order: deque[tuple[str, SinkRequest]] = deque()  # arrival order across sinks (may hold gone ones)
        self._kept = 0

    def configure(self, name: str, statuses: list[int], delay_seconds: float) -> SinkConfig:
        config = self.configs[name] = SinkConfig(statuses or [200], delay_seconds)
        self._served[name] = 0
        return config

    def receive(
        self,
        name: str,
        headers: Mapping[str, str],
        body: bytes,
        secrets: Iterable[str],
        *,
        virtual_ms: int,
        wall_s: float,
    ) -> SinkOutcome:
        """Record one delivery and decide the answer: the next scripted status, the last one repeating."""
        config = self.configs.get(name) or SinkConfig()
        served = self._served.get(name, 0)
        self._served[name] = served + 1
        status = config.statuses[min(served, len(config.statuses) - 1)]
        verification = verify(secrets, headers, body, wall_s)
        self._seq += 1
        self._keep(
            name,
            # Plain str keys: aiohttp's header names are a str subclass the JSON encoder refuses.
            SinkRequest(
                self._seq,
                virtual_ms,
                wall_s,
                {str(k): str(v) for k, v in headers.items()},
                body,
                verification,
                status,
                config.delay_seconds,
            ),
        )
        if config.delay_seconds >= TIMEOUT_S:
            return SinkOutcome(None, int(TIMEOUT_S * 1000), verification)
        return SinkOutcome(status, int(config.delay_seconds * 1000), verification)

    def _keep(self, name: str, request: SinkRequest) -> None:
        requests = self.received.setdefault(name, deque())
        requests.append(request)
        self.write_set.put(tables.SINK_REQUESTS, f"{name}/{request.seq}", request)
        self._order.append((name, request))
        self._bytes += _size(request)
        self._kept += 1
        if len(requests) > self._limit:
            self._let_go(name, requests.popleft())
        while self._bytes > self._byte_limit and self._order:
            oldest_name, oldest = self._order.popleft()
            kept = self.received.get(oldest_name)
            if kept and kept[0] is oldest:  # else already let go by its sink's count limit
                self._let_go(oldest_name, kept.popleft())
        if len(self._order) > 2 * self._kept + 64:  # drop entries of requests let go by the count limit
            live = {id(r) for q in self.received.values() for r in q}
            self._order = deque(entry for entry in self._order if id(entry[1]) in live)

    def _let_go(self, name: str, request: SinkRequest) -> None:
        self.write_set.gone(tables.SINK_REQUESTS, f"{name}/{request.seq}")
        self._bytes -= _size(request)
        self._kept -= 1
        self.dropped[name] = self.dropped.get(name, 0) + 1

    def snapshot(self) -> SinksSnapshot:
        return SinksSnapshot(dict(self._served), self._seq, dict(self.dropped))

    def restore(self, saved: SinksSnapshot) -> None:
        self._served.update(saved.served)
        self.dropped.update(saved.dropped)
        if saved.seq is not None:
            self._seq = saved.seq

    def restore_request(self, name: str, request: SinkRequest) -> None:
        """Append a saved request to its sink's bounded list (the limits apply as on arrival)."""
        self._keep(name, request)

    def requests(self, name: str) -> list[SinkRequest]:
        return list(self.received.get(name, ()))

    def clear(self) -> list[Dropped]:
        """Forget what was received; the old request lists are returned for a Releaser to free."""
        old, self.received = self.received, {}
        self._served = dict.fromkeys(self._served, 0)
        self.dropped, self._bytes, self._order, self._kept = {}, 0, deque(), 0
        return [Dropped(requests) for requests in old.values()]


class SinkSender:
    """The Sender deliveries go through: a URL of the built-in sink is answered in-process (its virtual delay moves
    the attempt's end, never the wall clock); every other URL goes to `network`."""

    def __init__(
        self,
        sinks: Sinks,
        secrets_for: Callable[[str], list[str]],
        now_ms: Callable[[], int],
        wall: Callable[[], float],
        network: Sender | None = None,
    ) -> None:
        self._sinks = sinks
        self._secrets_for = secrets_for
        self._now_ms = now_ms
        self._wall = wall
        self.network = network

    async def send(self, url: str, headers: dict[str, str], body: bytes, timeout_s: float) -> SendResult:
        name = sink_name(url)
        if name is None:
            if self.network is None:
                return SendResult(None, "no HTTP sender is running (emulator not serving)", 0.0)
            return await self.network.send(url, headers, body, timeout_s)
        outcome = self._sinks.receive(
            name,
            {**headers, "content-type": "application/json"},
            body,
            self._secrets_for(name),
            virtual_ms=self._now_ms(),
            wall_s=self._wall(),
        )
        error = None if outcome.status is not None else f"timeout: no response within {TIMEOUT_S:g} s (virtual)"
        return SendResult(outcome.status, error, float(outcome.latency_ms), outcome.latency_ms)
