"""Webhook receiver: verify the Svix signature, de-duplicate, acknowledge, process in the background.

Per request, in this order (webhooks.md §7):

1. signature headers present (``svix-*`` or Standard Webhooks ``webhook-*``)  else 400
2. signature valid and timestamp within ±5 min, on the raw body bytes          else 401
   (malformed header values are 400, checked before the verifier)
3. body is a webhook envelope                                                  else 400
4. message id never seen before (``DedupStore.claim``)                         else 200, dropped
5. 200 at once; ``on_event`` runs as a background task, its errors are logged and never
   change the answer, so slow processing cannot push the reply past Svix's 15 s limit.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import pydantic
from aiohttp import web
from svix.webhooks import Webhook, WebhookVerificationError

from reference_client._dedup import DedupStore, InMemoryDedupStore
from reference_client._models import WebhookEventOut

logger = logging.getLogger("reference_client.webhooks")

EventHandler = Callable[[WebhookEventOut], Awaitable[None]]

_ID_HEADERS = ("svix-id", "webhook-id")
_TIMESTAMP_HEADERS = ("svix-timestamp", "webhook-timestamp")
_SIGNATURE_HEADERS = ("svix-signature", "webhook-signature")


class WebhookReceiver:
    """Verifying, de-duplicating webhook handler; mount ``handle`` on a POST route.

    ``WebhookReceiver(secret, on_event)``                                   # in-memory dedup, 28 h
    ``WebhookReceiver(secret, on_event, dedup=SqliteDedupStore("seen.db"))`` # survives restarts

    ``secret`` is the endpoint's signing secret (``whsec_...``); an empty or undecodable secret
    raises at construction, not on the first delivery.
    """

    def __init__(self, secret: str, on_event: EventHandler, *, dedup: DedupStore | None = None) -> None:
        try:
            self._verifier = Webhook(secret)
        except Exception as exc:
            raise ValueError(f"unusable webhook secret: {exc}") from exc
        self._on_event = on_event
        self._dedup = dedup if dedup is not None else InMemoryDedupStore()
        self._tasks: set[asyncio.Task[None]] = set()
        self.accepted = 0
        self.duplicates = 0
        self.rejected = 0

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {
            name: request.headers[name]
            for name in (*_ID_HEADERS, *_TIMESTAMP_HEADERS, *_SIGNATURE_HEADERS)
            if name in request.headers
        }
        message_id = _first(headers, _ID_HEADERS)
        if not (message_id and _first(headers, _TIMESTAMP_HEADERS) and _first(headers, _SIGNATURE_HEADERS)):
            return self._reject(400, "missing signature headers (svix-id, svix-timestamp, svix-signature)")
        if problem := _malformed(_first(headers, _SIGNATURE_HEADERS)):
            return self._reject(400, f"malformed webhook headers: {problem}")
        try:
            self._verifier.verify(body, headers)
        except WebhookVerificationError as exc:
            return self._reject(401, f"signature verification failed: {exc}")
        except ValueError as exc:
            # Older svix releases raise ValueError (binascii.Error, UnicodeDecodeError) for what they cannot decode.
            return self._reject(400, f"malformed webhook: {type(exc).__name__}")
        try:
            event = WebhookEventOut.model_validate_json(body)
        except pydantic.ValidationError:
            return self._reject(400, "body is not a webhook envelope")
        if not await self._dedup.claim(message_id):
            self.duplicates += 1
            logger.info("duplicate webhook %s (%s) acknowledged and dropped", message_id, event.type)
            return web.json_response({"status": "duplicate"})
        self.accepted += 1
        task = asyncio.create_task(self._process(message_id, event), name=f"webhook {message_id}")
        # Keep a strong reference: the loop holds tasks weakly and could collect one mid-flight.
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return web.json_response({"status": "accepted"})

    async def _process(self, message_id: str, event: WebhookEventOut) -> None:
        try:
            await self._on_event(event)
        except Exception:
            # The 2xx is already sent and Svix won't redeliver: the log is the only trace.
            logger.exception("processing webhook %s (%s) failed", message_id, event.type)

    def _reject(self, status: int, reason: str) -> web.Response:
        self.rejected += 1
        logger.warning("rejected webhook with %d: %s", status, reason)
        return web.json_response({"error": reason}, status=status)

    @property
    def pending(self) -> int:
        """Events acknowledged whose processing has not finished."""
        return len(self._tasks)

    async def drain(self) -> None:
        """Wait until every acknowledged event has been processed (errors are already logged)."""
        # Finished tasks are removed here, not left to their done-callbacks: on Python 3.12+ awaiting tasks that
        # are all done can return without yielding, so a `while tasks: await gather(...)` loop never ends.
        while self._tasks:
            done = {task for task in self._tasks if task.done()}
            if not done:
                done, _ = await asyncio.wait(set(self._tasks), return_when=asyncio.FIRST_COMPLETED)
            self._tasks.difference_update(done)

    async def close(self, grace_seconds: float = 10.0) -> None:
        """Give in-flight processing ``grace_seconds``, then cancel what is left."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.drain(), grace_seconds)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


webhook_receiver = web.AppKey("webhook_receiver", WebhookReceiver)


def create_webhook_app(
    secret: str,
    on_event: EventHandler,
    *,
    path: str = "/webhooks",
    dedup: DedupStore | None = None,
    drain_timeout: float = 10.0,
) -> web.Application:
    """An aiohttp app serving the receiver at ``POST {path}``; ``app[webhook_receiver]`` is the receiver.

    On shutdown it waits up to ``drain_timeout`` seconds for background processing.
    """
    receiver = WebhookReceiver(secret, on_event, dedup=dedup)
    app = web.Application()
    app[webhook_receiver] = receiver
    app.router.add_post(path, receiver.handle)

    async def lifecycle(_: web.Application) -> AsyncIterator[None]:
        yield
        await receiver.close(drain_timeout)

    app.cleanup_ctx.append(lifecycle)
    return app


def _malformed(signature: str | None) -> str | None:
    """Why the signature header cannot be a Svix signature at all (400), or None to let the verifier judge (401).

    Checked here because svix releases disagree: 1.x raised ValueError on an undecodable value, 2.x reports it
    as a plain "no matching signature". Svix sends space-separated ``v1,<base64>`` entries; entries of other
    versions are skipped by the verifier, so only their shape is checked.
    """
    for entry in (signature or "").split():
        version, sep, value = entry.partition(",")
        if not sep or not version:
            return "svix-signature entry without a version"
        if version == "v1":
            try:
                base64.b64decode(value, validate=True)
            except binascii.Error:
                return "svix-signature v1 value is not base64"
    return None


def _first(headers: dict[str, str], names: tuple[str, ...]) -> str:
    for name in names:
        if headers.get(name):
            return headers[name]
    return ""
