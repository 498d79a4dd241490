"""A recording webhook receiver the API suites point the emulator at: stores raw requests, answers 200."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

from contract_tests.http import LoopThread


@dataclass(frozen=True)
class ReceivedRequest:
    """One delivery exactly as it arrived."""

    method: str
    headers: CIMultiDict[str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class RecordingSink:
    """An aiohttp server on ``host``:0 that records every request; run on a :class:`LoopThread`."""

    def __init__(self, loop: LoopThread, host: str = "127.0.0.1") -> None:
        self._loop = loop
        self._host = host
        self.requests: list[ReceivedRequest] = []
        self._changed: asyncio.Condition | None = None
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        assert self._changed is not None
        async with self._changed:
            self.requests.append(ReceivedRequest(request.method, CIMultiDict(request.headers), body))
            self._changed.notify_all()
        return web.Response(status=200)

    async def _start(self) -> None:
        self._changed = asyncio.Condition()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://{self._host}:{port}/webhooks"

    def start(self) -> RecordingSink:
        self._loop.run(self._start())
        return self

    def wait_for(self, predicate: Callable[[list[ReceivedRequest]], bool], timeout: float = 15.0) -> bool:
        """Block until ``predicate(requests)`` holds (woken per delivery, no polling); False on timeout."""

        async def _wait() -> bool:
            assert self._changed is not None
            async with self._changed:
                try:
                    await asyncio.wait_for(self._changed.wait_for(lambda: predicate(self.requests)), timeout)
                except TimeoutError:
                    return False
                return True

        return self._loop.run(_wait())

    def close(self) -> None:
        if self._runner is not None:
            self._loop.run(self._runner.cleanup())
            self._runner = None

    def __enter__(self) -> RecordingSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
