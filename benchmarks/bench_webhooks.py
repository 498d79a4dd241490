"""Webhook delivery: messages per second to a local receiver and to the built-in sink, and a 27 h retry ladder.

Messages come from the pipeline's PROCESSING update (2–5 s after create, pipeline.md §2): the store is filled
first, an endpoint is added, and one `clock/advance` past that stage runs every stage job and every delivery
attempt before it answers — so its round trip is the time to deliver all of them. "spread" keeps the seeded
jitter (messages due at ~N distinct instants, each instant's attempts awaited before the next); "one instant"
scripts every processing stage to the same time with a pipeline rule, so all attempts run concurrently.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import orjson

from fake_askelephant.webhooks.delivery import RETRY_LADDER_S

from .plan import Plan
from .procs import EMULATOR, RECEIVER, Server
from .report import Section
from .workload import JSON_AUTH, fill, timed

SINK = "bench"
FAILING_SINK = "bench-failing"
SAME_INSTANT_S = 3
PAST_PROCESSING_S = 6  # after every processing stage (≤ 5 s), before any transcript (≥ 20 s)
LADDER_ADVANCE_S = sum(RETRY_LADDER_S) + 3600  # the whole ladder (27.6 h) and an hour to spare
PIPELINES_DONE_S = 3600


def _json(value: Any) -> bytes:
    return orjson.dumps(value)


async def _fresh(base: str, n: int, prefix: str, *, one_instant: bool) -> None:
    await timed(base, "POST", "/__admin/reset?all=true")
    if one_instant:
        rule = {
            "match": {"external_id": f"{prefix}-*"},
            "count": n,
            "pipeline": {"delays": {"processing": SAME_INSTANT_S}},
        }
        await timed(base, "POST", "/__admin/pipeline-rules", _json(rule), expect=201)
    await fill(base, n, prefix)


async def _endpoint(base: str, url: str, event_types: list[str] | None = None) -> str:
    body: dict[str, Any] = {"url": url}
    if event_types:
        body["event_types"] = event_types
    _, endpoint = await timed(base, "POST", "/__admin/webhook-endpoints", _json(body), expect=201)
    return str(endpoint["id"])


async def _advance(base: str, seconds: float) -> float:
    elapsed, _ = await timed(base, "POST", "/__admin/clock/advance", _json({"seconds": seconds}))
    return elapsed


async def count_attempts(base: str, endpoint_id: str, status: str) -> int:
    """Walk GET /__admin/deliveries for one endpoint and status."""
    total, cursor = 0, None
    async with aiohttp.ClientSession(base) as session:
        while True:
            params = {"endpoint_id": endpoint_id, "status": status, "limit": "100"}
            if cursor:
                params["cursor"] = cursor
            async with session.get("/__admin/deliveries", params=params, headers=JSON_AUTH) as resp:
                page = await resp.json()
            total += len(page["data"])
            cursor = page["next_cursor"]
            if not page["has_more"]:
                return total


async def _received(count_url: str | None) -> int:
    if count_url is None:
        return 0
    async with aiohttp.ClientSession() as session, session.get(count_url) as resp:
        return int((await resp.json())["received"])


async def _throughput(base: str, url: str | None, n: int, *, one_instant: bool, count_url: str | None = None) -> float:
    """Seconds for one advance that delivers `n` messages to `url` (no endpoint when None)."""
    await _fresh(base, n, f"bench-wh-{'one' if one_instant else 'spread'}", one_instant=one_instant)
    endpoint_id = await _endpoint(base, url) if url else None
    before = await _received(count_url)
    seconds = await _advance(base, PAST_PROCESSING_S)
    if endpoint_id is not None:
        delivered = await count_attempts(base, endpoint_id, "succeeded")
        failed = await count_attempts(base, endpoint_id, "failed")
        if delivered != n or failed:
            raise RuntimeError(f"expected {n} deliveries to {url}, got {delivered} (+{failed} failed)")
        if count_url and await _received(count_url) - before != n:
            raise RuntimeError("the local receiver did not count every delivery")
    return seconds


async def _ladder(base: str, n: int) -> tuple[float, int]:
    """`n` messages to an always-failing sink through every retry; returns (advance seconds, attempts)."""
    await timed(base, "POST", "/__admin/reset?all=true")
    ids = await fill(base, n, "bench-ladder")
    await _advance(base, PIPELINES_DONE_S)  # pipelines finish untimed; only deletions reach the endpoint
    await timed(base, "PUT", f"/__admin/sink/{FAILING_SINK}", _json({"statuses": [500]}))
    endpoint_id = await _endpoint(base, f"{base}/__admin/sink/{FAILING_SINK}", ["v1.engagement.deleted"])
    for engagement_id in ids:
        await timed(base, "DELETE", f"/__admin/engagements/{engagement_id}", expect=204)
    seconds = await _advance(base, LADDER_ADVANCE_S)
    attempts = await count_attempts(base, endpoint_id, "failed")
    if attempts != n * len(RETRY_LADDER_S):
        raise RuntimeError(f"ladder: expected {n * len(RETRY_LADDER_S)} failed attempts, got {attempts}")
    return seconds, attempts


async def _all(plan: Plan, base: str, receiver: str) -> dict[str, Any]:
    n = plan.deliveries
    targets = (
        ("built-in sink", f"{base}/__admin/sink/{SINK}", None),
        ("local receiver (HTTP)", f"{receiver}/hooks", f"{receiver}/count"),
    )
    times = {"no endpoint (pipeline work only), spread": await _throughput(base, None, n, one_instant=False)}
    for label, url, count_url in targets:
        for one_instant in (False, True):
            key = f"{label}, {'one instant' if one_instant else 'spread'}"
            times[key] = await _throughput(base, url, n, one_instant=one_instant, count_url=count_url)
    ladder_s, attempts = await _ladder(base, plan.ladder_messages)
    return {"advance_s": times, "ladder_s": ladder_s, "ladder_attempts": attempts}


def run(plan: Plan) -> Section:
    with Server(RECEIVER) as receiver, Server(EMULATOR) as emulator:
        data = asyncio.run(_all(plan, emulator.base_url, receiver.base_url))
    n = plan.deliveries
    times: dict[str, float] = data["advance_s"]
    base_s = times["no endpoint (pipeline work only), spread"]
    section = Section(
        "webhooks",
        f"Webhook delivery ({n:,} messages per run, one clock advance each)",
        ["Run", "Advance (s)", "Deliveries/s", "Deliveries/s net of pipeline work"],
        data={**data, "messages": n, "ladder_messages": plan.ladder_messages},
    )
    rates: dict[str, float] = {}
    for label, seconds in times.items():
        if label.startswith("no endpoint"):
            section.rows.append([label, f"{seconds:.3f}", "", ""])
            continue
        rates[label] = n / seconds
        net = f"{n / (seconds - base_s):,.0f}" if seconds > base_s else ""
        section.rows.append([label, f"{seconds:.3f}", f"{rates[label]:,.0f}", net])
    section.rows.append(
        [
            f"retry ladder: {plan.ladder_messages} failing messages × {len(RETRY_LADDER_S)} attempts "
            f"({sum(RETRY_LADDER_S) / 3600:.1f} h)",
            f"{data['ladder_s']:.3f}",
            f"{data['ladder_attempts'] / data['ladder_s']:,.0f} attempts/s",
            "",
        ]
    )
    # Throughput is the rate with a backlog (one instant); "spread" shows the cost of awaiting each instant.
    section.at_least("deliveries/s, local receiver", rates["local receiver (HTTP), one instant"], 1000, "/s")
    section.at_least("deliveries/s, built-in sink", rates["built-in sink, one instant"], 1000, "/s")
    section.below(
        f"{sum(RETRY_LADDER_S) / 3600:.1f} h retry ladder, {plan.ladder_messages} messages", data["ladder_s"], 1, "s"
    )
    section.notes.append(
        "Deliveries/s counts the whole advance (stage jobs, events, signing, sending); the last column"
        " subtracts the same advance with no endpoint."
    )
    return section
