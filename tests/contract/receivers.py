"""Webhook receivers for testing the receiver kit: one correct, one naive, and each single-flaw variant."""

from __future__ import annotations

import asyncio
import base64
import json
from collections import Counter
from dataclasses import dataclass, field

from aiohttp import web
from svix.webhooks import Webhook, WebhookVerificationError

HOOK_PATH = "/hooks/askelephant"
PROBE_PATH = "/hooks/askelephant/probe"


@dataclass
class ReceiverState:
    """What a receiver did: accepted-for-processing counts by svix-id."""

    processed: Counter[str] = field(default_factory=Counter)
    seen: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Flaws:
    """Each flag removes one thing a correct receiver does (webhooks.md §7)."""

    verify: bool = True
    dedupe: bool = True
    raw_body: bool = True
    catch_value_error: bool = True
    only_first_signature: bool = False
    hang: bool = False


def _parse_signature_headers(headers: dict[str, str]) -> None:
    """Decode the timestamp and every v1 signature as a hand-written receiver would: ValueError when malformed."""
    lowered = {k.lower(): v for k, v in headers.items()}
    int(lowered.get("svix-timestamp") or lowered.get("webhook-timestamp") or "")
    for entry in (lowered.get("svix-signature") or lowered.get("webhook-signature") or "").split(" "):
        version, value = entry.split(",", 1)
        if version == "v1":
            base64.b64decode(value, validate=True)


def build_receiver(secret: str, flaws: Flaws = Flaws()) -> tuple[web.Application, ReceiverState]:
    """An aiohttp app serving ``HOOK_PATH`` (deliveries) and ``PROBE_PATH`` (processed counts)."""
    state = ReceiverState()
    never = asyncio.Event()

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        headers = dict(request.headers)
        if flaws.hang:
            await never.wait()
        if flaws.verify:
            signed = body if flaws.raw_body else json.dumps(json.loads(body), separators=(",", ":")).encode()
            if flaws.only_first_signature:
                for name in ("svix-signature", "webhook-signature"):
                    for key in (k for k in headers if k.lower() == name):
                        headers[key] = headers[key].split(" ")[0]
            try:
                _parse_signature_headers(headers)
            except ValueError:
                if not flaws.catch_value_error:
                    raise  # a receiver that decodes the headers itself and lets the error escape: HTTP 500
                return web.json_response({"error": "malformed webhook headers"}, status=400)
            try:
                Webhook(secret).verify(signed, headers)
            except WebhookVerificationError:
                return web.json_response({"error": "invalid signature"}, status=401)
        msg_id = request.headers.get("svix-id") or request.headers.get("webhook-id") or ""
        if not flaws.dedupe or msg_id not in state.seen:
            state.seen.add(msg_id)
            state.processed[msg_id] += 1
        return web.Response(status=204)

    async def probe(request: web.Request) -> web.Response:
        return web.json_response({"processed": state.processed[request.query.get("svix_id", "")]})

    app = web.Application()
    app.router.add_post(HOOK_PATH, hook)
    app.router.add_get(PROBE_PATH, probe)
    return app, state


NAIVE = Flaws(verify=False, dedupe=False)
