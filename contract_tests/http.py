"""Raw HTTP for the suites: an aiohttp client on a private event-loop thread behind a synchronous facade.

Hypothesis drives tests synchronously (and ``RuleBasedStateMachine`` has no async rules), so the suites
call :class:`HttpClient` from plain functions; the aiohttp session lives on a :class:`LoopThread`.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy

T = TypeVar("T")

JSON_TYPES = ("application/json", "application/problem+json")
Params = Sequence[tuple[str, str]] | Mapping[str, str]

__all__ = ["HttpClient", "HttpResponse", "LoopThread", "RequestSpec", "encode_json"]


class LoopThread:
    """An asyncio loop running on a daemon thread; ``run`` submits a coroutine and waits for it."""

    def __init__(self, name: str = "askelephant-contract-loop") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the loop thread and return its result (exceptions propagate)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        """Stop the loop and join its thread; pending tasks are cancelled first."""
        if self.loop.is_closed():
            return
        self.run(self._cancel_pending())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()

    @staticmethod
    async def _cancel_pending() -> None:
        current = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def __enter__(self) -> LoopThread:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def encode_json(value: Any) -> bytes:
    """UTF-8 JSON as a vendor would send it (non-ASCII unescaped)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class HttpResponse:
    """One response, fully read."""

    method: str
    url: str
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes

    @property
    def media_type(self) -> str:
        """Content-Type without parameters, lower-cased; ``""`` when absent."""
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()

    def json(self) -> Any:
        """The body parsed as JSON; raises ``AssertionError`` naming the request if it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise AssertionError(f"{self.describe()}: body is not JSON ({exc}): {self.body[:200]!r}") from exc

    def describe(self) -> str:
        """``METHOD url -> status`` for failure messages."""
        return f"{self.method} {self.url} -> {self.status}"


@dataclass(frozen=True)
class RequestSpec:
    """A request to send; ``body`` bytes win over ``json_body``."""

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    params: Params | None = None
    json_body: Any = None
    has_json: bool = False
    body: bytes | None = None


class HttpClient:
    """Synchronous facade over one ``aiohttp.ClientSession`` owned by a :class:`LoopThread`."""

    def __init__(self, loop: LoopThread, *, timeout_seconds: float = 30.0) -> None:
        self._loop = loop
        self._timeout = timeout_seconds
        self._session: aiohttp.ClientSession = loop.run(self._open())

    @property
    def loop_thread(self) -> LoopThread:
        """The loop this client runs on; servers the suites start (webhook sinks) share it."""
        return self._loop

    async def _open(self) -> aiohttp.ClientSession:
        # Never follow redirects: a 302 from the API is itself something the suites judge.
        return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._timeout))

    def send(self, spec: RequestSpec) -> HttpResponse:
        """Send one request and read the whole response."""
        return self._loop.run(self._send(spec), timeout=self._timeout + 5)

    def send_all(self, specs: Sequence[RequestSpec]) -> list[HttpResponse]:
        """Send all requests concurrently (one ``gather``) and return responses in order."""

        async def _all() -> list[HttpResponse]:
            return list(await asyncio.gather(*(self._send(s) for s in specs)))

        return self._loop.run(_all(), timeout=self._timeout + 5)

    async def _send(self, spec: RequestSpec) -> HttpResponse:
        headers = CIMultiDict(spec.headers)
        data = spec.body
        if data is None and spec.has_json:
            data = encode_json(spec.json_body)
            headers.setdefault("Content-Type", "application/json")
        async with self._session.request(
            spec.method, spec.url, params=spec.params, data=data, headers=headers, allow_redirects=False
        ) as resp:
            body = await resp.read()
            return HttpResponse(
                spec.method, str(resp.url), resp.status, CIMultiDictProxy(CIMultiDict(resp.headers)), body
            )

    def close(self) -> None:
        """Close the session (on its loop)."""
        if not self._session.closed:
            self._loop.run(self._session.close())
