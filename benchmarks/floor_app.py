"""The floor: a bare aiohttp app with trivial handlers, started the same way as the emulator.

python -m benchmarks.floor_app --port 8788
"""

from __future__ import annotations

import argparse
import os

from aiohttp import web

HEALTH_BODY = b'{"status":"ok","pid":%d}' % os.getpid()  # the pid: procs.Server checks who answered
HELLO_BODY = b'{"hello":"world"}'


async def health(request: web.Request) -> web.Response:
    return web.Response(body=HEALTH_BODY, content_type="application/json")


async def hello(request: web.Request) -> web.Response:
    return web.Response(body=HELLO_BODY, content_type="application/json")


async def echo_ok(request: web.Request) -> web.Response:
    """Reads the body like a create handler must, answers a fixed JSON."""
    await request.read()
    return web.Response(body=HELLO_BODY, content_type="application/json")


def create_floor_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/health", health)
    app.router.add_get("/hello", hello)
    app.router.add_post("/hello", echo_ok)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8788)
    args = parser.parse_args()
    web.run_app(create_floor_app(), host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
