"""Test and demo tooling for the fake-askelephant emulator's ``/__admin`` control plane.

Not part of the production path: the real API has no ``/__admin``. Nothing here imports the
emulator; it is plain HTTP to ``{admin_url}/__admin/...``, where ``admin_url`` is the API base
URL without its trailing ``/api``.

``EmulatorClock`` implements ``Clock`` on the emulator's virtual clock, so
``wait_for_insights`` runs its five-minute policy in milliseconds:

``EmulatorClock(admin)``                  # sleep = POST /__admin/clock/advance (any time scale)
``EmulatorClock(admin, mode="follow")``   # sleep = wall seconds / time_scale (emulator runs itself)
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

import aiohttp
from pydantic import BaseModel, ConfigDict

from reference_client._session import SessionOwner


class EmulatorAdminError(RuntimeError):
    """An ``/__admin`` call failed; ``status`` is None when the emulator could not be reached."""

    def __init__(self, message: str, *, status: int | None) -> None:
        super().__init__(message)
        self.status = status


class ClockReading(BaseModel):
    model_config = ConfigDict(extra="allow")
    now: datetime
    time_scale: float


class WebhookEndpointOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    url: str
    secret: str
    event_types: list[str] | None = None


def admin_base_url(api_base_url: str) -> str:
    """``http://127.0.0.1:8787/api`` → ``http://127.0.0.1:8787``."""
    url = api_base_url.rstrip("/")
    return url.removesuffix("/api")


class EmulatorAdmin(SessionOwner):
    """Small typed wrapper over the admin routes the reference client's tests and demo use."""

    def __init__(self, admin_url: str, *, session: aiohttp.ClientSession | None = None) -> None:
        super().__init__(session, aiohttp.ClientTimeout(total=30))
        self.admin_url = admin_url.rstrip("/")

    async def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        url = f"{self.admin_url}/__admin{path}"
        try:
            token = os.environ.get("FAKE_ASKELEPHANT_ADMIN_TOKEN")  # an emulator locked with --admin-token
            headers = {"X-Admin-Token": token} if token else None
            async with self._http().request(method, url, json=body, headers=headers) as response:
                text = await response.text()
                if response.status >= 400:
                    raise EmulatorAdminError(
                        f"{method} {url} -> {response.status}: {text[:300]}", status=response.status
                    )
                return await response.json(content_type=None) if text else None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise EmulatorAdminError(f"{method} {url} failed: {type(exc).__name__}: {exc}", status=None) from exc

    async def health(self) -> dict[str, Any] | None:
        """The emulator's health document, or None when ``admin_url`` is not an emulator."""
        try:
            document = await self._request("GET", "/health")
        except EmulatorAdminError:
            return None
        return document if isinstance(document, dict) and document.get("status") == "ok" else None

    async def clock(self) -> ClockReading:
        return ClockReading.model_validate(await self._request("GET", "/clock"))

    async def advance(self, seconds: float) -> ClockReading:
        """Move virtual time forward, running every timer and webhook attempt that falls due."""
        return ClockReading.model_validate(await self._request("POST", "/clock/advance", {"seconds": seconds}))

    async def create_webhook_endpoint(
        self, url: str, *, event_types: Sequence[str] | None = None, secret: str | None = None
    ) -> WebhookEndpointOut:
        """Register a receiver URL; the answer carries the signing ``secret`` (generated if not given)."""
        body: dict[str, Any] = {"url": url}
        if event_types is not None:
            body["event_types"] = list(event_types)
        if secret is not None:
            body["secret"] = secret
        return WebhookEndpointOut.model_validate(await self._request("POST", "/webhook-endpoints", body))

    async def delete_webhook_endpoint(self, endpoint_id: str) -> None:
        await self._request("DELETE", f"/webhook-endpoints/{endpoint_id}")


class EmulatorClock:
    """``Clock`` on the emulator's virtual time (``GET /__admin/clock``).

    ``mode="advance"`` sleeps by advancing the clock, which also runs whatever falls due (webhook
    deliveries included) before returning; it works on a frozen clock (``--time-scale 0``).
    ``mode="follow"`` sleeps ``seconds / time_scale`` of wall time and lets the emulator run, for
    demos a person watches on ``--time-scale 60``.
    """

    def __init__(self, admin: EmulatorAdmin, *, mode: Literal["advance", "follow"] = "advance") -> None:
        if mode not in ("advance", "follow"):
            raise ValueError(f"unknown EmulatorClock mode {mode!r}")
        self.admin = admin
        self.mode = mode

    async def now(self) -> datetime:
        return (await self.admin.clock()).now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        if self.mode == "advance":
            await self.admin.advance(seconds)
            return
        reading = await self.admin.clock()
        if reading.time_scale <= 0:
            raise EmulatorAdminError(
                "the emulator clock is frozen (time_scale 0); use EmulatorClock(mode='advance')", status=None
            )
        await asyncio.sleep(seconds / reading.time_scale)
