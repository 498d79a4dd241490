"""Hot reads and idempotent replays vs the floor's trivial handlers, under the same load generator."""

from __future__ import annotations

import asyncio

from .loadgen import LoadResult, RequestSpec, combine, run_load
from .plan import Plan
from .procs import EMULATOR, FLOOR, Server
from .report import Section, ratio
from .workload import AUTH, ENGAGEMENTS, create_spec, timed

CONNECTIONS = (1, 32)
SLICE_S = 2.0  # floor and emulator take turns in slices this long, so a burst of outside load hits both
FLOOR_GET = RequestSpec("GET", "/hello")
FLOOR_POST = RequestSpec("POST", "/hello", b'{"external_id":"bench-replay"}', {"Content-Type": "application/json"})


def run(plan: Plan) -> Section:
    with Server(FLOOR) as floor, Server(EMULATOR) as emulator:
        replay = create_spec("bench-replay")
        _, created = asyncio.run(timed(emulator.base_url, "POST", ENGAGEMENTS, replay.body, expect=201))
        get = RequestSpec("GET", f"{ENGAGEMENTS}/{created['id']}", headers=AUTH)
        cases = [
            ("GET /api/v2/engagements/{id}", get, FLOOR_GET),
            ("POST /api/v2/engagements (replay → 200)", replay, FLOOR_POST),
        ]
        results: dict[str, dict[str, LoadResult]] = {}
        for label, spec, floor_spec in cases:
            for c in CONNECTIONS:
                slices: dict[str, list[LoadResult]] = {"floor": [], "emulator": []}
                _load(plan, floor.base_url, floor_spec, c, plan.warmup_s)
                _load(plan, emulator.base_url, spec, c, plan.warmup_s)
                for _ in range(max(1, round(plan.duration_s / SLICE_S))):
                    slices["floor"].append(_load(plan, floor.base_url, floor_spec, c, _slice(plan)))
                    slices["emulator"].append(_load(plan, emulator.base_url, spec, c, _slice(plan)))
                results[f"{label} c={c}"] = {name: combine(runs) for name, runs in slices.items()}
    section = Section(
        "http",
        f"Throughput and latency ({plan.duration_s:g} s per run in {_slice(plan):g} s turns, {plan.generator})",
        ["Request", "Emulator req/s", "p50 ms", "p99 ms", "Floor req/s", "Floor p99 ms", "Ratio", "Errors"],
        data={key: {k: v.as_dict() for k, v in pair.items()} for key, pair in results.items()},
    )
    for key, pair in results.items():
        e, f = pair["emulator"], pair["floor"]
        section.rows.append(
            [
                key,
                f"{e.rps:,.0f}",
                f"{e.p50_ms:.2f}",
                f"{e.p99_ms:.2f}",
                f"{f.rps:,.0f}",
                f"{f.p99_ms:.2f}",
                f"{ratio(e.rps, f.rps):.2f}×",
                str(e.errors + f.errors),
            ]
        )
    get32 = results["GET /api/v2/engagements/{id} c=32"]
    replay32 = results["POST /api/v2/engagements (replay → 200) c=32"]
    section.at_least("GET throughput vs floor (c=32)", ratio(get32["emulator"].rps, get32["floor"].rps), 0.35, "×")
    section.below("GET p99 (c=32)", get32["emulator"].p99_ms, 25, "ms")
    section.at_least(
        "POST replay throughput vs floor (c=32)", ratio(replay32["emulator"].rps, replay32["floor"].rps), 0.2, "×"
    )
    section.notes.append(
        "Floor: a bare aiohttp app (benchmarks/floor_app.py) answering a fixed JSON; its POST reads the body first."
    )
    section.notes.append(
        "Floor and emulator alternate in turns; req/s is over all turns, p50/p99 the median turn's (after a warm-up)."
    )
    return section


def _slice(plan: Plan) -> float:
    return min(plan.duration_s, SLICE_S)


def _load(plan: Plan, base_url: str, spec: RequestSpec, connections: int, seconds: float) -> LoadResult:
    if seconds <= 0:
        return LoadResult(plan.generator, connections, 0.0, 0, 0, 0.0, 0.0, 0.0)
    result = run_load(plan.generator, base_url, spec, connections=connections, duration=seconds, warmup=0)
    if result.errors:
        raise RuntimeError(f"{spec.method} {spec.path}: {result.errors} errors under load")
    return result
