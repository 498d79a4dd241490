"""The requests the benchmarks send: a dialer's create body, the default key, and store filling over HTTP."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import orjson

from .loadgen import COUNTER, RequestSpec

API_KEY = "sk-apik_local.fakeaskelephant"  # the emulator's default key
AUTH = {"Authorization": API_KEY}
JSON_AUTH = {**AUTH, "Content-Type": "application/json"}
ENGAGEMENTS = "/api/v2/engagements"
FILL_CONNECTIONS = 16


def call_body(external_id: str) -> dict[str, Any]:
    """A dialer's create request, as in dialer-flow.md §2."""
    return {
        "type": "CALL",
        "title": f"Sales call {external_id}",
        "source_system": "bench-dialer",
        "external_id": external_id,
        "media_url": f"https://recordings.example.com/{external_id}.mp3",
        "external_url": f"https://dialer.example.com/calls/{external_id}",
        "run_workflows": True,
        "participants": [
            {"name": "Alice Smith", "email": "alice@example.com", "is_owner": True},
            {"name": "Jane Doe", "email": "jane@customer.com", "phone": "+14155550100"},
        ],
    }


def create_spec(external_id: str) -> RequestSpec:
    return RequestSpec("POST", ENGAGEMENTS, orjson.dumps(call_body(external_id)), JSON_AUTH)


def new_engagement_spec(prefix: str) -> RequestSpec:
    """Every request a new external_id: `prefix-1`, `prefix-2`, …"""
    return create_spec(f"{prefix}-{COUNTER}")


async def fill(base_url: str, count: int, prefix: str) -> list[str]:
    """Create `count` engagements over HTTP; returns their ids."""
    ids: list[str] = []
    queue = iter(range(count))
    async with aiohttp.ClientSession(base_url) as session:

        async def worker() -> None:
            for n in queue:
                body = orjson.dumps(call_body(f"{prefix}-{n}"))
                async with session.post(ENGAGEMENTS, data=body, headers=JSON_AUTH) as resp:
                    if resp.status != 201:
                        raise RuntimeError(f"fill: create answered {resp.status}: {await resp.text()}")
                    ids.append((await resp.json())["id"])

        await asyncio.gather(*(worker() for _ in range(FILL_CONNECTIONS)))
    return ids


async def timed_in_turn(base_url: str, requests: list[tuple[str, str]]) -> list[float]:
    """Round trips in seconds of bodiless requests sent one after another on one open connection."""
    seconds = []
    async with aiohttp.ClientSession(base_url) as session:
        async with session.get("/__admin/health") as warm:
            await warm.read()
        for method, path in requests:
            began = time.perf_counter()
            async with session.request(method, path, headers=JSON_AUTH) as resp:
                await resp.read()
                if resp.status != 200:
                    raise RuntimeError(f"{method} {path} answered {resp.status}")
            seconds.append(time.perf_counter() - began)
    return seconds


async def timed(
    base_url: str, method: str, path: str, body: bytes | None = None, *, expect: int = 200
) -> tuple[float, Any]:
    """One request's round trip in seconds (connection already open), and its JSON answer."""
    async with aiohttp.ClientSession(base_url) as session:
        async with session.get("/__admin/health") as warm:
            await warm.read()
        began = time.perf_counter()
        async with session.request(method, path, data=body, headers=JSON_AUTH) as resp:
            payload = await resp.read()
            elapsed = time.perf_counter() - began
            if resp.status != expect:
                raise RuntimeError(f"{method} {path} answered {resp.status}: {payload[:500]!r}")
    return elapsed, orjson.loads(payload) if payload else None
