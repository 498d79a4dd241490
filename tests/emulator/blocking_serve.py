"""`fake-askelephant serve` plus one route that blocks the event loop, for the shutdown watchdog tests only.

    python -m tests.emulator.blocking_serve serve --port 0 …

`POST /__test/block` prints a line, then spins without ever yielding: a stand-in for a handler bug we have not
found yet. It exists only in this test wrapper, never in the shipped app. With BLOCKING_SERVE_LOOP=asyncio the
server runs on asyncio's own event loop instead of uvloop.
"""

from __future__ import annotations

import os

from aiohttp import web

import fake_askelephant.app
import fake_askelephant.cli
from fake_askelephant.cli import main

BLOCKING = "blocking the event loop"
LOOP_ENV = "BLOCKING_SERVE_LOOP"
_create_app = fake_askelephant.app.create_app


async def block(request: web.Request) -> web.Response:
    print(BLOCKING, flush=True)
    while True:  # never yields: no other request, timer or signal callback runs on this loop again
        pass


def create_app_with_a_blocking_route(*args: object, **kwargs: object) -> web.Application:
    app = _create_app(*args, **kwargs)  # type: ignore[arg-type]
    app.router.add_post("/__test/block", block)
    return app


if __name__ == "__main__":
    fake_askelephant.app.create_app = create_app_with_a_blocking_route  # what cli.serve builds
    if os.environ.get(LOOP_ENV) == "asyncio":
        fake_askelephant.cli.event_loop_factory = lambda: None
    raise SystemExit(main())
