"""The seam between delivery logic and the network: a Sender answers one POST. No aiohttp here.

Implementations: HttpSender (sender.py, aiohttp), SinkSender (sink.py, the built-in sink in-process), and whatever
`create_app(sender=…)` is given.
"""

from __future__ import annotations

from typing import Protocol

from ..core.records import dataclass


@dataclass(frozen=True)
class SendResult:
    status: int | None  # None: no HTTP answer (timeout, refused, reset)
    error: str | None  # what the delivery log shows; None for an answer the sender has nothing to add to
    duration_ms: float
    virtual_latency_ms: int = 0  # how far the attempt's end moves on the virtual clock (the built-in sink's delay)
    truncated: bool = False  # the response body was longer than the sender reads (sender.MAX_RESPONSE_BYTES)


class Sender(Protocol):
    async def send(self, url: str, headers: dict[str, str], body: bytes, timeout_s: float) -> SendResult: ...
