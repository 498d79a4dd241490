"""The portal's "send test events" (webhooks page; issue 20): `POST /__admin/webhook-endpoints/{id}/send-test`
sends the event type's documented example as a signed message through the normal delivery path."""

from __future__ import annotations

import json
from typing import Any

from svix.webhooks import Webhook

from contract_tests.schemas import validator
from tests.conftest import Api, problem
from tests.webhooks.test_delivery import add_endpoint, deliveries


def send_test(api: Api, endpoint_id: str, **body: Any) -> Any:
    return api.client.post(f"/__admin/webhook-endpoints/{endpoint_id}/send-test", json=body or None)


async def test_a_test_event_reaches_only_that_endpoint_signed_and_valid(api: Api, receiver: Any) -> None:
    rec, other = await receiver([200]), await receiver([200])
    # Subscribed to another type only: the portal sends the example anyway (Svix "send example").
    endpoint = await add_endpoint(api, rec.url, event_types=["v1.tag.created"])
    await add_endpoint(api, other.url)
    resp = await send_test(api, endpoint["id"], event_type="v1.contact.deleted")
    assert resp.status == 202, await resp.text()
    sent = await resp.json()
    assert sent["endpoint_id"] == endpoint["id"] and sent["svix_id"].startswith("msg_")
    await api.advance(0)
    (request,) = rec.received
    assert other.received == []
    Webhook(endpoint["secret"]).verify(request.body, request.headers)  # the official verifier
    assert request.headers["svix-id"] == sent["svix_id"]
    envelope = json.loads(request.body)
    assert envelope == sent["event"] and envelope["type"] == "v1.contact.deleted"
    assert envelope["workspace_id"] == endpoint["workspace_id"]
    errors = list(validator("event_contact_deleted").iter_errors(envelope))  # the contract's own schema
    assert errors == [], errors
    (logged,) = await deliveries(api, svix_id=sent["svix_id"])
    assert logged["status"] == "succeeded"
    # Not an event of the workspace: the event log stays as it was.
    assert (await (await api.client.get("/__admin/events")).json())["data"] == []


async def test_a_failing_test_event_is_retried_like_any_message(api: Api, receiver: Any) -> None:
    rec = await receiver([500, 200])
    endpoint = await add_endpoint(api, rec.url)
    sent = await (await send_test(api, endpoint["id"])).json()  # default type: v1.engagement.created
    assert sent["event"]["type"] == "v1.engagement.created"
    await api.advance(10)
    assert [r.headers["svix-id"] for r in rec.received] == [sent["svix_id"]] * 2
    assert [d["status"] for d in await deliveries(api, svix_id=sent["svix_id"])] == ["failed", "succeeded"]


async def test_send_test_errors(api: Api, receiver: Any) -> None:
    await problem(await send_test(api, "whep_nope"), 404, "not_found")
    endpoint = await add_endpoint(api, (await receiver()).url)
    body = await problem(await send_test(api, endpoint["id"], event_type="v1.nope"), 422, "validation_failed")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("event_type", "invalid_enum")]
