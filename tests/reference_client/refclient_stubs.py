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

from tests.contract.spec_examples import DIALER_REQUEST, ENGAGEMENT_201

API_KEY = "sk-apik_test.s3cr3t"
EMULATOR_KEY = "sk-apik_local.fakeaskelephant"  # the emulator's default key (api.md §3)
SEED_REQUEST = DIALER_REQUEST


def engagement_json(engagement_id: str = "ngmt_01TEST", **overrides: Any) -> dict[str, Any]:
    """A documented engagement body (api.md §5.1 example shape, without its optional external_url)."""
    body: dict[str, Any] = {k: v for k, v in ENGAGEMENT_201.items() if k != "external_url"}
    body["id"] = engagement_id
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
