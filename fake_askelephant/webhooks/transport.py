"""The seam between delivery logic and the network: a Sender answers one POST. No aiohttp here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class SendResult:
    status: int | None  # None: no HTTP answer (timeout, refused, reset)
    error: str | None
    duration_ms: float


class Sender(Protocol):
    async def send(self, url: str, headers: dict[str, str], body: bytes, timeout_s: float) -> SendResult: ...
