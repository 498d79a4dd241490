"""Opt-in hazards do what they say, and each is marked in the delivery log (pipeline.md §5, §7)."""

from __future__ import annotations

import json
import time
from typing import Any

from svix.webhooks import Webhook, WebhookVerificationError

from fake_askelephant.core.timefmt import parse_iso
from tests.conftest import Api
from tests.webhooks.test_delivery import add_endpoint, deliveries, sink_requests


async def hazard_endpoint(api: Api, name: str, **hazards: float) -> dict[str, Any]:
    return await add_endpoint(api, f"http://x/__admin/sink/{name}", hazards=hazards)


async def test_duplicate_delivers_the_same_svix_id_twice(api: Api) -> None:
    await hazard_endpoint(api, "dup", duplicate=1.0)
    await api.create(participants=[])  # one message: no contacts to announce
    await api.advance(1)
    received = await sink_requests(api, "dup")
    assert len(received) == 2 and received[0]["headers"]["svix-id"] == received[1]["headers"]["svix-id"]
    assert received[0]["body"] == received[1]["body"]
    assert [a["kind"] for a in await deliveries(api)] == ["scheduled", "duplicate"]


async def test_stale_timestamp_fails_verification_and_is_retried_fresh(api: Api) -> None:
    endpoint = await hazard_endpoint(api, "stale", stale_timestamp=1.0)
    await api.client.put("/__admin/sink/stale", json={"statuses": [401]})
    await api.create()
    await api.advance(1)
    first = (await sink_requests(api, "stale"))[0]
    assert time.time() - int(first["headers"]["svix-timestamp"]) > 300
    assert first["verified"] is False and "too old" in first["verification"]
    try:
        Webhook(endpoint["secret"]).verify(first["body"].encode(), first["headers"])
    except WebhookVerificationError as exc:
        assert "too old" in str(exc).lower()
    else:
        raise AssertionError("svix accepted a stale timestamp")
    assert (await deliveries(api))[0]["hazard"] == "stale_timestamp"


async def test_wrong_secret_and_body_altered_fail_verification(api: Api) -> None:
    wrong = await hazard_endpoint(api, "wrong", wrong_secret=1.0)
    altered = await hazard_endpoint(api, "altered", body_altered=1.0)
    await api.create()
    await api.advance(1)
    for name, endpoint, hazard in (("wrong", wrong, "wrong_secret"), ("altered", altered, "body_altered")):
        got = (await sink_requests(api, name))[0]
        assert got["verified"] is False and got["verification"] == "no matching signature"
        try:
            Webhook(endpoint["secret"]).verify(got["body"].encode(), got["headers"])
        except WebhookVerificationError:
            pass
        else:
            raise AssertionError(f"{hazard} verified")
        assert (await deliveries(api, endpoint_id=endpoint["id"]))[0]["hazard"] == hazard
    assert json.loads((await sink_requests(api, "altered"))[0]["body"])["tampered"] is True


async def test_out_of_order_holds_a_message_until_the_next_one(api: Api) -> None:
    await add_endpoint(api, "http://x/__admin/sink/ooo", hazards={"out_of_order": 1.0})
    await add_endpoint(api, "http://x/__admin/sink/inorder")
    await api.create()
    await api.advance(600)
    ooo = [json.loads(r["body"]) for r in await sink_requests(api, "ooo")]
    normal = [json.loads(r["body"]) for r in await sink_requests(api, "inorder")]
    assert sorted(e["id"] for e in ooo) == sorted(e["id"] for e in normal)  # nothing lost
    assert [e["id"] for e in ooo] != [e["id"] for e in normal]  # but not in emission order
    assert any(a["hazard"] == "out_of_order" for a in await deliveries(api))


async def test_delay_first_attempt(api: Api) -> None:
    await hazard_endpoint(api, "late", delay_first_attempt_seconds=90)
    await api.create()
    await api.advance(89)
    assert await sink_requests(api, "late") == []
    await api.advance(1)
    received = await sink_requests(api, "late")
    assert len(received) >= 1
    first = (await deliveries(api))[0]
    assert first["hazard"] == "delay_first_attempt"
    assert parse_iso(first["virtual_time"]) - parse_iso((await sink_requests(api, "late"))[0]["virtual_time"]) == 0


async def test_hazard_probabilities_are_seeded(make_api: Any) -> None:
    async def run() -> list[bool]:
        api = await make_api()
        await hazard_endpoint(api, "half", duplicate=0.5)
        for i in range(20):
            await api.create(external_id=f"c{i}")
        await api.advance(1)
        return [a["kind"] == "duplicate" for a in await deliveries(api)]

    first, second = await run(), await run()
    assert first == second and 0 < sum(first) < 20
