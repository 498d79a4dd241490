"""How the app is served: the connection-level defences aiohttp leaves to its user (issue #19).

- **Malformed HTTP** (a bad request line, header, chunk or Content-Length; a Content-Encoding nobody can
  decode) is answered with a short problem+json 400 and a request id, echoing nothing of the request, and
  logged in one line naming the kind of error. aiohttp's own answer quotes the offending bytes (an
  `Authorization: sk-apik_…` line included) and logs them with a traceback.
- **Slow request heads** (slowloris): a connection must deliver a complete request head within
  `header_timeout_s` of opening, or of the first byte of its next request, or it is closed. Idle keep-alive
  connections stay under aiohttp's keep-alive timeout.
- **Bounded connections**: at most `max_connections` at once. One more closes the connection that has waited
  longest for its request head; when every connection is busy with a request, the new one is closed.

EmulatorRunner replaces web.AppRunner wherever the emulator listens (the CLI, tests that need these
defences). It builds aiohttp's own Server with a RequestHandler subclass; `_make_server`, `Server._kwargs`
and the handler's `_request_count`, `_messages`, `_request_in_progress` are aiohttp internals (pinned
`aiohttp<4`; tests/reliability/test_connections.py fails if they move).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import ContentEncodingError
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from .api.admin.journal import JournalEntry, journal_key
from .api.context import emulator_key
from .api.problems import Problem
from .core.records import dataclass
from .core.timefmt import wall_ms

log = logging.getLogger("fake_askelephant.http")

HEADER_TIMEOUT_S = 10.0
MAX_CONNECTIONS = 1000
DESCRIPTOR_SHARE = 2  # never more connections than 1/2 of the process's descriptor limit (state file, webhooks…)


@dataclass(frozen=True)
class ConnectionLimits:
    header_timeout_s: float = HEADER_TIMEOUT_S
    max_connections: int = MAX_CONNECTIONS

    def effective_max(self) -> int:
        """`max_connections`, lowered to half the descriptor limit when that is smaller (never below 16)."""
        try:
            import resource  # Unix only
        except ImportError:
            return self.max_connections
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft == resource.RLIM_INFINITY:
            return self.max_connections
        return max(16, min(self.max_connections, soft // DESCRIPTOR_SHARE))


class GuardedRequestHandler(RequestHandler):
    """aiohttp's protocol with a deadline on request heads and problem+json answers to malformed HTTP."""

    def __init__(self, manager: GuardedServer, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._guard = manager
        self.head_since: float | None = None  # loop time the awaited request head started; None: not awaiting
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._await_head()  # a fresh connection owes a request head (set first: the server may evict on admit)
        super().connection_made(transport)

    def connection_lost(self, exc: BaseException | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.head_since is None and not self._request_in_progress and not self._messages:
            self._await_head()  # the first byte of the next request on a kept-alive connection
        parsed_before = self._request_count
        super().data_received(data)
        if self._request_count != parsed_before:
            self.head_since = None

    def finish_response(  # aiohttp's coroutine itself, not one more wrapped around it (every response)
        self, request: BaseRequest, resp: web.StreamResponse, start_time: float | None
    ) -> Coroutine[Any, Any, tuple[web.StreamResponse, bool]]:
        self.head_since = None  # a body byte may have looked like a new head before the handler ran
        return super().finish_response(request, resp, start_time)

    def _await_head(self) -> None:
        self.head_since = self._loop.time()
        # A timer still pending from an earlier head stays: when it fires it finds this head's start and waits out the
        # rest of its time (_head_deadline). One timer per connection and timeout, not one armed and cancelled per
        # request.
        if self._head_timer is None:
            self._arm(self._guard.limits.header_timeout_s)

    def _arm(self, delay: float) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        self._head_timer = self._loop.call_later(delay, self._head_deadline)

    def _stop_head_timer(self) -> None:
        self.head_since = None
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_deadline(self) -> None:
        self._head_timer = None
        if self.head_since is None or self.transport is None:
            return
        if self._request_in_progress or self._messages:
            self.head_since = None
            return
        remaining = self.head_since + self._guard.limits.header_timeout_s - self._loop.time()
        if remaining > 0:
            self._arm(remaining)
            return
        log.info(
            "closed a connection from %s: no complete request head within %g s",
            self._peer(),
            self._guard.limits.header_timeout_s,
        )
        self.force_close()

    def _peer(self) -> str:
        peer = self.transport.get_extra_info("peername") if self.transport is not None else None
        return str(peer[0]) if peer else "?"

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """aiohttp calls this for requests it could not parse (400) or whose handler failed outside the app."""
        if request.writer.output_size > 0:
            raise ConnectionError("the response has started; the connection is closed instead")
        request_id = self._guard.new_request_id()
        kind = type(exc).__name__ if exc is not None else "error"
        if status == 400:
            detail = (
                "The request body's Content-Encoding cannot be decoded here."
                if isinstance(exc, ContentEncodingError)
                else "Malformed HTTP request; it was not read further."
            )
            log.info("malformed request from %s answered 400 (%s, request %s)", request.remote, kind, request_id)
        else:
            detail = "Internal error; this is a bug in fake-askelephant."
            log.error("request from %s failed outside the app: %s (request %s)", request.remote, kind, request_id)
        self._guard.journal_unparsed(request_id, status)
        response = Problem(status, detail).response(request_id)
        response.headers["X-Request-Id"] = request_id
        response.force_close()
        return response

    def log_exception(self, *args: Any, **kw: Any) -> None:
        """aiohttp's tracebacks can quote request bytes (headers, bodies): one line with the kind instead."""
        exc = kw.get("exc_info")
        kind = type(exc).__name__ if isinstance(exc, BaseException) else "error"
        log.info("connection error (%s); the connection was closed", kind)


class GuardedServer(web.Server):
    """aiohttp's Server handing out GuardedRequestHandler and keeping the number of connections bounded."""

    def __init__(
        self,
        base: web.Server,
        limits: ConnectionLimits,
        new_request_id: Callable[[], str],
        journal_unparsed: Callable[[str, int], None],
    ) -> None:
        super().__init__(
            base.request_handler,
            request_factory=base.request_factory,
            handler_cancellation=base.handler_cancellation,
            loop=base._loop,
            **base._kwargs,
        )
        self.limits = limits
        self.max_connections = limits.effective_max()
        self.new_request_id = new_request_id
        self.journal_unparsed = journal_unparsed
        self.refused = 0

    def __call__(self) -> GuardedRequestHandler:
        return GuardedRequestHandler(self, loop=self._loop, **self._kwargs)

    def open_count(self) -> int:
        """Connections with a transport: closed ones stay in `connections` until their task has ended."""
        return sum(1 for h in self._connections if h.transport is not None)

    def connection_made(self, handler: RequestHandler, transport: asyncio.Transport) -> None:
        super().connection_made(handler, transport)
        open_now = self.open_count()
        if open_now <= self.max_connections:
            return
        waiting = [
            h
            for h in self._connections
            if h is not handler
            and h.transport is not None
            and isinstance(h, GuardedRequestHandler)
            and h.head_since is not None
        ]
        victim = min(waiting, key=lambda h: h.head_since or 0.0) if waiting else handler
        self.refused += 1
        if self.refused == 1 or self.refused % 1000 == 0:
            log.warning(
                "%d connections open, the limit is %d: closing the %s (%d so far)",
                open_now,
                self.max_connections,
                "one that waited longest for its request head" if waiting else "new one (all are busy)",
                self.refused,
            )
        victim.force_close()


class EmulatorRunner(web.AppRunner):
    """web.AppRunner serving through GuardedServer."""

    def __init__(self, app: web.Application, *, limits: ConnectionLimits | None = None, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.limits = limits or ConnectionLimits()

    async def _make_server(self) -> web.Server:
        base = await super()._make_server()
        app = self.app
        return GuardedServer(
            base,
            self.limits,
            lambda: app[emulator_key].request_ids.new("rid"),
            lambda request_id, status: _journal_unparsed(app, request_id, status),
        )


def _journal_unparsed(app: web.Application, request_id: str, status: int) -> None:
    journal = app.get(journal_key)
    if journal is None:
        return
    journal.add(
        JournalEntry(
            request_id=request_id,
            method="",
            path="",
            status=status,
            latency_s=0.0,
            key_id=None,
            workspace_id=None,
            virtual_ms=app[emulator_key].clock.now_ms(),
            wall_ms=wall_ms(),
            fault_id=None,
            outcome="malformed",
        )
    )
