"""Bind before the app starts: a port in use must start nothing (no state file opened, no fixtures loaded, no webhook
session left unclosed) and end in one line that says so."""

from __future__ import annotations

import asyncio
import errno
import os

from aiohttp import web

HINTS = {
    errno.EADDRINUSE: "is another fake-askelephant running? Stop it, or pick another --port; --port 0 picks a free one",
    errno.EACCES: "ports below 1024 need privileges; pick another --port",
    errno.EADDRNOTAVAIL: "that address is not one of this machine's; check --host",
}


class CannotListen(Exception):
    def __init__(self, host: str, port: int, exc: OSError) -> None:
        reason = os.strerror(exc.errno) if exc.errno and exc.errno > 0 else exc.strerror or str(exc)
        hint = HINTS.get(exc.errno or 0)
        super().__init__(f"cannot listen on {host}:{port}: {reason}" + (f" ({hint})" if hint else ""))


class _Handlers:
    """Placeholder protocol factory: the aiohttp server it forwards to exists only once the app has started."""

    def __init__(self) -> None:
        self.server: web.Server | None = None

    def __call__(self) -> asyncio.BaseProtocol:
        assert self.server is not None, "connections are accepted only after BoundSite.start"
        return self.server()


class BoundSite(web.BaseSite):
    """A TCP site around sockets bound (not yet listening) by `bind`, served once the app has started."""

    def __init__(self, runner: web.BaseRunner, listener: asyncio.Server, handlers: _Handlers) -> None:
        super().__init__(runner)
        self._listener = listener
        self._handlers = handlers

    @property
    def name(self) -> str:
        host, port = self._listener.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    @property
    def addresses(self) -> list[tuple[str, int]]:
        """(host, port) of every socket actually bound: `0.0.0.0` and `::` for a wildcard --host."""
        return [(str(s.getsockname()[0]), int(s.getsockname()[1])) for s in self._listener.sockets]

    @property
    def port(self) -> int:
        port: int = self._listener.sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        await super().start()
        self._handlers.server = self._runner.server
        self._server = self._listener
        await self._listener.start_serving()


async def bind(host: str, port: int) -> tuple[asyncio.Server, _Handlers]:
    """Bind HOST:PORT the way aiohttp's TCPSite would; CannotListen with the reason when the OS refuses."""
    handlers = _Handlers()
    try:
        listener = await asyncio.get_running_loop().create_server(handlers, host, port, start_serving=False)
    except OSError as exc:
        raise CannotListen(host, port, exc) from None
    return listener, handlers


async def start_site(runner: web.BaseRunner, listener: asyncio.Server, handlers: _Handlers, host: str) -> BoundSite:
    site = BoundSite(runner, listener, handlers)
    try:
        await site.start()  # listen(): a port taken between bind and now fails here
    except OSError as exc:
        raise CannotListen(host, listener.sockets[0].getsockname()[1], exc) from None
    return site
