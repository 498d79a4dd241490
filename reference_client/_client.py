"""``AskElephantClient``: the async HTTP client a dialer needs, with safe retries.

It speaks plain HTTP to ``{base_url}/v2/...`` and never imports the emulator, so the same code
runs against ``http://127.0.0.1:8787/api`` and ``https://app.askelephant.ai/api``.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar

import aiohttp
import pydantic

from reference_client._clock import Clock, SystemClock
from reference_client._errors import (
    AskElephantError,
    RateLimited,
    ServerError,
    TransportError,
    error_from_response,
)
from reference_client._insights import InsightsPolicy, InsightsResult, OnPoll, wait_for_insights
from reference_client._models import (
    EngagementCreateIn,
    EngagementListOut,
    EngagementOut,
    Expand,
    TranscriptTimelineOut,
    format_datetime,
)
from reference_client._retry import RetryPolicy
from reference_client._session import SessionOwner

DEFAULT_BASE_URL = "https://app.askelephant.ai/api"
API_KEY_ENV = "ASKELEPHANT_API_KEY"
BASE_URL_ENV = "ASKELEPHANT_BASE_URL"
USER_AGENT = "askelephant-reference-client/0.1"

_M = TypeVar("_M", bound=pydantic.BaseModel)
# Failures after which no usable response exists; aiohttp's timeouts subclass TimeoutError.
_TRANSPORT_ERRORS = (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, TimeoutError)


class AskElephantClient(SessionOwner):
    """Async client for the AskElephant public API v2.

    ``AskElephantClient()``                       # key, URL from ASKELEPHANT_API_KEY, ASKELEPHANT_BASE_URL
    ``AskElephantClient("sk-apik_x.y", "http://127.0.0.1:8787/api")``
    ``AskElephantClient(key, url, retry=RetryPolicy(max_attempts=1))``   # no retries

    Use it as ``async with`` (or call ``close()``) so the connection pool is released. Every
    method retries connection errors, timeouts, cut-off bodies, 5xx and 429 per ``retry``; other
    4xx raise at once as the ``ApiError`` subclass for their status.
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        retry: RetryPolicy | None = None,
        clock: Clock | None = None,
        timeout: float = 30.0,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get(API_KEY_ENV, "")
        key = key.strip()
        if not key:
            raise ValueError(f"no API key: pass api_key or set {API_KEY_ENV}")
        if key.lower().startswith("bearer "):
            # The API rejects "Bearer sk-apik_..." (api.md §3); fail here with the fix instead.
            raise ValueError("pass the raw API key (sk-apik_<id>.<secret>) without the 'Bearer ' prefix")
        self._api_key = key
        url = base_url if base_url is not None else os.environ.get(BASE_URL_ENV, DEFAULT_BASE_URL)
        self.base_url = url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.clock: Clock = clock or SystemClock()
        super().__init__(session, aiohttp.ClientTimeout(total=timeout))

    # ------------------------------------------------------------ operations

    async def create_engagement(self, request: EngagementCreateIn | Mapping[str, Any]) -> tuple[EngagementOut, bool]:
        """POST /v2/engagements: submit a call recording (or transcript) for processing.

        Returns ``(engagement, created)``: ``created`` is True on 201, False on 200 (the
        ``external_id`` was already known; the stored engagement is returned unchanged). Retried
        on network errors, 5xx and 429 with the same body, which the idempotency key makes safe;
        so ``created`` can also be False when a lost earlier attempt of this very call created it.

        Raises:
            pydantic.ValidationError: the request breaks a documented rule before anything is sent.
            ValidationFailed: 422 from the server (``errors`` names fields and codes).
            Unauthorized / Forbidden: key or scope (``engagements:write``) problems; not retried.
        """
        body = request if isinstance(request, EngagementCreateIn) else EngagementCreateIn.model_validate(request)
        status, payload = await self._call("POST", "/v2/engagements", json_body=body.to_wire())
        return self._parse(EngagementOut, payload, "POST /v2/engagements"), status == 201

    async def get_engagement(self, engagement_id: str, expand: Iterable[Expand | str] = ()) -> EngagementOut:
        """GET /v2/engagements/{id}, optionally with ``expand`` (e.g. ``["action_items", "signals"]``)."""
        params = {}
        names = _expand_param(expand)
        if names:
            params["expand"] = names
        _, payload = await self._call("GET", f"/v2/engagements/{_segment(engagement_id)}", params=params)
        return self._parse(EngagementOut, payload, "GET /v2/engagements/{id}")

    async def list_engagements_page(
        self,
        *,
        cursor: str | None = None,
        limit: int | None = None,
        order_by: str | None = None,
        search: str | None = None,
        updated_after: datetime | None = None,
        expand: Iterable[Expand | str] = (),
        filters: Mapping[str, str] | None = None,
    ) -> EngagementListOut:
        """One page of GET /v2/engagements; pass the previous page's ``next_cursor`` as ``cursor``.

        ``updated_after`` is ``filter[updated_at][gt]`` (the incremental-sync checkpoint);
        ``filters`` adds raw query parameters such as ``{"filter[processing_status][eq]": "COMPLETED"}``.
        """
        params: dict[str, str] = dict(filters or {})
        if cursor is not None:
            params["cursor"] = cursor
        if limit is not None:
            params["limit"] = str(limit)
        if order_by is not None:
            params["order_by"] = order_by
        if search is not None:
            params["search"] = search
        if updated_after is not None:
            params["filter[updated_at][gt]"] = format_datetime(updated_after)
        names = _expand_param(expand)
        if names:
            params["expand"] = names
        _, payload = await self._call("GET", "/v2/engagements", params=params)
        return self._parse(EngagementListOut, payload, "GET /v2/engagements")

    async def list_engagements(
        self,
        *,
        limit: int | None = None,
        order_by: str | None = None,
        search: str | None = None,
        updated_after: datetime | None = None,
        expand: Iterable[Expand | str] = (),
        filters: Mapping[str, str] | None = None,
    ) -> AsyncIterator[EngagementOut]:
        """Every engagement matching the query, following ``next_cursor`` page by page.

        ``limit`` is the page size (1–100), not a total; stop iterating to stop fetching.
        """
        expand = tuple(expand)
        cursor: str | None = None
        seen_cursors: set[str] = set()
        while True:
            page = await self.list_engagements_page(
                cursor=cursor,
                limit=limit,
                order_by=order_by,
                search=search,
                updated_after=updated_after,
                expand=expand,
                filters=filters,
            )
            for engagement in page.data:
                yield engagement
            cursor = next_cursor(page, seen_cursors)
            if cursor is None:
                return

    async def get_transcript_timeline(self, engagement_id: str) -> TranscriptTimelineOut:
        """GET /v2/engagements/{id}/transcript_timeline; ``NotFound`` until the transcript is ready."""
        path = f"/v2/engagements/{_segment(engagement_id)}/transcript_timeline"
        _, payload = await self._call("GET", path)
        return self._parse(TranscriptTimelineOut, payload, "GET /v2/engagements/{id}/transcript_timeline")

    async def wait_for_insights(
        self,
        engagement_id: str,
        *,
        since: datetime | None = None,
        policy: InsightsPolicy | None = None,
        clock: Clock | None = None,
        on_poll: OnPoll | None = None,
    ) -> InsightsResult:
        """Wait for action items and signals per dialer-flow.md §4 (see ``reference_client._insights``).

        ``since`` is the transcript event time (default: now on ``clock``); ``clock`` defaults to
        the client's. Returns the outcome instead of raising when insights stay empty.
        """
        expand = (Expand.ACTION_ITEMS, Expand.SIGNALS)
        return await wait_for_insights(
            lambda: self.get_engagement(engagement_id, expand=expand),
            clock or self.clock,
            since=since,
            policy=policy,
            on_poll=on_poll,
        )

    # ------------------------------------------------------------ transport

    def _headers(self, has_body: bool) -> dict[str, str]:
        headers = {
            # Raw key, no "Bearer": the documented form for API keys (api.md §3).
            "Authorization": self._api_key,
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        if has_body:
            headers["Content-Type"] = "application/json"
        return headers

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Mapping[str, Any] | None = None,
    ) -> tuple[int, Any]:
        """Send with retries; return (status, decoded JSON) of the first 2xx or raise."""
        url = self.base_url + path
        # Serialised once: every retry sends byte-identical bodies.
        data = None if json_body is None else json.dumps(json_body, ensure_ascii=False).encode()
        headers = self._headers(data is not None)
        policy = self.retry
        for attempt in range(1, policy.max_attempts + 1):
            retry_after: float | None = None
            try:
                async with self._http().request(method, url, params=params, data=data, headers=headers) as response:
                    raw = await response.read()
                    status = response.status
                    if status < 400:
                        # A 2xx whose body does not parse was cut off in transit: treat it like a reset.
                        return status, json.loads(raw)
                    error = error_from_response(
                        status,
                        raw,
                        retry_after=response.headers.get("Retry-After"),
                        reason=response.reason or "",
                        attempts=attempt,
                    )
            except (*_TRANSPORT_ERRORS, json.JSONDecodeError, UnicodeDecodeError) as exc:
                if attempt == policy.max_attempts:
                    raise TransportError(
                        f"{method} {path} failed after {attempt} attempt(s): {type(exc).__name__}: {exc}",
                        attempts=attempt,
                    ) from exc
                await policy.sleep(policy.backoff(attempt))
                continue
            if not isinstance(error, RateLimited | ServerError) or attempt == policy.max_attempts:
                raise error
            if isinstance(error, RateLimited):
                retry_after = error.retry_after
            delay = policy.delay_for(attempt, retry_after)
            if delay is None:
                raise error
            await policy.sleep(delay)
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    @staticmethod
    def _parse(model: type[_M], payload: Any, operation: str) -> _M:
        try:
            return model.model_validate(payload)
        except pydantic.ValidationError as exc:
            raise AskElephantError(f"unexpected response shape from {operation}: {exc}") from exc


def next_cursor(page: EngagementListOut, seen: set[str]) -> str | None:
    """The cursor of the page after `page`, None after the last; a cursor handed out twice would loop forever."""
    if page.next_cursor is None:
        return None
    if page.next_cursor in seen:
        raise AskElephantError(f"pagination loop: cursor {page.next_cursor!r} was returned twice")
    seen.add(page.next_cursor)
    return page.next_cursor


def _expand_param(expand: Iterable[Expand | str]) -> str:
    names: list[str] = []
    for item in expand:
        name = str(item.value if isinstance(item, Expand) else item).strip()
        if name and name not in names:
            names.append(name)
    return ",".join(names)


def _segment(engagement_id: str) -> str:
    # Ids are ^prefix_[A-Za-z0-9]+$; refusing anything else keeps a stray "/" or "?" out of the path.
    if not engagement_id or not all(c.isascii() and (c.isalnum() or c == "_") for c in engagement_id):
        raise ValueError(f"not an AskElephant id: {engagement_id!r}")
    return engagement_id
