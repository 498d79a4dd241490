"""`--rate-limit N/s`: a token bucket per credential on wall time (api.md §9)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from .problems import Problem


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """Capacity N, refilled at N per wall second; an empty bucket answers 429 with `Retry-After`.

    Wall time, not the virtual clock: a frozen clock must not freeze the bucket (pipeline.md §1).
    """

    def __init__(self, per_second: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_second
        self.capacity = max(1.0, per_second)  # below 1/s a bucket still holds one request
        self.monotonic = monotonic
        self._buckets: dict[str, _Bucket] = {}

    def check(self, credential_id: str) -> None:
        now = self.monotonic()
        bucket = self._buckets.get(credential_id)
        if bucket is None:
            bucket = self._buckets[credential_id] = _Bucket(self.capacity, now)
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return
        wait = (1 - bucket.tokens) / self.rate
        raise Problem(
            429,
            f"Rate limit of {self.rate:g} requests per second exceeded for this credential; retry later.",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )


rate_limiter_key = web.AppKey("rate_limiter_key", RateLimiter)
