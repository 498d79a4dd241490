"""The built-in receiver at /__admin/sink/{name}: records, verifies, answers with a scripted status sequence."""

from __future__ import annotations

import base64
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ..core import changes as tables
from ..core.changes import Changes
from ..core.releaser import Dropped
from ..core.timefmt import format_ms
from .signing import Verification, verify

SINK_PATH = "/__admin/sink/"
TIMEOUT_S = 15.0


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


class Sinks:
    """Named sinks; each keeps a bounded list of what it received."""

    def __init__(self, limit: int = 10_000, changes: Changes | None = None) -> None:
        self._limit = limit
        self.changes = (
            changes if changes is not None else Changes()
        )  # received requests (configs and counters are compared instead)
        self.configs: dict[str, SinkConfig] = {}
        self.received: dict[str, deque[SinkRequest]] = {}
        self._served: dict[str, int] = {}
        self._seq = 0

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
        requests = self.received.setdefault(name, deque(maxlen=self._limit))
        if len(requests) == requests.maxlen:
            self.changes.gone(tables.SINK_REQUESTS, f"{name}/{requests[0].seq}")
        requests.append(
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
            )
        )
        self.changes.put(tables.SINK_REQUESTS, f"{name}/{self._seq}", requests[-1])
        if config.delay_seconds >= TIMEOUT_S:
            return SinkOutcome(None, int(TIMEOUT_S * 1000), verification)
        return SinkOutcome(status, int(config.delay_seconds * 1000), verification)

    def snapshot(self) -> SinksSnapshot:
        return SinksSnapshot(dict(self._served), self._seq)

    def restore(self, saved: SinksSnapshot) -> None:
        self._served.update(saved.served)
        if saved.seq is not None:
            self._seq = saved.seq

    def restore_request(self, name: str, request: SinkRequest) -> None:
        """Append a saved request to its sink's bounded list."""
        self.received.setdefault(name, deque(maxlen=self._limit)).append(request)

    def requests(self, name: str) -> list[SinkRequest]:
        return list(self.received.get(name, ()))

    def clear(self) -> list[Dropped]:
        """Forget what was received; the old request lists are returned for a Releaser to free."""
        old, self.received = self.received, {}
        self._served = dict.fromkeys(self._served, 0)
        return [Dropped(requests) for requests in old.values()]
