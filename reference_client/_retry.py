"""Retry policy for API calls: capped exponential backoff with jitter, ``Retry-After`` honoured.

Retrying every call this client makes is safe: reads are naturally idempotent and
POST /v2/engagements is idempotent by ``external_id`` (api.md §5.2).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to wait between attempts.

    ``RetryPolicy()``                      # 5 attempts, 0.5 s, 1 s, 2 s, 4 s (each jittered), cap 30 s
    ``RetryPolicy(max_attempts=1)``        # never retry
    ``RetryPolicy(sleep=fake_sleep)``      # tests: record delays instead of sleeping
    """

    max_attempts: int = 5
    """Total attempts including the first; must be >= 1."""
    initial_delay: float = 0.5
    multiplier: float = 2.0
    max_delay: float = 30.0
    """Cap on one computed backoff delay (before jitter)."""
    max_retry_after: float = 120.0
    """A ``Retry-After`` longer than this is not waited out: the 429 is raised instead."""
    jitter: float = 0.5
    """Fraction randomised away: delay × (1 − jitter × U[0,1)), so clients don't retry in lockstep."""
    sleep: Sleep = field(default=asyncio.sleep, compare=False)
    random: Callable[[], float] = field(default=random.random, compare=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError("jitter must be between 0 and 1")

    def backoff(self, retry_number: int) -> float:
        """Delay before retry ``retry_number`` (1 = the first retry), jittered and capped."""
        base = min(self.max_delay, self.initial_delay * self.multiplier ** (retry_number - 1))
        return base * (1.0 - self.jitter * self.random())

    def delay_for(self, retry_number: int, retry_after: float | None) -> float | None:
        """Delay before the next attempt, or None when the server asks for more than we wait."""
        if retry_after is None:
            return self.backoff(retry_number)
        if retry_after > self.max_retry_after:
            return None
        # Never earlier than the server asked; the small jitter keeps many clients from returning in lockstep.
        return retry_after + self.backoff(1) * self.random()
