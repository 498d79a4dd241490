"""A receiver cannot make delivery hold a gigabyte or wait forever (issue #19): the answer is read up to
MAX_RESPONSE_BYTES within the attempt's deadline; longer is cut and recorded, slower is a timeout."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from fake_askelephant.webhooks.sender import MAX_RESPONSE_BYTES, HttpSender
from tests.conftest import Api, seed_call

HUGE_BYTES = 256 * 1024 * 1024
CHUNK = b"\0" * (64 * 1024)


@dataclass
class Hostile:
    server: TestServer
    written: int = 0

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))


@pytest.fixture
async def hostile() -> AsyncIterator[Hostile]:
    found: Hostile

    async def huge(request: web.Request) -> web.StreamResponse:
        await request.read()
        resp = web.StreamResponse(status=200, headers={"Content-Length": str(HUGE_BYTES)})
        await resp.prepare(request)
        try:
            while found.written < HUGE_BYTES:
                await resp.write(CHUNK)
                found.written += len(CHUNK)
        except ConnectionError:
            pass  # the emulator stopped reading and closed: exactly what should happen
        return resp

    async def dribble(request: web.Request) -> web.StreamResponse:
        await request.read()
        resp = web.StreamResponse(status=200)
        await resp.prepare(request)
        try:
            for _ in range(10_000):
                await resp.write(b".")
                await asyncio.sleep(0.05)  # the hostile peer's pace, not a wait in the test
        except ConnectionError:
            pass
        return resp

    app = web.Application()
    app.router.add_post("/huge", huge)
    app.router.add_post("/dribble", dribble)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    found = Hostile(server)
    yield found
    await server.close()


async def test_a_huge_answer_is_read_up_to_the_limit_then_cut(hostile: Hostile) -> None:
    session = HttpSender.create_session()
    try:
        result = await HttpSender(session).send(hostile.url("/huge"), {}, b"{}", 15.0)
    finally:
        await session.close()
    assert (result.status, result.error, result.truncated) == (200, None, True)
    # The socket buffers let the peer write a little past the limit, never the gigabyte-scale rest.
    assert hostile.written < 32 * 1024 * 1024, hostile.written
    assert MAX_RESPONSE_BYTES <= 64 * 1024


async def test_a_dribbling_answer_times_out_within_the_deadline(hostile: Hostile) -> None:
    session = HttpSender.create_session()
    started = time.monotonic()
    try:
        result = await HttpSender(session).send(hostile.url("/dribble"), {}, b"{}", 0.5)
    finally:
        await session.close()
    assert time.monotonic() - started < 5
    assert result.status == 200 and result.error is not None and "timeout" in result.error


async def endpoint(api: Api, url: str) -> None:
    resp = await api.client.post(
        "/__admin/webhook-endpoints", json={"url": url, "event_types": ["v1.engagement.created"]}
    )
    assert resp.status == 201, await resp.text()


async def attempts(api: Api) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = (await (await api.client.get("/__admin/deliveries")).json())["data"]
    return data


async def test_the_delivery_log_records_the_cut_and_the_timeout(api: Api, hostile: Hostile) -> None:
    api.emulator.webhooks.timeout_s = 0.5  # the real deadline is 15 s; the rule is the same
    await endpoint(api, hostile.url("/huge"))
    await endpoint(api, hostile.url("/dribble"))
    assert (await api.create(seed_call(participants=[]))).status == 201
    await api.advance(0)
    by_url = {a["url"].rsplit("/", 1)[1]: a for a in await attempts(api)}
    huge, dribble = by_url["huge"], by_url["dribble"]
    assert (huge["status"], huge["response_status_code"], huge["response_truncated"]) == ("succeeded", 200, True)
    assert (dribble["status"], dribble["response_status_code"]) == ("failed", 200)
    assert "timeout" in dribble["error"] and dribble["next_attempt_at"] is not None  # retried like any failure
    assert dribble["response_truncated"] is False
