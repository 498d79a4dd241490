"""`GET /__admin/health`: loaded with the app, unlike the rest of the control plane (api/admin/__init__.py)."""

from __future__ import annotations

import os
from typing import Any

from aiohttp import web

from ... import __version__
from ...core import views
from ...core.content import CONTENT_VERSION
from .. import context
from ..responses import json_response
from .snapshots import persister_key

routes = web.RouteTableDef()


def clock_body(request: web.Request) -> dict[str, Any]:
    return views.clock(context.emulator(request).clock)


@routes.get("/__admin/health")
async def health(request: web.Request) -> web.Response:
    """`ok`; `starting` (503, `reason`: how far it got) while `serve` loads a state file's records; `degraded` with
    the `reason` while the state file cannot be written (state-changing requests get 503). `busy` (200, beside the
    status) while a snapshot or a restore runs and other requests wait for it: what it is doing, how far it got.
    `pid`: which process answered, so a script that started `serve` on a port it picked can tell its own server from
    another one that took the port first."""
    emulator = context.emulator(request)
    body: dict[str, Any] = {
        "status": "ok",
        "version": __version__,
        **clock_body(request),
        "seed": emulator.seed,
        "content_version": CONTENT_VERSION,
        "pid": os.getpid(),
    }
    persister = request.app.get(persister_key)
    if persister is None:
        return json_response(body)
    if persister.starting is not None or persister.load_failed is not None:
        # 503, so probes that look only at the status (Kubernetes, `urlopen` loops) wait too. `failed`: a row did
        # not decode and `serve` is exiting with that one line.
        status, reason = ("starting", persister.starting) if persister.starting else ("failed", persister.load_failed)
        body.update(status=status, reason=reason)
        return json_response(body, status=503, headers={"Retry-After": "1"})
    if persister.unavailable is not None:
        body.update(status="degraded", reason=persister.unavailable)
    if persister.admission.busy is not None:
        body["busy"] = persister.admission.busy
    return json_response(body)
