"""End to end with the emulator's webhook dispatcher and fault injection.

These use ``/__admin/webhook-endpoints`` and ``/__admin/faults`` (pipeline.md §6–7).
"""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from reference_client import (
    TRANSCRIPT_COMPLETED,
    AskElephantClient,
    InsightsOutcome,
    RetryPolicy,
    WebhookEventOut,
    create_webhook_app,
    webhook_receiver,
)
from reference_client.cli import main
from reference_client.emulator import EmulatorAdmin, EmulatorClock, admin_base_url
from tests.reference_client.refclient_stubs import EMULATOR_KEY, SEED_REQUEST


async def admin_request(admin_url: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    url = f"{admin_url}/__admin{path}"
    async with aiohttp.ClientSession() as session, session.request(method, url, json=body) as response:
        return response.status, await response.json(content_type=None) if response.content_length != 0 else None


@pytest.fixture
def admin_url(emulator_server: TestServer) -> str:
    return admin_base_url(str(emulator_server.make_url("/api")))


class Receiver:
    """Our receiver on a loopback port, registered with the emulator under a secret we chose."""

    def __init__(self) -> None:
        self.secret = "whsec_" + base64.b64encode(os.urandom(24)).decode()
        self.events: list[WebhookEventOut] = []
        self.server = TestServer(create_webhook_app(self.secret, self._record), host="127.0.0.1", port=0)

    async def _record(self, event: WebhookEventOut) -> None:
        self.events.append(event)

    @property
    def url(self) -> str:
        return str(self.server.make_url("/webhooks"))

    async def drain(self) -> None:
        await self.server.app[webhook_receiver].drain()


@pytest.fixture
async def receiver(admin_url: str) -> AsyncIterator[Receiver]:
    instance = Receiver()
    await instance.server.start_server()
    yield instance
    await instance.server.close()


async def register(admin_url: str, receiver: Receiver, **extra: Any) -> dict[str, Any]:
    body = {"url": receiver.url, "secret": receiver.secret, "event_types": [TRANSCRIPT_COMPLETED], **extra}
    status, endpoint = await admin_request(admin_url, "POST", "/webhook-endpoints", body)
    assert status == 201, endpoint
    assert endpoint["secret"] == receiver.secret
    return endpoint


@pytest.mark.parametrize("style", [{}, {"header_style": "webhook"}], ids=["svix-headers", "webhook-headers"])
async def test_transcript_webhook_then_insights(admin_url, receiver, emulator_server, style):
    # Svix may deliver twice; the hazard makes the emulator do it every time.
    await register(admin_url, receiver, hazards={"duplicate": 1.0}, **style)
    clock = EmulatorClock(EmulatorAdmin(admin_url))
    async with AskElephantClient(EMULATOR_KEY, str(emulator_server.make_url("/api")), clock=clock) as client:
        engagement, _ = await client.create_engagement(SEED_REQUEST)
        await clock.sleep(120)  # the transcript stage and its delivery happen inside the advance
        await receiver.drain()

        (event,) = [e for e in receiver.events if e.data.object.get("id") == engagement.id]
        assert event.type == TRANSCRIPT_COMPLETED
        assert event.engagement().external_url == SEED_REQUEST["external_url"]
        result = await client.wait_for_insights(engagement.id, since=event.created_at)
    await clock.admin.close()

    assert result.outcome is InsightsOutcome.READY
    receiving = receiver.server.app[webhook_receiver]
    assert (receiving.accepted, receiving.duplicates) == (1, 1)


async def test_wrongly_signed_deliveries_are_never_processed(admin_url, receiver, emulator_server):
    await register(admin_url, receiver, hazards={"wrong_secret": 1.0})
    clock = EmulatorClock(EmulatorAdmin(admin_url))
    async with AskElephantClient(EMULATOR_KEY, str(emulator_server.make_url("/api")), clock=clock) as client:
        await client.create_engagement(SEED_REQUEST)
        await clock.sleep(120)
    await clock.admin.close()
    await receiver.drain()

    assert receiver.events == []
    assert receiver.server.app[webhook_receiver].rejected >= 1


async def test_demo_command_against_the_in_process_emulator(admin_url, emulator_server, monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "200")

    code = await asyncio.to_thread(main, ["demo", "--base-url", str(emulator_server.make_url("/api"))])

    out = capsys.readouterr().out
    assert code == 0, out
    assert "Action items" in out and "Signals" in out and "demo complete" in out
    _, endpoints = await admin_request(admin_url, "GET", "/webhook-endpoints")
    assert not (endpoints or {}).get("data")  # the demo removed its endpoint


async def test_lost_response_is_retried_without_a_duplicate(admin_url, emulator_server):
    fault = {"method": "POST", "path": "/api/v2/engagements", "count": 1, "status": 500, "phase": "after"}
    status, body = await admin_request(admin_url, "POST", "/faults", fault)
    assert status == 201, body
    limited = {"method": "POST", "path": "/api/v2/engagements", "count": 1, "status": 429, "retry_after": 2}
    status, body = await admin_request(admin_url, "POST", "/faults", limited)
    assert status == 201, body
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    policy = RetryPolicy(sleep=record, random=lambda: 0.0)
    async with AskElephantClient(EMULATOR_KEY, str(emulator_server.make_url("/api")), retry=policy) as client:
        engagement, created = await client.create_engagement(dict(SEED_REQUEST, title="Fault probe"))
        matches = [e.id async for e in client.list_engagements(search="Fault probe")]

    # The first attempt was committed and its answer replaced by a 500; the retry found it (200).
    assert created is False
    assert matches == [engagement.id]
    assert 2.0 in waits
