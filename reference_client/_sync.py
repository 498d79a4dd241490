"""A thin blocking facade over ``AskElephantClient`` for scripts and sync dialer backends."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from reference_client._client import AskElephantClient, next_cursor
from reference_client._insights import InsightsPolicy, InsightsResult
from reference_client._models import (
    EngagementCreateIn,
    EngagementOut,
    Expand,
    TranscriptTimelineOut,
)


class SyncAskElephantClient:
    """Blocking twin of ``AskElephantClient``; same arguments, same exceptions.

    ``with SyncAskElephantClient() as client: engagement, created = client.create_engagement({...})``

    It owns one private event loop (``asyncio.Runner``), so it must not be called from inside a
    running loop; async code should use ``AskElephantClient`` directly.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._runner = asyncio.Runner()
        self._client = AskElephantClient(*args, **kwargs)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        try:
            self._runner.run(self._client.close())
        finally:
            self._runner.close()

    @property
    def base_url(self) -> str:
        return self._client.base_url

    def create_engagement(self, request: EngagementCreateIn | Mapping[str, Any]) -> tuple[EngagementOut, bool]:
        return self._runner.run(self._client.create_engagement(request))

    def get_engagement(self, engagement_id: str, expand: Iterable[Expand | str] = ()) -> EngagementOut:
        return self._runner.run(self._client.get_engagement(engagement_id, expand=tuple(expand)))

    def list_engagements(self, **query: Any) -> Iterator[EngagementOut]:
        """Lazily walks the pages like the async iterator; each page is fetched when needed."""
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            page = self._runner.run(self._client.list_engagements_page(cursor=cursor, **query))
            yield from page.data
            cursor = next_cursor(page, seen)
            if cursor is None:
                return

    def get_transcript_timeline(self, engagement_id: str) -> TranscriptTimelineOut:
        return self._runner.run(self._client.get_transcript_timeline(engagement_id))

    def wait_for_insights(
        self, engagement_id: str, *, since: datetime | None = None, policy: InsightsPolicy | None = None
    ) -> InsightsResult:
        return self._runner.run(self._client.wait_for_insights(engagement_id, since=since, policy=policy))
