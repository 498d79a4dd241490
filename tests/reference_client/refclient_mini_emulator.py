"""A deliberately tiny stand-in for fake-askelephant: one pipeline timeline, one webhook, admin clock.

Only what the demo touches: create (201/200 by external_id), GET with expand, the transcript
timeline, ``/__admin`` health/clock/advance/webhook-endpoints, and a Svix-signed transcript
webhook delivered during ``advance`` (like the emulator). Stage times follow pipeline.md §3's
example: transcript at +60 s, action items at +125 s, signals (and COMPLETED) at +190 s.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

TRANSCRIPT_AT, ACTION_ITEMS_AT, SIGNALS_AT = 60, 125, 190
SECRET = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYX"


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class MiniEmulator:
    def __init__(self, *, transcription_fails: bool = False, suppress_webhook: bool = False) -> None:
        self.now = datetime(2026, 3, 9, 11, 59, tzinfo=UTC)
        self.transcription_fails = transcription_fails
        self.suppress_webhook = suppress_webhook
        self.engagements: dict[str, dict[str, Any]] = {}  # id -> {"created": dt, "body": request, "sent": bool}
        self.by_external_id: dict[str, str] = {}
        self.endpoints: dict[str, dict[str, Any]] = {}
        self.deleted_endpoints: list[str] = []
        self.deliveries: list[int] = []
        self._ids = itertools.count(1)
        self.server: TestServer | None = None

    @property
    def base_url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/api"))

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/__admin/health", self.health)
        app.router.add_get("/__admin/clock", self.clock)
        app.router.add_post("/__admin/clock/advance", self.advance)
        app.router.add_post("/__admin/webhook-endpoints", self.add_endpoint)
        app.router.add_delete("/__admin/webhook-endpoints/{id}", self.delete_endpoint)
        app.router.add_post("/api/v2/engagements", self.create)
        app.router.add_get("/api/v2/engagements/{id}", self.get)
        app.router.add_get("/api/v2/engagements/{id}/transcript_timeline", self.timeline)
        self.server = TestServer(app, host="127.0.0.1", port=0)
        await self.server.start_server()

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    def _clock_body(self) -> dict[str, Any]:
        return {"now": iso(self.now), "time_scale": 0.0}

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "version": "mini", "seed": 1, **self._clock_body()})

    async def clock(self, request: web.Request) -> web.Response:
        return web.json_response(self._clock_body())

    async def advance(self, request: web.Request) -> web.Response:
        self.now += timedelta(seconds=(await request.json())["seconds"])
        for engagement_id, record in self.engagements.items():
            due = self.now >= record["created"] + timedelta(seconds=TRANSCRIPT_AT)
            if due and not record["sent"] and not self.transcription_fails and not self.suppress_webhook:
                record["sent"] = True
                await self._deliver(engagement_id, record)
        return web.json_response(self._clock_body())

    async def _deliver(self, engagement_id: str, record: dict[str, Any]) -> None:
        created_at = record["created"] + timedelta(seconds=TRANSCRIPT_AT)
        envelope = {
            "id": f"evt_{engagement_id[5:]}",
            "type": "v1.engagement.transcript_timeline.completed",
            "api_version": "v1",
            "created_at": iso(created_at),
            "workspace_id": "wrks_local",
            "data": {"object": self._view(engagement_id, expand=()), "previous_attributes": {}},
        }
        body = json.dumps(envelope, separators=(",", ":")).encode()
        for endpoint in self.endpoints.values():
            msg_id, ts = f"msg_{engagement_id[5:]}", int(time.time())
            key = base64.b64decode(endpoint["secret"].removeprefix("whsec_"))
            digest = hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
            headers = {
                "svix-id": msg_id,
                "svix-timestamp": str(ts),
                "svix-signature": "v1," + base64.b64encode(digest).decode(),
                "content-type": "application/json",
            }
            async with aiohttp.ClientSession() as session:
                for _ in range(2):  # a duplicate delivery, as Svix may send
                    async with session.post(endpoint["url"], data=body, headers=headers) as response:
                        self.deliveries.append(response.status)

    async def add_endpoint(self, request: web.Request) -> web.Response:
        body = await request.json()
        endpoint = {
            "id": f"ep_{len(self.endpoints) + 1}",
            "url": body["url"],
            "secret": SECRET,
            "event_types": body.get("event_types"),
            "workspace_id": "wrks_local",
            "disabled": False,
        }
        self.endpoints[endpoint["id"]] = endpoint
        return web.json_response(endpoint, status=201)

    async def delete_endpoint(self, request: web.Request) -> web.Response:
        self.endpoints.pop(request.match_info["id"])
        self.deleted_endpoints.append(request.match_info["id"])
        return web.Response(status=204)

    async def create(self, request: web.Request) -> web.Response:
        body = await request.json()
        existing = self.by_external_id.get(body["external_id"])
        if existing is not None:
            return web.json_response(self._view(existing, expand=()), status=200)
        engagement_id = f"ngmt_{next(self._ids):026d}"
        self.engagements[engagement_id] = {"created": self.now, "body": body, "sent": False}
        self.by_external_id[body["external_id"]] = engagement_id
        return web.json_response(self._view(engagement_id, expand=()), status=201)

    async def get(self, request: web.Request) -> web.Response:
        engagement_id = request.match_info["id"]
        if engagement_id not in self.engagements:
            return web.json_response({"status": 404, "title": "Not Found"}, status=404)
        expand = request.query.get("expand", "").split(",")
        return web.json_response(self._view(engagement_id, expand=expand))

    async def timeline(self, request: web.Request) -> web.Response:
        engagement_id = request.match_info["id"]
        if self._elapsed(engagement_id) < TRANSCRIPT_AT or self.transcription_fails:
            return web.json_response({"status": 404, "title": "Not Found"}, status=404)
        return web.json_response(
            {
                "object": "transcript_timeline",
                "engagement_id": engagement_id,
                "speakers": [{"speaker_index": 0, "name": "Alice Smith", "is_owner": True}],
                "entries": [{"speaker_index": 0, "start_seconds": 0, "end_seconds": 2, "text": "Hi Jane"}],
                "overall_sentiment": None,
            }
        )

    def _elapsed(self, engagement_id: str) -> float:
        return (self.now - self.engagements[engagement_id]["created"]).total_seconds()

    def _view(self, engagement_id: str, *, expand: Any) -> dict[str, Any]:
        record = self.engagements[engagement_id]
        elapsed = self._elapsed(engagement_id)
        if self.transcription_fails and elapsed >= TRANSCRIPT_AT:
            status = "FAILED"
        elif elapsed >= SIGNALS_AT:
            status = "COMPLETED"
        else:
            status = "PROCESSING" if elapsed >= 3 else "PENDING"
        created = iso(record["created"])
        view: dict[str, Any] = {
            "object": "engagement",
            "id": engagement_id,
            "title": record["body"]["title"],
            "engagement_type": "CALL",
            "processing_status": status,
            "is_private": False,
            "is_internal": False,
            "created_at": created,
            "updated_at": created,
            "start_at": record["body"].get("start_at", created),
            "engagement_at": record["body"].get("start_at", created),
            "owner_user_id": "usr_local",
            "external_url": record["body"].get("external_url"),
        }
        ok = not self.transcription_fails
        if "action_items" in expand:
            ready = ok and elapsed >= ACTION_ITEMS_AT
            view["action_items"] = [{"id": "actitm_1", "title": "Send pricing proposal"}] if ready else []
        if "signals" in expand:
            ready = ok and elapsed >= SIGNALS_AT
            view["signals"] = [{"id": "sgnl_1", "type": "pricing", "quote": "annual billing?"}] if ready else []
        return view
