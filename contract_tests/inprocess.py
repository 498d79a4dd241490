"""Serve an aiohttp application on 127.0.0.1:0 from a background thread (in-process emulator fixture)."""

from __future__ import annotations

from aiohttp import web

from contract_tests.http import LoopThread


class ThreadedServer:
    """Runs ``app`` on its own :class:`LoopThread`, so synchronous suites can call it over real TCP."""

    def __init__(self, app: web.Application, host: str = "127.0.0.1") -> None:
        self._app = app
        self._host = host
        self._loop = LoopThread("askelephant-inprocess-server")
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def _start(self) -> None:
        self._runner = web.AppRunner(self._app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    def start(self) -> ThreadedServer:
        try:
            self._loop.run(self._start(), timeout=30)
        except BaseException:
            self._loop.close()
            raise
        return self

    @property
    def origin(self) -> str:
        return f"http://{self._host}:{self.port}"

    def stop(self) -> None:
        """Run the app's cleanup (its background tasks stop) and end the thread."""
        if self._runner is not None:
            self._loop.run(self._runner.cleanup(), timeout=30)
            self._runner = None
        self._loop.close()
