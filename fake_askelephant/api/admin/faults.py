"""HTTP fault injection (pipeline.md §6): `/__admin/faults` and the middleware that applies picked rules.

Effects: a problem+json status (with `Retry-After`), added wall latency, a dropped connection (`reset`) or a
body cut in half (`truncate`). Phase "before" answers without running the request; phase "after" runs it
for real (state, events, persistence) and then replaces or cuts the response — the lost-response case.
The control plane (`/__admin/…`) is never faulted, so a fault can always be deleted again (emulator choice).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from ...config import Settings
from ...core.errors import FieldError, NotFound
from ...core.faults import MAX_LATENCY_MS, FaultHit, FaultRule, FaultRules
from ...emulator import Emulator
from .. import context
from ..auth import authenticate
from ..problems import Problem, error_response, stamp_headers
from ..queries import once
from ..responses import json_response, read_json_object
from ..validation import to_field_error, validate

if TYPE_CHECKING:
    from .bodies import LognormalIn

ADMIN_PREFIX = "/__admin/"
DEFAULT_429_RETRY_AFTER = 1

sleep = asyncio.sleep  # wall-time latency; tests swap it to observe the delays drawn
routes = web.RouteTableDef()
fault_id_key = web.RequestKey("fault_id_key", str)
dropped_key = web.RequestKey("dropped_key", str)


def parse_latency(value: Any) -> tuple[float | None, LognormalIn | None, list[FieldError]]:
    """`latency_ms` as (fixed ms, lognormal, errors); errors use plain paths like latency_ms.lognormal.sigma."""
    from pydantic import ValidationError

    from .bodies import LognormalLatencyIn

    if value is None:
        return None, None, []
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 0 <= value <= MAX_LATENCY_MS:
            return float(value), None, []
        return None, None, [FieldError("latency_ms", "invalid_range", f"latency_ms must be 0–{MAX_LATENCY_MS:g}.")]
    if isinstance(value, dict):
        try:
            return None, LognormalLatencyIn.model_validate(value).lognormal, []
        except ValidationError as exc:
            return None, None, [to_field_error(e, "latency_ms") for e in exc.errors(include_url=False)]
    message = 'latency_ms must be a number or {"lognormal":{"median_ms":…,"sigma":…}}.'
    return None, None, [FieldError("latency_ms", "invalid_type", message)]


def fault_cross_field_errors(data: dict[str, Any]) -> list[FieldError]:
    errors = list(parse_latency(data.get("latency_ms"))[2])
    if all(data.get(k) in (None, 0) for k in ("status", "latency_ms", "action")):
        errors.append(FieldError("status", "required", "A fault needs an effect: status, latency_ms (> 0) or action."))
    if data.get("retry_after") is not None and data.get("status") is None:
        errors.append(FieldError("retry_after", "invalid_type", "retry_after needs a status (e.g. 429 or 503)."))
    return errors


def fault_body(rule: FaultRule) -> dict[str, Any]:
    latency: Any = rule.latency_ms
    if rule.latency_median_ms is not None:
        latency = {"lognormal": {"median_ms": rule.latency_median_ms, "sigma": rule.latency_sigma}}
    return {
        "object": "fault",
        "id": rule.id,
        "method": rule.method,
        "path": rule.path,
        "workspace_id": rule.workspace_id,
        "count": rule.count,
        "remaining": rule.remaining,
        "probability": rule.probability,
        "status": rule.status,
        "retry_after": rule.retry_after,
        "latency_ms": latency,
        "action": rule.action,
        "phase": rule.phase,
        "hits": rule.hits,
    }


@routes.post("/__admin/faults")
async def create_fault(request: web.Request) -> web.Response:
    from .bodies import FaultIn

    data = await read_json_object(request, check_content_type=False)
    body = validate(FaultIn, data, fault_cross_field_errors(data))
    emulator = context.emulator(request)
    fixed_ms, lognormal, _ = parse_latency(body.latency_ms)
    rule = emulator.faults.add(
        FaultRule(
            id=emulator.ids.new("flt"),
            created_at=emulator.clock.now_ms(),
            method=body.method.upper(),
            path=body.path,
            workspace_id=body.workspace_id,
            count=body.count,
            remaining=body.count,
            probability=body.probability,
            status=body.status,
            retry_after=body.retry_after,
            latency_ms=fixed_ms,
            latency_median_ms=lognormal.median_ms if lognormal else None,
            latency_sigma=lognormal.sigma if lognormal else None,
            action=body.action,
            phase=body.phase,
        )
    )
    return json_response(fault_body(rule), status=201)


@routes.get("/__admin/faults")
async def list_faults(request: web.Request) -> web.Response:
    once(request.query)
    rules = context.emulator(request).faults.rules
    return json_response({"object": "list", "data": [fault_body(r) for r in rules]})


@routes.delete("/__admin/faults")
async def clear_faults(request: web.Request) -> web.Response:
    context.emulator(request).faults.clear()
    return web.Response(status=204)


@routes.delete("/__admin/faults/{fault_id}")
async def delete_fault(request: web.Request) -> web.Response:
    fault_id = request.match_info["fault_id"]
    if not context.emulator(request).faults.remove(fault_id):
        raise NotFound("fault", fault_id)
    return web.Response(status=204)


# The middleware ---------------------------------------------------------------------------------


def fault_middleware(emulator: Emulator) -> Middleware:
    """The app's emulator bound once (its rules are looked at on every request)."""

    @web.middleware
    async def inject_faults(request: web.Request, handler: Handler) -> web.StreamResponse:
        """Runs first in the check order (api.md §4), inside the edge middleware so faults carry request ids."""
        faults = emulator.faults
        if not faults.rules or request.path.startswith(ADMIN_PREFIX):
            return await handler(request)
        return await _inject(request, handler, faults)

    return inject_faults


async def _inject(request: web.Request, handler: Handler, faults: FaultRules) -> web.StreamResponse:
    """Rules exist: pick one for this request (or none) and apply it."""
    rule = faults.pick(request.method, request.path, _workspace_of(request, faults.rules))
    if rule is None:
        return await handler(request)
    latency_ms = faults.latency_ms(rule)
    request[fault_id_key] = rule.id
    faults.record(
        FaultHit(
            rule.id,
            context.request_id(request),
            request.method,
            request.path,
            context.emulator(request).clock.now_ms(),
            latency_ms,
        )
    )
    real: web.StreamResponse | None = None
    if rule.runs_request:
        if rule.phase == "before":
            await _pause(latency_ms)
        real = await _respond(request, handler)
        if rule.phase == "after":
            await _pause(latency_ms)
    else:
        await _pause(latency_ms)
    if rule.status is not None:
        response: web.StreamResponse = _problem(rule).response(context.request_id(request))
    elif real is not None:
        response = real
    else:
        response = web.Response(status=204)  # a reset before the request ran; never sent
    if rule.action == "reset":
        return _drop(request, "reset")
    if rule.action == "truncate":
        return await _send_truncated(request, response)
    return response


def _workspace_of(request: web.Request, rules: list[FaultRule]) -> str | None:
    """The caller's workspace, resolved without failing: faults run before authentication."""
    if not any(r.workspace_id for r in rules):
        return None
    try:
        return authenticate(request).workspace_id
    except Problem:
        return None


async def _respond(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except Exception as exc:
        return error_response(request, exc)


async def _pause(latency_ms: float) -> None:
    if latency_ms > 0:
        await sleep(latency_ms / 1000)


def _problem(rule: FaultRule) -> Problem:
    headers = {}
    retry_after = rule.retry_after
    if retry_after is None and rule.status == 429:
        retry_after = DEFAULT_429_RETRY_AFTER  # every 429 carries Retry-After (api.md §2)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return Problem(rule.status or 500, f"Injected fault {rule.id} (POST /__admin/faults).", headers=headers)


def _drop(request: web.Request, how: str) -> web.Response:
    """Close the connection without an answer; the response returned is never written."""
    request[dropped_key] = how
    transport = request.transport
    if transport is not None:
        transport.abort()
    return web.Response(status=204)


async def _send_truncated(request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
    """Send the headers with the full Content-Length, half of the body, then close the connection."""
    body = response.body if isinstance(response, web.Response) and isinstance(response.body, bytes) else b""
    cut = web.StreamResponse(status=response.status, reason=response.reason, headers=response.headers)
    stamp_headers(request, cut)
    cut.content_length = len(body)
    await cut.prepare(request)
    await cut.write(body[: len(body) // 2])
    request[dropped_key] = "truncate"
    transport = request.transport
    if transport is not None:
        transport.close()  # close, not abort: the half body already written must still go out
    return cut


def setup(app: web.Application, settings: Settings) -> None:
    app.middlewares.append(fault_middleware(app[context.emulator_key]))
    app.add_routes(routes)
