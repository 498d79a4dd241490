"""`--state-file` at the HTTP edge: write after each state-changing request, and named snapshots.

`POST /__admin/snapshot {"name"}` saves the whole state (clock included) under a name; `POST /__admin/restore
{"name"}` puts it back, replacing everything (the clock may move backwards: the history moves with it).
`GET /__admin/snapshots`, `DELETE /__admin/snapshots/{name}`. Without --state-file, snapshots live in
memory until the process exits.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from ...config import Settings
from ...core.errors import Unavailable
from ...core.timefmt import format_ms
from ...persistence.persister import Persister, StorageUnavailable
from ...persistence.statefile import SnapshotInfo
from .. import context
from ..context import emulator_key
from ..queries import once
from ..responses import json_response, read_body

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
HEALTH_PATH = "/__admin/health"

persister_key = web.AppKey("persister_key", Persister)
routes = web.RouteTableDef()


def snapshot_body(info: SnapshotInfo) -> dict[str, object]:
    return {
        "object": "snapshot",
        "name": info.name,
        "virtual_time": info.virtual_time,
        "wall_time": info.wall_time,
        "seed": info.seed,
        "records": info.records,
    }


@routes.post("/__admin/snapshot")
async def take_snapshot(request: web.Request) -> web.Response:
    from .bodies import SnapshotIn

    body = await read_body(request, SnapshotIn, check_content_type=False)
    try:
        info = await request.app[persister_key].snapshot(body.name)
    except StorageUnavailable as exc:
        raise unavailable(f"No snapshot was taken: {exc}.") from exc
    return json_response(snapshot_body(info), status=201)


@routes.post("/__admin/restore")
async def restore_snapshot(request: web.Request) -> web.Response:
    from .bodies import SnapshotIn

    body = await read_body(request, SnapshotIn, check_content_type=False)
    try:
        records = await request.app[persister_key].restore(body.name)
    except StorageUnavailable as exc:
        raise unavailable(f"Nothing was restored: {exc}.") from exc
    now = context.emulator(request).clock.now_ms()
    return json_response({"restored": body.name, "records": records, "now": format_ms(now)})


@routes.get("/__admin/snapshots")
async def list_snapshots(request: web.Request) -> web.Response:
    once(request.query)
    found = await request.app[persister_key].snapshots()
    return json_response({"object": "list", "data": [snapshot_body(s) for s in found]})


@routes.delete("/__admin/snapshots/{name}")
async def delete_snapshot(request: web.Request) -> web.Response:
    await request.app[persister_key].delete_snapshot(request.match_info["name"])
    return web.Response(status=204)


RETRY_AFTER_S = 2


def unavailable(detail: str) -> Unavailable:
    """503 `…/errors/unavailable` (api/problems.py maps it): the change was not made (or was rolled back); retrying
    later is safe."""
    return Unavailable(detail, RETRY_AFTER_S)


@web.middleware
async def persist_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """--state-file: a state-changing request is answered 2xx only once its change is committed.

    Inside the fault middleware: a phase "after" fault loses a response that is on disk. While the file cannot be
    written, such requests are refused up front (503) unless a small write succeeds first; a request whose change
    could not be committed, or that was in flight when memory was put back to the file, gets 503, not its 2xx.
    """
    if request.method in READ_ONLY_METHODS:
        return await handler(request)
    persister = request.app[persister_key]
    if persister.unavailable is not None and not await persister.probe(heal=False):
        raise unavailable(f"Nothing was changed: {persister.unavailable}.")
    epoch = persister.epoch
    try:
        response = await handler(request)
    except StorageUnavailable as exc:
        raise unavailable(f"Nothing was changed: {exc}.") from exc
    except Exception:
        await persister.commit()  # whatever the failing request changed is written, or rolled back
        raise
    stored = await persister.commit()
    if response.status < 400 and (not stored or persister.epoch != epoch):
        raise unavailable(f"The change was not kept: {persister.unavailable or 'the state file could not be written'}.")
    return response


# Snapshot and restore hold requests back themselves (Persister, core/admission.py); counting them in would make
# them wait for themselves.
SELF_ADMITTED = frozenset({"/__admin/snapshot", "/__admin/restore"})


def admission_middleware(persister: Persister) -> Middleware:
    @web.middleware
    async def admit(request: web.Request, handler: Handler) -> web.StreamResponse:
        """Every request but health waits while it must not run (issue 23), then runs as it would have after that
        work:

        - while a state file's records load (`serve`): every request, so nothing sees, or changes, half a state;
        - while a snapshot is taken: state-changing requests (reads go on, and see the state being copied);
        - while a restore runs: state-changing requests, and reads during its swap (a few ms: the restored state is
          built aside while reads are answered from the old one).

        Outside the fault middleware, since faults are part of that state, and outside the write-through middleware,
        so a snapshot waits for the commits of requests in flight.
        """
        path = request.path
        if path == HEALTH_PATH:
            return await handler(request)
        if persister.starting is not None or persister.load_failed is not None:
            try:
                await persister.until_loaded()
            except StorageUnavailable as exc:
                raise unavailable(f"The saved state could not be loaded: {exc}.") from exc
        if path in SELF_ADMITTED:
            return await handler(request)
        admission = persister.admission
        writer = request.method not in READ_ONLY_METHODS
        if not admission.try_enter(writer):
            await admission.enter(writer)
        try:
            return await handler(request)
        finally:
            admission.leave(writer)

    return admit


def setup_admission(app: web.Application, settings: Settings) -> None:
    app.middlewares.append(admission_middleware(app[persister_key]))


async def persistence_ctx(app: web.Application) -> AsyncIterator[None]:
    """Flush as scheduled work changes state; at shutdown (after in-flight requests), a final write."""
    persister = app[persister_key]
    task = None
    if persister.durable:
        app[emulator_key].scheduler.gate = persister.wait_writable
        task = asyncio.create_task(persister.run(), name="fake-askelephant-persistence")
    yield
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await persister.close()


def setup(app: web.Application, settings: Settings) -> None:
    """The persister itself is built with the emulator (a state file decides its seed and clock): create_app."""
    if app[persister_key].durable:
        app.middlewares.append(persist_middleware)
    app.add_routes(routes)
    app.cleanup_ctx.append(persistence_ctx)
