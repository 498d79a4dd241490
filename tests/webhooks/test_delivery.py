"""Delivery over real loopback HTTP and to the built-in sink: retries, timeouts, disabling, rotation, log."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook as StandardWebhook
from svix.webhooks import Webhook

from fake_askelephant.app import create_app
from fake_askelephant.core.timefmt import parse_iso
from fake_askelephant.webhooks.transport import SendResult
from tests.conftest import T0, Api, frozen_settings, problem

TRANSCRIPT = "v1.engagement.transcript_timeline.completed"
DAY = 86_400


async def add_endpoint(api: Api, url: str, **extra: Any) -> dict[str, Any]:
    resp = await api.client.post("/__admin/webhook-endpoints", json={"url": url, **extra})
    assert resp.status == 201, await resp.text()
    return await resp.json()


async def deliveries(api: Api, **filters: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {"limit": "100", **filters, **({"cursor": cursor} if cursor else {})}
        page = await (await api.client.get("/__admin/deliveries", params=query)).json()
        items += page["data"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


async def sink_requests(api: Api, name: str) -> list[dict[str, Any]]:
    return (await (await api.client.get(f"/__admin/sink/{name}/requests")).json())["data"]


async def test_seed_flow_end_to_end_against_a_real_receiver(api: Api, receiver: Any) -> None:
    rec = await receiver([500, 500, 200])
    endpoint = await add_endpoint(api, rec.url, event_types=[TRANSCRIPT])
    eid = (await (await api.create()).json())["id"]
    await api.advance(600)
    assert len(rec.received) == 3
    ids = {r.headers["svix-id"] for r in rec.received}
    assert len(ids) == 1
    for r in rec.received:
        Webhook(endpoint["secret"]).verify(r.body, r.headers)  # the official verifier accepts every attempt
        assert r.headers["Content-Type"] == "application/json"
        assert r.headers["User-Agent"].startswith("Svix-Webhooks/fake-askelephant-")
    payload = json.loads(rec.received[-1].body)
    assert payload["type"] == TRANSCRIPT and payload["data"]["object"]["id"] == eid
    assert payload["data"]["object"]["external_url"] == "https://my-dialer.example.com/calls/call-20260513-001"
    attempts = await deliveries(api, type=TRANSCRIPT)
    t = parse_iso(attempts[0]["virtual_time"])
    assert [parse_iso(a["virtual_time"]) - t for a in attempts] == [0, 5_000, 305_000]
    assert [a["response_status_code"] for a in attempts] == [500, 500, 200]
    assert [a["status"] for a in attempts] == ["failed", "failed", "succeeded"]
    assert attempts[0]["next_attempt_at"] == attempts[1]["virtual_time"] and attempts[2]["next_attempt_at"] is None
    assert {a["svix_id"] for a in attempts} == ids


async def test_full_retry_ladder_then_give_up(api: Api, receiver: Any) -> None:
    rec = await receiver([503])
    await add_endpoint(api, rec.url, event_types=["v1.engagement.created"])
    await api.create()
    await api.advance(2 * DAY)
    attempts = await deliveries(api)
    offsets = [(parse_iso(a["virtual_time"]) - T0) // 1000 for a in attempts]
    assert offsets == [0, 5, 305, 2105, 9305, 27305, 63305, 99305]  # 27 h 35 min 5 s in all
    assert attempts[-1]["next_attempt_at"] is None and len(rec.received) == 8


async def test_svix_timestamp_is_wall_time_even_days_later(api: Api, receiver: Any) -> None:
    rec = await receiver([500, 500, 500, 500, 500, 200])
    endpoint = await add_endpoint(api, rec.url, event_types=["v1.engagement.created"])
    await api.create()
    await api.advance(3 * DAY)
    assert len(rec.received) == 6
    for r in rec.received:
        assert abs(int(r.headers["svix-timestamp"]) - time.time()) < 60
        Webhook(endpoint["secret"]).verify(r.body, r.headers)
    assert len({r.body for r in rec.received}) == 1  # the same bytes every attempt


async def test_timeout_counts_as_failure(make_api: Any, receiver: Any) -> None:
    api = await make_api()
    api.emulator.webhooks.timeout_s = 0.2  # the real limit is 15 s; shortened so the test stays fast
    rec = await receiver([200])
    rec.stall = asyncio.Event()
    await add_endpoint(api, rec.url, event_types=["v1.engagement.created"])
    await api.create()
    await api.advance(1)
    rec.stall.set()
    first = (await deliveries(api))[0]
    assert first["status"] == "failed" and first["response_status_code"] is None
    assert first["error"].startswith("timeout")
    await api.advance(5)
    assert [a["status"] for a in await deliveries(api)] == ["failed", "succeeded"]


async def test_redirects_and_refused_connections_fail(api: Api, receiver: Any) -> None:
    rec = await receiver([302, 200])
    await add_endpoint(api, rec.url, event_types=["v1.engagement.created"])
    await add_endpoint(api, "http://127.0.0.1:9/closed", event_types=["v1.engagement.created"])
    await api.create()
    await api.advance(1)
    by_url = {a["url"]: a for a in await deliveries(api)}
    assert by_url[rec.url]["status"] == "failed" and "redirect" in by_url[rec.url]["error"]
    assert by_url["http://127.0.0.1:9/closed"]["response_status_code"] is None
    assert "connection" in by_url["http://127.0.0.1:9/closed"]["error"]


async def test_one_stalled_endpoint_does_not_block_another(make_api: Any, receiver: Any) -> None:
    api = await make_api()
    api.emulator.webhooks.timeout_s = 2
    slow, fast = await receiver([200]), await receiver([200])
    slow.stall = asyncio.Event()
    await add_endpoint(api, slow.url, event_types=["v1.engagement.created"])
    await add_endpoint(api, fast.url, event_types=["v1.engagement.created"])
    await api.create()  # the created event goes out to both at once
    # The fast receiver is answered while the slow one still hangs: no head-of-line blocking.
    await asyncio.wait_for(fast.arrived.wait(), timeout=5)
    assert slow.received and not slow.stall.is_set()
    slow.stall.set()
    await api.advance(0)
    assert {a["status"] for a in await deliveries(api)} == {"succeeded"}


async def test_sink_status_sequence_and_verification(api: Api) -> None:
    base = str(api.client.make_url("/__admin/sink/ci"))
    await api.client.put("/__admin/sink/ci", json={"statuses": [500, 500, 200]})
    endpoint = await add_endpoint(api, base, event_types=[TRANSCRIPT])
    await api.create()
    await api.advance(600)
    received = await sink_requests(api, "ci")
    assert [r["response_status"] for r in received] == [500, 500, 200]
    assert all(r["verified"] for r in received)
    assert len({r["headers"]["svix-id"] for r in received}) == 1
    for r in received:
        Webhook(endpoint["secret"]).verify(r["body"].encode(), r["headers"])


async def test_sink_delay_over_15_virtual_seconds_times_out(api: Api) -> None:
    await api.client.put("/__admin/sink/slow", json={"statuses": [200], "delay_seconds": 20})
    await add_endpoint(api, str(api.client.make_url("/__admin/sink/slow")), event_types=["v1.engagement.created"])
    await api.create()
    await api.advance(30)
    attempts = await deliveries(api)
    assert [a["status"] for a in attempts] == ["failed", "failed"]
    assert parse_iso(attempts[1]["virtual_time"]) - parse_iso(attempts[0]["virtual_time"]) == 20_000  # 15 s + 5 s


async def test_thousand_deliveries_to_the_sink_without_loss(api: Api) -> None:
    await add_endpoint(api, "http://fake-askelephant:8787/__admin/sink/bulk", event_types=["v1.engagement.created"])
    for i in range(1000):
        await api.create(external_id=f"bulk-{i}")
    await api.advance(1)
    received = await sink_requests(api, "bulk")
    ids = Counter(r["headers"]["svix-id"] for r in received)
    assert len(ids) == 1000 and set(ids.values()) == {1}
    assert all(r["verified"] for r in received)


async def test_event_type_filter_and_workspace_scoping(api: Api) -> None:
    await add_endpoint(api, "http://x/__admin/sink/all")
    await add_endpoint(api, "http://x/__admin/sink/transcripts", event_types=[TRANSCRIPT])
    await add_endpoint(api, "http://x/__admin/sink/other-ws", workspace_id="wrks_other")
    await api.create()
    await api.advance(600)
    every = [json.loads(r["body"])["type"] for r in await sink_requests(api, "all")]
    # Both participants become contacts first (api.md §5, pipeline.md §3).
    assert every[:3] == ["v1.contact.created", "v1.contact.created", "v1.engagement.created"]
    assert TRANSCRIPT in every and len(every) == 8
    assert [json.loads(r["body"])["type"] for r in await sink_requests(api, "transcripts")] == [TRANSCRIPT]
    assert await sink_requests(api, "other-ws") == []


async def test_disabled_after_five_days_of_failure_then_recovered(api: Api) -> None:
    await api.client.put("/__admin/sink/down", json={"statuses": [500]})
    endpoint = await add_endpoint(api, "http://x/__admin/sink/down", event_types=["v1.engagement.created"])
    for day in range(6):
        await api.create(external_id=f"day-{day}")
        await api.advance(DAY)
    state = await (await api.client.get(f"/__admin/webhook-endpoints/{endpoint['id']}")).json()
    assert state["disabled"] is True
    last = (await deliveries(api))[-1]
    assert parse_iso(last["virtual_time"]) - T0 >= 5 * DAY * 1000
    count = len(await sink_requests(api, "down"))
    await api.create(external_id="while-disabled")
    await api.advance(DAY)
    assert len(await sink_requests(api, "down")) == count  # new messages skipped

    await api.client.put("/__admin/sink/down", json={"statuses": [200]})
    resp = await api.client.post(f"/__admin/webhook-endpoints/{endpoint['id']}/recover")
    body = await resp.json()
    assert body["disabled"] is False and body["resent"] >= 1
    await api.advance(1)
    received = await sink_requests(api, "down")
    assert received[-1]["response_status"] == 200
    await api.create(external_id="after-recovery")
    await api.advance(1)
    assert json.loads((await sink_requests(api, "down"))[-1]["body"])["type"] == "v1.engagement.created"


async def test_rotation_carries_both_signatures_for_24_hours(api: Api, receiver: Any) -> None:
    rec = await receiver([200])
    endpoint = await add_endpoint(api, rec.url, event_types=["v1.engagement.created"])
    old = endpoint["secret"]
    rotated = await (await api.client.post(f"/__admin/webhook-endpoints/{endpoint['id']}/rotate-secret")).json()
    new = rotated["secret"]
    assert new != old and new.startswith("whsec_")
    await api.create(external_id="during-grace")
    await api.advance(1)
    headers = rec.received[-1].headers
    assert len(headers["svix-signature"].split()) == 2
    Webhook(old).verify(rec.received[-1].body, headers)
    Webhook(new).verify(rec.received[-1].body, headers)
    await api.advance(DAY)
    await api.create(external_id="after-grace")
    await api.advance(1)
    assert len(rec.received[-1].headers["svix-signature"].split()) == 1
    Webhook(new).verify(rec.received[-1].body, rec.received[-1].headers)


async def test_webhook_header_style(api: Api, receiver: Any) -> None:
    rec = await receiver([200])
    endpoint = await add_endpoint(api, rec.url, event_types=["v1.engagement.created"], header_style="webhook")
    await api.create()
    await api.advance(1)
    headers = rec.received[0].headers
    assert "svix-id" not in {k.lower() for k in headers}
    StandardWebhook(endpoint["secret"]).verify(rec.received[0].body, headers)


async def test_resend_is_one_attempt_with_the_same_svix_id(api: Api) -> None:
    await add_endpoint(api, "http://x/__admin/sink/r", event_types=["v1.engagement.created"])
    await api.create()
    await api.advance(1)
    first = (await deliveries(api))[0]
    resp = await api.client.post(f"/__admin/deliveries/{first['svix_id']}/resend")
    assert resp.status == 202
    attempts = await deliveries(api)
    assert [a["kind"] for a in attempts] == ["scheduled", "resend"] and attempts[1]["svix_id"] == first["svix_id"]
    assert attempts[1]["attempt"] == 2
    await problem(await api.client.post("/__admin/deliveries/msg_nope/resend"), 404, "not_found")


async def test_delivery_log_filters_and_paging(api: Api) -> None:
    await add_endpoint(api, "http://x/__admin/sink/a")
    eids = [(await (await api.create(external_id=f"c{i}")).json())["id"] for i in range(3)]
    await api.advance(600)
    everything = await deliveries(api)
    assert len(everything) == 2 + 18  # the first call's two participants became contacts; the others reuse them
    mine = await deliveries(api, engagement_id=eids[1])
    assert len(mine) == 6 and {a["engagement_id"] for a in mine} == {eids[1]}
    assert len(await deliveries(api, type=TRANSCRIPT)) == 3
    assert await deliveries(api, status="failed") == []
    page = await (await api.client.get("/__admin/deliveries?limit=5")).json()
    assert len(page["data"]) == 5 and page["has_more"]
    await problem(await api.client.get("/__admin/deliveries?status=weird"), 422, "validation_failed")


async def test_delivery_log_is_bounded(make_api: Any) -> None:
    api = await make_api()
    api.emulator.webhooks.log = type(api.emulator.webhooks.log)(maxlen=50)
    await add_endpoint(api, "http://x/__admin/sink/b", event_types=["v1.engagement.created"])
    for i in range(120):
        await api.create(external_id=f"c{i}")
    await api.advance(1)
    assert len(await deliveries(api)) == 50


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"url": "ftp://x"}, "url", "invalid_url"),
        ({"url": "http://x", "secret": "whsec_AAECAwQF"}, "secret", "invalid_type"),
        ({"url": "http://x", "event_types": ["v1.nope"]}, "event_types", "invalid_enum"),
        ({"url": "http://x", "hazards": {"duplicate": 2}}, "hazards.duplicate", "invalid_range"),
        ({"url": "http://x", "workspace_id": "ws"}, "workspace_id", "invalid_type"),
        ({"url": "http://x", "header_style": "custom"}, "header_style", "invalid_enum"),
    ],
)
async def test_endpoint_validation(api: Api, body: dict[str, Any], field: str, code: str) -> None:
    resp = await api.client.post("/__admin/webhook-endpoints", json=body)
    errors = (await problem(resp, 422, "validation_failed"))["errors"]
    assert (field, code) in [(e["field"], e["code"]) for e in errors]


async def test_endpoint_crud(api: Api) -> None:
    given = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYX"
    endpoint = await add_endpoint(api, "http://x/__admin/sink/c", secret=given)
    assert endpoint["secret"] == given and endpoint["event_types"] is None and endpoint["disabled"] is False
    patched = await (
        await api.client.patch(f"/__admin/webhook-endpoints/{endpoint['id']}", json={"event_types": [TRANSCRIPT]})
    ).json()
    assert patched["event_types"] == [TRANSCRIPT]
    listed = await (await api.client.get("/__admin/webhook-endpoints")).json()
    assert [e["id"] for e in listed["data"]] == [endpoint["id"]]
    assert (await api.client.delete(f"/__admin/webhook-endpoints/{endpoint['id']}")).status == 204
    await problem(await api.client.get(f"/__admin/webhook-endpoints/{endpoint['id']}"), 404, "not_found")


async def test_http_post_to_the_sink_is_recorded_and_verified(api: Api) -> None:
    from fake_askelephant.webhooks.signing import sign

    secret = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYX"
    await add_endpoint(api, "http://127.0.0.1/__admin/sink/ext", secret=secret)
    ts = int(time.time())
    body = b'{"hello":"world"}'
    headers = {"svix-id": "msg_1", "svix-timestamp": str(ts), "svix-signature": sign(secret, "msg_1", ts, body)}
    resp = await api.client.post("/__admin/sink/ext", data=body, headers=headers)
    assert resp.status == 200 and (await resp.json())["verified"] is True
    bad = await api.client.post("/__admin/sink/ext", data=body + b" ", headers=headers)
    assert (await bad.json())["verified"] is False
    received = await sink_requests(api, "ext")
    assert [r["verified"] for r in received] == [True, False]
    assert received[1]["verification"] == "no matching signature"


async def test_reset_clears_deliveries_but_keeps_endpoints(api: Api) -> None:
    await add_endpoint(api, "http://x/__admin/sink/keep")
    await api.create()
    await api.client.post("/__admin/reset")
    await api.advance(600)
    assert await deliveries(api) == []
    await api.create()
    await api.advance(1)
    # The reset cleared the contacts too, so the participants are new again.
    assert [a["type"] for a in await deliveries(api)] == ["v1.contact.created"] * 2 + ["v1.engagement.created"]
    await api.client.post("/__admin/reset?all=true")
    assert (await (await api.client.get("/__admin/webhook-endpoints")).json())["data"] == []


async def test_create_app_takes_a_sender_for_every_url_but_the_sink(aiohttp_client: Any) -> None:
    """The `sender=` seam (STYLE.md): an embedder's transport gets the signed POSTs; the built-in sink still
    receives in-process."""
    sent: list[tuple[str, dict[str, str], bytes]] = []
    timeouts: list[float] = []

    class RecordingSender:
        async def send(self, url: str, headers: dict[str, str], body: bytes, timeout_s: float) -> SendResult:
            sent.append((url, headers, body))
            timeouts.append(timeout_s)
            return SendResult(204, None, 1.0)

    app = create_app(frozen_settings(), sender=RecordingSender())
    api = Api(await aiohttp_client(app), app)
    outside = await add_endpoint(api, "https://receiver.example/hooks", event_types=["v1.engagement.created"])
    await add_endpoint(api, "http://emulator/__admin/sink/local", event_types=["v1.engagement.created"])
    eid = (await (await api.create()).json())["id"]
    await api.advance(1)
    assert [url for url, _, _ in sent] == ["https://receiver.example/hooks"]
    assert timeouts == [15.0]  # every attempt gets 15 s (webhooks.md §6)
    _, headers, body = sent[0]
    Webhook(outside["secret"]).verify(body, headers)
    assert json.loads(body)["data"]["object"]["id"] == eid
    assert [r["verified"] for r in await sink_requests(api, "local")] == [True]
    by_url = {a["url"]: a for a in await deliveries(api)}
    assert by_url["https://receiver.example/hooks"]["response_status_code"] == 204
