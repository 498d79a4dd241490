"""How big each benchmark runs: the full plan for RESULTS.md, the smoke plan that CI uses to keep them working."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    smoke: bool
    generator: str  # "wrk" or "aiohttp", resolved from --generator
    starts: int  # process starts per target (median taken)
    idle_s: float  # wait after the first healthy answer before reading idle RSS
    duration_s: float  # each throughput run
    warmup_s: float
    volume: int  # engagements stored for the list and reset benchmarks
    resets: int  # reset timings (each on a freshly filled store)
    memory_small: int  # mixed requests before the first RSS reading
    memory_large: int  # ... and in total before the second
    memory_live: int  # engagements kept alive during the mixed run (older ones are deleted)
    deliveries: int  # webhook messages per delivery-throughput run
    ladder_messages: int  # failing messages taken through the whole retry ladder


def full_plan(generator: str) -> Plan:
    return Plan(
        smoke=False,
        generator=generator,
        starts=7,
        idle_s=1.0,
        duration_s=10.0,
        warmup_s=2.0,
        volume=10_000,
        resets=5,
        memory_small=20_000,
        memory_large=200_000,
        memory_live=1_000,
        deliveries=2_000,
        ladder_messages=100,
    )


def smoke_plan(generator: str) -> Plan:
    """Tiny sizes: proves every benchmark still runs end to end, says nothing about speed."""
    return Plan(
        smoke=True,
        generator=generator,
        starts=1,
        idle_s=0.0,
        duration_s=0.2,
        warmup_s=0.0,
        volume=60,
        resets=1,
        memory_small=100,
        memory_large=250,
        memory_live=20,
        deliveries=10,
        ladder_messages=2,
    )
