"""Slowloris (issue #19): a request head has a deadline and the number of connections is bounded, so a healthy
client is served while hundreds of slow ones trickle their headers (fake_askelephant/serving.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import ClientSession, TraceConfig
from aiohttp.test_utils import TestServer

from fake_askelephant.app import create_app
from fake_askelephant.config import load_settings
from fake_askelephant.serving import ConnectionLimits, EmulatorRunner, GuardedServer
from tests.conftest import AUTH, frozen_settings

HEADER_TIMEOUT_S = 0.5
MAX_CONNECTIONS = 100
SLOW_CLIENTS = 500


class LimitedTestServer(TestServer):
    async def _make_runner(self, **kwargs: Any) -> EmulatorRunner:
        return EmulatorRunner(self.app, limits=ConnectionLimits(HEADER_TIMEOUT_S, MAX_CONNECTIONS), **kwargs)


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    served = LimitedTestServer(create_app(frozen_settings()), host="127.0.0.1")
    await served.start_server()
    yield served
    await served.close()


def open_connections(server: TestServer) -> int:
    assert server.runner is not None
    guarded = server.runner.server
    assert isinstance(guarded, GuardedServer)
    return guarded.open_count()


async def slow_client(port: int | None, closed: list[int], peak: list[int], server: TestServer) -> None:
    """Sends half a request head, then one header byte at a time, until the server closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /__admin/health HTTP/1.1\r\nHost: localhost\r\n")
    try:
        while not reader.at_eof():
            peak[0] = max(peak[0], open_connections(server))
            writer.write(b"X")
            await writer.drain()
            try:
                await asyncio.wait_for(reader.read(1), 0.05)  # EOF (b"") when the server gives up on us
            except TimeoutError:
                continue
    except ConnectionError:
        pass
    closed.append(1)
    writer.close()


async def test_a_healthy_client_is_served_while_500_slow_ones_are_held(server: TestServer) -> None:
    closed: list[int] = []
    peak = [0]
    slow = [asyncio.create_task(slow_client(server.port, closed, peak, server)) for _ in range(SLOW_CLIENTS)]
    async with ClientSession() as http:
        for _ in range(5):  # while the slow ones trickle
            async with http.get(server.make_url("/api/v2/users"), headers=AUTH) as resp:
                assert resp.status == 200
    await asyncio.wait_for(asyncio.gather(*slow), 60)  # every slow client is closed: evicted or timed out
    assert len(closed) == SLOW_CLIENTS
    assert peak[0] <= MAX_CONNECTIONS + 1  # the one just admitted, before the eviction it causes
    async with ClientSession() as http, http.get(server.make_url("/api/v2/users"), headers=AUTH) as resp:
        assert resp.status == 200


async def test_a_connection_that_sends_nothing_is_closed_after_the_header_timeout(server: TestServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    assert await asyncio.wait_for(reader.read(), 10) == b""  # closed by the server, not by this test
    writer.close()


async def test_an_idle_kept_alive_connection_outlives_the_header_timeout(server: TestServer) -> None:
    opened: list[int] = []
    trace = TraceConfig()

    async def counted(*_: Any) -> None:
        opened.append(1)

    trace.on_connection_create_end.append(counted)
    async with ClientSession(trace_configs=[trace]) as http:
        async with http.get(server.make_url("/api/v2/users"), headers=AUTH) as resp:
            assert resp.status == 200
        # Wait for proof that the header timeout has passed: a silent connection opened now gets closed.
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        assert await asyncio.wait_for(reader.read(), 10) == b""
        writer.close()
        async with http.get(server.make_url("/api/v2/users"), headers=AUTH) as resp:
            assert resp.status == 200
    assert len(opened) == 1  # the second request went over the first, kept-alive connection


async def test_a_slow_upload_is_not_cut_by_the_header_timeout(server: TestServer) -> None:
    """The deadline is for the head: a body may take longer (aiohttp and the body limit bound it)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    body = b'{"seconds": 1}'
    writer.write(
        b"POST /__admin/clock/advance HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
    )
    await writer.drain()
    # Outlast the header timeout before the body arrives: a silent connection opened now must be closed first.
    probe_reader, probe_writer = await asyncio.open_connection("127.0.0.1", server.port)
    assert await asyncio.wait_for(probe_reader.read(), 10) == b""
    probe_writer.close()
    writer.write(body)
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]


def test_the_limits_are_configurable() -> None:
    environ = {"FAKE_ASKELEPHANT_HEADER_TIMEOUT": "2.5", "FAKE_ASKELEPHANT_MAX_CONNECTIONS": "64"}
    settings = load_settings(environ=environ)
    assert (settings.header_timeout, settings.max_connections) == (2.5, 64)
    limits = ConnectionLimits(settings.header_timeout, settings.max_connections)
    assert limits.effective_max() == 64
