"""Memory under a long mixed workload: RSS after N requests vs after 10×N (journals and logs must be bounded).

The store is held at a fixed size (older engagements are deleted as new ones arrive), so any growth between
the two readings is state that accumulates per request: event logs, delivery journals, caches.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from typing import Any

import aiohttp
import orjson

from .plan import Plan
from .procs import EMULATOR, Server
from .report import Section
from .workload import AUTH, ENGAGEMENTS, JSON_AUTH, call_body

MB = 1024 * 1024
CONNECTIONS = 8
SETTLE_S = 0.5
SAMPLES = 10
# (kind, weight): reads dominate, as in a dialer that polls for insights.
MIX = (
    ("get", 40),
    ("replay", 15),
    ("create", 10),
    ("list", 5),
    ("not_found", 10),
    ("invalid", 8),
    ("unauthenticated", 5),
    ("advance", 6),
    ("events", 1),
)
INVALID_BODY = orjson.dumps({"type": "CALL", "title": "", "external_id": 7})


class MixedClient:
    """Issues a seeded sequence of mixed requests; keeps `live` engagements, deleting the oldest beyond it."""

    def __init__(self, session: aiohttp.ClientSession, live: int, seed: int = 10) -> None:
        self.session = session
        self.live_limit = live
        self.live: deque[tuple[str, str]] = deque()  # (id, external_id)
        self.rng = random.Random(seed)
        self.kinds = [k for k, _ in MIX]
        self.weights = [w for _, w in MIX]
        self.created = 0
        self.sent = 0
        self.statuses: dict[int, int] = {}

    async def _send(self, method: str, path: str, body: bytes | None = None, headers: Any = None) -> Any:
        self.sent += 1
        async with self.session.request(method, path, data=body, headers=headers) as resp:
            payload = await resp.read()
            self.statuses[resp.status] = self.statuses.get(resp.status, 0) + 1
            if resp.status >= 500:
                raise RuntimeError(f"{method} {path} answered {resp.status}: {payload[:300]!r}")
            return resp.status, payload

    async def _create(self) -> None:
        self.created += 1
        external_id = f"bench-mem-{self.created}"
        status, payload = await self._send("POST", ENGAGEMENTS, orjson.dumps(call_body(external_id)), JSON_AUTH)
        if status != 201:
            raise RuntimeError(f"create answered {status}")
        self.live.append((orjson.loads(payload)["id"], external_id))
        while len(self.live) > self.live_limit:
            old_id, _ = self.live.popleft()
            await self._send("DELETE", f"/__admin/engagements/{old_id}")

    async def step(self) -> None:
        kind = self.rng.choices(self.kinds, self.weights)[0]
        if not self.live or kind == "create":
            await self._create()
            return
        engagement_id, external_id = self.live[self.rng.randrange(len(self.live))]
        if kind == "get":
            await self._send("GET", f"{ENGAGEMENTS}/{engagement_id}", headers=AUTH)
        elif kind == "replay":
            await self._send("POST", ENGAGEMENTS, orjson.dumps(call_body(external_id)), JSON_AUTH)
        elif kind == "list":
            await self._send("GET", f"{ENGAGEMENTS}?limit=25", headers=AUTH)
        elif kind == "not_found":
            await self._send("GET", f"{ENGAGEMENTS}/ngmt_missing", headers=AUTH)
        elif kind == "invalid":
            await self._send("POST", ENGAGEMENTS, INVALID_BODY, JSON_AUTH)
        elif kind == "unauthenticated":
            await self._send("GET", f"{ENGAGEMENTS}/{engagement_id}")
        elif kind == "advance":
            await self._send("POST", "/__admin/clock/advance", b'{"seconds": 30}', JSON_AUTH)
        else:
            await self._send("GET", f"/__admin/events?engagement_id={engagement_id}")

    async def run_until(self, total: int) -> None:
        async def worker() -> None:
            while self.sent < total:
                await self.step()

        await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))


async def _mixed(plan: Plan, server: Server) -> tuple[list[tuple[int, float]], dict[int, int], float]:
    samples: list[tuple[int, float]] = []
    began = time.perf_counter()
    async with aiohttp.ClientSession(server.base_url) as session:
        client = MixedClient(session, plan.memory_live)
        checkpoints = sorted({plan.memory_small, *(plan.memory_large * i // SAMPLES for i in range(1, SAMPLES + 1))})
        for mark in checkpoints:
            await client.run_until(mark)
            await asyncio.sleep(SETTLE_S if not plan.smoke else 0)
            samples.append((client.sent, server.rss_bytes() / MB))
    return samples, client.statuses, time.perf_counter() - began


def run(plan: Plan) -> Section:
    with Server(EMULATOR) as server:
        samples, statuses, seconds = asyncio.run(_mixed(plan, server))
    small = next(rss for sent, rss in samples if sent >= plan.memory_small)
    large = samples[-1][1]
    growth = (large - small) / small * 100
    section = Section(
        "memory",
        f"Memory under {samples[-1][0]:,} mixed requests ({CONNECTIONS} connections, aiohttp client)",
        ["Requests sent", "Emulator RSS (MB)"],
        data={
            "samples": [[sent, round(rss, 1)] for sent, rss in samples],
            "statuses": {str(k): v for k, v in sorted(statuses.items())},
            "seconds": round(seconds, 1),
            "live_engagements": plan.memory_live,
            "mix": dict(MIX),
        },
    )
    section.rows += [[f"{sent:,}", f"{rss:.1f}"] for sent, rss in samples]
    section.at_most(f"RSS growth {plan.memory_small:,} → {samples[-1][0]:,} requests", growth, 10, "%")
    mix = ", ".join(f"{k} {w}%" for k, w in MIX)
    section.notes.append(
        f"Mix: {mix}; creates beyond {plan.memory_live:,} live engagements delete the oldest (admin DELETE)."
    )
    return section
