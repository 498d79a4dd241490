"""wait_for_insights follows dialer-flow.md §4 on an injected clock: no real sleeps anywhere."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from reference_client import (
    AskElephantClient,
    EngagementOut,
    InsightsOutcome,
    InsightsPolicy,
    RetryPolicy,
)
from reference_client._insights import wait_for_insights
from tests.reference_client.refclient_stubs import FakeClock, Reply, StubApi, engagement_json

ITEM = {"object": "action_item", "id": "actitm_1", "title": "Send pricing proposal"}
SIGNAL = {"object": "signal", "id": "sgnl_1", "type": "pricing", "quote": "What would annual billing cost?"}


class StagedPipeline:
    """The engagement as pipeline.md §2 would show it at each moment, relative to the transcript time."""

    def __init__(
        self,
        clock: FakeClock,
        *,
        action_items_at: float | None = 65,
        signals_at: float | None = 130,
        final_at: float | None = None,
        final_status: str = "COMPLETED",
    ) -> None:
        self.clock = clock
        self.transcript_at = clock.current
        self.action_items_at = action_items_at
        self.signals_at = signals_at
        self.final_at = final_at
        self.final_status = final_status
        self.fetched_at: list[float] = []

    def _reached(self, offset: float | None, elapsed: float) -> bool:
        return offset is not None and elapsed >= offset

    def body(self) -> dict:
        elapsed = (self.clock.current - self.transcript_at).total_seconds()
        self.fetched_at.append(elapsed)
        items = [ITEM] if self._reached(self.action_items_at, elapsed) else []
        signals = [SIGNAL] if self._reached(self.signals_at, elapsed) else []
        done = self._reached(self.final_at, elapsed) or (bool(items) and bool(signals))
        status = (self.final_status if self.final_at is not None else "COMPLETED") if done else "PROCESSING"
        return engagement_json("ngmt_01WAIT", processing_status=status, action_items=items, signals=signals)

    async def fetch(self) -> EngagementOut:
        return EngagementOut.model_validate(self.body())


async def test_documented_backoff_until_both_lists_arrive():
    clock = FakeClock()
    pipeline = StagedPipeline(clock, action_items_at=65, signals_at=130)

    result = await wait_for_insights(pipeline.fetch, clock, since=pipeline.transcript_at)

    assert result.outcome is InsightsOutcome.READY
    assert clock.sleeps == [45, 15, 22.5, 33.75, 50.625]
    assert pipeline.fetched_at == [45, 60, 82.5, 116.25, 166.875]
    assert [i.title for i in result.action_items] == ["Send pricing proposal"]
    assert [s.type for s in result.signals] == ["pricing"]
    assert result.polls == 5


async def test_completed_with_an_empty_list_is_final_not_retried():
    clock = FakeClock()
    pipeline = StagedPipeline(clock, action_items_at=30, signals_at=None, final_at=40)

    result = await wait_for_insights(pipeline.fetch, clock, since=pipeline.transcript_at)

    assert result.outcome is InsightsOutcome.FINAL
    assert result.signals == [] and len(result.action_items) == 1
    assert clock.sleeps == [45]


async def test_failed_processing_stops_the_wait():
    clock = FakeClock()
    pipeline = StagedPipeline(clock, action_items_at=None, signals_at=None, final_at=50, final_status="FAILED")

    result = await wait_for_insights(pipeline.fetch, clock, since=pipeline.transcript_at)

    assert result.outcome is InsightsOutcome.FINAL
    assert result.engagement.processing_status == "FAILED"
    assert pipeline.fetched_at == [45, 60]


async def test_gives_up_at_the_deadline_with_what_is_there():
    clock = FakeClock()
    pipeline = StagedPipeline(clock, action_items_at=100, signals_at=None)

    result = await wait_for_insights(pipeline.fetch, clock, since=pipeline.transcript_at)

    assert result.outcome is InsightsOutcome.TIMED_OUT
    # Delays grow ×1.5 up to 60 s; the last one is clamped so the final look lands on the deadline.
    assert clock.sleeps == [45, 15, 22.5, 33.75, 50.625, 60, 60, 13.125]
    assert pipeline.fetched_at[-1] == 300
    assert len(result.action_items) == 1 and result.signals == []


async def test_late_webhook_shortens_the_initial_wait():
    clock = FakeClock()
    pipeline = StagedPipeline(clock, action_items_at=10, signals_at=20)
    clock.current += timedelta(seconds=30)  # the webhook arrived 30 s after the transcript event

    result = await wait_for_insights(pipeline.fetch, clock, since=pipeline.transcript_at)

    assert result.outcome is InsightsOutcome.READY
    assert clock.sleeps == [15]


async def test_custom_policy_and_progress_callback():
    clock = FakeClock()
    pipeline = StagedPipeline(clock, action_items_at=None, signals_at=None)
    seen: list[tuple[str, datetime]] = []

    async def on_poll(engagement: EngagementOut, now: datetime) -> None:
        seen.append((engagement.processing_status, now))

    policy = InsightsPolicy(initial_wait=30, retry_delay=10, multiplier=2, max_delay=20, deadline=70)
    result = await wait_for_insights(pipeline.fetch, clock, policy=policy, on_poll=on_poll)

    assert result.outcome is InsightsOutcome.TIMED_OUT
    assert clock.sleeps == [30, 10, 20, 10]
    assert [(now - pipeline.transcript_at).total_seconds() for _, now in seen] == [30, 40, 60, 70]


def test_policy_rejects_nonsense():
    with pytest.raises(ValueError, match="negative"):
        InsightsPolicy(deadline=-1)
    with pytest.raises(ValueError, match="multiplier"):
        InsightsPolicy(multiplier=0.5)


async def test_client_wait_for_insights_fetches_with_expand(stub_api: StubApi):
    clock = FakeClock()
    pipeline = StagedPipeline(clock, action_items_at=50, signals_at=70)
    stub_api.route = lambda request: Reply(200, pipeline.body())

    async with AskElephantClient("sk-apik_a.b", stub_api.base_url, clock=clock, retry=RetryPolicy()) as client:
        result = await client.wait_for_insights("ngmt_01WAIT")

    assert result.outcome is InsightsOutcome.READY
    assert pipeline.fetched_at == [45, 60, 82.5]
    assert {r.query["expand"] for r in stub_api.requests} == {"action_items,signals"}
    assert {r.path for r in stub_api.requests} == {"/api/v2/engagements/ngmt_01WAIT"}
