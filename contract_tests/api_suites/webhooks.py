"""Webhook deliveries from the emulator (webhooks.md §1–§5), checked with the published ``svix`` verifier."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from svix.webhooks import Webhook, WebhookVerificationError

from contract_tests.api_suites import expect
from contract_tests.api_suites.common import created, minimal_payload
from contract_tests.checks import Budget, CheckSkipped, api_check
from contract_tests.schemas import list_schemas
from contract_tests.signing import generate_secret, verify_signature_header
from contract_tests.target import Target
from contract_tests.webhook_sink import ReceivedRequest, RecordingSink

TRANSCRIPT_EVENT = "v1.engagement.transcript_timeline.completed"


def _events_for(requests: list[ReceivedRequest], engagement_id: str) -> list[dict[str, Any]]:
    out = []
    for r in requests:
        try:
            event = r.json()
        except ValueError:
            continue
        if isinstance(event, dict) and event.get("data", {}).get("object", {}).get("id") == engagement_id:
            out.append(event)
    return out


def _done(engagement_id: str) -> Callable[[list[ReceivedRequest]], bool]:
    """Predicate: the transcript event and the COMPLETED update of ``engagement_id`` have both arrived."""

    def predicate(requests: list[ReceivedRequest]) -> bool:
        events = _events_for(requests, engagement_id)
        completed = any(
            e["type"] == "v1.engagement.updated" and e["data"]["object"]["processing_status"] == "COMPLETED"
            for e in events
        )
        return completed and any(e["type"] == TRANSCRIPT_EVENT for e in events)

    return predicate


def verify_delivery(target: Target, secret: str, request: ReceivedRequest, workspace_id: str) -> dict[str, Any]:
    """Signature (svix and the stdlib signer agree), headers, compact body, schema of its event type."""
    what = f"delivery {request.headers.get('svix-id')}"
    assert request.method == "POST", f"{what}: method {request.method}"
    assert request.headers.get("Content-Type", "").split(";")[0] == "application/json", f"{what}: not application/json"
    for header in ("svix-id", "svix-timestamp", "svix-signature"):
        assert header in request.headers, f"{what}: no {header} header (webhooks.md §4)"
    try:
        Webhook(secret).verify(request.body, dict(request.headers))
    except (WebhookVerificationError, ValueError) as exc:
        raise AssertionError(f"{what}: svix rejects the signature over the raw body: {exc}") from exc
    assert verify_signature_header(
        secret,
        request.headers["svix-id"],
        int(request.headers["svix-timestamp"]),
        request.body,
        request.headers["svix-signature"],
    ), f"{what}: no v1 entry matches HMAC-SHA256 over the raw body (webhooks.md §5)"
    event: dict[str, Any] = request.json()
    expect.matches_schema(target, "webhook_envelope", event, what)
    schema = "event_" + event["type"].removeprefix("v1.").replace(".", "_")
    if schema in list_schemas():
        expect.matches_schema(target, schema, event, what)
    assert event["workspace_id"] == workspace_id, f"{what}: workspace_id {event['workspace_id']}, want {workspace_id}"
    compact = json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    expect.choice(target, request.body == compact, f"{what}: body is not compact UTF-8 JSON (webhooks.md §2)")
    return event


def assert_engagement_story(events: list[dict[str, Any]], external_url: str, what: str) -> None:
    """created once (first), transcript event once, updates carry exactly the changed fields' old values."""
    by_svix: dict[str, dict[str, Any]] = {}
    types = [e["type"] for e in events]
    assert types.count("v1.engagement.created") == 1, f"{what}: {types.count('v1.engagement.created')} created events"
    assert types[0] == "v1.engagement.created", f"{what}: first event is {types[0]}"
    assert types.count(TRANSCRIPT_EVENT) == 1, f"{what}: {types.count(TRANSCRIPT_EVENT)} transcript events: {types}"
    transcript = next(e for e in events if e["type"] == TRANSCRIPT_EVENT)
    assert transcript["data"]["object"].get("external_url") == external_url, (
        f"{what}: transcript event lacks the external_url given at create (seed)"
    )
    for e in events:
        by_svix.setdefault(e["id"], e)
        assert by_svix[e["id"]] == e, f"{what}: event {e['id']} delivered twice with different bodies"
        if e["type"] != "v1.engagement.updated":
            continue
        obj, previous = e["data"]["object"], e["data"]["previous_attributes"]
        for key, old in previous.items():
            assert obj.get(key) != old, f"{what}: updated event lists unchanged {key}={old!r} in previous_attributes"


@api_check("webhooks", needs_admin=True)
def check_webhook_deliveries(target: Target, budget: Budget) -> None:
    """Events reach a subscribed endpoint signed over raw bytes, schema-valid; a replay emits nothing."""
    secret = generate_secret()
    workspace = target.new_workspace()
    with RecordingSink(target.http.loop_thread) as sink:
        resp = target.admin(
            "POST",
            "/webhook-endpoints",
            {"url": sink.url, "secret": secret, "workspace_id": workspace.workspace_id},
        )
        if resp.status == 404:
            raise CheckSkipped("this emulator has no /__admin/webhook-endpoints yet")
        expect.status(resp, 201)
        endpoint = resp.json()
        try:
            external_url = "wavv://call/contract-" + target.run_id
            payload = minimal_payload(target, target.fresh_external_id(), external_url=external_url)
            engagement = created(target, workspace.client.create_engagement(payload))
            expect.status(workspace.client.create_engagement({**payload, "title": "replayed"}), 200)
            target.advance(3600)
            finished = sink.wait_for(_done(engagement["id"]), timeout=15)
            requests = list(sink.requests)
        finally:
            target.admin("DELETE", f"/webhook-endpoints/{endpoint['id']}")
    assert endpoint["secret"] == secret, "the endpoint did not keep the secret it was given"
    assert requests, "no webhook arrived after create + one virtual hour"
    events = [verify_delivery(target, secret, r, workspace.workspace_id) for r in requests]
    mine = [e for e in events if e["data"]["object"].get("id") == engagement["id"]]
    assert finished, f"no COMPLETED update for {engagement['id']} arrived; got {[e['type'] for e in mine]}"
    assert_engagement_story(mine, external_url, f"events of {engagement['id']}")
