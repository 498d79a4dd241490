"""Raw per-request latency (issue 23 §4): every request's own time, no coordinated-omission correction.

    python -m benchmarks.bench_latency                                  # 10,000 stored, c=32 and c=256
    python -m benchmarks.bench_latency --duration 5 --repeat 3 --json /tmp/latency.json

`wrk` 4.x corrects its percentiles for coordinated omission: a request that waited behind a stall is counted as
if requests had kept arriving at the mean rate during the stall, so its p99 says how long the server stalls, not
how slow 1 % of the requests a client actually sent were. This recorder is closed-loop like wrk (each of
`connections` aiohttp clients sends its next request as soon as the previous answer arrives) but keeps every
request's measured duration, and reports p50 / p99 / p99.9 / max and the pause figure: requests over 100 ms per
10 s of load.

Two servers run side by side, started as a user would: the emulator (`serve --time-scale 0 --fixtures none`,
filled with `--engagements` engagements over HTTP before measuring) and the bare aiohttp floor
(benchmarks/floor_app.py). For each repeat, connection count and route the two are measured in turn
(interleaved), so a busy machine slows both. Routes: `create` (a new-engagement POST with a fresh external_id;
the floor's POST reads the body and answers a fixed JSON) and `get` (one stored engagement by id; the floor's GET
/hello). Creates grow the emulator's store while it is measured: the table says how many it held at the end.

Then a fresh emulator is filled with the same count and one `POST /__admin/clock/advance` (an hour: completes
every pipeline) is sent while another connection polls `/__admin/health` every 10 ms: the table gives the
advance's wall time and the health requests' p99 and max during it.

The client runs in this process (its garbage collector off while it measures) on the same machine as the
servers: on 2 cores it competes with them, so the absolute figures include client time; the emulator/floor ratio
and the tails are the findings.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from .loadgen import COUNTER, RequestSpec, wrk_script
from .procs import FLOOR, Server, Target
from .workload import ENGAGEMENTS, JSON_AUTH, call_body, fill

SERVE = (sys.executable, "-m", "fake_askelephant", "serve", "--seed", "1", "--time-scale", "0")
EMULATOR_BARE = Target("emulator", (*SERVE, "--fixtures", "none", "--port"), "/__admin/health")
SLOW_MS = 100.0
HEALTH_POLL_S = 0.010
ADVANCE_SECONDS = 3600


@dataclass(frozen=True)
class Raw:
    """One closed-loop run, from every request's own duration."""

    target: str
    route: str
    connections: int
    seconds: float
    requests: int
    errors: int
    rps: float
    p50_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    over_100ms_per_10s: float
    stored: int  # engagements the emulator held at the end (0 for the floor)
    load1: float
    # The server process's own CPU (user + system, /proc) per request sent, warm-up included: on a shared machine
    # far steadier than req/s, which other processes' load moves.
    server_cpu_us: float = 0.0


def percentile(ordered: list[float], q: float) -> float:
    """Nearest rank: the smallest sample with at least q of all samples at or below it."""
    if not ordered:
        return 0.0
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def summarize(
    target: str,
    route: str,
    connections: int,
    elapsed: float,
    latencies_s: list[float],
    errors: int,
    stored: int,
    server_cpu_us: float = 0.0,
) -> Raw:
    ms = sorted(x * 1000 for x in latencies_s)
    slow = sum(1 for x in ms if x > SLOW_MS)
    return Raw(
        target=target,
        route=route,
        connections=connections,
        seconds=round(elapsed, 3),
        requests=len(ms),
        errors=errors,
        rps=round(len(ms) / elapsed, 1) if elapsed > 0 else 0.0,
        p50_ms=round(percentile(ms, 0.50), 3),
        p99_ms=round(percentile(ms, 0.99), 3),
        p999_ms=round(percentile(ms, 0.999), 3),
        max_ms=round(ms[-1] if ms else 0.0, 3),
        over_100ms_per_10s=round(slow * 10 / elapsed, 2) if elapsed > 0 else 0.0,
        stored=stored,
        load1=round(os.getloadavg()[0], 2),
        server_cpu_us=round(server_cpu_us, 1),
    )


@dataclass(frozen=True)
class Request:
    """One route's requests. `body()` is the next request's body; `wrk_body()` a body for one wrk run, whose `__N__`
    wrk numbers per request. A create's external_id is new on every call of either, across runs: a replayed id
    answers 200 from the idempotency lookup, not 201, and would measure a lookup instead of a create."""

    method: str
    path: str
    body: Callable[[], bytes | None] = lambda: None
    wrk_body: Callable[[], bytes | None] = lambda: None
    status: int | None = None  # the status every answer must have (creates: 201); None: any below 400


async def record(
    base_url: str, request: Request, connections: int, duration: float, warmup: float
) -> tuple[list[float], int, float, int]:
    """(every request's seconds, errors, elapsed seconds, requests sent incl. warm-up) of a closed-loop run."""
    connector = aiohttp.TCPConnector(limit=connections)
    sent = 0
    async with aiohttp.ClientSession(base_url, connector=connector) as session:

        async def phase(seconds: float) -> tuple[list[float], int, float]:
            nonlocal sent
            latencies: list[float] = []
            errors = 0
            began = time.perf_counter()
            stop_at = began + seconds

            async def client() -> None:
                nonlocal errors, sent
                while time.perf_counter() < stop_at:
                    body = request.body()
                    started = time.perf_counter()
                    try:
                        async with session.request(request.method, request.path, data=body, headers=JSON_AUTH) as resp:
                            await resp.read()
                            if resp.status >= 400 or request.status not in (None, resp.status):
                                errors += 1
                    except (aiohttp.ClientError, TimeoutError):
                        errors += 1
                    latencies.append(time.perf_counter() - started)
                    sent += 1

            await asyncio.gather(*(client() for _ in range(connections)))
            return latencies, errors, time.perf_counter() - began

        # The client's own collector passes would show up as server latency: off while measuring.
        gc.collect()
        gc.disable()
        try:
            if warmup > 0:
                await phase(warmup)
            latencies, errors, elapsed = await phase(duration)
        finally:
            gc.enable()
    return latencies, errors, elapsed, sent


def emulator_requests(engagement_id: str, prefix: str) -> dict[str, Request]:
    ids, wrk_runs = itertools.count(1), itertools.count(1)
    return {
        "create": Request(
            "POST",
            ENGAGEMENTS,
            lambda: orjson.dumps(call_body(f"{prefix}-{next(ids)}")),
            lambda: orjson.dumps(call_body(f"{prefix}-wrk{next(wrk_runs)}-{COUNTER}")),
            status=201,
        ),
        "get": Request("GET", f"{ENGAGEMENTS}/{engagement_id}", status=200),
    }


def floor_requests() -> dict[str, Request]:
    body = orjson.dumps(call_body("floor"))
    return {"create": Request("POST", "/hello", lambda: body, lambda: body), "get": Request("GET", "/hello")}


async def health_during_advance(base_url: str, seconds: int = ADVANCE_SECONDS) -> dict[str, Any]:
    """One clock advance on one connection while another polls health every 10 ms; every health request counts
    whose start falls inside the advance (and the one in flight when it ends)."""
    samples: list[tuple[float, float]] = []  # (started, seconds)
    done = asyncio.Event()
    async with aiohttp.ClientSession(base_url) as admin, aiohttp.ClientSession(base_url) as health:

        async def poll() -> None:
            while not done.is_set():
                started = time.perf_counter()
                async with health.get("/__admin/health") as resp:
                    await resp.read()
                    if resp.status != 200:
                        raise RuntimeError(f"health answered {resp.status}")
                took = time.perf_counter() - started
                samples.append((started, took))
                await asyncio.sleep(max(0.0, HEALTH_POLL_S - took))

        async with admin.get("/__admin/health") as warm:
            await warm.read()
        poller = asyncio.create_task(poll())
        await asyncio.sleep(0.2)  # health is being polled before the advance starts
        began = time.perf_counter()
        async with admin.post("/__admin/clock/advance", json={"seconds": seconds}, headers=JSON_AUTH) as resp:
            answer = await resp.read()
            if resp.status != 200:
                raise RuntimeError(f"advance answered {resp.status}: {answer[:300]!r}")
        ended = time.perf_counter()
        done.set()
        await poller
    during = sorted(took * 1000 for started, took in samples if started <= ended and started + took >= began)
    return {
        "advance_s": round(ended - began, 3),
        "health_requests": len(during),
        "health_p50_ms": round(percentile(during, 0.50), 3),
        "health_p99_ms": round(percentile(during, 0.99), 3),
        "health_max_ms": round(during[-1] if during else 0.0, 3),
        "load1": round(os.getloadavg()[0], 2),
        "answer": orjson.loads(answer) if answer else None,
    }


_WRK_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('\\n{"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d,"errors":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50.0), latency:percentile(99.0),
    latency:percentile(99.9), latency.max, e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def wrk_corrected(base_url: str, request: Request, connections: int, duration: float) -> dict[str, Any]:
    """wrk's own (coordinated-omission corrected) percentiles for the same closed-loop request."""
    path = request.path
    spec = RequestSpec(request.method, path, request.wrk_body(), JSON_AUTH)
    seconds = max(1, round(duration))
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp, "load.lua")
        script.write_text(wrk_script(spec) + _WRK_DONE)  # the later `done` replaces loadgen's
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout=10s", "-s", str(script), base_url + path],
            capture_output=True, text=True, check=True, timeout=seconds + 60,
        ).stdout  # fmt: skip
    data = json.loads(out.strip().splitlines()[-1])
    elapsed = data["duration_us"] / 1e6
    return {
        "generator": "wrk (corrected)",
        "connections": connections,
        "requests": data["requests"],
        "errors": data["errors"],
        "rps": round(data["requests"] / elapsed, 1),
        "p50_ms": data["p50_us"] / 1000,
        "p99_ms": data["p99_us"] / 1000,
        "p999_ms": data["p999_us"] / 1000,
        "max_ms": data["max_us"] / 1000,
        "load1": round(os.getloadavg()[0], 2),
    }


def median_row(rows: list[Raw]) -> dict[str, Any]:
    """Per field the median over repeats (requests and errors summed)."""
    out: dict[str, Any] = {"target": rows[0].target, "route": rows[0].route, "connections": rows[0].connections}
    for name in ("rps", "p50_ms", "p99_ms", "p999_ms", "max_ms", "over_100ms_per_10s", "load1", "server_cpu_us"):
        out[name] = statistics.median(getattr(r, name) for r in rows)
    out["requests"] = sum(r.requests for r in rows)
    out["errors"] = sum(r.errors for r in rows)
    out["stored"] = (min(r.stored for r in rows), max(r.stored for r in rows))  # at the end of each repeat
    out["repeats"] = len(rows)
    return out


def table(rows: list[dict[str, Any]], advances: list[dict[str, Any]], engagements: int) -> str:
    lines = [
        "| Route | c | Server | req/s | p50 ms | p99 ms | p99.9 ms | max ms | >100 ms per 10 s | server CPU µs/req "
        "| stored (end) | load |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['route']} | {r['connections']} | {r['target']} | {r['rps']:,.0f} | {r['p50_ms']:.2f} | "
            f"{r['p99_ms']:.2f} | {r['p999_ms']:.2f} | {r['max_ms']:.1f} | {r['over_100ms_per_10s']:.1f} | "
            f"{r['server_cpu_us']:.0f} | {r['stored'][0]:,}–{r['stored'][1]:,} | {r['load1']:.2f} |"
        )
    lines += [
        "",
        f"| Advance completing {engagements:,} pipelines | wall s | ms per engagement | health polls | "
        "health p50 ms | health p99 ms | health max ms | load |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for n, a in enumerate(advances, 1):
        lines.append(
            f"| run {n} | {a['advance_s']:.2f} | {a['advance_s'] * 1000 / engagements:.3f} | {a['health_requests']} | "
            f"{a['health_p50_ms']:.2f} | {a['health_p99_ms']:.2f} | {a['health_max_ms']:.1f} | {a['load1']:.2f} |"
        )
    return "\n".join(lines)


async def first_id(base_url: str) -> str:
    async with (
        aiohttp.ClientSession(base_url) as session,
        session.get(f"{ENGAGEMENTS}?limit=1", headers=JSON_AUTH) as resp,
    ):
        return str((await resp.json())["data"][0]["id"])


def run(args: argparse.Namespace) -> dict[str, Any]:
    raw: list[Raw] = []
    versus: list[dict[str, Any]] = []
    if args.repeat > 0 or args.wrk:  # --repeat 0: only the advance
        with Server(EMULATOR_BARE) as emulator, Server(FLOOR) as floor:
            started = time.perf_counter()
            asyncio.run(fill(emulator.base_url, args.engagements, "stored"))
            print(f"filled {args.engagements:,} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
            stored = args.engagements
            engagement_id = asyncio.run(first_id(emulator.base_url))
            ours, theirs = emulator_requests(engagement_id, "new"), floor_requests()
            for repeat in range(args.repeat):
                for connections in args.connections:
                    for route in args.routes:
                        for server, requests in ((emulator, ours), (floor, theirs)):
                            cpu = server.cpu_seconds()
                            lat, errors, elapsed, sent = asyncio.run(
                                record(server.base_url, requests[route], connections, args.duration, args.warmup)
                            )
                            cpu_us = (server.cpu_seconds() - cpu) * 1e6 / max(1, sent)
                            if server is emulator and route == "create":
                                stored += sent
                            row = summarize(
                                server.target.name, route, connections, elapsed, lat, errors,
                                stored if server is emulator else 0, cpu_us,
                            )  # fmt: skip
                            raw.append(row)
                            print(f"[{repeat + 1}/{args.repeat}] {row}", file=sys.stderr)
            if args.wrk:
                # One case both ways, in turn on the same server: the recorder's raw figures, then wrk's corrected ones.
                for _ in range(args.repeat):
                    cpu = emulator.cpu_seconds()
                    lat, errors, elapsed, sent = asyncio.run(
                        record(emulator.base_url, ours["create"], args.wrk_connections, args.duration, args.warmup)
                    )
                    cpu_us = (emulator.cpu_seconds() - cpu) * 1e6 / max(1, sent)
                    stored += sent
                    raw_row = summarize(
                        "emulator", "create", args.wrk_connections, elapsed, lat, errors, stored, cpu_us
                    )
                    versus.append({"generator": "raw (this recorder)", **asdict(raw_row)})
                    corrected = wrk_corrected(emulator.base_url, ours["create"], args.wrk_connections, args.duration)
                    stored += corrected["requests"]  # and its 1-s-rounded run's creates; warm-up not counted
                    versus.append({**corrected, "stored": stored})
                    print(f"raw {versus[-2]}\nwrk {versus[-1]}", file=sys.stderr)
    advances = []
    for _ in range(args.advance_repeat):
        with Server(EMULATOR_BARE) as emulator:
            asyncio.run(fill(emulator.base_url, args.engagements, "stored"))
            advances.append(asyncio.run(health_during_advance(emulator.base_url)))
            print(f"advance {advances[-1]}", file=sys.stderr)
    groups: dict[tuple[str, int, str], list[Raw]] = {}
    for row in raw:
        groups.setdefault((row.route, row.connections, row.target), []).append(row)
    rows = [median_row(g) for g in groups.values()]
    return {
        "meta": {
            "engagements": args.engagements,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "repeat": args.repeat,
            "python": sys.version.split()[0],
            "cpus": os.cpu_count(),
        },
        "rows": rows,
        "runs": [asdict(r) for r in raw],
        "advances": advances,
        "raw_vs_wrk": versus,
        "table": table(rows, advances, args.engagements),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engagements", type=int, default=10_000)
    parser.add_argument("--connections", type=lambda s: [int(x) for x in s.split(",")], default=[32, 256])
    parser.add_argument("--routes", type=lambda s: s.split(","), default=["create", "get"])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured per run")
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=1, help="interleaved repeats (medians shown); 0: advance only")
    parser.add_argument("--advance-repeat", type=int, default=1)
    parser.add_argument("--wrk", action="store_true", help="also new-engagement POSTs under wrk (corrected) vs raw")
    parser.add_argument("--wrk-connections", type=int, default=32)
    parser.add_argument("--json", help="also write everything (each run, not only medians) here")
    args = parser.parse_args(argv)
    if args.wrk and not shutil.which("wrk"):
        parser.error("--wrk: wrk is not installed (apt-get install wrk)")
    if not set(args.routes) <= {"create", "get"}:
        parser.error("--routes: create and/or get")
    result = run(args)
    if args.json:
        with open(args.json, "wb") as out:
            out.write(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    print(result["table"])


if __name__ == "__main__":
    main()
