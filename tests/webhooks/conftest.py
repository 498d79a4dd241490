"""A scriptable local receiver over real loopback HTTP, for delivery tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers with `statuses` in turn (last repeats); `stall` makes it hang until released."""

    url: str = ""
    statuses: list[int] = field(default_factory=lambda: [200])
    stall: asyncio.Event | None = None
    received: list[Received] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append(Received(dict(request.headers), await request.read()))
        self.arrived.set()
        if self.stall is not None:
            await self.stall.wait()
        status = self.statuses[min(len(self.received) - 1, len(self.statuses) - 1)]
        return web.Response(status=status)


@pytest.fixture
def receiver(aiohttp_server: Callable[..., Any]) -> Callable[..., Any]:
    async def start(statuses: list[int] | None = None) -> Receiver:
        rec = Receiver(statuses=statuses or [200])
        app = web.Application()
        app.router.add_post("/hook", rec.handle)
        server = await aiohttp_server(app)
        rec.url = str(server.make_url("/hook"))
        return rec

    return start
