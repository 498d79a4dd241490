"""A local webhook receiver for the delivery benchmark: answers 200 to every POST and counts them.

python -m benchmarks.receiver_app --port 8789     # POST /hooks, GET /count, GET /health
"""

from __future__ import annotations

import argparse
import os

from aiohttp import web

received = web.AppKey("received", list[int])


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "pid": os.getpid()})  # procs.Server checks who answered


async def hook(request: web.Request) -> web.Response:
    await request.read()
    request.app[received][0] += 1
    return web.Response(status=204)


async def count(request: web.Request) -> web.Response:
    return web.json_response({"received": request.app[received][0]})


def create_receiver_app() -> web.Application:
    app = web.Application()
    app[received] = [0]
    app.router.add_get("/health", health)
    app.router.add_post("/hooks", hook)
    app.router.add_get("/count", count)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8789)
    args = parser.parse_args()
    web.run_app(create_receiver_app(), host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
