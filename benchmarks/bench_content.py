"""What generated content costs per engagement (issue 23 point 2: ≤ 0.1 ms), in one process, no profiler.

    python -m benchmarks.bench_content                       # 10,000 engagements, 7 repeats
    python -m benchmarks.bench_content --engagements 2000 --repeat 3 --json /tmp/content.json
    python -m benchmarks.bench_content --loads                # health during the largest fixture load instead

A fresh emulator (seed 1, clock frozen) is filled with `--engagements` distinct calls through the engagement
service (0–4 participants, each its own media URL, so transcripts of 14 to 60 lines), and one clock advance
completes every pipeline. Then, per repeat, the derived-content cache is emptied and every engagement's content is
derived as a read of `?expand=transcript,action_items,signals` derives it (core/derived.py): speakers, timeline,
insights, derived ids and the ActionItem/Signal objects. The figure is the median CPU µs per engagement over the
repeats (process time: on a shared machine, time spent waiting for a core is not the work's cost; the median wall
time is printed too); `timeline` is the transcript part alone (the rest is insights, ids and objects).

The baseline, measured in the same run between the repeats, builds for every engagement the plain dicts its
transcript entries would render as (five keys each, as many as it has entries): the interpreter's floor for that
much data, so `ratio` compares across machines where µs do not. The load average is printed beside the figures.

`--loads`: a `serve` process (seed 1, sample fixtures; benchmarks/procs.py) gets the largest fixture document
`POST /__admin/fixtures` accepts in one workspace (10,000 users, companies, contacts and tags: 40,000 records)
while one client polls `/__admin/health` and another `GET /api/v2/users/{id}` back to back. Printed: the load's
wall time (parsing and validation included) and the polls' p50/p99/max during it. `--records N` picks another size
per list.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import statistics
import sys
import time
from typing import Any

from fake_askelephant.core import scopes
from fake_askelephant.core.clock import VirtualClock
from fake_askelephant.core.models import Engagement, EngagementDraft, Participant
from fake_askelephant.emulator import Emulator

WS = "wrks_local"
T0 = 1_773_057_540_000  # 2026-03-09T11:59:00Z, the tests' start


def participants(i: int) -> tuple[Participant, ...]:
    people = (
        Participant("Local Owner", "owner@example.com", None, True),
        Participant("Dana Prospect", f"dana{i}@prospect.example", "+15550100", False),
        Participant(None, f"only-email-{i}@prospect.example", None, False),
        Participant(None, None, "+15550199", False),
    )
    return people[: i % 5]


async def filled(n: int, seed: int = 1) -> tuple[Emulator, list[Engagement]]:
    em = Emulator(seed=seed, clock=VirtualClock(T0, 0))
    key = em.create_api_key([scopes.ADMIN], WS)
    who = em.store.authenticate_key(key.token)
    assert who is not None
    out = []
    for i in range(n):
        draft = EngagementDraft(
            "CALL", f"Call {i}", "dialer", f"content-{i}", f"https://recordings.example.com/{i}.mp3",
            participants=participants(i),
        )  # fmt: skip
        e = (await em.engagements.create_engagement(who, draft)).engagement
        out.append(e)
    await em.advance(3600)
    return em, out


def derive_all(
    em: Emulator, engagements: list[Engagement], *, insights: bool = True, timer: Any = time.process_time
) -> float:
    """Seconds (CPU time by default) to derive every engagement's content from an empty cache."""
    content = em.content
    content.clear()
    t0 = timer()
    if insights:
        for e in engagements:
            content.timeline(e)
            content.action_items(e)
            content.signals(e)
    else:
        for e in engagements:
            content.timeline(e)
    return timer() - t0  # type: ignore[no-any-return]


def baseline(shapes: list[list[tuple[int, float, float, str, float | None]]]) -> float:
    """CPU seconds to build, per engagement, the plain dicts of its transcript entries."""
    t0 = time.process_time()
    for entries in shapes:
        [
            {"speaker_index": s, "start_seconds": a, "end_seconds": b, "text": t, "sentiment": m}
            for s, a, b, t, m in entries
        ]
    return time.process_time() - t0


def measure(em: Emulator, engagements: list[Engagement], repeat: int) -> dict[str, Any]:
    shapes = []
    for e in engagements:
        timeline = em.content.timeline(e)
        assert timeline is not None
        shapes.append(
            [(x.speaker_index, x.start_seconds, x.end_seconds, x.text, x.sentiment) for x in timeline.entries]
        )
    n = len(engagements)
    full: list[float] = []
    wall: list[float] = []
    only_timeline: list[float] = []
    floor: list[float] = []
    gc.collect()
    gc.disable()  # a collector pass lands on whichever loop runs when it triggers: keep it out of all three
    try:
        derive_all(em, engagements)  # warm-up: the per-seed vocabulary and the per-line memo exist in a server too
        for _ in range(repeat):
            floor.append(baseline(shapes))
            full.append(derive_all(em, engagements))
            wall.append(derive_all(em, engagements, timer=time.perf_counter))
            only_timeline.append(derive_all(em, engagements, insights=False))
    finally:
        gc.enable()
    us = 1e6 / n
    content_us = statistics.median(full) * us
    floor_us = statistics.median(floor) * us
    return {
        "engagements": n,
        "entries_per_engagement": sum(len(s) for s in shapes) / n,
        "content_us": round(content_us, 1),
        "wall_us": round(statistics.median(wall) * us, 1),
        "timeline_us": round(statistics.median(only_timeline) * us, 1),
        "baseline_us": round(floor_us, 1),
        "ratio": round(content_us / floor_us, 2),
        "repeats_us": [round(x * us, 1) for x in full],
        "load1": os.getloadavg()[0],
        "python": sys.version.split()[0],
    }


def fixture_document(n: int) -> dict[str, Any]:
    return {
        "users": [{"email": f"user{i}@team.example", "first_name": "U", "last_name": f"N{i}"} for i in range(n)],
        "companies": [{"domains": [{"domain": f"c{i}.example"}], "name": f"Company {i}"} for i in range(n)],
        "contacts": [
            {"first_name": "C", "emails": [{"email": f"p{i}@c{i}.example"}], "company": f"c{i}.example"}
            for i in range(n)
        ],
        "tags": [{"name": f"Topic {i}"} for i in range(n)],
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else math.nan


async def measure_load(records: int) -> dict[str, Any]:
    """Health and a single GET, polled back to back during one fixture load, against a `serve` process (its own
    garbage-collector policy included)."""
    import aiohttp

    from .procs import EMULATOR, Server

    body = json.dumps(fixture_document(records)).encode()
    polls: dict[str, list[float]] = {"health": [], "get": []}
    done = asyncio.Event()
    auth = {"Authorization": "sk-apik_local.fakeaskelephant"}
    with Server(EMULATOR) as server:
        async with aiohttp.ClientSession(server.base_url, headers=auth) as admin:

            async def poll(name: str, path: str) -> None:
                async with aiohttp.ClientSession(server.base_url, headers=auth) as session:
                    while not done.is_set():
                        t0 = time.perf_counter()
                        async with session.get(path) as resp:
                            await resp.read()
                            assert resp.status == 200, path
                        polls[name].append((time.perf_counter() - t0) * 1000)

            tasks = [
                asyncio.create_task(poll("health", "/__admin/health")),
                asyncio.create_task(poll("get", "/api/v2/users/usr_local")),
            ]
            await asyncio.sleep(0.3)  # the pollers' connections are open and warm
            for values in polls.values():
                values.clear()
            t0 = time.perf_counter()
            async with admin.post("/__admin/fixtures", data=body, headers={"Content-Type": "application/json"}) as r:
                answer = await r.read()
                assert r.status == 200, answer[:300]
            took = time.perf_counter() - t0
            done.set()
            await asyncio.gather(*tasks)
    out: dict[str, Any] = {"records": 4 * records, "load_s": round(took, 2)}
    for name, values in polls.items():
        out[name] = {
            "n": len(values),
            "p50_ms": round(percentile(values, 0.5), 2),
            "p99_ms": round(percentile(values, 0.99), 2),
            "max_ms": round(max(values, default=math.nan), 2),
        }
    out["load1"] = os.getloadavg()[0]
    out["python"] = sys.version.split()[0]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engagements", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--json", help="also write the result here")
    parser.add_argument("--loads", action="store_true", help="health and reads during a fixture load instead")
    parser.add_argument("--records", type=int, default=10_000, help="--loads: records per list (max 10,000)")
    args = parser.parse_args(argv)
    if args.loads:
        result = asyncio.run(measure_load(args.records))
        h, g = result["health"], result["get"]
        print(
            f"fixture load of {result['records']:,} records: {result['load_s']} s | health p50/p99/max "
            f"{h['p50_ms']}/{h['p99_ms']}/{h['max_ms']} ms (n={h['n']}) | GET user {g['p50_ms']}/{g['p99_ms']}/"
            f"{g['max_ms']} ms (n={g['n']}) | "
            f"Python {result['python']} | load {result['load1']:.2f}"
        )
        _write(args.json, result)
        return 0
    em, engagements = asyncio.run(filled(args.engagements))
    result = measure(em, engagements, args.repeat)
    print(
        f"content per engagement: {result['content_us']} µs CPU (timeline {result['timeline_us']} µs; "
        f"wall {result['wall_us']} µs) | "
        f"baseline {result['baseline_us']} µs | ratio {result['ratio']} | "
        f"{result['entries_per_engagement']:.1f} entries | n={result['engagements']} | "
        f"Python {result['python']} | load {result['load1']:.2f}"
    )
    _write(args.json, result)
    return 0


def _write(path: str | None, result: dict[str, Any]) -> None:
    if path:
        with open(path, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    sys.exit(main())
