"""Work that grows with data: new-engagement POSTs, list limit=100 over a full store, and reset of that store."""

from __future__ import annotations

import asyncio
import statistics

import orjson

from .loadgen import LoadResult, RequestSpec, run_load
from .plan import Plan
from .procs import EMULATOR, Server
from .report import Section
from .workload import AUTH, ENGAGEMENTS, fill, new_engagement_spec, timed, timed_in_turn

NEW_CONNECTIONS = 32
LIST_CONNECTIONS = (1, 32)


def run(plan: Plan) -> Section:
    loads: dict[str, LoadResult] = {}
    resets: list[float] = []
    advances: list[float] = []  # the first clock advance after a reset pays for whatever the reset left behind
    healths: list[float] = []  # a health check sent right behind the reset, while the old store is being freed
    with Server(EMULATOR) as emulator:
        base = emulator.base_url
        loads["POST /api/v2/engagements (new → 201), c=32"] = run_load(
            plan.generator,
            base,
            new_engagement_spec("bench-new"),
            connections=NEW_CONNECTIONS,
            duration=plan.duration_s,
            warmup=0,
        )
        for attempt in range(plan.resets):
            asyncio.run(timed(base, "POST", "/__admin/reset"))
            asyncio.run(fill(base, plan.volume, f"bench-volume-{attempt}"))
            if attempt == 0:
                listing = RequestSpec("GET", f"{ENGAGEMENTS}?limit=100", headers=AUTH)
                for c in LIST_CONNECTIONS:
                    loads[f"GET /api/v2/engagements?limit=100 over {plan.volume:,}, c={c}"] = run_load(
                        plan.generator, base, listing, connections=c, duration=plan.duration_s, warmup=plan.warmup_s
                    )
            reset_s, health_s = asyncio.run(
                timed_in_turn(base, [("POST", "/__admin/reset"), ("GET", "/__admin/health")])
            )
            resets.append(reset_s * 1000)
            healths.append(health_s * 1000)
            seconds, _ = asyncio.run(timed(base, "POST", "/__admin/clock/advance", orjson.dumps({"seconds": 1})))
            advances.append(seconds * 1000)
            _, page = asyncio.run(timed(base, "GET", f"{ENGAGEMENTS}?limit=1"))
            if page["data"]:
                raise RuntimeError("reset left engagements behind")
    for label, result in loads.items():
        if result.errors:
            raise RuntimeError(f"{label}: {result.errors} errors under load")
    reset_ms = statistics.median(resets)
    section = Section(
        "volume",
        f"Data volume (generator: {plan.generator})",
        ["Operation", "req/s", "p50 ms", "p99 ms"],
        data={
            "loads": {k: v.as_dict() for k, v in loads.items()},
            "reset_ms": [round(r, 3) for r in resets],
            "advance_after_reset_ms": [round(a, 3) for a in advances],
            "health_after_reset_ms": [round(h, 3) for h in healths],
            "volume": plan.volume,
        },
    )
    for label, result in loads.items():
        section.rows.append([label, f"{result.rps:,.0f}", f"{result.p50_ms:.2f}", f"{result.p99_ms:.2f}"])
    section.rows.append(
        [f"POST /__admin/reset with {plan.volume:,} engagements (median of {plan.resets})", "", f"{reset_ms:.2f}", ""]
    )
    section.rows.append(
        ["GET /__admin/health right behind that reset (same connection)", "", f"{statistics.median(healths):.2f}", ""]
    )
    section.rows.append(
        [
            "POST /__admin/clock/advance {seconds: 1} right after that reset",
            "",
            f"{statistics.median(advances):.2f}",
            "",
        ]
    )
    section.below("reset with a full store", reset_ms, 10, "ms")
    section.notes.append("Reset time is the client-side round trip on an open loopback connection.")
    return section
