"""Talk to a served emulator over loopback HTTP; the emulator on a thread for synchronous tools."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from typing import Any

from aiohttp import web

from fake_askelephant.app import create_app
from tests.conftest import DEFAULT_KEY, frozen_settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def request(method: str, url: str, body: Any = None, *, key: str | None = DEFAULT_KEY) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = key
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=15) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def wait_until(condition: Any, timeout: float = 10.0, what: str = "condition") -> None:
    """Poll an observable condition with a deadline (no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


class ThreadedEmulator:
    """The emulator on its own event loop in a thread: schemathesis calls it synchronously over loopback."""

    def __init__(self, **settings: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.app = create_app(frozen_settings(**settings))
        self.port = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.runner = web.AppRunner(self.app)
        self.loop.run_until_complete(self.runner.setup())
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        self.port = self.runner.addresses[0][1]
        self.ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self.runner.cleanup())
        self.loop.close()

    def __enter__(self) -> ThreadedEmulator:
        self.thread.start()
        assert self.ready.wait(30), "emulator thread did not start"
        return self

    def __exit__(self, *_: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)

    def serves(self, method: str, path: str) -> bool:
        canonical = {(r.method, r.resource.canonical) for r in self.app.router.routes() if r.resource is not None}
        return (method.upper(), "/api" + path) in canonical
