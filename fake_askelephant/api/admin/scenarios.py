"""Control plane for scenarios (docs/scenarios.md): the scheduler peek the runner steps by, and recording.

`POST /__admin/recording/start` (or `serve --record PATH`) captures every exchange from then on;
`POST /__admin/recording/stop` answers with the session as scenario YAML (scenarios/session_recorder.py).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from ...config import Settings
from ...core.errors import Conflict
from ...core.records import dataclass
from ...core.timefmt import format_ms
from ...emulator import Emulator
from .. import context
from ..responses import json_response, read_json_object
from ..validation import validate

if TYPE_CHECKING:
    from ...scenarios.session_recorder import Session

# scenarios.session_recorder (pydantic scenario models, YAML) loads when a recording starts: ~0.07 s off start-up.
log = logging.getLogger("fake_askelephant.recording")
routes = web.RouteTableDef()
YAML_TYPE = "application/yaml"


@dataclass
class RecordingState:
    session: Session | None = None  # set while recording
    start_seq: int = 0
    path: str | None = None  # `serve --record PATH`: written at shutdown
    last_yaml: str | None = None


recording_key = web.AppKey("recording_key", RecordingState)


@routes.post("/__admin/recording/start")
async def start_recording(request: web.Request) -> web.Response:
    from .bodies import RecordingStartIn

    body = validate(RecordingStartIn, await _optional_body(request))
    state = request.app[recording_key]
    if state.session is not None:
        raise Conflict("Already recording; POST /__admin/recording/stop first.")
    _start(state, context.emulator(request), body.name)
    return json_response(_status(state), status=201)


@routes.get("/__admin/recording")
async def recording_status(request: web.Request) -> web.Response:
    return json_response(_status(request.app[recording_key]))


@routes.post("/__admin/recording/stop")
async def stop_recording(request: web.Request) -> web.Response:
    state = request.app[recording_key]
    if state.session is None:
        raise Conflict("Not recording; POST /__admin/recording/start first.")
    text = _stop(state, context.emulator(request))
    return web.Response(text=text, content_type=YAML_TYPE)


async def _optional_body(request: web.Request) -> dict[str, Any]:
    return await read_json_object(request, check_content_type=False) if await request.read() else {}


def _status(state: RecordingState) -> dict[str, Any]:
    session = state.session
    return {
        "recording": session is not None,
        "name": session.name if session else None,
        "started_at": format_ms(session.started_ms) if session else None,
        "exchanges": len(session.exchanges) if session else 0,
    }


def _start(state: RecordingState, emulator: Emulator, name: str) -> None:
    store = emulator.store
    keys = {}
    for key in store.keys.values():
        ws = store.workspaces.get(key.workspace_id)
        user = ws.users.get(key.user_id) if ws else None
        keys[key.token] = {
            "scopes": sorted(key.scopes),
            "workspace_id": key.workspace_id,
            "user": {"email": user.email, "role": user.role} if user else None,
        }
    from ...scenarios.session_recorder import Session

    state.session = Session(
        seed=emulator.seed,
        started_ms=emulator.clock.now_ms(),
        time_scale=emulator.clock.time_scale,
        keys=keys,
        endpoints=[e.view() for e in emulator.webhooks.endpoints.values()],
        engagements_before=sum(len(ws.engagements) for ws in store.workspaces.values()),
        name=name,
    )
    state.start_seq = _last_attempt(emulator)


def _stop(state: RecordingState, emulator: Emulator) -> str:
    session = state.session
    assert session is not None
    session.stopped_ms = emulator.clock.now_ms()
    session.attempts = [
        {**r.view(), "seq": r.seq, "object_id": r.delivery.message.event.resource_id}
        for r in emulator.webhooks.log
        if r.seq > state.start_seq
    ]
    state.session = None
    from ...scenarios.session_recorder import to_yaml

    state.last_yaml = to_yaml(session)
    return state.last_yaml


def _last_attempt(emulator: Emulator) -> int:
    return emulator.webhooks.log[-1].seq if emulator.webhooks.log else 0


def recording_middleware(state: RecordingState) -> Middleware:
    @web.middleware
    async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
        """Outermost, so it sees what the client got: the final response, or a dropped connection (faults)."""
        response = await handler(request)
        if state.session is not None:
            try:
                await _capture(state.session, request, response)
            except Exception:
                # Recording must never break the API it records.
                log.exception("could not record %s %s", request.method, request.path)
        return response

    return record


async def _capture(session: Session, request: web.Request, response: web.StreamResponse) -> None:
    transport = request.transport
    dropped = transport is None or transport.is_closing()  # reset, or a body cut short
    emulator = context.emulator(request)
    from ...scenarios.session_recorder import Captured

    body = await _body(request)
    payload = response.body if isinstance(response, web.Response) else None
    session.exchanges.append(
        Captured(
            method=request.method,
            path=request.path_qs,
            request_headers={str(k): str(v) for k, v in request.headers.items()},
            request_body=body,
            status=None if dropped else response.status,
            response_headers={} if dropped else {str(k): str(v) for k, v in response.headers.items()},
            response_body=payload if isinstance(payload, bytes) and not dropped else b"",
            virtual_ms=emulator.clock.now_ms(),
            attempt_seq=_last_attempt(emulator),
        )
    )


async def _body(request: web.Request) -> bytes:
    """What the client sent: cached when the handler read it, read now when it answered first (401, 404)."""
    if not request.body_exists:
        return b""
    try:
        return await request.read()
    except (web.HTTPException, ConnectionError, aiohttp.ClientError, asyncio.IncompleteReadError):
        return b""  # over the size limit (the 413 is what gets recorded), or the connection is gone


def setup(app: web.Application, settings: Settings) -> None:
    """Recording state and capture hook; with `--record PATH`, record from start-up and write at shutdown."""
    state = app[recording_key] = RecordingState(path=settings.record)
    app.middlewares.append(recording_middleware(state))
    app.add_routes(routes)
    if settings.record:
        app.cleanup_ctx.append(_record_whole_session)


async def _record_whole_session(app: web.Application) -> AsyncIterator[None]:
    state, emulator = app[recording_key], app[context.emulator_key]
    assert state.path is not None
    stem = re.sub(r"[^A-Za-z0-9_.-]", "-", Path(state.path).stem) or "recorded-session"
    _start(state, emulator, stem.lstrip("._-") or "recorded-session")
    yield
    text = _stop(state, emulator) if state.session is not None else state.last_yaml
    if text is not None:
        await asyncio.to_thread(Path(state.path).write_text, text, encoding="utf-8")
        log.info("recorded session written to %s", state.path)
