"""The insights wait policy of dialer-flow.md §4, written against an injectable ``Clock``.

Action items and signals come from pipelines that run after the transcript event, so a
dialer that fetches once, right away, usually sees ``[]``. The policy::

    sleep until webhook_time + 45 s; delay = 15 s
    loop: fetch ?expand=action_items,signals
          both non-empty              -> READY
          status COMPLETED or FAILED  -> FINAL (an empty list then means "none")
          past webhook_time + 5 min   -> TIMED_OUT (show what is there as pending)
          sleep delay (never past the deadline); delay = min(delay * 1.5, 60 s)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from reference_client._clock import Clock
from reference_client._models import ActionItemOut, EngagementOut, SignalOut


class InsightsOutcome(StrEnum):
    READY = "ready"
    """Both ``action_items`` and ``signals`` are non-empty."""
    FINAL = "final"
    """Processing ended (COMPLETED or FAILED); whatever lists are empty stay empty."""
    TIMED_OUT = "timed_out"
    """The deadline passed while processing was still running; the result is partial."""


@dataclass(frozen=True)
class InsightsPolicy:
    """Timings of the wait, in seconds on the injected clock.

    ``InsightsPolicy()``                 # the documented policy: 45 s, then 15 s × 1.5 up to 60 s, 5 min
    ``InsightsPolicy(deadline=600)``     # give slow pipelines ten minutes
    """

    initial_wait: float = 45.0
    """After the transcript event; the seed advises 30–60 s."""
    retry_delay: float = 15.0
    multiplier: float = 1.5
    max_delay: float = 60.0
    deadline: float = 300.0
    """Measured from the transcript event, like ``initial_wait``."""

    def __post_init__(self) -> None:
        if min(self.initial_wait, self.retry_delay, self.max_delay, self.deadline) < 0:
            raise ValueError("insights policy timings must not be negative")
        if self.multiplier < 1:
            raise ValueError("multiplier must be at least 1")


@dataclass(frozen=True)
class InsightsResult:
    engagement: EngagementOut
    outcome: InsightsOutcome
    polls: int
    """How many GETs the wait made."""

    @property
    def action_items(self) -> list[ActionItemOut]:
        return list(self.engagement.action_items or [])

    @property
    def signals(self) -> list[SignalOut]:
        return list(self.engagement.signals or [])


OnPoll = Callable[[EngagementOut, datetime], Awaitable[None] | None]


async def wait_for_insights(
    fetch: Callable[[], Awaitable[EngagementOut]],
    clock: Clock,
    *,
    since: datetime | None = None,
    policy: InsightsPolicy | None = None,
    on_poll: OnPoll | None = None,
) -> InsightsResult:
    """Poll ``fetch`` per the policy and return the first decisive engagement.

    Args:
        fetch: returns the engagement with ``action_items`` and ``signals`` expanded.
        clock: time source; every wait goes through ``clock.sleep``.
        since: when the transcript event happened (e.g. the envelope's ``created_at``);
            defaults to ``clock.now()``. A late webhook therefore waits less, not more.
        on_poll: called after every fetch with the engagement and the clock time (progress output).

    Returns:
        The last engagement fetched and why the wait stopped. Never raises for empty insights;
        API errors from ``fetch`` propagate.
    """
    policy = policy or InsightsPolicy()
    start = since if since is not None else await clock.now()
    deadline = start + timedelta(seconds=policy.deadline)
    first_fetch = start + timedelta(seconds=policy.initial_wait)
    wait = (first_fetch - await clock.now()).total_seconds()
    if wait > 0:
        await clock.sleep(wait)
    delay = policy.retry_delay
    polls = 0
    while True:
        engagement = await fetch()
        polls += 1
        now = await clock.now()
        if on_poll is not None:
            maybe = on_poll(engagement, now)
            if maybe is not None:
                await maybe
        if engagement.has_insights:
            return InsightsResult(engagement, InsightsOutcome.READY, polls)
        if engagement.processing_status.is_final:
            return InsightsResult(engagement, InsightsOutcome.FINAL, polls)
        remaining = (deadline - now).total_seconds()
        if remaining <= 0:
            return InsightsResult(engagement, InsightsOutcome.TIMED_OUT, polls)
        # Clamp so the last look happens exactly at the deadline instead of after it.
        await clock.sleep(min(delay, remaining))
        delay = min(delay * policy.multiplier, policy.max_delay)
