"""Loopback stand-ins for the tests: a scripted HTTP API, a virtual clock and a recording sleeper."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

API_KEY = "sk-apik_test.s3cr3t"
EMULATOR_KEY = "sk-apik_local.fakeaskelephant"  # the emulator's default key (api.md §3)
# dialer-flow.md §2, the docs' request.
SEED_REQUEST: dict[str, Any] = {
    "type": "CALL",
    "title": "Sales call with Jane Doe",
    "source_system": "my-dialer",
    "external_id": "call-20260513-001",
    "media_url": "https://recordings.example.com/call-20260513-001.mp3",
    "external_url": "https://my-dialer.example.com/calls/call-20260513-001",
    "run_workflows": True,
    "participants": [
        {"name": "Alice Smith", "email": "alice@example.com", "is_owner": True},
        {"name": "Jane Doe", "email": "jane@customer.com", "phone": "+14155550100"},
    ],
}


def engagement_json(engagement_id: str = "ngmt_01TEST", **overrides: Any) -> dict[str, Any]:
    """A documented engagement body (api.md §5.1 example shape)."""
    body: dict[str, Any] = {
        "object": "engagement",
        "id": engagement_id,
        "title": "Sales call with Jane Doe",
        "engagement_type": "CALL",
        "processing_status": "PENDING",
        "is_private": False,
        "created_at": "2026-03-09T11:59:00.000Z",
        "updated_at": "2026-03-09T11:59:00.000Z",
        "data_source": "API",
        "is_internal": False,
        "engagement_at": "2026-03-09T11:59:00.000Z",
        "start_at": "2026-03-09T11:59:00.000Z",
        "end_at": None,
        "duration_seconds": None,
        "owner_user_id": "usr_local",
        "host_user_id": "usr_local",
    }
    body.update(overrides)
    return body


def problem_json(status: int, slug: str, **extra: Any) -> dict[str, Any]:
    body = {
        "type": f"https://app.askelephant.ai/errors/{slug}",
        "title": slug.replace("_", " ").title(),
        "status": status,
        "detail": f"{slug} detail",
        "request_id": "rid_01TEST",
    }
    body.update(extra)
    return body


@dataclass
class Reply:
    """One scripted answer. ``action``: "json" (default), "reset" (drop the connection),
    "truncate" (promise more bytes than sent), "hang" (never answer; the client must time out)."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    action: str = "json"


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


class StubApi:
    """Answers every request from a script of ``Reply``s (the last one repeats) and records it."""

    def __init__(self) -> None:
        self.script: deque[Reply] = deque()
        self.requests: list[Seen] = []
        self.route: Callable[[web.Request], Reply | None] | None = None
        self._server: TestServer | None = None
        self._hang = asyncio.Event()

    def reply(self, *replies: Reply) -> None:
        self.script.extend(replies)

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return str(self._server.make_url("/api"))

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._server = TestServer(app, host="127.0.0.1", port=0)
        await self._server.start_server()

    async def close(self) -> None:
        self._hang.set()
        if self._server is not None:
            await self._server.close()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.requests.append(Seen(request.method, request.path, dict(request.query), dict(request.headers), body))
        reply = self.route(request) if self.route is not None else None
        if reply is None:
            if not self.script:
                raise AssertionError(f"unscripted request {request.method} {request.path_qs}")
            reply = self.script.popleft() if len(self.script) > 1 else self.script[0]
        if reply.action == "hang":
            await self._hang.wait()
        if reply.action == "reset":
            assert request.transport is not None
            request.transport.close()
            return web.Response(status=500)
        payload = json.dumps(reply.body).encode() if reply.body is not None else b""
        content_type = "application/problem+json" if reply.status >= 400 else "application/json"
        if reply.action == "truncate":
            response = web.StreamResponse(status=reply.status, headers=reply.headers)
            response.content_type = content_type
            response.content_length = len(payload) + 100
            await response.prepare(request)
            await response.write(payload[: len(payload) // 2])
            assert request.transport is not None
            request.transport.close()
            return response
        return web.Response(status=reply.status, body=payload, headers=reply.headers, content_type=content_type)


class RecordingSleep:
    """A ``RetryPolicy.sleep`` that records the delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


class FakeClock:
    """A ``Clock`` whose time moves only when slept on; records every sleep."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
        self.sleeps: list[float] = []

    async def now(self) -> datetime:
        return self.current

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.current += timedelta(seconds=seconds)
