"""Control plane for webhooks (pipeline.md §7): endpoints, the delivery log, resend, the built-in sink."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ...core.errors import ValidationFailed
from ...core.events import Event
from ...core.paging import paginate_ordered
from ...webhooks.delivery import AttemptRecord
from .. import context
from ..cursors import ListWalk
from ..queries import QueryErrors, once, parse_page_params
from ..responses import json_response, read_body, read_json_object, unpaged_list, versioned_json
from ..validation import validate
from .openapi import event_example

routes = web.RouteTableDef()


async def _body(request: web.Request) -> dict[str, Any]:
    if not await request.read():
        return {}
    return await read_json_object(request, check_content_type=False)


@routes.post("/__admin/webhook-endpoints")
async def create_endpoint(request: web.Request) -> web.Response:
    from .bodies import EndpointIn

    body = await read_body(request, EndpointIn, check_content_type=False)
    endpoint = context.emulator(request).webhooks.create_endpoint(
        body.workspace_id,
        body.url,
        secret=body.secret,
        event_types=tuple(body.event_types) if body.event_types else None,
        header_style=body.header_style,
        hazards=body.hazards.to_core(),
    )
    return json_response(endpoint.view(), status=201)


@routes.get("/__admin/webhook-endpoints")
async def list_endpoints(request: web.Request) -> web.Response:
    once(request.query)
    workspace_id = request.query.get("workspace_id")
    endpoints = context.emulator(request).webhooks.endpoints.values()
    data = [e.view() for e in endpoints if workspace_id in (None, e.workspace_id)]
    return unpaged_list(data)


@routes.get("/__admin/webhook-endpoints/{endpoint_id}")
async def get_endpoint(request: web.Request) -> web.Response:
    return json_response(context.emulator(request).webhooks.get_endpoint(request.match_info["endpoint_id"]).view())


@routes.patch("/__admin/webhook-endpoints/{endpoint_id}")
async def update_endpoint(request: web.Request) -> web.Response:
    from .bodies import EndpointPatchIn

    dispatcher = context.emulator(request).webhooks
    endpoint = dispatcher.get_endpoint(request.match_info["endpoint_id"])
    body = await read_body(request, EndpointPatchIn, check_content_type=False)
    if body.url is not None:
        endpoint.url = body.url
    if "event_types" in body.model_fields_set:
        endpoint.event_types = tuple(body.event_types) if body.event_types else None
    if body.header_style is not None:
        endpoint.header_style = body.header_style
    if body.hazards is not None:
        endpoint.hazards = body.hazards.to_core()
    if body.disabled is True:
        dispatcher.disable(endpoint)
    elif body.disabled is False and endpoint.disabled:
        dispatcher.recover(endpoint.id)
    return json_response(endpoint.view())


@routes.delete("/__admin/webhook-endpoints/{endpoint_id}")
async def delete_endpoint(request: web.Request) -> web.Response:
    context.emulator(request).webhooks.delete_endpoint(request.match_info["endpoint_id"])
    return web.Response(status=204)


@routes.post("/__admin/webhook-endpoints/{endpoint_id}/rotate-secret")
async def rotate_secret(request: web.Request) -> web.Response:
    from .bodies import RotateIn

    dispatcher = context.emulator(request).webhooks
    dispatcher.get_endpoint(request.match_info["endpoint_id"])
    body = validate(RotateIn, await _body(request))
    return json_response(dispatcher.rotate_secret(request.match_info["endpoint_id"], body.secret).view())


@routes.post("/__admin/webhook-endpoints/{endpoint_id}/send-test")
async def send_test_event(request: web.Request) -> web.Response:
    """The portal's "send test events" (webhooks page): the event type's example from the served OpenAPI
    document, as a new event of the endpoint's workspace, delivered to this endpoint only. 202: delivery follows
    on the clock, as for any message; its svix-id is in the answer and in /__admin/deliveries."""
    from .bodies import TestEventIn

    em = context.emulator(request)
    endpoint = em.webhooks.get_endpoint(request.match_info["endpoint_id"])
    body = validate(TestEventIn, await _body(request))
    example = event_example(body.event_type)
    event = Event(
        em.ids.new("evt"),
        body.event_type,
        em.clock.now_ms(),
        endpoint.workspace_id,
        example["object"],
        example["previous_attributes"],
    )
    message = em.webhooks.send_test(endpoint.id, event)
    return json_response(
        {"object": "webhook_test", "svix_id": message.id, "endpoint_id": endpoint.id, "event": event.envelope()},
        status=202,
    )


@routes.post("/__admin/webhook-endpoints/{endpoint_id}/recover")
async def recover_endpoint(request: web.Request) -> web.Response:
    dispatcher = context.emulator(request).webhooks
    resent = dispatcher.recover(request.match_info["endpoint_id"])
    return json_response({**dispatcher.get_endpoint(request.match_info["endpoint_id"]).view(), "resent": resent})


@routes.get("/__admin/deliveries")
async def list_deliveries(request: web.Request) -> web.Response:
    walk = ListWalk.start(request)
    q = walk.query
    errors = QueryErrors()
    limit, _, _ = parse_page_params({k: v for k, v in q.items() if k != "order_by"}, errors)
    status = q.get("status")
    if status not in (None, "succeeded", "failed"):
        errors.add("status", "invalid_enum", "status must be succeeded or failed.")
    errors.raise_if_any()
    emulator = context.emulator(request)
    after = walk.after[0] if walk.after else None
    records = (
        r
        for r in emulator.webhooks.log  # in attempt (seq) order: a page stops at limit + 1 matches
        if (after is None or r.seq > after)
        and (not q.get("type") or r.delivery.message.event.type == q["type"])
        and (not q.get("engagement_id") or r.delivery.message.event.resource_id == q["engagement_id"])
        and (not q.get("endpoint_id") or r.delivery.endpoint.id == q["endpoint_id"])
        and (not q.get("svix_id") or r.delivery.message.id == q["svix_id"])
        and (status is None or r.status == status)
    )
    # Attempt order; the cursor codec is shared with the API's lists. ETag: the write set's version (304 unchanged).
    version = str(emulator.write_set.version)
    return versioned_json(
        request, version, lambda: walk.body(paginate_ordered(records, lambda r: (r.seq, ""), limit=limit), _view)
    )


def _view(r: AttemptRecord) -> dict[str, Any]:
    return r.view()


@routes.post("/__admin/deliveries/{msg_id}/resend")
async def resend(request: web.Request) -> web.Response:
    sent = await context.emulator(request).webhooks.resend(request.match_info["msg_id"])
    return json_response({"svix_id": request.match_info["msg_id"], "attempts": sent}, status=202)


def _sink(request: web.Request) -> str:
    name = request.match_info["name"]
    if not name or len(name) > 100:
        raise ValidationFailed.single("name", "invalid_range", "sink name must be 1–100 characters.")
    return name


@routes.put("/__admin/sink/{name}")
async def configure_sink(request: web.Request) -> web.Response:
    from .bodies import SinkConfigIn

    body = validate(SinkConfigIn, await _body(request))
    config = context.emulator(request).webhooks.sinks.configure(_sink(request), body.statuses, body.delay_seconds)
    return json_response({"name": _sink(request), "statuses": config.statuses, "delay_seconds": config.delay_seconds})


@routes.post("/__admin/sink/{name}")
async def receive_at_sink(request: web.Request) -> web.Response:
    """Deliveries arriving over real HTTP (e.g. from another process): verified with matching endpoints' secrets."""
    name = _sink(request)
    emulator = context.emulator(request)
    dispatcher = emulator.webhooks
    outcome = dispatcher.sinks.receive(
        name,
        dict(request.headers),
        await request.read(),
        dispatcher.sink_secrets(name),
        virtual_ms=emulator.clock.now_ms(),
        wall_s=dispatcher.wall(),
    )
    return json_response({"received": True, "verified": outcome.verification.ok}, status=outcome.status or 504)


@routes.get("/__admin/sink/{name}/requests")
async def sink_requests(request: web.Request) -> web.Response:
    once(request.query)
    sinks = context.emulator(request).webhooks.sinks
    name = _sink(request)
    version = str(context.emulator(request).write_set.version)

    def build() -> dict[str, Any]:
        listing = {"object": "list", "data": [r.view() for r in sinks.requests(name)], "has_more": False}
        # `dropped`: requests this sink let go, oldest first, to stay within its count and the sinks' byte bound.
        return {**listing, "next_cursor": None, "dropped": sinks.dropped.get(name, 0)}

    return versioned_json(request, version, build)
