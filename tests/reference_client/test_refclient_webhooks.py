"""Webhook receiver: Svix verification on raw bytes, rejection codes, de-duplication, background work."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp.test_utils import TestClient, TestServer

from reference_client import (
    TRANSCRIPT_COMPLETED,
    InMemoryDedupStore,
    WebhookEventOut,
    create_webhook_app,
    webhook_receiver,
)
from tests.reference_client.refclient_signing import OLD_SECRET, SECRET, SPEC_BODY, SPEC_MSG_ID, sign, signed_headers


def test_signer_matches_the_published_vectors():
    assert len(SPEC_BODY) == 746
    assert hashlib.sha256(SPEC_BODY).hexdigest() == ("0f5a748f8cc8ddb04e3958997daa7698d716d6329464d6bf0069537b1139ee6f")
    assert sign(SECRET, SPEC_MSG_ID, 1773057600, SPEC_BODY) == "v1,ymuh+JQtbyR794Ed0uv+rbKfar/HppnuCeERR/QRyMw="
    assert sign(OLD_SECRET, SPEC_MSG_ID, 1773057600, SPEC_BODY) == ("v1,uRUG2PjsW+ZdaOwQKqIu3H/QDWJWQ0GaM7UBzvJDgxE=")
    svix_vector = b'{"event_type":"ping","data":{"success":true}}'
    assert sign("whsec_plJ3nmyCDGBKInavdOK15jsl", "msg_loFOjxBNrRLzqYUf", 1731705121, svix_vector) == (
        "v1,rAvfW3dJ/X/qxhsaXPOyyCGmRKsaKWcsNccKXlIktD0="
    )


class Recorder:
    def __init__(self) -> None:
        self.events: list[WebhookEventOut] = []
        self.gate: asyncio.Event | None = None
        self.fail_with: Exception | None = None

    async def __call__(self, event: WebhookEventOut) -> None:
        if self.gate is not None:
            await self.gate.wait()
        if self.fail_with is not None:
            raise self.fail_with
        self.events.append(event)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def receiver_client(recorder: Recorder) -> AsyncIterator[TestClient]:
    app = create_webhook_app(SECRET, recorder)
    async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as client:
        yield client


async def post(client: TestClient, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
    response = await client.post("/webhooks", data=body, headers=headers)
    return response.status, await response.json()


async def drained(client: TestClient) -> None:
    await client.app[webhook_receiver].drain()


async def test_valid_delivery_is_acknowledged_and_processed(receiver_client, recorder):
    status, answer = await post(receiver_client, SPEC_BODY, signed_headers(SPEC_BODY))
    await drained(receiver_client)

    assert (status, answer) == (200, {"status": "accepted"})
    (event,) = recorder.events
    assert event.type == TRANSCRIPT_COMPLETED
    assert event.engagement().external_url == "wavv://call/12345"
    assert event.engagement().duration_seconds == 400


async def test_duplicate_delivery_is_processed_once(receiver_client, recorder):
    first = signed_headers(SPEC_BODY)
    # A Svix retry: same svix-id and body, fresh timestamp and signature.
    retry = signed_headers(SPEC_BODY, timestamp=int(time.time()) + 5)

    results = [await post(receiver_client, SPEC_BODY, h) for h in (first, retry, first)]
    await drained(receiver_client)

    assert [r[0] for r in results] == [200, 200, 200]
    assert [r[1]["status"] for r in results] == ["accepted", "duplicate", "duplicate"]
    assert len(recorder.events) == 1


async def test_concurrent_duplicates_are_processed_once(receiver_client, recorder):
    headers = signed_headers(SPEC_BODY)

    results = await asyncio.gather(*(post(receiver_client, SPEC_BODY, headers) for _ in range(8)))
    await drained(receiver_client)

    assert sorted(r[1]["status"] for r in results) == ["accepted"] + ["duplicate"] * 7
    assert len(recorder.events) == 1


async def test_distinct_messages_with_the_same_body_are_both_processed(receiver_client, recorder):
    await post(receiver_client, SPEC_BODY, signed_headers(SPEC_BODY, msg_id="msg_A"))
    await post(receiver_client, SPEC_BODY, signed_headers(SPEC_BODY, msg_id="msg_B"))
    await drained(receiver_client)

    assert len(recorder.events) == 2


@pytest.mark.parametrize(
    ("case", "make"),
    [
        ("wrong_secret", lambda: (SPEC_BODY, signed_headers(SPEC_BODY, secret=OLD_SECRET))),
        ("body_altered", lambda: (SPEC_BODY.replace(b"Jane", b"John"), signed_headers(SPEC_BODY))),
        ("reserialised", lambda: (json.dumps(json.loads(SPEC_BODY)).encode(), signed_headers(SPEC_BODY))),
        ("stale_301s", lambda: (SPEC_BODY, signed_headers(SPEC_BODY, timestamp=int(time.time()) - 301))),
        # svix checks against its own wall clock when the request arrives: 301 s ahead at signing time fell back
        # inside the 300 s tolerance when more than a second passed before the check (a loaded CI machine).
        ("future_330s", lambda: (SPEC_BODY, signed_headers(SPEC_BODY, timestamp=int(time.time()) + 330))),
        ("spec_vector_is_stale_now", lambda: (SPEC_BODY, signed_headers(SPEC_BODY, timestamp=1773057600))),
        (
            "timestamp_not_a_number",
            lambda: (SPEC_BODY, {**signed_headers(SPEC_BODY), "svix-timestamp": "soon"}),
        ),
    ],
)
async def test_bad_signatures_are_rejected_with_401(receiver_client, recorder, case, make):
    body, headers = make()
    if case == "spec_vector_is_stale_now" and time.time() - 1773057600 < 301:
        pytest.skip("the spec vector's timestamp is not stale yet on this machine's clock")

    status, answer = await post(receiver_client, body, headers)
    await drained(receiver_client)

    assert status == 401, case
    assert "signature verification failed" in answer["error"]
    assert recorder.events == []


@pytest.mark.parametrize(
    ("case", "make"),
    [
        ("no_headers", lambda: (SPEC_BODY, {"content-type": "application/json"})),
        (
            "no_signature",
            lambda: (SPEC_BODY, {k: v for k, v in signed_headers(SPEC_BODY).items() if "sig" not in k}),
        ),
        (
            "signature_without_comma",
            lambda: (SPEC_BODY, {**signed_headers(SPEC_BODY), "svix-signature": "v1"}),
        ),
        (
            "signature_badly_padded",
            lambda: (SPEC_BODY, {**signed_headers(SPEC_BODY), "svix-signature": "v1,abc"}),
        ),
        ("body_not_utf8", lambda: (b"\xff\xfe" + SPEC_BODY, signed_headers(b"\xff\xfe" + SPEC_BODY))),
        ("signed_but_not_an_envelope", lambda: (b'{"hello":"world"}', signed_headers(b'{"hello":"world"}'))),
    ],
)
async def test_malformed_deliveries_are_rejected_with_400(receiver_client, recorder, case, make):
    body, headers = make()

    status, _ = await post(receiver_client, body, headers)
    await drained(receiver_client)

    assert status == 400, case
    assert recorder.events == []


async def test_rejected_delivery_does_not_burn_the_message_id(receiver_client, recorder):
    await post(receiver_client, SPEC_BODY, signed_headers(SPEC_BODY, secret=OLD_SECRET))
    status, answer = await post(receiver_client, SPEC_BODY, signed_headers(SPEC_BODY))
    await drained(receiver_client)

    assert (status, answer["status"]) == (200, "accepted")
    assert len(recorder.events) == 1


async def test_standard_webhooks_header_names_are_accepted(receiver_client, recorder):
    status, _ = await post(receiver_client, SPEC_BODY, signed_headers(SPEC_BODY, prefix="webhook"))
    await drained(receiver_client)

    assert status == 200
    assert len(recorder.events) == 1


async def test_rotation_header_with_old_and_new_signatures_verifies(receiver_client, recorder):
    ts = int(time.time())
    headers = signed_headers(SPEC_BODY, timestamp=ts)
    headers["svix-signature"] = (
        f"{sign(OLD_SECRET, SPEC_MSG_ID, ts, SPEC_BODY)} v1a,ignored {headers['svix-signature']}"
    )

    status, _ = await post(receiver_client, SPEC_BODY, headers)

    assert status == 200


async def test_slow_processing_does_not_delay_the_acknowledgement(receiver_client, recorder):
    recorder.gate = asyncio.Event()  # processing blocks until the test releases it

    status, _ = await post(receiver_client, SPEC_BODY, signed_headers(SPEC_BODY))

    assert status == 200
    receiver = receiver_client.app[webhook_receiver]
    assert receiver.pending == 1 and recorder.events == []
    recorder.gate.set()
    await receiver.drain()
    assert receiver.pending == 0 and len(recorder.events) == 1


async def test_processing_errors_are_logged_and_never_change_the_answer(receiver_client, recorder, caplog):
    recorder.fail_with = RuntimeError("CRM is down")

    with caplog.at_level(logging.ERROR, logger="reference_client.webhooks"):
        status, answer = await post(receiver_client, SPEC_BODY, signed_headers(SPEC_BODY))
        await drained(receiver_client)

    assert (status, answer["status"]) == (200, "accepted")
    assert "CRM is down" in caplog.text and SPEC_MSG_ID in caplog.text
    recorder.fail_with = None
    status, _ = await post(receiver_client, SPEC_BODY, signed_headers(SPEC_BODY, msg_id="msg_next"))
    await drained(receiver_client)
    assert status == 200 and len(recorder.events) == 1


async def test_shutdown_cancels_processing_that_outlives_the_grace_period(recorder):
    recorder.gate = asyncio.Event()  # never released
    app = create_webhook_app(SECRET, recorder, drain_timeout=0)
    async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as client:
        status, _ = await post(client, SPEC_BODY, signed_headers(SPEC_BODY))
        receiver = client.app[webhook_receiver]
        assert status == 200 and receiver.pending == 1
    assert receiver.pending == 0


def test_unusable_secret_fails_at_construction():
    from reference_client import WebhookReceiver

    noop: Callable[[WebhookEventOut], Awaitable[None]] = Recorder()
    for bad in ("", "whsec_", "whsec_%%%"):
        with pytest.raises(ValueError, match="unusable webhook secret"):
            WebhookReceiver(bad, noop, dedup=InMemoryDedupStore())


async def test_sqlite_dedup_survives_a_receiver_restart(recorder, tmp_path):
    from reference_client import SqliteDedupStore

    answers = []
    for _ in range(2):  # two receiver processes sharing one database file
        store = SqliteDedupStore(tmp_path / "seen.db")
        app = create_webhook_app(SECRET, recorder, dedup=store)
        async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as client:
            answers.append((await post(client, SPEC_BODY, signed_headers(SPEC_BODY)))[1]["status"])
            await drained(client)
        store.close()

    assert answers == ["accepted", "duplicate"]
    assert len(recorder.events) == 1
